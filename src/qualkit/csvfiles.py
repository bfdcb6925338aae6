"""Reading the CSV files people edit in spreadsheets (cases, segments, the pseudonym key).

Excel writes "CSV" with the list separator of the computer's language: ``,`` in English,
``;`` in Vietnamese, French or German settings, a tab for "Unicode text" (UTF-16). The
separator is detected from the header row (the one that yields the columns the file must
have), and what cannot be read is said in the user's terms: the encoding to save as, the
row whose number of cells differs from the header, with its line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from typing import Sequence

from .errors import InputError

SEPARATORS = (",", ";", "\t")
_NAMES = {",": "','", ";": "';'", "\t": "a tab"}
_SAVE_AS = "in Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'"


def decode_csv(data: bytes, path: Path | str | None, what: str, *, fix: str = _SAVE_AS) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM) or UTF-16 with a BOM (Excel's
    'Unicode text'). Anything else is an error naming the line of the first bad byte."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"the {what} is not valid UTF-16 text", file=path, fix=fix) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"the {what} is not UTF-8 text (saved in a local code page?)",
            file=path,
            line=line,
            fix=fix,
        ) from None


def decode_list(data: bytes, path: Path | str | None, what: str) -> str:
    """The text of a names or keep list: UTF-8 or UTF-16 (BOM) only. A list in a local code page
    would be read with its accented names garbled, and then never match: that is an error."""
    if data.startswith(b"PK\x03\x04") or (b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff"))):
        raise InputError(
            f"the {what} is not a plain text file (a spreadsheet or a Word file?)",
            file=path,
            fix="save it as plain text (UTF-8), one entry per line",
        )
    return decode_csv(data, path, what, fix="save it as UTF-8 text (in a text editor: encoding UTF-8)")


def detect_separator(text: str, expect: Sequence[str] = ()) -> str:
    """The separator of the header row of *text*: the one that gives the most of the
    *expect* ed column names, else the most cells (``,`` on a tie)."""
    header = next((ln for ln in text.splitlines() if ln.strip()), "")
    wanted = {e.lower() for e in expect}
    best, best_score = ",", (-1, -1)
    for sep in SEPARATORS:
        try:
            cells = next(csv.reader([header], delimiter=sep), [])
        except csv.Error:
            continue
        names = {c.strip().lower() for c in cells}
        score = (len(names & wanted), len(cells))
        if score > best_score:
            best, best_score = sep, score
    return best


def separator_name(sep: str) -> str:
    return _NAMES.get(sep, repr(sep))


def read_csv_frame(path: Path, *, what: str, expect: Sequence[str]):
    """A CSV as a DataFrame of strings (empty cell = ""), with its separator detected. Raises
    :class:`InputError` in the user's terms (encoding, a row with more cells than the header)."""
    import pandas as pd

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(
            f"the {what} cannot be read ({exc.strerror or type(exc).__name__})", file=path, fix="check its permissions"
        ) from None
    text = decode_csv(data, path, what)
    if not text.strip():
        raise pd.errors.EmptyDataError("empty")
    sep = detect_separator(text, expect)
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, engine="c")
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            expected, line, saw = (int(g) for g in m.groups())
            raise InputError(
                f"row has {saw} cells, the header has {expected} (the file is separated by {separator_name(sep)})",
                file=path,
                line=line,
                fix=f"put a cell holding {separator_name(sep)} in double quotes, or remove the extra cell",
            ) from None
        raise InputError(
            f"the {what} cannot be read as CSV ({str(exc).splitlines()[0][:100]})",
            file=path,
            fix='check its quotes (a cell holding a quote or a line break is written in "..."); ' + _SAVE_AS,
        ) from None


def header_note(columns: Sequence[str]) -> str:
    """The header as read, for a message about a missing column."""
    shown = ", ".join(str(c)[:30] for c in list(columns)[:8]) + (", ..." if len(columns) > 8 else "")
    return f" (its header row reads: {shown})" if shown else ""
