"""qualkit code / codebook validate|show / agree: deductive coding and agreement."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from ..choices import AgreeLevel, Unit
from ..errors import InputError, QualkitError, UsageError
from .common import (
    FollowLinksOption,
    ModelOption,
    ProjectOption,
    SchedulerOption,
    WorkersOption,
    busy,
    choice_option,
    err_console,
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

codebook_app = typer.Typer(
    help="Check and view codebooks.", no_args_is_help=True, add_completion=False, rich_markup_mode="rich"
)


# --------------------------------------------------------------------------- qualkit code


def code(
    inputs: list[Path] = typer.Argument(..., help="Transcript files or folders (.txt .md .docx .vtt .srt)."),
    codebook: Optional[Path] = typer.Option(
        None, "--codebook", "-c", help="Codebook YAML (default: 'codebook:' in qualkit.yaml)."
    ),
    output: Optional[Path] = typer.Option(
        None,
        "--output",
        "-o",
        help="Segments CSV to write (default: 'code: segments:' in qualkit.yaml, else <output>/segments.csv).",
    ),
    xlsx: Optional[bool] = typer.Option(
        None, "--xlsx/--no-xlsx", help="Also write an .xlsx twin for review (default: yes)."
    ),
    unit: Optional[str] = choice_option(
        Unit,
        None,
        "--unit",
        "-u",
        help="Coding unit for codes whose rules name none (default: the codebook's, else sentence).",
    ),
    refresh: bool = typer.Option(
        False,
        "--refresh",
        help="Without a suggestion log (.<name>.suggested): drop earlier machine suggestions the rules no longer give. Human decisions are always kept.",
    ),
    model: Optional[str] = ModelOption,
    follow_links: bool = FollowLinksOption,
    workers: Optional[int] = WorkersOption,
    scheduler: Optional[str] = SchedulerOption,
    project: Optional[Path] = ProjectOption,
) -> None:
    """Apply a codebook's rules to transcripts and write coded segments for review.

    Writes one row per (segment, code): coder 'auto', status 'suggested'. Run it
    again on the same --output after review: accepted, rejected, added and
    edited rows are kept, only new suggestions are added.

    Example: qualkit code output/redacted --codebook codebooks/csec-study.yaml -o output/segments.csv
    """
    from ..coding.codebook import load_codebook
    from ..coding.merge import check_unique_ids, update_segments_file
    from ..fsutil import is_inside
    from ..readers import iter_inputs, read_document

    settings = settings_for(project)
    cb_path = settings.path(codebook, "codebook")
    if cb_path is None:
        raise UsageError(
            "no codebook given",
            fix="pass --codebook FILE (e.g. codebooks/csec-study.yaml) or set 'codebook:' in qualkit.yaml",
        )
    out_path = settings.location(output, "code.segments")
    if out_path is None:
        raise UsageError("no output file given", fix="pass --output segments.csv")
    if out_path.suffix.lower() != ".csv":
        raise UsageError(
            f"--output must be a .csv file (got '{out_path.name}')",
            fix="name it e.g. segments.csv; the .xlsx twin is written next to it",
        )
    unit_value = settings.value(unit, "code.unit")  # None: the codebook's defaults decide, else sentence
    want_xlsx = bool(settings.value(xlsx, "code.xlsx"))
    model_name = settings.value(model, "model")

    cb = load_codebook(cb_path)
    if not any(c.rules for c in cb.iter_codes()):
        warn(f"{cb_path} has no matching rules: no suggestions will be made (coders can still add rows)")
    files = list(iter_inputs(inputs, follow_links=follow_links))
    warn_followed_links(inputs, follow_links)
    if not files:
        raise InputError(
            "no transcripts found", file=inputs[0], fix="give .txt, .md, .docx, .vtt or .srt files or a folder of them"
        )
    originals = settings.path(None, "transcripts") if settings.project_file else None
    shareable = settings.path(None, "output") if settings.project_file else None
    if originals and shareable and any(is_inside(f.path, originals) for f in files) and is_inside(out_path, shareable):
        warn(
            "coding the original transcripts into the shareable output folder: the segments file holds their "
            "text. Code the redacted copies, or keep this file private."
        )
    docs, failed = [], []
    for f in files:
        try:
            docs.append(read_document(f.path, rel=f.rel))
        except QualkitError as exc:  # one damaged file: said once, the others are coded
            report_error(exc)
            failed.append(f.path)
    if not docs:
        say_failed(failed, "coded")
        raise typer.Exit(1)
    check_unique_ids(docs)
    for doc in docs:
        for w in doc.warnings:
            warn(f"{doc.path}: {w}")

    from ..execution import open_executor
    from ..nlp import load_pipeline

    with open_executor(
        int(settings.value(workers, "redact.workers") or 1), settings.value(scheduler, "scheduler")
    ) as ex:
        nlp = None
        if ex.workers == 1:  # in this process; workers load their own
            with busy("Loading model"):
                nlp = load_pipeline(model_name, "full")
        with stage_progress({"code": "Coding"}) as on_progress:
            update = update_segments_file(
                docs,
                cb,
                out_path,
                unit=unit_value,
                model=model_name,
                nlp=nlp,
                xlsx=want_xlsx,
                refresh=refresh,
                on_progress=lambda _doc, done, total: on_progress("code", done, total),
                executor=ex,
            )
    merged, written, previous = update.merge, update.written, update.previous_file
    rows_count = update.suggestions
    report_review_merge(update, out_path)

    info(f"Coded {len(docs)} transcript(s): {rows_count} suggestion(s) from the rules, {merged.new_suggestions} new.")
    if previous is not None:
        info(
            f"Kept {merged.kept_decisions} reviewed row(s) from {previous.name}"
            + (f" ({merged.relocated} moved with their text)" if merged.relocated else "")
            + "."
        )
        if merged.withheld_suggestions:
            info(f"Did not offer again {merged.withheld_suggestions} suggestion(s) a coder had deleted or re-coded.")
        if merged.stale_suggestions:
            info(
                f"Kept {merged.stale_suggestions} earlier suggestion(s) the rules no longer give "
                "(use --refresh to drop them)."
            )
        if merged.unmatched:
            warn(
                f"{merged.unmatched} reviewed row(s) refer to text no longer in "
                f"{', '.join(merged.unmatched_documents[:5])}: kept with their old offsets, please check them."
            )
    for p in written:
        say(str(p))
    if failed:
        say_failed(failed, "coded")
        raise typer.Exit(1)


def report_review_merge(update, out_path: Path) -> None:
    """Say which decisions came from the .xlsx twin, the conflicts, and the backups made."""
    from ..coding.twins import twin_of

    twin = twin_of(out_path)
    if update.from_twin:
        info(f"Merged {update.from_twin} review decision(s) made in {twin.name} into {out_path.name}.")
    for c in update.conflicts:
        warn(c.message(out_path.name, twin.name))
    for b in update.backups:
        warn(f"a copy of the file as it was, with the decisions it loses, is in {b}")


# --------------------------------------------------------------------------- qualkit codebook


@codebook_app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="Codebook YAML."),
    examples: bool = typer.Option(
        False, "--examples", help="Also check that each code's rules match its own examples (loads the model)."
    ),
    model: Optional[str] = ModelOption,
) -> None:
    """Check a codebook: keys, ids, required fields and every matching rule.

    Errors name the file, the line and the fix. With --examples, each code's
    'examples' are coded as respondent turns and codes whose rules miss one of
    their own examples are listed (exit code 1).

    Example: qualkit codebook validate codebooks/csec-study.yaml --examples
    """
    from ..coding.codebook import load_codebook
    from ..coding.rules import CompiledCodebook, parse_codebook_rules

    cb = load_codebook(file)
    rules = parse_codebook_rules(cb, deep=True)
    import spacy

    CompiledCodebook(cb, spacy.blank("en"), rules)  # every pattern through spaCy's Matcher
    codes = list(cb.iter_codes())
    out_console.print(
        f"[green]OK[/] {escape(str(file))}: {len(cb.themes)} themes, {len(codes)} codes, "
        f"{len(rules)} with matching rules."
    )
    if not examples:
        return
    from ..coding.apply import check_examples

    failures = check_examples(cb, model=model)
    total = sum(len(c.examples) for c in codes if c.rules is not None)
    if not failures:
        out_console.print(f"[green]OK[/] all {total} examples of coded rules match their own code.")
        return
    for path, ex_index in failures:
        err_console.print(
            f"[yellow]example {ex_index + 1} of {escape(path)} is not matched by its rules[/] "
            f"({escape(str(file))}:{cb.code(path).line})"
        )
    err_console.print(f"{len(failures)} of {total} examples not matched.")
    raise typer.Exit(1)


@codebook_app.command("show")
def show(
    file: Path = typer.Argument(..., help="Codebook YAML."),
    full: bool = typer.Option(False, "--full", help="Also show when to use / not to use and examples."),
) -> None:
    """Show a codebook as a tree: themes, codes, labels, definitions and rule counts.

    Example: qualkit codebook show codebooks/csec-study.yaml --full
    """
    from rich.tree import Tree

    from ..coding.codebook import load_codebook
    from ..coding.rules import parse_codebook_rules

    cb = load_codebook(file)
    rules = {r.code: r for r in parse_codebook_rules(cb)}
    title = (
        f"[bold]{escape(cb.title)}[/] ({escape(cb.id)}"
        + (f", version {escape(cb.version)}" if cb.version else "")
        + ")"
    )
    tree = Tree(title)

    def add(node, code):
        r = rules.get(code.path)
        rule_txt = (
            (f"{r.rule_count} rule{'s' if r.rule_count != 1 else ''}" + (f", {r.unit}" if r.unit else ""))
            if r
            else "no rules"
        )
        line = f"[cyan]{escape(code.id)}[/] {escape(code.label)} [dim]({rule_txt})[/]"
        if code.definition:
            line += f"\n[dim]{escape(code.definition)}[/]"
        branch = node.add(line)
        if full:
            if code.when_to_use:
                branch.add(f"[green]use:[/] {escape(code.when_to_use)}")
            if code.when_not_to_use:
                branch.add(f"[red]not:[/] {escape(code.when_not_to_use)}")
            for ex in code.examples:
                branch.add(f"[italic]“{escape(ex)}”[/]")
        for child in code.codes:
            add(branch, child)

    for theme in cb.themes:
        n = sum(1 for _ in theme.walk())
        with_rules = sum(1 for c in theme.walk() if c.path in rules)
        tnode = tree.add(
            f"[bold]{escape(theme.id)}[/] {escape(theme.label)} [dim]({n} codes, {with_rules} with rules)[/]"
        )
        for c in theme.codes:
            add(tnode, c)
    out_console.print(tree)


# --------------------------------------------------------------------------- qualkit agree


def agree(
    coder_a: Path = typer.Argument(..., help="Segments file of the first coder (CSV or XLSX)."),
    coder_b: Path = typer.Argument(..., help="Segments file of the second coder."),
    codebook: Optional[Path] = typer.Option(
        None, "--codebook", "-c", help="Report every code of this codebook (also codes nobody used), with labels."
    ),
    level: str = choice_option(AgreeLevel, AgreeLevel.SEGMENT.value, "--level", "-l", help="Unit of comparison."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write the table as CSV."),
) -> None:
    """Inter-coder agreement per code and overall: percent agreement, Cohen's kappa, Krippendorff's alpha.

    Units are the segments (overlapping segments count as one) or the cases
    either coder coded; rejected rows count as 'not applied'.

    Example: qualkit agree coder-lan.csv coder-minh.csv --codebook codebooks/csec-study.yaml -o agreement.csv
    """
    from rich.table import Table

    from ..coding.agree import agreement_files, write_agreement_csv
    from ..coding.codebook import load_codebook

    cb = load_codebook(codebook) if codebook else None
    result = agreement_files(coder_a, coder_b, level=level, codebook=cb)
    if result.unknown_codes:
        warn(
            f"{len(result.unknown_codes)} code(s) used in the files are not in the codebook: "
            + ", ".join(result.unknown_codes[:5])
        )

    def fmt(x, d=2):
        return "n/a" if x is None else f"{x:.{d}f}"

    table = Table(title=escape(f"Agreement ({level} level, {result.units} units): {coder_a.name} vs {coder_b.name}"))
    for col, just in (
        ("code", "left"),
        ("units", "right"),
        ("A", "right"),
        ("B", "right"),
        ("both", "right"),
        ("agree %", "right"),
        ("kappa", "right"),
        ("alpha", "right"),
    ):
        table.add_column(col, justify=just)
    for c in result.codes + [result.overall]:
        style = "bold" if c is result.overall else None
        table.add_row(
            escape(c.code),
            str(c.units),
            str(c.coder_a),
            str(c.coder_b),
            str(c.both),
            fmt(c.percent, 1),
            fmt(c.kappa),
            fmt(c.alpha),
            style=style,
        )
    out_console.print(table)
    out_console.print("[dim]n/a: undefined (a code neither coder used, or used on every unit)[/]")
    if output is not None:
        say(str(write_agreement_csv(output, result)))


def register(app: typer.Typer) -> None:
    app.command("code")(code)
    app.add_typer(codebook_app, name="codebook")
    app.command("agree")(agree)
