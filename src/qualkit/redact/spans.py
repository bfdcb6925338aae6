"""Detected spans, overlap resolution and the keep list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .lexicon import WORD_RE, lexicon, phrase_key

#: Labels qualkit replaces. Tags read ``[PERSON 3]``, categories ``[PERSON]``.
LABELS = ("PERSON", "PLACE", "FACILITY", "PHONE", "EMAIL", "URL", "HANDLE", "ID")

#: Higher wins the label when overlapping spans are merged.
PRIORITY = {
    "names-list": 100,
    "names-guess": 61,
    "email": 90,
    "url": 88,
    "handle": 86,
    "phone": 85,
    "id": 84,
    "id-cue": 87,
    "address": 72,
    "facility": 73,
    "speaker": 66,
    "title": 65,
    "name-cue": 64,
    "vn-fullname": 63,
    "gazetteer": 62,
    "vn-name": 60,
    "name-block": 52,
    "name-list": 50,
    "ner": 40,
    # study-wide look-ups only decide the label when no detector found the span
    "key": 31,
    "propagation": 30,
    "derived": 29,
    "names-part": 32,
}


@dataclass(slots=True)
class Span:
    start: int
    end: int
    label: str
    detector: str

    @property
    def priority(self) -> int:
        return PRIORITY.get(self.detector, 50)


def merge_spans(spans: list[Span]) -> list[Span]:
    """Union overlapping spans; the merged span takes the label of its strongest member.

    Redaction errs on the side of removing more: two detectors that disagree on
    the extent of a name both get their way.
    """
    if not spans:
        return []
    spans = sorted(spans, key=lambda s: (s.start, -s.end))
    out: list[Span] = []
    group = [spans[0]]
    end = spans[0].end
    for s in spans[1:]:
        if s.start < end:
            group.append(s)
            end = max(end, s.end)
            continue
        out.append(_combine(group, end))
        group = [s]
        end = s.end
    out.append(_combine(group, end))
    return out


def _combine(group: list[Span], end: int) -> Span:
    if len(group) == 1:
        return group[0]
    best = max(group, key=lambda s: (s.priority, s.end - s.start))
    return Span(group[0].start, end, best.label, best.detector)


_ABBREV_DOT = re.compile(r"(?<![\w])(?:St|Str|Rd|Ave|Av|Dr|Blvd|Ln|Ct|Pl|Sq|Apt|Ste|u|ul|al|Tp|TP)\.$")
_EDGE_JUNK = " \t\r\n,;:.!?\"'“”‘’()[]{}-–—/"


def trim(text: str, span: Span) -> Span | None:
    """Drop surrounding spaces/punctuation and a leading article/possessive."""
    s, e = span.start, span.end
    while s < e and text[s] in _EDGE_JUNK:
        s += 1
    while e > s and text[e - 1] in _EDGE_JUNK:
        # keep a closing bracket/quote that belongs to the span, and "St." style dots
        if text[e - 1] == "." and span.label in ("PLACE", "FACILITY") and _ABBREV_DOT.search(text, s, e):
            break  # "Hoog St." keeps its dot
        e -= 1
    head = text[s:e]
    for art in ("the ", "The ", "THE ", "a ", "an "):
        if head.startswith(art) and e - s > len(art) + 1:
            s += len(art)
            break
    if text[s:e].endswith(("'s", "’s")):
        e -= 2
    if e <= s:
        return None
    return Span(s, e, span.label, span.detector)


def apply_keep(text: str, spans: list[Span], keep: frozenset[str], keep_countries: bool) -> list[Span]:
    """Remove spans that are on the keep list (or countries); trim kept words off the edges."""
    countries = lexicon().countries if keep_countries else frozenset()
    out: list[Span] = []
    for sp in spans:
        if sp.label in ("PERSON", "PLACE", "FACILITY"):
            trimmed = _trim_kept(text, sp, keep, countries)
            if trimmed is not None:
                out.append(trimmed)
        elif phrase_key(text[sp.start : sp.end]) not in keep:
            out.append(sp)
    return out


@lru_cache(maxsize=16)
def _first_words(phrases: frozenset[str]) -> frozenset[str]:
    """Every word of every kept phrase (a span none of whose words is here keeps nothing)."""
    return frozenset(w for p in phrases for w in p.split())


def _trim_kept(text: str, sp: Span, keep: frozenset[str], countries: frozenset[str]) -> Span | None:
    words = [(m.start(), m.end()) for m in WORD_RE.finditer(text, sp.start, sp.end)]
    if not words:
        return None
    # fast path: no word of the span can start or end a kept phrase
    from ..textnorm import fold as _fold

    folded = {_fold(text[a:b]) for a, b in words}
    if not (folded & _first_words(keep)) and not (folded & _first_words(countries)):
        return sp

    def kept(a: int, b: int) -> bool:
        key = phrase_key(text[words[a][0] : words[b - 1][1]])
        return key in keep or key in countries

    if kept(0, len(words)):
        return None
    lo, hi = 0, len(words)
    changed = True
    while changed and lo < hi:
        changed = False
        for n in range(min(4, hi - lo - 1), 0, -1):  # a kept phrase at the end: "Lao Cai, Vietnam"
            if kept(hi - n, hi) and _sep_ok(text, words[hi - n - 1][1], words[hi - n][0]):
                hi -= n
                changed = True
                break
        for n in range(min(4, hi - lo - 1), 0, -1):  # at the start: "Vietnam's Lao Cai"
            if kept(lo, lo + n) and _sep_ok(text, words[lo + n - 1][1], words[lo + n][0]):
                lo += n
                changed = True
                break
    if lo >= hi:
        return None
    if (lo, hi) == (0, len(words)):
        return sp
    from ..textnorm import fold as _fold

    if all(_fold(text[a:b]) in lexicon().stop for a, b in words[lo:hi]):
        return None  # "Yahoo and Facebook" with both names kept: nothing is left to replace
    return trim(text, Span(words[lo][0], words[hi - 1][1], sp.label, sp.detector))


def _sep_ok(text: str, a: int, b: int) -> bool:
    """A kept phrase is cut off only where it is a separate element (comma, newline, 's)."""
    gap = text[a:b]
    return any(c in gap for c in ",\n;()") or gap.strip() == ""
