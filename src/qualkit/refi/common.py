"""Pieces shared by the REFI-QDA exporter and importer.

Stable GUIDs, GUID normalisation, ids made from names, variable types, the
code description layout (definition / when to use / when not to use /
examples), and the line-break maps that translate character offsets between
text views (CRLF counted as one or two code points).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import date
from typing import Iterable

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

#: Fixed namespace of every GUID qualkit derives (uuid5). Never change it:
#: GUIDs of codes, sources and cases must stay the same from one export to the next.
QUALKIT_NAMESPACE = uuid.UUID("6b1f3c52-9f0e-5d0a-8c1e-71a1c0d3e7a4")

_GUID_RE = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")


def stable_guid(*parts: str) -> str:
    """A GUID that depends only on *parts* (uuid5 in qualkit's namespace), lower case, no braces."""
    return str(uuid.uuid5(QUALKIT_NAMESPACE, "\x1f".join(parts)))


def code_guid(codebook_id: str, code_path: str) -> str:
    """The GUID of a theme or code: uuid5(namespace, codebook id + code path)."""
    return stable_guid("code", codebook_id, code_path)


def norm_guid(value: str | None) -> str | None:
    """GUID as a lookup key: braces stripped, lower case. None for anything that is not a GUID."""
    if value is None:
        return None
    m = _GUID_RE.match(value.strip())
    return m.group(1).lower() if m else None


# --------------------------------------------------------------------------- ids from names

_TRANSLIT = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "ð": "d",
    }
)


def ascii_fold(text: str) -> str:
    """Latin letters without diacritics ("Hà Nội" -> "Ha Noi", "đ" -> "d")."""
    text = text.translate(_TRANSLIT)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def id_from_name(name: str | None, *, fallback: str = "code") -> str:
    """A codebook id from a code name: lower case, ``[a-z0-9_]``, never empty."""
    text = ascii_fold(name or "").lower()
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    return text or fallback


def unique(candidate: str, taken: set[str], *, fold_case: bool = False) -> str:
    """*candidate*, or *candidate*_2, _3 ... when taken; the result is added to *taken*."""
    key = (lambda s: s.lower()) if fold_case else (lambda s: s)
    out, n = candidate, 1
    while key(out) in taken:
        n += 1
        out = f"{candidate}_{n}"
    taken.add(key(out))
    return out


def document_id_from_name(name: str | None, *, fallback: str) -> str:
    """A file-name-safe document id from a source name (known extensions dropped)."""
    text = unicodedata.normalize("NFKC", (name or "").strip())
    text = re.sub(r"\.(txt|docx?|rtf|pdf|md|odt|vtt|srt)$", "", text, flags=re.IGNORECASE)
    text = re.sub(r"[^\w.\-]+", "_", text).strip("._-")[:100].rstrip("._-")
    return text or fallback


# --------------------------------------------------------------------------- code descriptions

_DESC_FIELDS = (("when_to_use", "When to use"), ("when_not_to_use", "When not to use"))
_DESC_HEAD_RE = re.compile(r"^(When to use|When not to use|Examples):[ \t]*", re.MULTILINE)
_ID_LINE_RE = re.compile(r"(?:^|\n)[ \t]*qualkit id:[ \t]*([a-z0-9_]+(?:\.[a-z0-9_]+)*)[ \t]*$")


def compose_description(
    definition: str = "",
    when_to_use: str = "",
    when_not_to_use: str = "",
    examples: Iterable[str] = (),
    *,
    qualkit_id: str | None = None,
) -> str:
    """One REFI ``Description`` text carrying every definition field of a code.

    Layout (parsed back by :func:`parse_description`)::

        <definition>

        When to use: ...
        When not to use: ...
        Examples:
        - ...

        qualkit id: theme.code

    The last line lets an import (even after a trip through NVivo or ATLAS.ti)
    give the code back its qualkit id instead of one made from its name.
    """
    parts: list[str] = []
    if definition.strip():
        parts.append(definition.strip())
    notes = [
        f"{title}: {value.strip()}"
        for key, title in _DESC_FIELDS
        for value in [{"when_to_use": when_to_use, "when_not_to_use": when_not_to_use}[key]]
        if value.strip()
    ]
    examples = [e.strip() for e in examples if e and e.strip()]
    if examples:
        notes.append("Examples:\n" + "\n".join(f"- {' '.join(e.split())}" for e in examples))
    if notes:
        parts.append("\n".join(notes))
    if qualkit_id:
        parts.append(f"qualkit id: {qualkit_id}")
    return "\n\n".join(parts)


