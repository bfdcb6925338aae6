"""Fast lookup of many folded phrases in a text (names list, key, propagation, gazetteer).

Texts are split once into word tokens over the folded view (see :class:`TokenView`);
a phrase is a sequence of folded tokens. Lookup walks the tokens once, testing
only tokens that start some phrase, longest phrase first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from ..textnorm import fold, fold_text, has_diacritics
from .lexicon import WORD_RE, is_common_word, lexicon


class TokenView:
    """Word tokens of a text: original offsets, folded form, capitalisation."""

    __slots__ = ("text", "starts", "ends", "folded", "caps")

    def __init__(self, text: str) -> None:
        self.text = text
        ft = fold_text(text)
        if ft.identical:
            spans = [m.span() for m in WORD_RE.finditer(ft.text)]
            self.starts = [a for a, _ in spans]
            self.ends = [b for _, b in spans]
            ft_text = ft.text
            self.folded = [ft_text[a:b] for a, b in spans]
            self.caps = [text[a].isupper() or text[a].isdigit() for a in self.starts]
        else:
            # a text with invisible or look-alike characters (the engine passes cleaned text;
            # other callers get tokens of the cleaned text at original offsets)
            starts, ends, folded, caps = [], [], [], []
            cleaned = ft.cleaned.text
            for m in WORD_RE.finditer(ft.text):
                s, e = ft.span(m.start(), m.end(), widen=False)
                starts.append(s)
                ends.append(e)
                folded.append(m.group())
                caps.append(cleaned[m.start()].isupper() or cleaned[m.start()].isdigit())
            self.starts, self.ends, self.folded, self.caps = starts, ends, folded, caps

    def __len__(self) -> int:
        return len(self.starts)

    def gap(self, i: int) -> str:
        """Text between token i and token i+1."""
        return self.text[self.ends[i] : self.starts[i + 1]]

    def joined(self, i: int) -> bool:
        """Token i+1 continues a phrase with token i: a space, or "-", "/", ".", "'", "@" between them.

        A line break, a comma or a spaced dash ("Phạm Minh Châu – Hồ Chí Minh City") separates.
        """
        if i + 1 >= len(self.starts):
            return False
        a, b = self.ends[i], self.starts[i + 1]
        if b - a > 2:
            return False
        gap = self.text[a:b]
        if gap in _JOINING:
            return True
        if gap in (". ", ".\u00a0"):
            return len(self.folded[i]) <= 2 or self.folded[i].isdigit()  # an initial: "Faina D. Yefremova"
        return False


_JOINING = frozenset({"", " ", "\u00a0", "\t", "-", "/", ".", "'", "’", "@", "_", "+", "&", "–"})


# --- a token's surroundings ----------------------------------------------------------------


def sentence_start(view: TokenView, i: int) -> bool:
    """Token i starts a sentence (or a line, or follows a colon)."""
    if i == 0:
        return True
    gap = view.text[view.ends[i - 1] : view.starts[i]]
    return any(c in gap for c in ".!?\n:")


def line_of(view: TokenView, i: int) -> str:
    """The line of text holding token i."""
    text = view.text
    a = text.rfind("\n", 0, view.starts[i]) + 1
    b = text.find("\n", view.ends[i])
    return text[a : b if b >= 0 else len(text)]


def lower_context(view: TokenView, i: int) -> bool:
    """The line around token i has no capital letters (text typed in lower case)."""
    return not any(c.isupper() for c in line_of(view, i))


def upper_context(view: TokenView, i: int) -> bool:
    """The line around token i has no lower-case letters (text typed in capitals)."""
    return not any(c.islower() for c in line_of(view, i))


_LABEL = re.compile(r"^[ \t>*-]*[^:\n]{1,30}:[ \t]*")


#: English words that are not Vietnamese syllables typed without accents: two of them make a line English
_ENGLISH = frozenset(
    "the and of was is with for she he her his they said went my at in but when then after from this "
    "that were have had will would not you your we our it sister brother mother friend are".split()
)


def english_line(view: TokenView, i: int) -> bool:
    """The line of token i (after a speaker label) is English: it has two or more English words."""
    line = _LABEL.sub("", line_of(view, i), count=1)
    return sum(w.strip(".,;:!?\"'").lower() in _ENGLISH for w in line.split()) >= 2


def typed_lowercase(view: TokenView, i: int) -> bool:
    """Token i is in English text typed without capitals: its line, after a speaker label ("R:"),
    has three or more words, no capital letter, and English words. (In Vietnamese typed without
    capitals "mai", "minh", "hoa" are as likely the words "tomorrow", "self", "flower".)"""
    line = _LABEL.sub("", line_of(view, i), count=1)
    return len(line.split()) >= 3 and not any(c.isupper() for c in line) and english_line(view, i)


#: unaccented Vietnamese kinship terms (chị, cô, bà...) as typed without accents
PLAIN_KINSHIP = frozenset("anh em chi co ba ong chu bac di cau thim mo chau bo thay cu".split())


def after_title(view: TokenView, i: int) -> bool:
    """Token i follows a title or kinship term: "Mr Sang", "Ms. my", "sister lan"; after a Vietnamese
    kinship term a capitalised word ("chị My"), or any word in an English line ("and chị mai
    cried"). (In Vietnamese, "em học", "anh an" are a pronoun and a verb: the kinship terms are
    also the pronouns.)"""
    if i == 0 or view.gap(i - 1) not in (" ", "\u00a0", ". ", "."):
        return False
    lex = lexicon()
    word = view.text[view.starts[i - 1] : view.ends[i - 1]]
    f = view.folded[i - 1]
    if f not in lex.titles or (has_diacritics(word) and word.lower() not in lex.titles_vi):
        return False  # "Bắc" is not "bác"
    if word.lower() in lex.titles_vi or f in PLAIN_KINSHIP or f in _vi_titles_folded():
        return view.caps[i] or english_line(view, i)
    return True


@lru_cache(maxsize=1)
def _vi_titles_folded() -> frozenset[str]:
    return frozenset(fold(t) for t in lexicon().titles_vi)


def possessive(view: TokenView, i: int) -> bool:
    """Token i is followed by a possessive 's ("mai's sister")."""
    e = view.ends[i]
    return view.text[e : e + 2] in ("'s", "’s", "'S", "’S") and not view.text[e + 2 : e + 3].isalnum()


