"""Text as identifiers are matched: cleaned of invisible and look-alike characters, folded
for case and diacritics, with offsets kept into the original text.

Two steps, each used by redaction, ``qualkit audit`` and the annex leak guard alike:

* :func:`clean` makes the text that detectors and look-ups read: default-ignorable
  code points (zero-width spaces and joiners, soft hyphens, U+2060, bidi controls,
  variation selectors, tags...) are dropped; every character is put in NFKC form
  (fullwidth ``Ｍａｉ`` -> ``Mai``, ligatures, mathematical letters, odd spaces);
  combining accents are composed with their letter (NFD text reads as NFC), stray
  marks are dropped; decimal digits of any script become ASCII digits; text
  between a right-to-left override and its end is read in display order; and
  Cyrillic, Greek and Armenian letters that look like Latin ones are read as Latin
  in a word that mixes them with Latin letters or is made only of look-alikes
  (``Mаi`` with a Cyrillic ``а`` -> ``Mai``). Case is kept. :meth:`Cleaned.span`
  maps a span of the cleaned text back to the original, widened over the invisible
  characters inside and around it, so the whole original span is replaced.
* :func:`fold` lower-cases and strips diacritics (``"Nguyễn Thị Mai"`` ->
  ``"nguyen thi mai"``); :func:`fold_text` does both steps with the offset map.

Plain ASCII and ordinary precomposed text take a fast path (no copy, no map).
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in (
        list(range(0x41, 0x5B))
        + list(range(0xC0, 0x250))
        + list(range(0x1E00, 0x1F00))
        + list(range(0x370, 0x400))
        + list(range(0x400, 0x530))
    ):
        ch = chr(cp)
        base = unicodedata.normalize("NFD", ch)[0]
        low = base.lower()
        if len(low) != 1:
            low = base
        if low != ch:
            table[cp] = low
    for src, dst in {
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "æ": "a",
        "Æ": "a",
        "œ": "o",
        "Œ": "o",
        "ß": "s",
        "ı": "i",
        "İ": "i",
        "þ": "t",
        "Þ": "t",
        "ħ": "h",
        "Ħ": "h",
        "ŧ": "t",
        "Ŧ": "t",
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u00a0": " ",
    }.items():
        table[ord(src)] = dst
    return table


FOLD_TABLE = _build_table()

# --- cleaning ---------------------------------------------------------------------------

#: Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): invisible, dropped
_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_RLO, _PDF, _PDI = "\u202e", "\u202c", "\u2069"
#: text shown right-to-left by an override: up to its end (PDF, PDI) or the line's
_RLO_RUN = re.compile("\u202e([^\u202c\u2069\n]*)")

#: Cyrillic, Greek and Armenian letters that look like Latin ones (case kept)
CONFUSABLES: dict[str, str] = {
    **dict(zip("АВЕЅІЈКМНОРСТХУҮԀԚԜӀ", "ABESIJKMHOPCTXYYDQWI")),
    **dict(zip("аеѕіјкморсхуүһԁԛԝӏ", "aesijkmopcxyyhdqwl")),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧϹϜ", "ABEZHIKMNOPTYXCF")),
    **dict(zip("αγειικνορυχϲϳ", "ayeiikvopuxcj")),
    **dict(zip("օսցհո", "oughn")),
    "ɑ": "a",
    "ɡ": "g",
}
_CONFUSABLE_TABLE = str.maketrans(CONFUSABLES)
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")


def _ignorable(cp: int) -> bool:
    return any(a <= cp <= b for a, b in _IGNORABLE_RANGES)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Me")


@lru_cache(maxsize=4096)
def _clean_char(ch: str) -> str:
    """The cleaned form of one character (not a combining mark): '' for an invisible one."""
    cp = ord(ch)
    if _ignorable(cp):
        return ""
    out = unicodedata.normalize("NFKC", ch)
    if out != ch:
        out = "".join(c for c in out if not _ignorable(ord(c)) and not _is_mark(c))
    if len(out) == 1 and not out.isascii() and unicodedata.category(out) == "Nd":
        out = str(unicodedata.decimal(out))
    return out


@lru_cache(maxsize=4096)
def _special(ch: str) -> bool:
    """*ch* changes when cleaned, or needs its neighbours to be cleaned (a mark, a confusable)."""
    return _is_mark(ch) or ch in CONFUSABLES or _clean_char(ch) != ch


@dataclass(frozen=True)
class Cleaned:
    """A text as detectors read it (:attr:`text`) and the way back to the original."""

    text: str
    original: str
    #: index in the original of each character of :attr:`text` (None: the texts are identical)
    orig: array | None = None

    def span(self, start: int, end: int, *, widen: bool = True) -> tuple[int, int]:
        """The original span of the cleaned span [start, end): every original character it
        came from with the accents and invisible characters inside it and, with *widen*, the
        invisible characters just before and after it (so that the whole span is replaced)."""
        if self.orig is None:
            return start, end
        if start >= end:
            o = self.orig[start] if start < len(self.orig) else len(self.original)
            return o, o
        piece = self.orig[start:end]
        s, e = min(piece), max(piece) + 1
        src = self.original
        while e < len(src) and (_is_mark(src[e]) or widen and _ignorable(ord(src[e]))):
            e += 1
        while widen and s > 0 and _ignorable(ord(src[s - 1])):
            s -= 1
        return s, e

    def to_clean(self, offset: int) -> int:
        """The position in :attr:`text` of the original *offset* (the next kept character)."""
        if self.orig is None:
            return offset
        return bisect_left(self.orig, offset)


def clean(text: str) -> Cleaned:
    """*text* as detectors and look-ups read it (see the module docs), with the offset map."""
    if text.isascii():
        return Cleaned(text, text)
    special = [ch for ch in set(text) if not ch.isascii() and _special(ch)]
    if not special:
        return Cleaned(text, text)
    marks = "".join(re.escape(c) for c in special if _is_mark(c))
    others = "".join(re.escape(c) for c in special if not _is_mark(c) and _clean_char(c) != c)
    alts = []
    if marks:
        alts += [f"[^{marks}][{marks}]+", f"[{marks}]+"]
    if others:
        alts.append(f"[{others}]")
    out: list[str] = []
    orig = array("i")
    pos = 0
    if alts:
        for m in re.finditer("|".join(alts), text, re.DOTALL):
            a, b = m.span()
            if a > pos:
                out.append(text[pos:a])
                orig.extend(range(pos, a))
            piece = m.group()
            if _is_mark(piece[-1]):  # a letter and its accents (composed), or stray accents (dropped)
                rep = "".join(_clean_char(c) for c in unicodedata.normalize("NFC", piece) if not _is_mark(c))
            else:
                rep = _clean_char(piece)
            out.append(rep)
            orig.extend([a] * len(rep))
            pos = b
    out.append(text[pos:])
    orig.extend(range(pos, len(text)))
    cleaned = "".join(out)
    if _RLO in text:
        cleaned = _reverse_overrides(text, cleaned, orig)
    if any(c in CONFUSABLES for c in special):
        cleaned = _fold_confusables(cleaned)
    return Cleaned(cleaned, text, orig)


def _reverse_overrides(text: str, cleaned: str, orig: array) -> str:
    """Read the text of each right-to-left override in the order it is shown."""
    for m in _RLO_RUN.finditer(text):
        a, b = bisect_left(orig, m.start(1)), bisect_left(orig, m.end(1))
        if b - a > 1:
            cleaned = cleaned[:a] + cleaned[a:b][::-1] + cleaned[b:]
            orig[a:b] = array("i", reversed(orig[a:b]))
    return cleaned


_WORD = re.compile(r"[^\W\d_]+")


def _fold_confusables(text: str) -> str:
    """Look-alike letters as Latin in words that mix them with Latin letters or are made of them."""
    parts: list[str] = []
    pos = 0
    for m in _WORD.finditer(text):
        word = m.group()
        if not any(c in CONFUSABLES for c in word):
            continue
        if _LATIN_LETTER.search(word) or all(c in CONFUSABLES for c in word):
            parts += [text[pos : m.start()], word.translate(_CONFUSABLE_TABLE)]
            pos = m.end()
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


# --- folding ------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _fold_short(text: str) -> str:
    return clean(text).text.translate(FOLD_TABLE)


def fold(text: str) -> str:
    """Cleaned (see :func:`clean`), lower-cased, without diacritics (đ -> d)."""
    if text.isascii():
        return text.translate(FOLD_TABLE)
    if len(text) <= 40:
        return _fold_short(text)
    return clean(text).text.translate(FOLD_TABLE)


def fold_key(text: str) -> str:
    """Folded text with runs of spaces/punctuation between words collapsed (for key lookup)."""
    return " ".join(re.findall(r"[\w'@.+\-/:]+", fold(text)))


@dataclass(frozen=True)
class FoldedText:
    """The folded view of a text (:func:`fold_text`), with the way back to the original."""

    text: str
    cleaned: Cleaned

    def span(self, start: int, end: int, *, widen: bool = True) -> tuple[int, int]:
        """The original span of the folded span [start, end) (see :meth:`Cleaned.span`)."""
        return self.cleaned.span(start, end, widen=widen)

    @property
    def identical(self) -> bool:
        """Offsets in the folded text are offsets in the original."""
        return self.cleaned.orig is None


def fold_text(text: str) -> FoldedText:
    """:func:`clean` then fold *text*, keeping the way back to original offsets."""
    cl = clean(text)
    return FoldedText(cl.text.translate(FOLD_TABLE), cl)


def has_diacritics(text: str) -> bool:
    """A letter outside ASCII, or a combining accent."""
    return any(ord(c) > 0x7F and c.isalpha() for c in text) or any(_is_mark(c) for c in text if ord(c) > 0x7F)


# --- Vietnamese syllables (folded, no tones) -----------------------------------------

_VN_SYLLABLE = re.compile(
    r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
    r"(?:uye|uya|uyu|uoi|uou|oai|oay|oeo|ieu|yeu|uay|uay|ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|oo|ua|ue|ui|uo|uu|uy|ye|a|e|i|o|u|y)"
    r"(?:ch|ng|nh|[cmnpt]|[iouy])?$"
)


@lru_cache(maxsize=65536)
def is_vn_syllable(folded_word: str) -> bool:
    """True when *folded_word* (lower-case, no diacritics) can be a Vietnamese syllable."""
    return bool(_VN_SYLLABLE.match(folded_word))
