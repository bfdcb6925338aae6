"""Case (respondent) attributes: a CSV with a ``case`` column and one column per attribute."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from .csvfiles import header_note, read_csv_frame
from .errors import InputError


def read_cases(path: str | Path, *, ids: Mapping[str, str] | None = None):
    """Read cases into a DataFrame indexed by case id (strings; empty cell = missing).

    *ids* (original document id -> neutral id, from ``redact --rename``): a case id that is an
    original document id is read as its neutral id, so a cases file keyed by file names still
    matches the renamed documents.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(
            "cases file not found", file=path, fix="give a CSV with a 'case' column (qualkit init makes one)"
        )
    try:
        if path.suffix.lower() == ".xlsx":
            from .fsutil import check_package  # a damaged or hostile workbook: one line, not a traceback

            check_package(
                path, "Excel file", "open it in Excel or LibreOffice and save it again as .xlsx, or save it as .csv"
            )
            df = pd.read_excel(path, dtype=str, keep_default_na=False)
        else:
            df = read_csv_frame(path, what="cases file", expect=("case",))
    except pd.errors.EmptyDataError:
        raise InputError("cases file is empty", file=path, fix="add a header row starting with 'case'") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"cases file cannot be parsed ({str(exc).splitlines()[0][:100]})",
            file=path,
            fix="save it as UTF-8 CSV with a header row",
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    if "case" not in df.columns:
        raise InputError(
            "cases file has no 'case' column" + header_note(list(df.columns)),
            file=path,
            line=1,
            fix="name the column of case ids 'case' in the first row",
        )
    df = df.apply(lambda s: s.astype(str).str.strip())
    if ids:
        df["case"] = df["case"].map(lambda c: ids.get(c, c))
    if df.empty:
        raise InputError("cases file has no rows", file=path, line=2, fix="add one row per respondent")
    blank = df[df["case"] == ""]
    if len(blank):
        raise InputError(
            "row without a case id", file=path, line=int(blank.index[0]) + 2, fix="fill in the 'case' cell"
        )
    dup = df[df["case"].duplicated()]
    if len(dup):
        raise InputError(
            f"duplicate case id at row {int(dup.index[0]) + 2}",
            file=path,
            line=int(dup.index[0]) + 2,
            fix="give each respondent one row",
        )
    df = df.set_index("case", drop=False)
    df.index.name = None
    return df.replace("", pd.NA)
