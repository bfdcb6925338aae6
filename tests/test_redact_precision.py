"""Precision of `qualkit redact`: names are replaced without the words around them."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from spacy.tokens import Span as SpacySpan

from qualkit.redact import RedactOptions, redact_corpus
from qualkit.redact.detectors import ner_spans, shared_words
from qualkit.redact.engine import Detector
from qualkit.redact.phrases import TokenView


@pytest.fixture(scope="module")
def rules():
    return shared_words()


@pytest.fixture(scope="module")
def blank():
    return spacy.blank("en")


def _ner(blank, rules, text: str, ents: list[tuple[int, int, str]]) -> list[str]:
    """Model entities given by token ranges, through ner_spans: the texts of the spans."""
    doc = blank(text)
    doc.ents = [SpacySpan(doc, a, b, label=lab) for a, b, lab in ents]
    return [text[s.start : s.end] for s in ner_spans(doc, 0, rules)]


def _final(text: str) -> list[str]:
    det = Detector(RedactOptions(use_ner=False))
    view = TokenView(text)
    return [text[s.start : s.end] for s in det.finish(text, det.rule_spans(text, None, view)) if s.label == "PERSON"]


# -- 1. an over-long model entity is not one name ---------------------------------------------


def test_overlong_model_entity_is_not_one_person(blank, rules):
    text = "blah " * 900
    assert _ner(blank, rules, text, [(0, 900, "PERSON")]) == []
    mixed = "blah " * 20 + "Nguyen Thi Mai " + "blah " * 20
    assert _ner(blank, rules, mixed, [(0, 43, "PERSON")]) == ["Nguyen Thi Mai"]


def test_degenerate_line_is_not_replaced_as_one_giant_span(tmp_path: Path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("blah " * 3000, encoding="utf-8")  # one line, several chunks
    res = redact_corpus(
        [src], tmp_path / "out", tmp_path / "private" / "key.csv", RedactOptions(dry_run=True, collect_spans=True)
    )
    assert res.ok
    assert all(e - s < 100 for s, e, *_ in res.spans["a.txt"].spans)


# -- 2. neighbouring words are not part of a Vietnamese name ----------------------------------


def test_model_person_loses_lowercase_and_leading_english_words(blank, rules):
    assert _ner(blank, rules, "I met Nguyễn Thị Mai end of May.", [(2, 6, "PERSON")]) == ["Nguyễn Thị Mai"]
    assert _ner(blank, rules, "Later Nguyen Thi Mai said no.", [(0, 4, "PERSON")]) == ["Nguyen Thi Mai"]
    assert _ner(blank, rules, "Then Kevin Nguyen Van An came.", [(1, 5, "PERSON")]) == ["Kevin Nguyen Van An"]


def test_sentence_initial_word_is_not_part_of_a_full_name():
    assert _final("Later Nguyen Thi Mai said she left.") == ["Nguyen Thi Mai"]
    assert _final("Then Trần Văn Hùng came.") == ["Trần Văn Hùng"]
    assert "Sophie Nguyen" in _final("We met Sophie Nguyen there.")  # a first name before a surname stays


# -- 3. function words and kinship terms split names ------------------------------------------


def test_function_words_and_kinship_terms_split_model_entities(blank, rules):
    assert _ner(blank, rules, "Hồng và anh Tuấn đi chợ.", [(0, 4, "PERSON")]) == ["Hồng", "Tuấn"]
    assert _ner(blank, rules, "Hoa với chị Lan.", [(0, 4, "PERSON")]) == ["Hoa", "Lan"]
    assert _ner(blank, rules, "Tuấn ở Hà Nội.", [(0, 4, "GPE")]) == ["Tuấn", "Hà Nội"]


# -- 4. common Vietnamese words are not names --------------------------------------------------


def test_common_vietnamese_words_are_not_names():
    assert _final("Tôi là Mai. Chào chị. Cảm ơn em.") == ["Mai"]
    assert _final("Phỏng vấn viên: Học ở đâu?") == []
    assert _final("Học sinh đến trường.") == []


def test_given_names_that_are_common_words_stay_names_in_name_context(blank, rules):
    assert _final("Gặp chị Học hôm qua.") == ["Học"]
    assert _final("Phong đi làm.") == ["Phong"]  # without the accent of "Phỏng" it is a name
    assert _final("Mai và Lan đi học.") == ["Mai", "Lan"]
    assert _ner(blank, rules, "Tôi Lan", [(0, 2, "PERSON")]) == ["Lan"]


def test_an_overlong_phrase_is_never_propagated_but_names_are():
    from qualkit.redact.engine import MAX_PROPAGATED_TOKENS, _propagation_entry

    long_phrase = " ".join(["Blah"] * (MAX_PROPAGATED_TOKENS + 1))
    assert _propagation_entry(long_phrase, "PERSON", "propagation") is None
    assert _propagation_entry(long_phrase, "PERSON", "key") is None
    # real identifiers, however long, stay well under the cap
    for name in (
        "Nguyễn Thị Mai",
        "Ba Vi 05/06 Centre for Education and Social Labour",
        "Số 12 ngõ 34 phố Trần Phú, phường Văn Miếu, quận Đống Đa, Hà Nội",
    ):
        assert _propagation_entry(name, "PLACE", "key") is not None, name
