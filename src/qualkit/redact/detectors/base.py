"""What every rule detector shares: the :class:`Recognizer` protocol and the word lists
(:class:`Words`, loaded once per process). Questions about a token's surroundings
(:func:`sentence_start`, :func:`lower_context`...) live with the tokens in
:mod:`qualkit.redact.phrases` and are re-exported here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Protocol, Sequence

from ..lexicon import Gazetteer, Lexicon, PersonNames, gazetteer, lexicon, person_names
from ..phrases import Entry, PhraseIndex, TokenView, line_of, lower_context, sentence_start, upper_context
from ..spans import Span


class Recognizer(Protocol):
    """One rule-based detector: finds spans of one kind in a document's tokens.

    *turns* are the document's speaker turns (only the speaker detector uses them).
    A recognizer loads no model and keeps no state between documents.
    """

    name: str

    def detect(self, view: TokenView, turns: Sequence | None = None) -> list[Span]: ...


class Words:
    """The word lists the detectors consult: lexicon, gazetteer (as a phrase index),
    general first/last names (loaded on first use)."""

    def __init__(self, lex: Lexicon | None = None, gaz: Gazetteer | None = None) -> None:
        self.lex: Lexicon = lex or lexicon()
        self.gaz: Gazetteer = gaz or gazetteer()
        self.gaz_index = PhraseIndex()
        for key in self.gaz.names:
            self.gaz_index.add(tuple(key.split()), Entry("PLACE", "gazetteer", title_case=True))
        self.name_parts = self.lex.surnames | self.lex.middles | self.lex.given
        self._names: PersonNames | None = None

    @property
    def names(self) -> PersonNames:
        if self._names is None:
            self._names = person_names()
        return self._names

    def is_generic(self, folded: str) -> bool:
        return folded in self.lex.generic or folded in self.lex.stop

    def distinctive(self, folded_tokens: Iterable[str]) -> bool:
        """True when some token is a name-like word (not generic, not a stop word, not a title)."""
        for t in folded_tokens:
            if t.isdigit():
                continue
            if t not in self.lex.generic and t not in self.lex.stop and t not in self.lex.titles and len(t) > 1:
                return True
        return False


@lru_cache(maxsize=1)
def shared_words() -> Words:
    """The process-wide :class:`Words` (every detector built without one uses these)."""
    return Words()


__all__ = [
    "Recognizer",
    "Words",
    "shared_words",
    "line_of",
    "lower_context",
    "sentence_start",
    "upper_context",
]