# --- how a study identifier of one word is matched -------------------------------------------------

#: a name that is no ordinary word ("Minh", "Duyên"): capitalised anywhere; in lower case where
#: it is used as a name (after a title, possessive, in text typed without capitals)
NAME = "name"
#: a name that is also an ordinary word ("Sang", "Long", "My"): where it is used as a name (after
#: a title, possessive, capitalised inside a sentence, in capitals inside ordinary text)
WORD = "word"
#: a name that is also a role, a month or a letter ("Police", "May"): only after a title or as a
#: possessive (or as written with its accents)
WEAK = "weak"

_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)


def word_usage(folded: str) -> str:
    """How a one-word identifier (folded) is matched: :data:`NAME`, :data:`WORD` or :data:`WEAK`."""
    lex = lexicon()
    if len(folded) < 2 or folded in lex.generic or folded in _CALENDAR:
        return WEAK
    if is_common_word(folded) or folded in _sentence_common_folded():
        return WORD
    return NAME


@lru_cache(maxsize=1)
def _sentence_common_folded() -> frozenset[str]:
    return frozenset(fold(w) for w in lexicon().sentence_common)


def name_use(view: TokenView, i: int, entry: Entry) -> bool | None:
    """Whether token i, a one-word study identifier, is used as a name here.

    True: replace it. False: an ordinary word here, left on purpose (the review report lists
    it for a human to check). None: an ordinary word not worth listing (a lower-case "my"
    in ordinary text).
    """
    word = view.text[view.starts[i] : view.ends[i]]
    caps = view.caps[i]
    if entry.exact is not None and caps and word.lower() == entry.exact:
        return True  # "Mỷ" as written with its accents
    if after_title(view, i):
        return True
    if entry.usage == NAME:
        return caps or possessive(view, i) or typed_lowercase(view, i)
    if not caps:  # "my son's number": the word, however often Sơn is a name
        return False if typed_lowercase(view, i) else None
    if possessive(view, i):
        return True  # "Sang's mother"
    if entry.usage == WEAK:
        return False
    if word.isupper() and len(word) > 1:
        # "SANG" in ordinary text, not in a line typed in capitals, nor an emphasised "MY"
        return not upper_context(view, i) and view.folded[i] not in lexicon().stop
    if sentence_start(view, i) or view.folded[i] in _CALENDAR or _heading(view, i):
        return False
    return True


