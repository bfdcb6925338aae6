"""qualkit annex: a Word annex (tables, charts, codebook, quotes, respondents, life stories)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import UsageError
from .common import ProjectOption, info, say, settings_for, warn


def annex(
    spec: Optional[Path] = typer.Option(
        None, "--spec", "-s", help="Annex spec YAML (default: the project's annex.spec)."
    ),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Annex .docx to write (default: annex.output, else <output>/annex.docx)."
    ),
    template: Optional[Path] = typer.Option(
        None,
        "--template",
        "-t",
        help="Word template (.docx/.dotx) whose styles, headers and footers to use (default: annex.template, else qualkit's).",
    ),
    key: Optional[Path] = typer.Option(
        None,
        "--key",
        "-k",
        help="Redaction key CSV: refuse to write any text that still holds one of its originals (default: redact.key, else <private>/redaction-key.csv when it exists).",
    ),
    no_key: bool = typer.Option(False, "--no-key", help="Do not look for the project's redaction key (no leak check)."),
    project: Optional[Path] = ProjectOption,
) -> None:
    """Write a Word annex a report author can hand to the publisher.

    Numbered tables with captions and repeated header rows, grayscale bar charts,
    the codebook, quotes with attributions, a respondents table and life stories,
    all styled by a Word template. Quotes and life stories come from the REDACTED
    transcripts; with the redaction key, the annex is refused if any text still
    holds an original identifier (the error names the document and offset only).

    Examples:

      qualkit annex --spec annex.yaml --output annex.docx --key private/redaction-key.csv

      qualkit annex -p mystudy                      # everything from mystudy/qualkit.yaml

      qualkit annex --spec annex.yaml -o annex.docx --template our-house-style.dotx
    """
    from ..annex import build_annex

    s = settings_for(project)
    has_project = s.project_file is not None
    spec_path = s.path(spec, "annex.spec") if (spec or has_project) else None
    if spec_path is None:
        raise UsageError(
            "no annex spec", fix="give --spec annex.yaml (see docs/annex.md), or set 'annex: spec:' in qualkit.yaml"
        )
    out_path = s.location(output, "annex.output")
    if out_path is None:
        raise UsageError("no output file", fix="give --output annex.docx")
    template_path = s.path(template, "annex.template") if (template or has_project) else None
    key_path = None
    if key is not None:
        if no_key:
            raise UsageError("--key and --no-key contradict each other", fix="drop one of them")
        key_path = key
    elif has_project and not no_key:
        key_path = s.location(None, "redact.key")
        if key_path is not None and not key_path.is_file():
            key_path = None

    started: set[int] = set()

    def on_progress(stage: str, done: int, total: int) -> None:
        if done < total and done not in started:
            started.add(done)
            info(f"[{done + 1}/{total}] {stage.replace('_', ' ')}")

    result = build_annex(spec_path, out_path, template=template_path, key=key_path, settings=s, on_progress=on_progress)
    for w in result.warnings:
        warn(w)
    if result.missing_styles:
        warn("the template lacks the style(s) " + ", ".join(result.missing_styles) + "; built-in styles were used")
    if key_path is None:
        warn("no redaction key: the annex was not checked for original identifiers (give --key)")
    parts = [
        f"{result.tables} table(s)",
        f"{result.figures} chart(s)",
        f"{result.quotes} quote(s)",
        f"{result.stories} life stor{'y' if result.stories == 1 else 'ies'}",
    ]
    say(f"wrote {out_path}: " + ", ".join(parts))
    if key_path is not None:
        say(
            f"leak check: {result.texts_checked} text(s) searched for {result.key_entries} "
            f"identifier(s) from the key: none found"
        )


def register(app: typer.Typer) -> None:
    app.command("annex")(annex)
