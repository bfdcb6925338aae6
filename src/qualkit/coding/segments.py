"""Coded segments: the CSV (or .xlsx) that `code` writes and coders edit.

Columns (README, "Coded segments"): document, code, case, segment, start, end,
speaker, coder, status, text. Only ``document`` and ``code`` are required;
``status`` empty means accepted; ``rejected`` rows never count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Iterable

from ..csvfiles import header_note, read_csv_frame
from ..errors import InputError
from ..fsutil import atomic_open

COLUMNS = ["document", "code", "case", "segment", "start", "end", "speaker", "coder", "status", "text"]
REQUIRED = ("document", "code")
STATUSES = ("suggested", "accepted", "rejected")


@dataclass
class CodedSegment:
    document: str
    code: str
    case: str = ""
    segment: str = ""
    start: int | None = None
    end: int | None = None
    speaker: str = ""
    coder: str = "auto"
    status: str = "suggested"
    text: str = ""

    @property
    def case_id(self) -> str:
        return self.case or self.document

    def as_row(self) -> dict:
        row = asdict(self)
        for k in ("start", "end"):
            row[k] = "" if row[k] is None else row[k]
        return row


def read_segments(path: str | Path, *, twin: bool = True):
    """Read a segments CSV/XLSX into a DataFrame with the standard columns.

    Missing optional columns are added empty; ``case`` is filled from
    ``document`` where empty (column ``case_id``); ``status`` is normalised to
    lower case with empty meaning accepted (column ``effective_status``).
    Raises InputError naming the file, the row (line) and the fix.

    For a CSV with an ``.xlsx`` twin, the decisions made in the twin are merged in
    (:mod:`qualkit.coding.twins`; ``twin=False`` reads the CSV alone); the frame's
    ``attrs`` then hold ``conflicts`` and ``from_twin``.
    """
    from .twins import read_reviewed, twin_of

    path = Path(path)
    if not twin or path.suffix.lower() != ".csv" or not twin_of(path).is_file():
        return read_segments_frame(path)
    reviewed = read_reviewed(path)
    if not path.is_file() or reviewed.from_twin:
        df = frame_from_rows(reviewed.rows, path)
    else:
        df = read_segments_frame(path)  # the CSV as it is (its line numbers), nothing new in the twin
    df.attrs["conflicts"] = reviewed.conflicts
    df.attrs["from_twin"] = reviewed.from_twin
    return df


def frame_from_rows(rows: list[dict], path: Path):
    """A segments DataFrame (as :func:`read_segments` returns) from row dicts."""
    import pandas as pd

    records = [{c: ("" if r.get(c) is None else str(r.get(c))) for c in COLUMNS} for r in rows]
    return _normalise(pd.DataFrame(records, columns=COLUMNS, dtype=str), path)


def read_segments_frame(path: str | Path):
    """One segments file (CSV or XLSX) as a DataFrame, without looking at a twin."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError("segments file not found", file=path, fix="run 'qualkit code' first or check the path")
    try:
        if path.suffix.lower() == ".xlsx":
            from ..fsutil import check_package  # a damaged or hostile workbook: one line, not a traceback

            check_package(
                path, "Excel file", "open it in Excel or LibreOffice and save it again as .xlsx, or use the .csv"
            )
            df = pd.read_excel(path, sheet_name=0, dtype=str, keep_default_na=False)
        else:
            df = read_csv_frame(path, what="segments file", expect=COLUMNS)
    except pd.errors.EmptyDataError:
        raise InputError(
            "segments file is empty", file=path, fix="it needs a header row: " + ",".join(COLUMNS)
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"segments file cannot be parsed ({str(exc).splitlines()[0][:100]})",
            file=path,
            fix="save it as UTF-8 CSV with a header row",
        ) from None
    return _normalise(df, path)


