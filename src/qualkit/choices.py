"""The allowed values of qualkit's settings and options, each defined once.

Each closed set of words a user can type (a coding unit, a replacement style, a
table format, an agreement level) is a :class:`~enum.StrEnum` here. The project
file checks (:mod:`qualkit.config`), the library functions and the command line
(as the Typer choice) all read them from this module, so adding a value is one
edit. Members are strings: ``Unit.TURN == "turn"``.
"""

from __future__ import annotations

from enum import StrEnum


class Unit(StrEnum):
    """The stretch of text a code is applied to (``qualkit code --unit``, ``code: unit:``)."""

    SENTENCE = "sentence"
    TURN = "turn"
    PARAGRAPH = "paragraph"


class Style(StrEnum):
    """How ``qualkit redact`` replaces an identifier (``--style``, ``redact: style:``)."""

    TAG = "tag"  # [PERSON 3]
    PSEUDONYM = "pseudonym"  # a realistic name
    CATEGORY = "category"  # [PERSON]


class TableFormat(StrEnum):
    """How ``qualkit tables`` writes or shows tables (``--format``, ``tables: format:``)."""

    CSV = "csv"
    XLSX = "xlsx"
    MD = "md"
    TERMINAL = "terminal"  # printed only: not a file format


#: the table formats that are files (what ``tables: format:`` in qualkit.yaml accepts)
TABLE_FILE_FORMATS: tuple[TableFormat, ...] = (TableFormat.CSV, TableFormat.XLSX, TableFormat.MD)


class AgreeLevel(StrEnum):
    """What ``qualkit agree`` compares: segments or whole cases (``--level``)."""

    SEGMENT = "segment"
    CASE = "case"


def values(choices) -> tuple[str, ...]:
    """The plain string values of an enum (or of a tuple of its members), in order."""
    return tuple(str(c.value) for c in choices)


def spoken(choices, *, last: str = "or") -> str:
    """``"sentence, turn or paragraph"``: the values for a message."""
    words = values(choices)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"
