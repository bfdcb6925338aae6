"""Rule context: scope turn and question+answer (the question before the answer, the earlier
exchange for short answers, denials), hypothetical mentions, and their validation."""

from __future__ import annotations

import pytest
from test_rules import code_text, make_codebook, one_code

from qualkit.errors import CodebookError


def coded(tmp_path, nlp, rules: str, text: str) -> list[tuple[str, str]]:
    cb = make_codebook(tmp_path, one_code(rules))
    return [(r.segment, r.text) for r in code_text(tmp_path, nlp, cb, text) if r.code == "th.c"]


def test_question_and_answer_together_place_the_code_on_the_answer(tmp_path, nlp_full):
    rules = "scope: question+answer\nall: [[take, took], [woman, cousin]]"
    text = "Interviewer: Who took you there?\nR: The woman from my village. She was kind.\n"
    assert coded(tmp_path, nlp_full, rules, text) == [("2-1", "The woman from my village.")]
    # the default scope (the unit) does not see the question
    assert coded(tmp_path, nlp_full, "all: [[take, took], [woman, cousin]]", text) == []


def test_evidence_only_in_the_question_goes_on_the_first_unit_and_a_denial_negates_it(tmp_path, nlp_full):
    rules = "scope: question+answer\nany: [condom]\nnegation: require"
    assert coded(tmp_path, nlp_full, rules, "Interviewer: Did the men use condoms?\nR: No. Never.\n") == [
        ("2-1", "No.")
    ]
    assert coded(tmp_path, nlp_full, rules, "Interviewer: Did the men use condoms?\nR: Yes, every time.\n") == []


def test_a_short_answer_also_sees_the_exchange_before_its_question(tmp_path, nlp_full):
    rules = "scope: question+answer\nany: [condom]\nnegation: require"
    text = (
        "Interviewer: Did the men use condoms?\nR: The boss gave us nothing like that.\n"
        "Interviewer: So the whole time there?\nR: Not once.\n"
    )
    assert ("4", "Not once.") in [(s.split("-")[0], t) for s, t in coded(tmp_path, nlp_full, rules, text)]
    long_answer = text.replace("Not once.", "Not once, and I was there for many months with the other girls.")
    assert all(not s.startswith("4") for s, _ in coded(tmp_path, nlp_full, rules, long_answer))


def test_scope_turn_combines_sentences_and_codes_the_sentences_holding_the_match(tmp_path, nlp_full):
    rules = "scope: turn\nall: [debt, [family, parents]]"
    text = "R: The debt was big. We sold the pigs. My parents borrowed more.\n"
    assert [s for s, _ in coded(tmp_path, nlp_full, rules, text)] == ["1-1", "1-3"]
    assert coded(tmp_path, nlp_full, "all: [debt, [family, parents]]", text) == []


@pytest.mark.parametrize(
    "sentence, counts",
    [
        ("If you refuse, they beat you.", False),
        ("She said if I ran away she would beat me.", False),
        ("If a guest refused, the owner beat me.", True),  # what happened each time
        ("One night the owner beat me.", True),
    ],
)
def test_hypothetical_mentions_are_excluded_when_the_rule_says_so(tmp_path, nlp_full, sentence, counts):
    assert bool(coded(tmp_path, nlp_full, "any: [beat]\nhypothetical: exclude", f"R: {sentence}\n")) is counts
    assert coded(tmp_path, nlp_full, "any: [beat]", f"R: {sentence}\n")  # allowed by default


@pytest.mark.parametrize(
    "rules, message",
    [
        ("scope: answer\nany: [x]", "unknown scope 'answer'"),
        ("hypothetical: never\nany: [x]", "unknown hypothetical 'never'"),
    ],
)
def test_bad_scope_and_hypothetical_values_name_the_line(tmp_path, rules, message):
    from qualkit.coding.codebook import load_codebook

    with pytest.raises(CodebookError) as exc:
        load_codebook(make_codebook(tmp_path, one_code(rules)))
    assert message in str(exc.value) and "cb.yaml:" in str(exc.value)


def test_in_a_wide_scope_exclusions_apply_to_the_unit_and_requirements_to_the_scope(tmp_path, nlp_full):
    rules = "scope: turn\nany: [poor]\nnot: [myself]\nonly_if: [village]"
    text = "R: I blame myself, we were poor. The village is poor too.\n"
    assert [s for s, _ in coded(tmp_path, nlp_full, rules, text)] == ["1-2"]
    assert coded(tmp_path, nlp_full, rules, "R: I blame myself, we were poor. The town is poor too.\n") == []