def split_qualkit_id(text: str | None) -> tuple[str, str | None]:
    """(description without its "qualkit id:" line, the id path or None)."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    m = _ID_LINE_RE.search(text)
    if not m:
        return text, None
    return text[: m.start()].strip(), m.group(1)


def parse_description(text: str | None) -> dict:
    """Split a Description written by :func:`compose_description` back into its fields.

    Any other description becomes the definition as it is. ``qualkit_id`` is
    the code path from the "qualkit id:" line, or None.
    """
    text, qualkit_id = split_qualkit_id(text)
    out = {"definition": "", "when_to_use": "", "when_not_to_use": "", "examples": [], "qualkit_id": qualkit_id}
    heads = list(_DESC_HEAD_RE.finditer(text))
    if not heads:
        out["definition"] = text
        return out
    out["definition"] = text[: heads[0].start()].strip()
    for i, m in enumerate(heads):
        body = text[m.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)].strip()
        head = m.group(1)
        if head == "Examples":
            items = [ln.strip() for ln in body.split("\n") if ln.strip()]
            out["examples"] = [ln[2:].strip() if ln.startswith("- ") else ln for ln in items]
        elif head == "When to use":
            out["when_to_use"] = body
        else:
            out["when_not_to_use"] = body
    return out


# --------------------------------------------------------------------------- variables

_INT_RE = re.compile(r"^-?(0|[1-9][0-9]*)$")
_FLOAT_RE = re.compile(r"^-?(0|[1-9][0-9]*)\.[0-9]+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BOOL = {"true": "true", "false": "false"}


def guess_variable_type(values: Iterable[str]) -> str:
    """REFI ``typeOfVariable`` of a column: Integer, Float, Boolean, Date or Text.

    Only types whose XML form keeps the value exactly are chosen: "007" stays
    Text (an Integer would lose the zeros), "1e3" and "3-4" stay Text.
    """
    vals = [v.strip() for v in values if v is not None and v.strip() != ""]
    if not vals:
        return "Text"
    if all(_INT_RE.match(v) for v in vals):
        return "Integer"
    if all(_INT_RE.match(v) or _FLOAT_RE.match(v) for v in vals):
        return "Float"
    if all(v.lower() in _BOOL for v in vals):
        return "Boolean"
    if all(_DATE_RE.match(v) and _is_date(v) for v in vals):
        return "Date"
    return "Text"


def _is_date(v: str) -> bool:
    try:
        date.fromisoformat(v)
    except ValueError:
        return False
    return True


VALUE_ELEMENT = {
    "Text": "TextValue",
    "Integer": "IntegerValue",
    "Float": "FloatValue",
    "Boolean": "BooleanValue",
    "Date": "DateValue",
    "DateTime": "DateTimeValue",
}


def variable_xml_value(value: str, type_: str) -> str:
    value = value.strip()
    return value.lower() if type_ == "Boolean" else value


# --------------------------------------------------------------------------- line-break views

_BREAK_RE = re.compile(r"\r\n|\r|\n")


def newline_maps(text: str, mode: str) -> tuple[str, list[int], list[int]]:
    """Re-write the line breaks of *text* and map offsets both ways.

    *mode*: ``"lf"`` (every CRLF or lone CR becomes LF), ``"crlf"`` (every line
    break becomes CRLF), or ``"asis"``. Returns ``(view, fwd, back)``:
    ``fwd[i]`` is the offset in *view* of offset *i* in *text*
    (``len(fwd) == len(text) + 1``); ``back[v]`` is the first offset of *text*
    that lands on *v* or after it (``len(back) == len(view) + 1``).
    """
    if mode == "asis":
        ident = list(range(len(text) + 1))
        return text, ident, list(ident)
    brk = "\r\n" if mode == "crlf" else "\n"
    parts: list[str] = []
    fwd: list[int] = []
    back: list[int] = []
    pos = 0  # offset in the view
    last = 0  # offset in the text
    for m in _BREAK_RE.finditer(text):
        i, j = m.start(), m.end()
        n = i - last  # ordinary characters before the break map one to one
        fwd.extend(range(pos, pos + n))
        back.extend(range(last, i))
        parts.append(text[last:i])
        pos += n
        # the break: text[i:j] (1 or 2 characters) -> brk (1 or 2 characters)
        fwd.append(pos)
        if j - i == 2:
            fwd.append(pos + len(brk) - 1)
        back.append(i)
        if len(brk) == 2:
            back.append(i + 1)
        parts.append(brk)
        pos += len(brk)
        last = j
    fwd.extend(range(pos, pos + len(text) - last + 1))
    back.extend(range(last, len(text) + 1))
    parts.append(text[last:])
    return "".join(parts), fwd, back


def newline_view(text: str, mode: str) -> tuple[str, list[int]]:
    """(view, fwd) of :func:`newline_maps`."""
    view, fwd, _ = newline_maps(text, mode)
    return view, fwd


def inverse_map(fwd: list[int], view_len: int) -> list[int]:
    """For a forward map text->view, the map view->text (each view offset to the
    first text offset that lands on it or after it)."""
    back = [0] * (view_len + 1)
    j = len(fwd) - 1
    for v in range(view_len, -1, -1):
        while j > 0 and fwd[j - 1] >= v:
            j -= 1
        back[v] = j
    return back


def squash_ws(text: str) -> str:
    return " ".join(text.split())
