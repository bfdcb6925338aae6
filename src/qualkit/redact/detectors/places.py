"""Places from the gazetteer of Vietnamese administrative units (provinces, districts, wards)."""

from __future__ import annotations

from typing import Sequence

from ..phrases import TokenView
from ..spans import Span
from .base import Words, shared_words

_ADMIN_WORDS = frozenset("district ward commune province city town township quan huyen phuong xa tinh".split())


class GazetteerDetector:
    """Names of administrative units; a single-token unit only next to an administrative word."""

    name = "gazetteer"

    def __init__(self, words: Words | None = None) -> None:
        self.words = words or shared_words()

    def detect(self, view: TokenView, turns: Sequence | None = None) -> list[Span]:
        out: list[Span] = []
        folded = view.folded
        for i, k, _entry in self.words.gaz_index.finditer(view):
            if k - i == 1 and (
                folded[i] in self.words.lex.stop
                or (
                    len(folded[i]) <= 3
                    and not view.text[view.starts[i] : view.ends[i]].isupper()
                    and folded[i] not in ("hue", "vinh")
                )
            ):
                continue
            s, e = view.starts[i], view.ends[k - 1]
            out.append(Span(s, e, "PLACE", "gazetteer"))
        # single-token unit names only with an administrative word next to them
        single = self.words.gaz.single
        n = len(folded)
        for i, f in enumerate(folded):
            if f in single and view.caps[i]:
                before = i > 0 and folded[i - 1] in _ADMIN_WORDS and view.joined(i - 1)
                after = i + 1 < n and folded[i + 1] in _ADMIN_WORDS and view.joined(i)
                if before or after:
                    out.append(Span(view.starts[i], view.ends[i], "PLACE", "gazetteer"))
        return out
