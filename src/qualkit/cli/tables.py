"""qualkit tables: respondent frequency tables (counts of distinct cases, not segments)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..choices import TABLE_FILE_FORMATS, TableFormat
from ..errors import UsageError
from .common import ProjectOption, choice_option, out_console, say, settings_for, warn

FORMAT_HELP = "Default: from the --output suffix, else terminal."


def _format_for(fmt: Optional[str], output: Optional[Path]) -> str:
    if fmt:
        return fmt
    if output is None:
        return TableFormat.TERMINAL.value
    suffix = output.suffix.lower().lstrip(".")
    if suffix in TABLE_FILE_FORMATS:
        return suffix
    if suffix in ("markdown",):
        return "md"
    if suffix == "" or output.is_dir():
        return "csv"
    raise UsageError(
        f"cannot tell the table format from '{output.name}'",
        fix="give --format csv, xlsx or md, or an output ending in .csv, .xlsx or .md",
    )


def rich_table(table) -> Table:
    """A Rich table with "n (x%)" or count cells, the base line and notes as caption."""
    from ..tables.render import display_grid

    headers, body, footer = display_grid(table)
    caption = escape("\n".join(footer))
    t = Table(
        title=escape(table.heading),
        caption=caption,
        caption_justify="left",
        title_justify="left",
        show_lines=False,
        header_style="bold",
    )
    t.add_column(escape(headers[0]), justify="left", overflow="fold")
    for h in headers[1:]:
        t.add_column(escape(h), justify="right")
    for i, row in enumerate(body):
        last = i == len(body) - 1
        if last:
            t.add_section()
        t.add_row(*[Text(x, style="bold" if last else "") for x in row])
    return t


def tables(
    segments: Optional[Path] = typer.Option(
        None, "--segments", "-s", help="Coded segments CSV/XLSX (from 'qualkit code'). Needed for theme tables."
    ),
    cases: Optional[Path] = typer.Option(
        None, "--cases", help="Cases CSV: one row per respondent, column 'case' + attributes. The denominators."
    ),
    codebook: Optional[Path] = typer.Option(
        None, "--codebook", "-c", help="Codebook YAML: row order and labels of theme tables."
    ),
    theme: Optional[str] = typer.Option(
        None, "--theme", "-t", help="Count the codes of this theme (rows = its codes, codebook order)."
    ),
    attribute: Optional[str] = typer.Option(
        None, "--attribute", "-a", help="Count the values of this case attribute (natural order)."
    ),
    by: Optional[str] = typer.Option(None, "--by", help="Case attribute whose values become the columns."),
    where: Optional[list[str]] = typer.Option(
        None,
        "--where",
        "-w",
        help="Keep cases with COLUMN=VALUE or COLUMN!=VALUE (repeatable; COLUMN= keeps missing values).",
    ),
    percent: bool = typer.Option(
        False, "--percent", help="Add '<column> %' columns (share of the column's total cases, one decimal, half up)."
    ),
    fmt: Optional[str] = choice_option(TableFormat, None, "--format", "-f", case_sensitive=False, help=FORMAT_HELP),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Output file (a folder for several CSV tables); default: print."
    ),
    spec: Optional[Path] = typer.Option(None, "--spec", help="Table spec YAML: a whole numbered set of tables."),
    table: Optional[list[str]] = typer.Option(
        None, "--table", help="With --spec: only this table id or number (repeatable)."
    ),
    subcodes: bool = typer.Option(False, "--subcodes", help="Theme tables: add sub-code rows under their parent code."),
    accepted_only: bool = typer.Option(
        False, "--accepted-only", help="Count only accepted rows (skip 'suggested' as well as 'rejected')."
    ),
    title: Optional[str] = typer.Option(None, "--title", help="Title of a single table."),
    project: Optional[Path] = ProjectOption,
) -> None:
    """Frequency tables of respondents: distinct cases per code or attribute value, by group.

    Examples:

      qualkit tables -s segments.csv --cases cases.csv -c codebook.yaml --theme family --by group --percent

      qualkit tables --cases cases.csv --attribute age_first --by sex --where group=prostitution

      qualkit tables --spec tables.yaml -s segments.csv --cases cases.csv -c codebook.yaml -o tables.xlsx
    """
    from ..tables.build import build_tables
    from ..tables.spec import parse_where

    s = settings_for(project)
    cases_path = s.path(cases, "cases") if (cases or s.project_file) else None
    if cases_path is None:
        raise UsageError("no cases file", fix="give --cases CASES.csv (one row per respondent)")
    codebook_path = s.path(codebook, "codebook") if (codebook or s.project_file) else None
    segments_path = segments if segments is not None else s.location(None, "code.segments")
    filters = [parse_where(w) for w in (where or [])]
    fmt_ = _format_for(fmt, output)
    if theme or attribute:
        specs = [
            _one_table(
                theme, attribute, spec=spec, by=by, title=title, where=filters, percent=percent, subcodes=subcodes
            )
        ]
        filters = []  # they belong to the one table
    else:
        specs = _spec_tables(s, spec, table, by=by, subcodes=subcodes, title=title)
    themed = any(sp.theme for sp in specs)
    if themed and (segments_path is None or not Path(segments_path).exists()):
        raise UsageError(
            "theme tables need the coded segments",
            file=segments_path,
            fix="give --segments SEGMENTS.csv (written by 'qualkit code')",
        )
    if codebook_path is None and themed:
        warn("no --codebook: theme rows come from the segments (only codes that occur, labelled by id)")
    built = build_tables(
        specs,
        segments_path if themed else None,
        cases_path,
        codebook_path,
        where=filters,
        accepted_only=accepted_only,
        percent_all=percent,
    )
    for t in built:
        for w in t.warnings:
            warn(f"table {t.spec.id}: {w}")
    if output is not None:
        _write(built, output, fmt_)
    else:
        _print(built, fmt_)


def _one_table(theme, attribute, *, spec, by, title, where, percent, subcodes):
    """The single table of --theme or --attribute."""
    from ..tables.spec import TableSpec

    if spec:
        raise UsageError(
            "give either --spec or --theme/--attribute, not both",
            fix="drop --spec to build one table, or drop --theme/--attribute",
        )
    if theme and attribute:
        raise UsageError(
            "give --theme or --attribute, not both",
            fix="a theme table counts codes; an attribute table counts case values",
        )
    return TableSpec(
        id=theme or attribute,
        title=title or "",
        theme=theme,
        attribute=attribute,
        by=by,
        where=where,
        percent=percent,
        subcodes=subcodes,
    )


def _spec_tables(s, spec: Optional[Path], wanted: Optional[list[str]], *, by, subcodes, title) -> list:
    """The tables of --spec (else the project's tables.spec), only *wanted* ones when given."""
    from ..tables.spec import load_table_specs, select_specs

    spec_path = spec if spec else (s.path(None, "tables.spec") if s.project_file else None)
    if spec_path is None:
        raise UsageError("nothing to count", fix="give --theme THEME, --attribute COLUMN or --spec tables.yaml")
    if by or subcodes or title:
        raise UsageError(
            "--by, --subcodes and --title apply to a single --theme/--attribute table",
            fix="set 'by:', 'subcodes:' and 'title:' per table in the spec file",
        )
    return select_specs(load_table_specs(spec_path), wanted)


def _write(built: list, output: Path, fmt: str) -> None:
    from ..tables.render import write_tables

    if fmt == "terminal":
        raise UsageError(
            "--format terminal prints; it does not write a file",
            fix="drop --output, or use --format csv, xlsx or md",
        )
    for p in write_tables(built, output, fmt):
        say(f"wrote {p}")


def _print(built: list, fmt: str) -> None:
    from ..tables.render import render_csv, render_markdown

    if fmt == "xlsx":
        raise UsageError("xlsx cannot be printed", fix="give --output tables.xlsx")
    if fmt == "csv":
        if len(built) > 1:
            raise UsageError(
                f"{len(built)} tables cannot be printed as one CSV",
                fix="give --output FOLDER (one CSV per table) or pick one with --table ID",
            )
        sys.stdout.write(render_csv(built[0]))
    elif fmt == "md":
        sys.stdout.write(render_markdown(built))
    else:
        for i, t in enumerate(built):
            if i:
                out_console.print()
            out_console.print(rich_table(t))


def register(app: typer.Typer) -> None:
    app.command("tables")(tables)