def _heading(view: TokenView, i: int) -> bool:
    """The line of token i is a title-case heading ("The Girl Who Sang")."""
    words = [w for w in line_of(view, i).split() if w[:1].isalpha()]
    return len(words) >= 3 and all(w[:1].isupper() for w in words)


@dataclass(frozen=True, slots=True)
class Entry:
    label: str
    source: str  # "names-list" | "key" | "propagation" | "derived" | "gazetteer"
    title_case: bool = False  # every token must start with a capital (or digit) in the text
    exact: str | None = None  # the text must be exactly this (lower-cased, accents kept): "mỷ" is not "my"
    #: one-word identifiers: NAME, WORD or WEAK (see :func:`name_use`); None: title_case and exact decide
    usage: str | None = None


class PhraseIndex:
    """Folded phrase -> :class:`Entry`; finds the longest non-overlapping matches."""

    def __init__(self) -> None:
        self.phrases: dict[tuple[str, ...], Entry] = {}
        self.first: dict[str, int] = {}  # first token -> longest phrase length starting with it

    def __len__(self) -> int:
        return len(self.phrases)

    def add(self, tokens: tuple[str, ...] | list[str], entry: Entry, *, replace: bool = False) -> None:
        tokens = tuple(tokens)
        if not tokens:
            return
        if not replace and tokens in self.phrases:
            old = self.phrases[tokens]
            # a case-insensitive entry beats a title-case one
            if old.title_case and not entry.title_case:
                self.phrases[tokens] = entry
            return
        self.phrases[tokens] = entry
        n = len(tokens)
        if self.first.get(tokens[0], 0) < n:
            self.first[tokens[0]] = n

    def discard(self, tokens: tuple[str, ...]) -> None:
        self.phrases.pop(tuple(tokens), None)

    def get(self, tokens: tuple[str, ...]) -> Entry | None:
        return self.phrases.get(tuple(tokens))

    def finditer(self, view: TokenView, left: list[int] | None = None) -> Iterator[tuple[int, int, Entry]]:
        """Yield (token start index, token end index (exclusive), entry), left to right.

        A one-word entry with a :attr:`Entry.usage` matches only where it is used as a name;
        the tokens where it is left as an ordinary word on purpose are added to *left*."""
        folded = view.folded
        caps = view.caps
        first = self.first
        phrases = self.phrases
        n = len(folded)
        i = 0
        while i < n:
            longest = first.get(folded[i])
            if not longest:
                i += 1
                continue
            # how far the phrase can extend
            j = i
            limit = min(n, i + longest)
            while j + 1 < limit and view.joined(j):
                j += 1
            hit = None
            for k in range(j + 1, i, -1):
                entry = phrases.get(tuple(folded[i:k]))
                if entry is None:
                    continue
                if entry.usage is not None and k - i == 1:
                    used = name_use(view, i, entry)
                    if not used:
                        if used is False and left is not None:
                            left.append(i)
                        continue
                    hit = (i, k, entry)
                    break
                if entry.title_case and not all(caps[i:k]):
                    continue
                if entry.exact is not None and view.text[view.starts[i] : view.ends[k - 1]].lower() != entry.exact:
                    continue
                hit = (i, k, entry)
                break
            if hit is None:
                i += 1
                continue
            yield hit
            i = hit[1]
