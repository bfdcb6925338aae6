"""Render frequency tables: tidy CSV, Markdown, terminal grids and the .xlsx workbook."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Iterable, Sequence

from ..choices import TableFormat, values
from ..errors import UsageError
from .build import PCT_SUFFIX, TOTAL_CASES, FrequencyTable, build_tables, format_percent, percent
from .spec import load_table_specs

# --------------------------------------------------------------------------- rendering


def render_csv(table: FrequencyTable) -> str:
    """The tidy CSV of the formats contract (percent columns with one decimal)."""
    buf = io.StringIO()
    frame = table.frame.copy()
    for c in frame.columns:
        if c.endswith(PCT_SUFFIX):
            frame[c] = [format_percent(v) for v in frame[c]]
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def _cell(table: FrequencyTable, row: str, col: str, cells: str) -> str:
    n = table.count(row, col)
    if cells == "n_pct" and row != TOTAL_CASES:
        p = percent(n, table.base[col])
        return f"{n} ({format_percent(p)}%)" if p is not None else f"{n}"
    return str(n)


def display_grid(table: FrequencyTable, cells: str | None = None) -> tuple[list[str], list[list[str]], list[str]]:
    """Headers, body rows (strings) and footer lines, for md/terminal/xlsx renderers.

    Sub-code rows are indented with non-breaking spaces; the ``total_cases`` row is
    the last body row and always shows plain counts.
    """
    cells = cells or table.spec.effective_cells
    headers = [table.row_header] + [table.column_labels[c] for c in table.all_columns]
    body = []
    for row, label in zip(table.frame["row"], table.frame["label"]):
        indent = "\u00a0\u00a0" * table.depth.get(row, 0)
        body.append([indent + str(label)] + [_cell(table, row, c, cells) for c in table.all_columns])
    return headers, body, footer_lines(table)


def footer_lines(table: FrequencyTable) -> list[str]:
    lines = [table.base_line()]
    note = table.multi_response_note()
    if note:
        lines.append(note)
    if table.spec.effective_cells == "n_pct":
        lines.append("Percentages: share of the column total, one decimal, rounded half up.")
    lines += [f"Note: {n}" if not n.lower().startswith(("note", "source")) else n for n in table.spec.notes]
    return lines


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(tables: FrequencyTable | Iterable[FrequencyTable], cells: str | None = None) -> str:
    """Markdown: heading, caption, the table ("n (x%)" cells when asked), base line and notes."""
    if isinstance(tables, FrequencyTable):
        tables = [tables]
    parts = []
    for t in tables:
        headers, body, footer = display_grid(t, cells)
        lines = [f"**{_md_escape(t.heading)}**", ""]
        if t.spec.caption:
            lines += [_md_escape(t.spec.caption), ""]
        lines.append("| " + " | ".join(_md_escape(h) for h in headers) + " |")
        lines.append("|---|" + "---:|" * (len(headers) - 1))
        for i, r in enumerate(body):
            bold = i == len(body) - 1  # the total_cases row
            lines.append("| " + " | ".join(f"**{_md_escape(x)}**" if bold else _md_escape(x) for x in r) + " |")
        for j, x in enumerate(footer):
            lines += ["", f"*{_md_escape(x)}*" if j == 0 else _md_escape(x)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _sheet_name(table: FrequencyTable, used: set[str]) -> str:
    base = f"Table {table.spec.number}" if table.spec.number else table.spec.id
    base = re.sub(r"[\[\]:*?/\\]", "-", base)[:31] or "table"
    name, i = base, 2
    while name.lower() in used:
        suffix = f" ({i})"
        name = base[: 31 - len(suffix)] + suffix
        i += 1
    used.add(name.lower())
    return name


def write_xlsx(tables: Sequence[FrequencyTable], path: str | Path) -> Path:
    """One sheet per table: heading, caption, the tidy table (numbers as numbers), base line, notes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from ..fsutil import atomic_open

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for t in tables:
        ws = wb.create_sheet(_sheet_name(t, used))
        ws.append([t.heading])
        ws["A1"].font = Font(bold=True, size=12)
        if t.spec.caption:
            ws.append([t.spec.caption])
        ws.append([])
        frame = t.frame
        header_row = ws.max_row + 1
        pretty = {c: t.column_labels.get(c, c) for c in t.all_columns}
        heads = ["row", t.row_header] + [
            pretty.get(c, c) if not c.endswith(PCT_SUFFIX) else pretty.get(c[: -len(PCT_SUFFIX)], c) + PCT_SUFFIX
            for c in frame.columns[2:]
        ]
        ws.append(heads)
        for cell in ws[header_row]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDDDDD")
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for rec in frame.itertuples(index=False, name=None):
            out = []
            for c, v in zip(frame.columns, rec):
                if c.endswith(PCT_SUFFIX):
                    out.append(None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v))
                elif c in ("row", "label"):
                    out.append(str(v))
                else:
                    out.append(int(v))
            ws.append(out)
        for row in ws.iter_rows(min_row=header_row + 1, max_row=ws.max_row):
            for cell, c in zip(row, frame.columns):
                if c.endswith(PCT_SUFFIX):
                    cell.number_format = "0.0"
        last = ws.max_row
        for cell in ws[last]:
            cell.font = Font(bold=True)
        ws.append([])
        for line in footer_lines(t):
            ws.append([line])
        ws.column_dimensions["A"].width = 28
        ws.column_dimensions["B"].width = 40
        for i in range(3, len(heads) + 1):
            ws.column_dimensions[ws.cell(row=header_row, column=i).column_letter].width = 14
        ws.freeze_panes = ws.cell(row=header_row + 1, column=3)
    path = Path(path)
    with atomic_open(path, "wb") as fh:
        wb.save(fh)
    return path


FORMATS = values(TableFormat)


def write_tables(tables: Sequence[FrequencyTable], output: str | Path, fmt: str) -> list[Path]:
    """Write built tables: xlsx -> one workbook (a sheet per table); md -> one file;
    csv -> one file for one table, else a folder with ``<id>.csv`` per table
    (an output ending in .csv names that folder without the suffix)."""
    from ..fsutil import atomic_write_text

    output = Path(output)
    tables = list(tables)
    if fmt == "xlsx":
        return [write_xlsx(tables, output)]
    if fmt == "md":
        atomic_write_text(output, render_markdown(tables))
        return [output]
    if fmt == "csv":
        if len(tables) == 1 and output.suffix.lower() == ".csv":
            atomic_write_text(output, render_csv(tables[0]))
            return [output]
        folder = output.with_suffix("") if output.suffix.lower() == ".csv" else output
        if folder.exists() and not folder.is_dir():
            raise UsageError(
                "the output for several CSV tables must be a folder",
                file=folder,
                fix="give --output FOLDER (one <table id>.csv per table)",
            )
        written = []
        for t in tables:
            p = folder / f"{t.spec.id}.csv"
            atomic_write_text(p, render_csv(t))
            written.append(p)
        return written
    raise UsageError(f"unknown table format '{fmt}'", fix="use csv, xlsx or md")


def write_table_set(
    spec_path: str | Path,
    *,
    segments=None,
    cases=None,
    codebook=None,
    output: str | Path,
    fmt: str = "xlsx",
    accepted_only: bool = False,
) -> list[Path]:
    """Build every table of a spec file and write them (used by ``qualkit run``)."""
    specs = load_table_specs(spec_path)
    tables = build_tables(specs, segments, cases, codebook, accepted_only=accepted_only)
    return write_tables(tables, output, fmt)
