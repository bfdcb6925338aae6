"""qualkit redact / audit / score: de-identify transcripts, check the output, measure recall."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..choices import Style
from ..config import layout_name, redact_options
from ..errors import UsageError
from .common import (
    FollowLinksOption,
    ModelOption,
    ProjectOption,
    SchedulerOption,
    WorkersOption,
    choice_option,
    failed_files,
    info,
    out_console,
    report_error,
    say,
    say_failed,
    settings_for,
    stage_progress,
    warn,
    warn_followed_links,
)


def _default_key(s, key: Optional[Path], output: Path) -> Path:
    picked = s.location(key, "redact.key")
    if picked is not None:
        return picked
    # no project file: a private sibling of the output folder, never inside it
    out = output.resolve()
    return out.parent / f"{out.name}-private" / layout_name("redact.key")


def redact(
    inputs: list[Path] = typer.Argument(..., help="Transcript files or folders (.txt .md .docx .vtt .srt)."),
    output: Optional[Path] = typer.Option(
        None,
        "--output",
        "-o",
        help="Output folder for the redacted copies (same relative paths and formats). Default: the project's output/transcripts.",
    ),
    key: Optional[Path] = typer.Option(
        None,
        "--key",
        "-k",
        help="Pseudonym key CSV (private; read and extended). Default: <private>/redaction-key.csv, or <output>-private/redaction-key.csv without a project.",
    ),
    names: Optional[Path] = typer.Option(
        None,
        "--names",
        help="Study list of names, aliases, villages to always redact (one per line; 'PLACE: Ban X' sets the label).",
    ),
    keep: Optional[Path] = typer.Option(None, "--keep", help="Words and phrases never replaced (one per line)."),
    style: Optional[str] = choice_option(
        Style,
        None,
        "--style",
        "-s",
        help="tag ([PERSON 3]), pseudonym (realistic names) or category ([PERSON]). Default: pseudonym.",
    ),
    keep_countries: Optional[bool] = typer.Option(
        None, "--keep-countries/--redact-countries", help="Leave country names in place (default) or replace them too."
    ),
    model: Optional[str] = ModelOption,
    workers: Optional[int] = WorkersOption,
    scheduler: Optional[str] = SchedulerOption,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Detect and count, write nothing but the private review report."
    ),
    report: Optional[Path] = typer.Option(
        None, "--report", help="Private review report (HTML). Default: beside the key."
    ),
    no_report: bool = typer.Option(False, "--no-report", help="Do not write the review report."),
    follow_links: bool = FollowLinksOption,
    rename: Optional[bool] = typer.Option(
        None,
        "--rename/--no-rename",
        help="Give documents neutral ids (T001...) in the output, as file names can hold names; the mapping goes "
        "to document-ids.csv beside the key (private). Default: redact.rename (qualkit init sets it for new studies).",
    ),
    project: Optional[Path] = ProjectOption,
) -> None:
    """De-identify transcripts: names, places, facilities, phones, emails, handles, ids.

    The same original gets the same replacement in every document and on every
    later run (the key remembers it). The key and the review report show the
    originals: they are written 0600 and never inside the output folder.

    Examples:

      qualkit redact transcripts/ -o redacted/ --key private/key.csv --names private/names.txt

      qualkit redact interview.docx -o redacted/ --style tag --dry-run

      qualkit redact -p mystudy mystudy/transcripts
    """
    from ..redact import redact_corpus

    s = settings_for(project)
    if output is None:
        output = s.default_path("redacted")
        if output is None:
            raise UsageError("no output folder", fix="give --output DIR (a new folder for the redacted copies)")
    opts = redact_options(
        s,
        style=style,
        model=model,
        names=names,
        keep=keep,
        keep_countries=keep_countries,
        workers=workers,
        scheduler=scheduler,
        dry_run=dry_run,
        follow_links=follow_links,
        rename=rename,
    )
    key_path = _default_key(s, key, output)
    report_path = None
    if not no_report:
        report_path = report or key_path.parent / layout_name("review_report")
    if s.project_file is not None:  # the project's whole output/ is shareable, not only output/transcripts
        from ..redact.engine import check_locations

        check_locations(inputs, output, key_path, report_path, shareable=[s.path(None, "output")])
    warn_followed_links(inputs, follow_links, all_files=True)
    result = _run_with_bar(redact_corpus, inputs, output, key_path, opts, report_path)
    for exc in result.errors:
        report_error(exc)
    for w in result.warnings:
        warn(w)
    if result.tightened:
        from ..fsutil import private_note

        warn(private_note(result.tightened))
    if result.stale_temps:
        info(f"Removed {result.stale_temps} temporary file(s) an interrupted earlier run had left.")
    if not result.documents and result.errors:
        say_failed(failed_files(result.errors), "redacted")
        say("nothing redacted: no output, key or report was written (earlier ones, if any, were left as they were).")
        raise typer.Exit(1)
    verb = "would replace" if dry_run else "replaced"
    say(
        f"{len(result.documents)} document(s): {verb} {result.replacements} identifier(s); "
        f"{result.key_added} new key entr{'y' if result.key_added == 1 else 'ies'} ({result.key_entries} in all)."
    )
    if result.by_label:
        say("  by label: " + ", ".join(f"{k} {v}" for k, v in sorted(result.by_label.items())))
        say("  by detector: " + ", ".join(f"{k} {v}" for k, v in sorted(result.by_detector.items())))
    if not dry_run:
        say(f"  output: {output}  log: {result.log_path}")
        say(f"  key (PRIVATE): {key_path}")
        if opts.rename:
            from ..redact.docids import ids_path_for

            say(f"  document ids (PRIVATE): {ids_path_for(key_path)}")
    if result.report_path:
        say(f"  review report (PRIVATE): {result.report_path}")
    if result.errors:
        say_failed(failed_files(result.errors), "redacted")
        raise typer.Exit(1)


def _run_with_bar(fn, inputs, output, key_path, opts, report_path):
    """Run *fn* with a progress bar (or log lines) per stage (detect, write)."""
    with stage_progress({"detect": "Detecting", "write": "Writing"}) as on_progress:
        return fn(list(inputs), output, key_path, opts, report_path=report_path, on_progress=on_progress)


def audit(
    folder: Path = typer.Argument(..., help="Folder of redacted transcripts (the output of qualkit redact)."),
    key: Optional[Path] = typer.Option(None, "--key", "-k", help="The pseudonym key used for the redaction."),
    keep: Optional[Path] = typer.Option(None, "--keep", help="Words never replaced (not leaks)."),
    model: Optional[str] = ModelOption,
    key_only: bool = typer.Option(
        False, "--key-only", help="Only look for originals from the key (no fresh NER/rule detection)."
    ),
    project: Optional[Path] = ProjectOption,
) -> None:
    """Re-scan redacted output for leaks; exit 1 if any original from the key (or a fresh hit) is found.

    Leaks are reported by document, offset and label only, never with the text.

    Examples:

      qualkit audit redacted/ --key private/key.csv

      qualkit audit -p mystudy mystudy/output/transcripts
    """
    from ..redact.audit import audit_output

    s = settings_for(project)
    key_path = s.location(key, "redact.key")
    if key_path is None:
        raise UsageError("no key given", fix="give --key FILE (the pseudonym key of the redaction)")
    if not key_path.is_file():
        raise UsageError("key not found", file=key_path, fix="give --key with the key the redaction wrote")
    if not folder.is_dir():
        raise UsageError("not a folder", file=folder, fix="give the folder of redacted transcripts")
    result = audit_output(
        folder,
        key_path,
        model=s.value(model, "model"),
        keep_file=s.path(keep, "redact.keep"),
        keep_countries=bool(s.value(None, "redact.keep_countries")),
        fresh=not key_only,
    )
    for exc in result.errors:
        report_error(exc)
    for leak in result.leaks:
        say(f"LEAK {leak.line}")
    n_key = len(result.key_leaks)
    say(
        f"{result.documents} document(s) audited: {n_key} original(s) from the key, "
        f"{len(result.leaks) - n_key} fresh detection(s)."
    )
    say_failed(failed_files(result.errors), "audited")
    if result.leaks or result.errors:
        raise typer.Exit(1)


def score(
    gold: Path = typer.Argument(
        ..., help='Gold spans, JSONL: {"file": ..., "start": ..., "end": ..., "label": ...} a line.'
    ),
    input_dir: Optional[Path] = typer.Option(
        None, "--input", "-i", help="Folder the gold 'file' paths are relative to (default: the gold file's folder)."
    ),
    names: Optional[Path] = typer.Option(None, "--names", help="Study names list (as for redact)."),
    keep: Optional[Path] = typer.Option(None, "--keep", help="Keep list (as for redact)."),
    keep_countries: Optional[bool] = typer.Option(None, "--keep-countries/--redact-countries", help="As for redact."),
    model: Optional[str] = ModelOption,
    misses: bool = typer.Option(
        False, "--show-misses", help="List missed gold spans by file and offset (never the text)."
    ),
    project: Optional[Path] = ProjectOption,
) -> None:
    """Score redaction against hand-marked gold spans: recall and precision per label.

    Runs the redaction on the files the gold spans name (nothing is written) and
    counts a gold span as caught when none of its distinctive words is left.

    Examples:

      qualkit score sample-gold.jsonl --input transcripts/ --names private/names.txt
    """
    import tempfile

    from ..redact import RedactOptions, redact_corpus
    from ..redact.score import load_gold, score_spans

    s = settings_for(project)
    spans = load_gold(gold)
    root = input_dir or gold.parent
    files = sorted({g.file for g in spans})
    paths = [root / f for f in files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise UsageError(
            "a file named in the gold spans is missing",
            file=missing[0],
            fix="give --input with the folder the 'file' paths are relative to",
        )
    opts = RedactOptions(
        dry_run=True,
        collect_spans=True,
        model=s.value(model, "model"),
        names_file=s.path(names, "redact.names"),
        keep_file=s.path(keep, "redact.keep"),
        keep_countries=bool(s.value(keep_countries, "redact.keep_countries")),
    )
    with tempfile.TemporaryDirectory() as tmp:
        result = redact_corpus(paths, Path(tmp) / "out", Path(tmp) / "key.csv", opts)
    from ..readers import read_document

    texts, predicted = {}, {}
    by_name = {p.name: f for p, f in zip(paths, files)}
    for rel, d in result.spans.items():
        f = by_name.get(Path(rel).name, rel)
        texts[f] = read_document(d.path).text
        predicted[f] = d.spans
    for exc in result.errors:
        report_error(exc)
    res = score_spans(spans, predicted, texts)
    from rich.table import Table

    t = Table(title=f"Redaction scored on {len(texts)} file(s)", title_justify="left")
    for col in ("measure", "label", "spans", "hits", "rate"):
        t.add_column(col, justify="right" if col in ("spans", "hits", "rate") else "left")
    for kind, label, total, hit, rate in res.rows():
        t.add_row(kind, label, str(total), str(hit), f"{rate:.3f}")
    out_console.print(t)
    say(f"other words replaced: {res.other_rate:.2%} of {res.other_words}")
    if misses:
        for g in res.missed:
            say(f"MISSED {g.file}:{g.start}-{g.end} {g.label}")
    if result.errors:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("redact")(redact)
    app.command("audit")(audit)
    app.command("score")(score)
