"""Rule-based detectors, composed the way presidio composes recognizers.

Each detector is a small class with a ``name`` and ``detect(view, turns)`` that
returns :class:`~qualkit.redact.spans.Span` objects for one kind of identifier;
none of them loads a model, and each can be built and tested alone:

=============================  ===================================================
:class:`ContactDetector`       e-mail, URL, handle, phone, id numbers
:class:`GazetteerDetector`     Vietnamese administrative units
:class:`KeywordDetector`       "<Name> Centre", "khách sạn <Name>", "District 4"
:class:`VietnameseNameDetector` titles + names, capitalised Vietnamese name runs
:class:`KnownNameDetector`     general first/last names (supporting evidence)
:class:`AddressDetector`       street addresses and address blocks
:class:`CueDetector`           "my name is X", "Hi X,", "X said"
:class:`SpeakerDetector`       speaker labels that are names
=============================  ===================================================

:class:`RuleDetector` runs a list of them (the default list, or any other) over one
document; :class:`NameListExpander` then extends person spans over lists of names.
The spaCy entities are turned into spans by :func:`ner_spans`. The word lists all
of them consult are loaded once per process (:func:`shared_words`).
"""

from __future__ import annotations

from typing import Sequence

from ..lexicon import Lexicon
from ..phrases import PhraseIndex, TokenView
from ..spans import Span
from .addresses import AddressDetector
from .base import Recognizer, Words, shared_words
from .contacts import ContactDetector, contact_spans
from .cues import CueDetector, SpeakerDetector
from .facilities import PREFIX_KEYWORDS, SUFFIX_KEYWORDS, KeywordDetector
from .ner import ner_spans
from .persons import KnownNameDetector, NameListExpander, VietnameseNameDetector, starts_vn_full_name
from .places import GazetteerDetector

__all__ = [
    "RuleDetector",
    "Recognizer",
    "Words",
    "shared_words",
    "ContactDetector",
    "GazetteerDetector",
    "KeywordDetector",
    "VietnameseNameDetector",
    "KnownNameDetector",
    "AddressDetector",
    "CueDetector",
    "SpeakerDetector",
    "NameListExpander",
    "contact_spans",
    "ner_spans",
    "starts_vn_full_name",
    "SUFFIX_KEYWORDS",
    "PREFIX_KEYWORDS",
]


def default_recognizers(words: Words) -> list[Recognizer]:
    """The rule detectors qualkit runs on every document, in order."""
    return [
        ContactDetector(),
        GazetteerDetector(words),
        KeywordDetector(words),
        VietnameseNameDetector(words),
        KnownNameDetector(words),
        AddressDetector(words),
        CueDetector(words),
        SpeakerDetector(words),
    ]


class RuleDetector:
    """Runs rule detectors over a document and collects their spans.

    ``RuleDetector()`` runs :func:`default_recognizers`; pass *recognizers* to run
    others (a study-specific detector, or one detector alone in a test).
    """

    def __init__(self, recognizers: Sequence[Recognizer] | None = None, words: Words | None = None) -> None:
        self.words = words or shared_words()
        self.recognizers: list[Recognizer] = (
            list(recognizers) if recognizers is not None else default_recognizers(self.words)
        )
        self.facilities = KeywordDetector(self.words)
        self.lists = NameListExpander(self.words)

    @property
    def lex(self) -> Lexicon:
        return self.words.lex

    @property
    def gaz_index(self) -> PhraseIndex:
        return self.words.gaz_index

    def detect(self, text: str, view: TokenView | None = None, turns: Sequence | None = None) -> list[Span]:
        """Spans of every recognizer over *text* (tokenised as *view*), unmerged."""
        view = view or TokenView(text)
        spans: list[Span] = []
        for recognizer in self.recognizers:
            spans += recognizer.detect(view, turns)
        return spans

    def expand_lists(self, text: str, spans: list[Span]) -> list[Span]:
        """Person spans for the other items of lists of names (see :class:`NameListExpander`)."""
        return self.lists.expand(text, spans)
