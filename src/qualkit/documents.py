"""The shared data model: documents split into speaker turns, with character offsets.

Offsets are Python ``str`` indices into ``Document.text``, the text as qualkit
reads it (see the README's "File formats"): for .txt/.md the decoded file
content unchanged; for .docx the paragraph texts joined with "\\n"; for
.vtt/.srt the cue texts (payload lines, tags kept) joined with "\\n".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED_EXTENSIONS = (".txt", ".md", ".docx", ".vtt", ".srt")

#: Labels that introduce metadata lines, never respondent speech (case-insensitive).
METADATA_LABELS = frozenset(
    """note notes source date time duration location place venue province setting
    transcript transcriber transcribed translator translated translation title
    interview interview type interview id case case id id code file language
    recorded recording project study site district consent comment comments
    observation observations summary keywords tags start end length age sex gender""".split()
)
# Multi-word metadata labels are matched as whole labels.
METADATA_LABELS_MULTI = frozenset(
    {
        "interview type",
        "interview id",
        "case id",
        "translated by",
        "transcribed by",
        "interviewed by",
        "date of interview",
        "place of interview",
        "start time",
        "end time",
    }
)

#: Labels (lower-case, digits stripped) of people asking the questions.
INTERVIEWER_LABELS = frozenset(
    """i int interviewer interviewers q question moderator mod facilitator fac
    researcher res interviewer/researcher team note-taker notetaker""".split()
)

_LABEL_RE = re.compile(
    r"""(?P<indent>[ \t]*)
        (?:\*\*|__)?                                  # markdown bold label
        (?P<label>
            \[[^\W\d_][\w ]{0,24}\]                     # a redaction tag: [PERSON 3]
            |
            [^\W\d_][\w.'’\-]{0,24}                   # first word (letter first)
            (?:[ \t][\w.'’/\-]{1,20}){0,3}            # up to three more words
        )
        (?:\*\*|__)?[ \t]*:(?:\*\*|__)?               # the colon (bold may close after it)
        (?P<gap>[ \t]*)
    """,
    re.VERBOSE,
)
_DATE_LINE_RE = re.compile(
    r"^\s*(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}\s+\w+\s+\d{4}|\w+\s+\d{1,2},?\s+\d{4}|"
    r"\d{1,2}:\d{2}(?::\d{2})?(?:\s*[-–]\s*\d{1,2}:\d{2}(?::\d{2})?)?|\d+\s*(?:min|mins|minutes|h|hours?)\.?)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Turn:
    """One speaker turn (or one metadata line) of a document.

    ``start``/``end`` cover the whole turn including its label; ``text_start``
    is where the spoken text begins (after ``Label:`` and spaces). ``line`` is
    the 1-based line (paragraph, cue) number where the turn starts.
    """

    index: int
    start: int
    end: int
    text_start: int
    speaker: str | None
    role: str  # "respondent" | "interviewer" | "metadata"
    line: int
    label_start: int | None = None
    label_end: int | None = None

    @property
    def is_speech(self) -> bool:
        return self.role != "metadata"


@dataclass(frozen=True)
class Block:
    """A physical unit of the source: a line (.txt/.md), a paragraph (.docx), a cue (.vtt/.srt)."""

    start: int
    end: int
    source_index: int  # paragraph number / cue number / line number (0-based)


@dataclass
class Document:
    id: str
    path: Path
    text: str
    format: str  # "txt" | "md" | "docx" | "vtt" | "srt"
    turns: list[Turn] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    encoding: str = "utf-8"
    bom: bool = False
    warnings: list[str] = field(default_factory=list)
    relpath: Path | None = None  # path relative to the input root it was found under

    def turn_text(self, turn: Turn) -> str:
        return self.text[turn.text_start : turn.end]

    def turn_at(self, offset: int) -> Turn | None:
        """The turn containing character *offset* (binary search)."""
        lo, hi = 0, len(self.turns) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            t = self.turns[mid]
            if offset < t.start:
                hi = mid - 1
            elif offset >= t.end and not (offset == t.end == len(self.text)):
                lo = mid + 1
            else:
                return t
        return None

    def line_of(self, offset: int) -> int:
        """1-based line number of *offset* in ``text``."""
        return self.text.count("\n", 0, offset) + 1

    @property
    def speakers(self) -> list[str]:
        seen: dict[str, None] = {}
        for t in self.turns:
            if t.speaker and t.role != "metadata":
                seen.setdefault(t.speaker, None)
        return list(seen)


def classify_label(label: str) -> str:
    """Role of a speaker label: interviewer, metadata or respondent."""
    low = label.strip().lower().rstrip(".")
    if low in METADATA_LABELS or low in METADATA_LABELS_MULTI:
        return "metadata"
    base = re.sub(r"[\s_-]*\d+$", "", low).strip()
    if base in INTERVIEWER_LABELS:
        return "interviewer"
    if base in METADATA_LABELS:
        return "metadata"
    return "respondent"


_NOT_LABELS = frozenset(
    "yes no so and but well because then ok okay oh also http https mailto ftp www "
    "answer example e.g i.e for ps".split()
)


def _plausible_label(label: str) -> bool:
    if label.startswith("["):
        return True  # a redaction tag such as [PERSON 3]
    words = label.split()
    if words[0].lower().rstrip(".") in _NOT_LABELS and len(words) == 1:
        return False
    if len(words) == 1:
        return True
    # multi-word labels: every word capitalised or a number ("Researcher 1", "Nguyen Thi Mai")
    return all(w[:1].isupper() or w[:1].isdigit() for w in words)


def line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each physical line; a trailing "\\r" stays outside the span."""
    spans = []
    pos = 0
    for raw in text.split("\n"):
        end = pos + len(raw)
        spans.append((pos, end - 1 if raw.endswith("\r") else end))
        pos = end + 1
    return spans


def _find_label(text: str, ls: int, le: int, known: tuple[int, int] | None) -> tuple[tuple[int, int], int] | None:
    """The label span of a line and where its spoken text starts, or None."""
    if known is not None:
        text_start = known[1]
        while text_start < le and text[text_start] in ": \t":
            text_start += 1
        return known, text_start
    m = _LABEL_RE.match(text, ls, le)
    if m and _plausible_label(m.group("label")):
        return (m.start("label"), m.end("label")), m.end()
    return None


def split_turns(
    text: str,
    lines: list[tuple[int, int]] | None = None,
    *,
    labels: list[tuple[int, int] | None] | None = None,
) -> list[Turn]:
    """Split *text* into turns.

    *lines* are (start, end) spans of the physical lines (default: split at
    "\\n"). *labels*, when given, holds for each line a (start, end) span of a
    label already known from the source format (bold runs in .docx, ``<v Name>``
    voice tags), or None.

    A line that starts with ``Label:`` starts a turn; a line with no label
    continues the previous turn; metadata labels (``Note:``, ``Source:``...),
    bare date/duration lines and header lines before the first labelled turn
    are metadata turns. A document with no labels at all is narrative: each
    paragraph (lines separated by a blank line) is one respondent turn.
    """
    if lines is None:
        lines = line_spans(text)
    found = [
        _find_label(text, ls, le, labels[i] if labels is not None else None) if text[ls:le].strip() else None
        for i, (ls, le) in enumerate(lines)
    ]
    narrative = not any(f is not None and classify_label(text[f[0][0] : f[0][1]]) != "metadata" for f in found)
    turns: list[Turn] = []
    current: dict | None = None

    def close() -> None:
        nonlocal current
        if current is not None:
            turns.append(Turn(index=len(turns), **current))
            current = None

    for lineno, (ls, le) in enumerate(lines):
        line = text[ls:le]
        if not line.strip():
            if narrative:
                close()
            continue
        indent = len(line) - len(line.lstrip())
        hit = found[lineno]
        if hit is not None:
            close()
            (lab_s, lab_e), text_start = hit
            label = text[lab_s:lab_e].strip()
            current = dict(
                start=ls,
                end=le,
                text_start=text_start,
                speaker=label,
                role=classify_label(label),
                line=lineno + 1,
                label_start=lab_s,
                label_end=lab_e,
            )
            if current["role"] == "metadata":
                close()  # a metadata line never swallows the next line
        elif _DATE_LINE_RE.match(line) or (current is None and not narrative):
            close()
            turns.append(
                Turn(
                    index=len(turns),
                    start=ls,
                    end=le,
                    text_start=ls + indent,
                    speaker=None,
                    role="metadata",
                    line=lineno + 1,
                )
            )
        elif current is None:
            current = dict(start=ls, end=le, text_start=ls + indent, speaker=None, role="respondent", line=lineno + 1)
        else:
            current["end"] = le  # a line with no label continues the previous turn
    close()
    return turns
