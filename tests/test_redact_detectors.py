"""Each rule detector works alone, and RuleDetector composes any list of them."""

from __future__ import annotations

import pytest

from qualkit.documents import split_turns
from qualkit.redact.detectors import (
    AddressDetector,
    ContactDetector,
    CueDetector,
    GazetteerDetector,
    KeywordDetector,
    KnownNameDetector,
    NameListExpander,
    RuleDetector,
    SpeakerDetector,
    VietnameseNameDetector,
)
from qualkit.redact.phrases import TokenView
from qualkit.redact.spans import Span

TEXT = (
    "Lan: Chị Nguyễn Thị Hằng gọi 0912 345 678, email hang.nt@gmail.com.\n"
    "She works at Binh Minh Centre in Lào Cai province, 12 Tran Phu Street.\n"
    "My name is Derek and Sophie Lang said hello.\n"
)


def _found(detector, text: str = TEXT) -> dict[str, tuple[str, str]]:
    spans = detector.detect(TokenView(text), split_turns(text))
    return {text[s.start : s.end]: (s.label, s.detector) for s in spans}


@pytest.mark.parametrize(
    "detector, expected, label",
    [
        (ContactDetector(), ["0912 345 678", "hang.nt@gmail.com"], {"PHONE", "EMAIL"}),
        (GazetteerDetector(), ["Lào Cai"], {"PLACE"}),
        (KeywordDetector(), ["Binh Minh Centre", "Lào Cai province"], {"FACILITY", "PLACE"}),
        (VietnameseNameDetector(), ["Nguyễn Thị Hằng"], {"PERSON"}),
        (KnownNameDetector(), ["Derek", "Sophie Lang"], {"PERSON"}),
        (AddressDetector(), ["12 Tran Phu Street"], {"PLACE"}),
        (CueDetector(), ["Derek", "Sophie Lang"], {"PERSON"}),
        (SpeakerDetector(), ["Lan"], {"PERSON"}),
    ],
    ids=lambda x: type(x).__name__ if hasattr(x, "detect") else None,
)
def test_each_detector_alone_finds_its_own_kind(detector, expected, label):
    got = _found(detector)
    for text in expected:  # (edges are trimmed later, by the engine)
        assert any(k.rstrip(".,") == text for k in got), (type(detector).__name__, text, sorted(got))
    assert {lab for lab, _ in got.values()} <= label, got


def test_speaker_detector_needs_turns_and_skips_roles():
    text = "Interviewer: hello\nR: fine\nHương: yes\n"
    assert SpeakerDetector().detect(TokenView(text)) == []
    assert list(_found(SpeakerDetector(), text)) == ["Hương"]


def test_rule_detector_runs_exactly_the_recognizers_it_is_given():
    only_contacts = RuleDetector([ContactDetector()])
    spans = only_contacts.detect(TEXT)
    assert spans and {s.label for s in spans} <= {"PHONE", "EMAIL"}

    class Fixed:
        name = "fixed"

        def detect(self, view, turns=None):
            return [Span(0, 3, "PERSON", "fixed")]

    spans = RuleDetector([ContactDetector(), Fixed()]).detect(TEXT)
    assert Span(0, 3, "PERSON", "fixed") in spans
    default = RuleDetector().detect(TEXT, turns=split_turns(TEXT))
    assert {s.detector for s in default} >= {"phone", "gazetteer", "facility", "title", "speaker", "address"}


def test_name_list_expander_extends_an_anchored_list():
    text = "We met Eklund, Michael and Hodge."
    a = text.index("Michael")
    extra = NameListExpander().expand(text, [Span(a, a + len("Michael"), "PERSON", "ner")])
    assert sorted(text[s.start : s.end] for s in extra) == ["Eklund", "Hodge", "Michael"]
