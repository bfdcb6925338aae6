"""What every rule detector shares: the :class:`Recognizer` protocol, the word lists
(:class:`Words`, loaded once per process) and questions about a token's surroundings.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Protocol, Sequence

from ..lexicon import Gazetteer, Lexicon, PersonNames, gazetteer, lexicon, person_names
from ..phrases import Entry, PhraseIndex, TokenView
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


# --- a token's surroundings ---------------------------------------------------------------


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