def _normalise(df, path: Path):
    import pandas as pd

    df.columns = [str(c).strip().lower() for c in df.columns]
    for col in REQUIRED:
        if col not in df.columns:
            raise InputError(
                f"segments file has no '{col}' column" + header_note(list(df.columns)),
                file=path,
                line=1,
                fix="add the column to the header row (" + ",".join(COLUMNS) + ")",
            )
    for col in COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df = df.fillna("")
    for col in ("document", "code", "case", "status", "coder", "speaker", "segment"):
        df[col] = df[col].astype(str).str.strip()
    df["status"] = df["status"].str.lower()
    bad = df[~df["status"].isin(("",) + STATUSES)]
    if len(bad):
        i = bad.index[0]
        raise InputError(
            f"unknown status '{bad.iloc[0]['status']}'",
            file=path,
            line=int(i) + 2,
            fix="use suggested, accepted, rejected or leave it empty (= accepted)",
        )
    empty = df[(df["document"] == "") | (df["code"] == "")]
    if len(empty):
        raise InputError(
            "row without document or code",
            file=path,
            line=int(empty.index[0]) + 2,
            fix="fill in both columns or delete the row",
        )
    for col in ("start", "end"):
        nums = pd.to_numeric(df[col].replace("", None), errors="coerce")
        badnum = df[(df[col] != "") & nums.isna()]
        if len(badnum):
            raise InputError(
                f"'{col}' is not a whole number",
                file=path,
                line=int(badnum.index[0]) + 2,
                fix="use character offsets (0, 1, 2...) or leave it empty",
            )
        df[col] = nums.astype("Int64")
    df["case_id"] = df["case"].where(df["case"] != "", df["document"])
    df["effective_status"] = df["status"].replace("", "accepted")
    return df


def write_segments(
    path: str | Path, rows: Iterable[CodedSegment | dict], *, xlsx: bool = False, codebook=None
) -> list[Path]:
    """Write segments atomically as CSV (and an .xlsx twin for review).

    With *codebook*, the twin also gets a 'codebook' sheet (ids, labels,
    definitions) and its code column a drop-down of the codebook's codes.
    """
    import csv

    path = Path(path)
    records = [r.as_row() if isinstance(r, CodedSegment) else {c: r.get(c, "") for c in COLUMNS} for r in rows]
    with atomic_open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for rec in records:
            writer.writerow({k: ("" if v is None else v) for k, v in rec.items()})
    written = [path]
    if xlsx:
        from .twins import record_written

        written.append(write_segments_xlsx(path.with_suffix(".xlsx"), records, codebook=codebook))
        record_written(path, records)  # what both files now hold: tells a later edit of either apart
    return written


def write_segments_xlsx(path: Path, records: list[dict], *, codebook=None) -> Path:
    """A review spreadsheet: frozen header, autofilter, status drop-down, wrapped text
    (and, with *codebook*, a codebook sheet feeding a code drop-down)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "segments"
    ws.append(COLUMNS)
    for rec in records:
        ws.append([("" if rec.get(c) is None else rec.get(c)) for c in COLUMNS])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, never a formula (it would read back empty, and could run)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    widths = {
        "document": 18,
        "code": 30,
        "case": 12,
        "segment": 10,
        "start": 8,
        "end": 8,
        "speaker": 12,
        "coder": 10,
        "status": 12,
        "text": 80,
    }
    for i, col in enumerate(COLUMNS, start=1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = widths[col]
    text_col = ws.cell(row=1, column=COLUMNS.index("text") + 1).column_letter
    for cell in ws[text_col][1:]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    status_col = ws.cell(row=1, column=COLUMNS.index("status") + 1).column_letter
    dv = DataValidation(type="list", formula1='"suggested,accepted,rejected"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add(f"{status_col}2:{status_col}{max(2, len(records) + 1000)}")
    if codebook is not None:
        _add_codebook_sheet(wb, codebook)
    with atomic_open(path, "wb") as fh:
        wb.save(fh)
    return path


def _add_codebook_sheet(wb, codebook) -> None:
    """A 'codebook' sheet (ids, labels, definitions); the segments sheet's code column
    becomes a drop-down of its codes. The first sheet is unchanged, so the file reads back as before."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    ws = wb.create_sheet("codebook")
    ws.append(["code", "label", "definition", "when_to_use", "when_not_to_use"])
    codes = list(codebook.iter_codes())
    for c in codes:
        ws.append([c.path, c.label, c.definition, c.when_to_use, c.when_not_to_use])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for letter, width in zip("ABCDE", (34, 30, 60, 50, 50)):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=5):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    seg = wb.worksheets[0]
    col = seg.cell(row=1, column=COLUMNS.index("code") + 1).column_letter
    dv = DataValidation(
        type="list", formula1=f"codebook!$A$2:$A${len(codes) + 1}", allow_blank=False, showErrorMessage=False
    )  # a warning-free hint: other codes can still be typed
    seg.add_data_validation(dv)
    dv.add(f"{col}2:{col}{max(2, seg.max_row + 1000)}")


SEGMENT_FIELDS = [f.name for f in fields(CodedSegment)]
