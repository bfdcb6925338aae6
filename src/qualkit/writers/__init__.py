"""Write redacted copies of transcripts in their original format.

``write_redacted(doc, replacements, out_path, redact_text=...)`` is the one entry
point. *replacements* are ``(start, end, new_text)`` triples in ``doc.text``
offsets (the offsets every reader produces, see :mod:`qualkit.documents`);
*redact_text* is applied to text that is not part of ``doc.text`` but can still
identify someone (Word headers, footers, comments, tables, properties; WebVTT
notes). The output keeps the input's format; it is written atomically and the
input file is never touched.

The helpers below are shared by the format writers:

* :func:`distribute` spreads replacements over *pieces* (runs, lines) of a text:
  a replacement inside one piece edits that piece; one spanning several pieces
  puts its new text in the first piece it covers and trims the others, so the
  structure around the text (run formatting, line and paragraph breaks, cue
  timings) stays as it was.
* :func:`diff_replacements` turns ``redact_text(old)`` back into replacements
  (a word-level diff) so the same distribution keeps formatting there too.
* :func:`batch_redact` calls *redact_text* on many short strings in a few calls.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from difflib import SequenceMatcher
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

from ..documents import Document
from ..errors import QualkitError, SafetyError, UsageError
from ..fsutil import same_file

__all__ = [
    "write_redacted",
    "ReplacementError",
    "Replacement",
    "RedactText",
    "Piece",
    "check_replacements",
    "apply_replacements",
    "distribute",
    "diff_replacements",
    "batch_redact",
]

Replacement = tuple[int, int, str]
RedactText = Callable[[str], str]

#: doc.format -> writer module (imported lazily so .txt output never imports python-docx)
_WRITERS = {"txt": "text", "md": "text", "vtt": "subtitles", "srt": "subtitles", "docx": "docx"}


class ReplacementError(QualkitError):
    """The replacements handed to a writer are malformed (unsorted, overlapping, out of range).

    This is a bug in the caller, not in the user's data; the message names the
    file and the offsets, never the text.
    """


def write_redacted(
    doc: Document,
    replacements: Sequence[tuple[int, int, str]],
    out_path: Path,
    *,
    redact_text: Callable[[str], str] | None = None,
) -> None:
    """Write *doc* with *replacements* applied to ``out_path``, keeping the format.

    * .txt/.md: same encoding, byte-order mark and line endings as the input.
    * .vtt/.srt: the original file is re-read; headers, cue numbers, timings and
      settings are kept, replacements go into the cue payload lines;
      *redact_text* cleans NOTE blocks, the WEBVTT header text and textual cue ids.
    * .docx: replacements go into the body paragraphs' runs (formatting kept);
      *redact_text* cleans tables, headers, footers, comments, foot/endnotes,
      text boxes, tracked changes, field codes, alt texts, hyperlink targets and
      document properties; author names are removed from properties, comments
      and tracked changes whether or not *redact_text* is given.

    Raises :class:`ReplacementError` for malformed replacements,
    :class:`~qualkit.errors.SafetyError` when *out_path* is the input file and
    :class:`~qualkit.errors.InputError` when the input changed since it was read.
    """
    reps = check_replacements(doc, replacements)
    out_path = Path(out_path)
    _refuse_input(doc, out_path)
    module = _WRITERS.get(doc.format)
    if module is None:
        raise UsageError(
            f"no writer for format '{doc.format}'", file=doc.path, fix="write .txt, .md, .docx, .vtt or .srt documents"
        )
    if module == "text":
        from .text import write_text as writer
    elif module == "subtitles":
        from .subtitles import write_subtitles as writer
    else:
        from .docx import write_docx as writer
    writer(doc, reps, out_path, redact_text=redact_text)


def _refuse_input(doc: Document, out_path: Path) -> None:
    if same_file(out_path, doc.path):
        raise SafetyError(
            "the output would overwrite the input file",
            file=out_path,
            fix="choose an output folder separate from the input",
        )


def check_replacements(doc: Document, replacements: Sequence[tuple[int, int, str]]) -> list[Replacement]:
    """Validate *replacements* against ``doc.text``: sorted, in range, non-overlapping.

    A zero-length replacement (start == end) is an insertion. Messages give the
    replacement's index and offsets, never text.
    """
    n = len(doc.text)
    out: list[Replacement] = []
    prev_end = 0
    for i, rep in enumerate(replacements):
        try:
            s, e, new = rep
        except (TypeError, ValueError):
            raise ReplacementError(
                f"replacement {i} is not a (start, end, text) triple",
                file=doc.path,
                fix="pass (start, end, new_text) tuples",
            ) from None
        if isinstance(s, bool) or isinstance(e, bool) or not isinstance(s, int) or not isinstance(e, int):
            raise ReplacementError(
                f"replacement {i} has non-integer offsets",
                file=doc.path,
                fix="pass integer character offsets into doc.text",
            )
        if not isinstance(new, str):
            raise ReplacementError(
                f"replacement {i} (offsets {s}-{e}) has a non-string new text",
                file=doc.path,
                fix="pass the replacement text as str",
            )
        if not 0 <= s <= e <= n:
            raise ReplacementError(
                f"replacement {i} (offsets {s}-{e}) is outside the text (length {n})",
                file=doc.path,
                fix="use offsets into doc.text",
            )
        if s < prev_end:
            raise ReplacementError(
                f"replacement {i} (offsets {s}-{e}) overlaps or precedes the one before (ending at {prev_end})",
                file=doc.path,
                fix="sort the replacements and merge overlapping ones",
            )
        prev_end = e
        out.append((s, e, new))
    return out


def apply_replacements(text: str, replacements: Sequence[Replacement]) -> str:
    """*text* with sorted, non-overlapping *replacements* applied."""
    parts = []
    pos = 0
    for s, e, new in replacements:
        parts.append(text[pos:s])
        parts.append(new)
        pos = e
    parts.append(text[pos:])
    return "".join(parts)


class Piece(NamedTuple):
    """A stretch ``[start, end)`` of a text held in one place (a run's w:t, a line).

    ``editable`` pieces can take any text; a fixed piece (a Word tab or line
    break element) can only be kept or swapped for new text.
    """

    start: int
    end: int
    text: str
    editable: bool = True


def distribute(pieces: Sequence[Piece], replacements: Sequence[Replacement]) -> list[str | None]:
    """New text for each piece (None = unchanged) after applying *replacements*.

    *pieces* are sorted and non-overlapping; gaps between them (paragraph breaks,
    line ends) are never changed. A replacement's new text goes into the first
    piece it overlaps, at its start; the covered parts of later pieces are cut.
    An insertion, or a replacement covering only a gap, goes into the piece
    touching its start (an editable one if there is a choice), else the next one.
    """
    n = len(pieces)
    if not n:
        return []
    ends = [p.end for p in pieces]
    edits: list[list[tuple[int, int, str]]] = [[] for _ in range(n)]
    for s, e, new in replacements:
        first = bisect_left(ends, s)  # first piece ending at or after s
        anchor = None
        j = first
        while j < n and pieces[j].start < e:
            ps, pe = pieces[j].start, pieces[j].end
            a, b = max(s, ps), min(e, pe)
            if a < b:
                edits[j].append((a - ps, b - ps, new if anchor is None else ""))
                if anchor is None:
                    anchor = j
            j += 1
        if anchor is not None:
            continue
        if not new:
            continue  # deleting nothing but a gap: gaps are kept
        anchor = _insertion_piece(pieces, s, first)
        ps = pieces[anchor].start
        at = min(max(s, ps), pieces[anchor].end) - ps
        edits[anchor].append((at, at, new))
    result: list[str | None] = []
    for piece, ed in zip(pieces, edits):
        if not ed:
            result.append(None)
            continue
        new_text = apply_replacements(piece.text, ed)
        result.append(None if new_text == piece.text else new_text)
    return result


def _insertion_piece(pieces: Sequence[Piece], s: int, first: int) -> int:
    touching = []
    j = first
    while j < len(pieces) and pieces[j].start <= s:
        if pieces[j].end >= s:
            touching.append(j)
        j += 1
    for want in (lambda p: p.editable and p.end > p.start, lambda p: p.editable, lambda p: True):
        for j in touching:
            if want(pieces[j]):
                return j
    if first < len(pieces):
        return first  # s lies in a gap: the next piece, at its start
    return len(pieces) - 1


_TOKEN_RE = re.compile(r"\w+|\s+|[^\w\s]")


def diff_replacements(old: str, new: str) -> list[Replacement]:
    """Replacements turning *old* into *new*, found by a word-level diff.

    ``apply_replacements(old, diff_replacements(old, new)) == new`` always holds;
    aligning whole words keeps unchanged words (and their formatting) in place.
    """
    if old == new:
        return []
    a = [(m.start(), m.end()) for m in _TOKEN_RE.finditer(old)]
    b = _TOKEN_RE.findall(new)
    matcher = SequenceMatcher(None, [old[s:e] for s, e in a], b, autojunk=False)
    reps: list[Replacement] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start = a[i1][0] if i1 < len(a) else len(old)
        end = a[i2 - 1][1] if i2 > i1 else start
        reps.append((start, end, "".join(b[j1:j2])))
    return reps


def batch_redact(texts: Sequence[str], redact_text: RedactText, *, limit: int = 20_000) -> list[str]:
    """``[redact_text(t) for t in texts]``, in few calls.

    Short texts are joined with blank lines (more context for the named-entity
    model, one model pass for a whole table); a batch whose result does not
    split back into as many texts (an entity crossed a separator) is redone one
    text at a time. Texts with no letter or digit are returned unchanged.
    """
    sep = "\n\n"
    out = list(texts)
    chunk: list[int] = []
    size = 0

    def flush() -> None:
        nonlocal chunk, size
        if len(chunk) == 1:
            out[chunk[0]] = redact_text(texts[chunk[0]])
        elif chunk:
            parts = redact_text(sep.join(texts[i] for i in chunk)).split(sep)
            if len(parts) == len(chunk):
                for i, part in zip(chunk, parts):
                    out[i] = part
            else:
                for i in chunk:
                    out[i] = redact_text(texts[i])
        chunk, size = [], 0

    for i, text in enumerate(texts):
        if not any(c.isalnum() for c in text):
            continue
        if sep in text or text != text.strip("\n") or len(text) >= limit:
            out[i] = redact_text(text)
            continue
        if size + len(text) > limit:
            flush()
        chunk.append(i)
        size += len(text) + len(sep)
    flush()
    return out


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\t\v\f\u2028\u2029\x85]")


def one_line(text: str) -> str:
    """*text* with line breaks and tabs as spaces (for a run, a cue line, a header line)."""
    return _LINE_BREAKS.sub(" ", text)


def xml_safe(text: str) -> str:
    """*text* without characters XML 1.0 cannot hold."""
    return _XML_BAD.sub("", text)
