"""Fast lookup of many folded phrases in a text (names list, key, propagation, gazetteer).

Texts are split once into word tokens over the folded view (see :class:`TokenView`);
a phrase is a sequence of folded tokens. Lookup walks the tokens once, testing
only tokens that start some phrase, longest phrase first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..textnorm import fold_text
from .lexicon import WORD_RE


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


@dataclass(frozen=True, slots=True)
class Entry:
    label: str
    source: str  # "names-list" | "key" | "propagation" | "derived" | "gazetteer"
    title_case: bool = False  # every token must start with a capital (or digit) in the text
    exact: str | None = None  # the text must be exactly this (lower-cased, accents kept): "mỷ" is not "my"


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

    def finditer(self, view: TokenView) -> Iterator[tuple[int, int, Entry]]:
        """Yield (token start index, token end index (exclusive), entry), left to right."""
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
