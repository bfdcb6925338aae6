"""Case and diacritic folding that keeps character offsets.

``fold("Nguyễn Thị Mai")`` -> ``"nguyen thi mai"``. Each character folds to
exactly one character, so an offset in the folded text is the same offset in
the original (the fast path). Text in decomposed form (combining accents as
separate code points) is folded with the accents dropped and an offset map
back to the original (``FoldedText.orig``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_COMBINING = re.compile("[\u0300-\u036f]")


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


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ -> d); same length as *text* unless it holds combining marks."""
    if _COMBINING.search(text):
        text = _COMBINING.sub("", unicodedata.normalize("NFC", text))
    return text.translate(FOLD_TABLE)


def fold_key(text: str) -> str:
    """Folded text with runs of spaces/punctuation between words collapsed (for key lookup)."""
    return " ".join(re.findall(r"[\w'@.+\-/:]+", fold(text)))


@dataclass
class FoldedText:
    """The folded view of a document text, with a map back to original offsets."""

    text: str
    orig: list[int] | None = None  # None: offsets are identical

    def to_orig(self, i: int) -> int:
        if self.orig is None:
            return i
        return self.orig[i] if i < len(self.orig) else (self.orig[-1] + 1 if self.orig else 0)


def fold_text(text: str) -> FoldedText:
    if not _COMBINING.search(text):
        return FoldedText(text.translate(FOLD_TABLE))
    chars: list[str] = []
    orig: list[int] = []
    for i, ch in enumerate(text):
        if "\u0300" <= ch <= "\u036f":
            continue
        chars.append(ch)
        orig.append(i)
    # NFC-compose nothing here: the accents were dropped; fold the remaining base letters
    folded = "".join(chars).translate(FOLD_TABLE)
    return FoldedText(folded, orig)


def has_diacritics(text: str) -> bool:
    return any(ord(c) > 0x7F and c.isalpha() for c in text) or bool(_COMBINING.search(text))


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
