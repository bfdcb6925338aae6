"""Render frequency tables: tidy CSV, Markdown, terminal grids and the .xlsx workbook."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Iterable, Sequence

from ..choices import TableFormat, values
from ..errors import UsageError
from .build import (
    NO_RESPONSE,
    PCT_SUFFIX,
    TOTAL_CASES,
    FrequencyTable,
    build_tables,
    format_percent,
    percent,
    print_label,
)
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


def shows_percent(table: FrequencyTable, col: str) -> bool:
    """Does column *col* print percentages (its base reaches the spec's ``min_base``)?"""
    return table.base[col] > 0 and table.base[col] >= table.spec.min_base


def _cell(table: FrequencyTable, row: str, col: str, cells: str) -> str:
    n = table.count(row, col)
    if row == TOTAL_CASES:
        return str(n)
    if n == 0:
        return table.spec.zeros
    if cells == "n_pct" and shows_percent(table, col):
        d = table.spec.decimals
        return f"{n} ({format_percent(percent(n, table.base[col], d), d)}%)"
    return str(n)


def printed_rows(table: FrequencyTable) -> list[str]:
    """The rows a printed table shows: an all-zero no-response row is left out (``no_response: auto``)."""
    rows = list(table.frame["row"])
    if table.spec.no_response == "auto" and NO_RESPONSE in rows:
        if all(table.count(NO_RESPONSE, c) == 0 for c in table.all_columns):
            rows.remove(NO_RESPONSE)
    return rows


def display_grid(table: FrequencyTable, cells: str | None = None) -> tuple[list[str], list[list[str]], list[str]]:
    """Headers, body rows (strings) and footer lines, for md/terminal/Word renderers.

    Print options of the spec apply: zero cells print as ``zeros``, percentages
    with ``decimals`` and only in columns of at least ``min_base`` cases, an
    all-zero no-response row is left out. Sub-code rows are indented with
    non-breaking spaces; the ``total_cases`` row is the last body row and
    always shows plain counts.
    """
    cells = cells or table.spec.effective_cells
    headers = [table.row_header] + [print_label(table.column_labels[c]) for c in table.all_columns]
    labels = dict(zip(table.frame["row"], table.frame["label"]))
    body = []
    for row in printed_rows(table):
        indent = "\u00a0\u00a0" * table.depth.get(row, 0)
        body.append([indent + print_label(labels[row])] + [_cell(table, row, c, cells) for c in table.all_columns])
    return headers, body, footer_lines(table, cells)


def footer_lines(table: FrequencyTable, cells: str | None = None, *, printed: bool = True) -> list[str]:
    """Base line, multi-response note, how percentages (and zeros) print, the spec's notes.

    *printed*: the lines of a printed table (md, terminal, Word); False for the
    .xlsx sheet, which keeps every percentage."""
    cells = cells or table.spec.effective_cells
    spec = table.spec
    lines = [table.base_line()]
    note = table.multi_response_note()
    if note:
        lines.append(note)
    if not printed:
        if spec.percent:
            lines.append("Percentages: share of the column total, one decimal, rounded half up.")
    elif cells == "n_pct":
        shown = [c for c in table.all_columns if shows_percent(table, c)]
        if shown:
            digits = "whole numbers" if spec.decimals == 0 else "one decimal"
            lines.append(f"Percentages: share of the column total ({digits}, rounded half up).")
        if len(shown) < len(table.all_columns):
            where = "columns of" if shown else "a base of"
            lines.append(f"Percentages are not shown for {where} fewer than {spec.min_base} {spec.unit}.")
    if printed and spec.zeros not in ("", "0") and _has_zero(table, cells):
        lines.append(f"{spec.zeros} = none.")
    lines += [f"Note: {n}" if not n.lower().startswith(("note", "source")) else n for n in spec.notes]
    return lines


def _has_zero(table: FrequencyTable, cells: str) -> bool:
    return any(table.count(r, c) == 0 for r in printed_rows(table) if r != TOTAL_CASES for c in table.all_columns)


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


#: width in characters of an xlsx column: at least, at most
_XLSX_MIN_W, _XLSX_MAX_LABEL_W = 8, 48


def _xlsx_width(text: str) -> int:
    """Characters a header needs when it may wrap onto up to three lines, never mid-word."""
    words = str(text).split() or [""]
    return max(max(len(w) for w in words), (len(str(text)) + 2) // 3)


def _zero_format(base: str, zeros: str) -> str:
    """An Excel number format printing zero as *zeros* ("–", blank or 0)."""
    if zeros == "0":
        return base
    shown = '"' + zeros.replace('"', "") + '"' if zeros else ""
    return f"{base};-{base};{shown}"


def _xlsx_sheet(ws, t: FrequencyTable) -> None:
    """One table on a sheet: heading, caption, a styled header row frozen at the top, the
    label column first and the machine keys last, base line and notes, A4 page setup."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    def font(**kw) -> Font:
        return Font(name="Calibri", size=kw.pop("size", 11), **kw)

    spec, frame = t.spec, t.frame
    value_cols = list(frame.columns[2:])  # by values, total, then the % columns
    pretty = {c: print_label(t.column_labels.get(c, c)) for c in t.all_columns}
    heads = [t.row_header]
    for c in value_cols:
        heads.append(pretty.get(c[: -len(PCT_SUFFIX)], c) + " (%)" if c.endswith(PCT_SUFFIX) else pretty.get(c, c))
    heads.append("key")  # the machine key of the row (theme.code, value, no_response, total_cases)
    ncols = len(heads)
    ws.cell(row=1, column=1, value=t.heading).font = font(bold=True, size=12)
    row_i = 2
    if spec.caption:
        ws.cell(row=row_i, column=1, value=spec.caption).font = font(italic=True)
        row_i += 1
    header_row = row_i + 1
    thin = Side(style="thin", color="808080")
    for j, h in enumerate(heads, start=1):
        cell = ws.cell(row=header_row, column=j, value=h)
        cell.font = font(bold=True, color="808080" if j == ncols else None)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
        cell.alignment = Alignment(wrap_text=True, vertical="bottom", horizontal="left" if j == 1 else "right")
        cell.border = Border(bottom=thin, top=thin)
    count_fmt = _zero_format("0", spec.zeros)
    pct_fmt = _zero_format("0.0", spec.zeros)  # the data keeps one decimal, as the CSV
    r = header_row
    labels = list(frame["label"])
    for k, rec in enumerate(frame.itertuples(index=False, name=None)):
        r += 1
        values = dict(zip(frame.columns, rec))
        indent = "  " * t.depth.get(values["row"], 0)
        ws.cell(row=r, column=1, value=indent + print_label(labels[k])).font = font()
        for j, c in enumerate(value_cols, start=2):
            v = values[c]
            if c.endswith(PCT_SUFFIX):
                v = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
                fmt = pct_fmt
            else:
                v, fmt = int(v), count_fmt
            cell = ws.cell(row=r, column=j, value=v)
            cell.number_format = fmt
            cell.font = font()
        key = ws.cell(row=r, column=ncols, value=str(values["row"]))
        key.font = font(color="808080")
    for j, cell in enumerate(ws[r][:ncols], start=1):  # the total row
        cell.font = font(bold=j < ncols, color="808080" if j == ncols else None)
        cell.border = Border(top=thin, bottom=thin)
    # widths from the content: labels in full (up to a limit), headers on up to three lines
    label_w = min(_XLSX_MAX_LABEL_W, max([len(heads[0])] + [len(print_label(x)) + 2 for x in labels] + [12]) + 2)
    ws.column_dimensions["A"].width = label_w
    widths = [label_w]
    for j in range(2, ncols + 1):
        w = max(_XLSX_MIN_W, _xlsx_width(heads[j - 1]) + 2)
        if j == ncols:
            w = max(w, max(len(str(x)) for x in frame["row"]) + 2)
        ws.column_dimensions[get_column_letter(j)].width = w
        widths.append(w)
    # base line and notes: each across the table's width, wrapped
    total_w = sum(widths)
    r += 1
    for line in footer_lines(t, printed=False):
        r += 1
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncols)
        cell = ws.cell(row=r, column=1, value=line)
        cell.font = font(size=9)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[r].height = 12.5 * max(1, -(-len(line) * 9 // (11 * max(1, total_w - 2))))
    lines = max([1] + [-(-len(h) // max(1, widths[j] - 2)) for j, h in enumerate(heads) if j])
    ws.row_dimensions[header_row].height = 15 * min(3, lines)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)  # header row and label column stay in view
    # print: A4, one page wide, the header row repeated, landscape when the table is wide
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if total_w > 100 else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_area = f"A1:{get_column_letter(ncols)}{r}"
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.oddFooter.center.text = "&A – page &P of &N"


def write_xlsx(tables: Sequence[FrequencyTable], path: str | Path) -> Path:
    """One sheet per table (see :func:`_xlsx_sheet`); numbers stay numbers, zeros and
    percentages print with the spec's ``zeros`` and ``decimals``."""
    from openpyxl import Workbook

    from ..fsutil import atomic_open

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for t in tables:
        _xlsx_sheet(wb.create_sheet(_sheet_name(t, used)), t)
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
