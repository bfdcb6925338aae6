"""qualkit export refi / qualkit import refi: REFI-QDA exchange (NVivo, ATLAS.ti, MAXQDA, QualCoder)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import FollowLinksOption, err_console, say, settings_for, stage_progress, warn, warn_followed_links

MAX_WARNINGS = 20


def _group(app: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """The sub-app *name* of *app*, created on first use (other modules may add commands to it)."""
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    sub = typer.Typer(
        name=name, help=help_text, no_args_is_help=True, rich_markup_mode="rich", pretty_exceptions_show_locals=False
    )
    app.add_typer(sub, name=name)
    return sub


def _report(skipped: dict[str, int], warnings: list[str]) -> None:
    for reason, n in sorted(skipped.items()):
        if n:
            warn(f"left out: {n} {reason}")
    for message in warnings[:MAX_WARNINGS]:
        warn(message)
    if len(warnings) > MAX_WARNINGS:
        warn(f"... and {len(warnings) - MAX_WARNINGS} more warnings")


def export_refi(
    project_dir: Optional[Path] = typer.Argument(
        None, help="Study folder (or its qualkit.yaml) to read defaults from; default: current folder."
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="File to write: FILE.qdpx (whole project) or FILE.qdc (codebook only)."
    ),
    transcripts: Optional[Path] = typer.Option(
        None,
        "--transcripts",
        "-t",
        help="Transcripts folder (default: the REDACTED transcripts, <output>/transcripts).",
    ),
    codebook: Optional[Path] = typer.Option(None, "--codebook", "-c", help="Codebook YAML (default: project file)."),
    segments: Optional[Path] = typer.Option(
        None, "--segments", "-s", help="Coded segments CSV/XLSX (default: code.segments, else <output>/segments.csv)."
    ),
    cases: Optional[Path] = typer.Option(None, "--cases", help="Case attributes CSV (default: project file)."),
    original: bool = typer.Option(
        False,
        "--original",
        help="Export the ORIGINAL (unredacted) transcripts. The file then holds identifiers: keep it private.",
    ),
    include_suggested: bool = typer.Option(
        False,
        "--include-suggested",
        help="Also export segments with status 'suggested' (default: accepted and empty status only).",
    ),
    newline: str = typer.Option(
        "lf", "--newline", help="Line breaks of the stored plain text: lf (default) or crlf (MAXQDA)."
    ),
    docx: bool = typer.Option(
        True, "--docx/--no-docx", help="Include Word transcripts as the rich-text version of their source."
    ),
    schema_dir: Optional[Path] = typer.Option(
        None, "--validate", help="Folder holding Project.xsd and Codebook.xsd: check the written file against them."
    ),
    key: Optional[Path] = typer.Option(
        None,
        "--key",
        "-k",
        help="Pseudonym key to check --transcripts against (default: the project's); any original found refuses "
        "the export.",
    ),
    follow_links: bool = FollowLinksOption,
) -> None:
    """Write a REFI-QDA project (.qdpx) or codebook (.qdc) for NVivo, ATLAS.ti, MAXQDA or QualCoder.

    Examples:
      qualkit export refi examples/csec-study --output csec.qdpx
      qualkit export refi --codebook codebooks/csec-study.yaml --output csec.qdc
    """
    from ..errors import UsageError
    from ..refi import check_original_destination, export_codebook, export_project, plan_export, validate_file

    suffix = output.suffix.lower()
    if suffix not in (".qdpx", ".qdc"):
        raise UsageError(
            f"unknown output type '{output.suffix or '(none)'}'",
            file=output,
            fix="name the output FILE.qdpx (project) or FILE.qdc (codebook)",
        )
    if newline not in ("lf", "crlf"):
        raise UsageError(f"unknown --newline '{newline}'", fix="use lf or crlf")
    settings = settings_for(project_dir)
    if suffix == ".qdc":
        cb = settings.path(codebook, "codebook")
        if cb is None:
            raise UsageError(
                "no codebook to export", fix="give --codebook FILE.yaml or set 'codebook:' in qualkit.yaml"
            )
        result = export_codebook(cb, output)
        say(f"Wrote {output}: {result.codes} codes (themes included).")
    else:
        plan = plan_export(
            settings,
            transcripts=transcripts,
            codebook=codebook,
            segments=segments,
            cases=cases,
            original=original,
            key=key,
        )
        warn_followed_links([plan.transcripts], follow_links)
        if plan.original:
            check_original_destination(output, plan)
            warn(
                "exporting the ORIGINAL transcripts: the file holds names and places; "
                "it is written readable by you only (0600) — do not share it"
            )
        with stage_progress({"export": "Exporting"}) as on_progress:
            result = export_project(
                output,
                transcripts=plan.transcripts,
                codebook=plan.codebook,
                segments=plan.segments,
                cases=plan.cases,
                project_name=plan.project_name,
                include_suggested=include_suggested,
                newline=newline,
                include_rich=docx,
                private=plan.original,
                follow_links=follow_links,
                key=plan.key,
                on_progress=on_progress,
            )
        say(
            f"Wrote {output}: {result.sources} sources, {result.codes} codes, {result.selections} selections "
            f"({result.codings} codings), {result.users} coders, {result.cases} cases, {result.variables} variables."
        )
        _report(result.skipped, result.warnings)
    if schema_dir is not None:
        errors = validate_file(output, schema_dir)
        if errors:
            for e in errors[:MAX_WARNINGS]:
                err_console.print(f"  {e}", markup=False)
            from ..errors import InputError

            raise InputError(
                f"the written file does not validate ({len(errors)} schema errors)",
                file=output,
                fix="please report this as a qualkit bug",
            )
        say("Valid against the REFI-QDA schema.")


def import_refi(
    file: Path = typer.Argument(..., help="REFI-QDA project (.qdpx) or codebook (.qdc)."),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Folder to write transcripts/, codebook.yaml, segments.csv, cases.csv into."
    ),
    line_breaks: str = typer.Option(
        "auto",
        "--line-breaks",
        help="How the other program counted line breaks in offsets: auto, file (code points as stored), one, two.",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite qualkit files already in the output folder."),
    sources: Optional[Path] = typer.Option(
        None,
        "--sources",
        help="Folder holding source files the project refers to outside the archive (default: read sources "
        "only from inside the archive).",
    ),
) -> None:
    """Turn a project coded in NVivo, ATLAS.ti, MAXQDA or QualCoder into qualkit files.

    Example: qualkit import refi project.qdpx --output imported/
    """
    from ..refi import import_refi as run_import

    with stage_progress({"import": "Importing"}) as on_progress:
        result = run_import(
            file,
            output,
            line_breaks=line_breaks,
            force=force,
            sources=sources,
            on_progress=on_progress,
        )
    parts = [f"{result.codes} codes"]
    if result.kind != "qdc":
        parts = (
            [f"{result.documents} transcripts"] + parts + [f"{result.segments} coded segments", f"{result.cases} cases"]
        )
    origin = f" (from {result.origin})" if result.origin else ""
    say(f"Imported {file}{origin}: " + ", ".join(parts) + f" into {output}/")
    conventions: dict[str, int] = {}
    for conv in result.line_breaks.values():
        conventions[conv] = conventions.get(conv, 0) + 1
    if conventions and any(c != "file" for c in conventions):
        say("Line breaks counted as: " + ", ".join(f"{k} ({v} transcripts)" for k, v in sorted(conventions.items())))
    _report(result.skipped, result.warnings)


def register(app: typer.Typer) -> None:
    _group(app, "export", "Export qualkit data to other tools' formats.").command("refi")(export_refi)
    _group(app, "import", "Import data from other tools' formats.").command("refi")(import_refi)
