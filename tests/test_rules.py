"""The rule language: matching (lemmas, phrases, regex, patterns, combinations),
negation, exclusions, scope, units, and validation errors that name file, line and fix."""

from __future__ import annotations

import textwrap

import pytest

from qualkit.coding.codebook import load_codebook
from qualkit.errors import CodebookError
from qualkit.readers import read_document


def make_codebook(tmp_path, codes_yaml: str, *, theme_rules: str = "", defaults: str = "", name="cb.yaml"):
    """A one-theme codebook whose codes are given as YAML (indented under 'codes:')."""
    body = "codebook: t\ntitle: test\n"
    if defaults:
        body += "defaults:\n" + textwrap.indent(textwrap.dedent(defaults).strip("\n"), "  ") + "\n"
    body += "themes:\n  - id: th\n    label: Theme\n"
    if theme_rules:
        body += "    rules:\n" + textwrap.indent(textwrap.dedent(theme_rules).strip("\n"), "      ") + "\n"
    body += "    codes:\n" + textwrap.indent(textwrap.dedent(codes_yaml).strip("\n"), "      ") + "\n"
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def one_code(rules: str) -> str:
    return "- id: c\n  label: C\n  rules:\n" + textwrap.indent(textwrap.dedent(rules).strip("\n"), "    ")


def code_text(tmp_path, nlp, cb_path, text: str, *, unit=None, name="doc.txt"):
    from qualkit.coding.apply import code_documents

    doc_path = tmp_path / name
    doc_path.write_text(text, encoding="utf-8")
    cb = load_codebook(cb_path)
    return code_documents([read_document(doc_path)], cb, unit=unit, nlp=nlp)


def matched(tmp_path, nlp, rules: str, sentence: str, **kw) -> bool:
    cb = make_codebook(tmp_path, one_code(rules), **kw)
    rows = code_text(tmp_path, nlp, cb, f"R: {sentence}\n")
    return any(r.code == "th.c" for r in rows)


# --------------------------------------------------------------------------- matching


@pytest.mark.parametrize(
    "sentence",
    [
        "He beat me.",
        "I was beaten twice.",
        "The beating went on all night.",
        "She beats the new girls.",
        "HE BEAT ME.",
    ],
)
def test_keyword_matches_lemmas_and_inflections_case_insensitively(tmp_path, nlp_full, sentence):
    assert matched(tmp_path, nlp_full, "any: [beat]", sentence)


def test_keyword_does_not_match_inside_other_words(tmp_path, nlp_full):
    assert not matched(tmp_path, nlp_full, "any: [beat]", "My heartbeat was fast.")
    assert not matched(tmp_path, nlp_full, "any: [own]", "The owner was there.")


def test_irregular_forms_come_from_the_pipeline_tables(tmp_path, nlp_full):
    assert matched(tmp_path, nlp_full, "any: [sell]", "They sold me to a brothel.")
    assert matched(tmp_path, nlp_full, "any: [child]", "There were many children there.")


def test_phrases_wildcards_and_optional_words(tmp_path, nlp_full):
    assert matched(tmp_path, nlp_full, 'any: ["mama-san"]', "The Mama-san shouted.")
    assert matched(tmp_path, nlp_full, 'any: ["take a? pill"]', "I took pills every night.")
    assert matched(tmp_path, nlp_full, 'any: ["take a? pill"]', "I took a pill every night.")
    assert matched(tmp_path, nlp_full, 'any: ["traffick*"]', "She was trafficked to China.")
    assert matched(tmp_path, nlp_full, 'any: ["hit * face"]', "He hit my face.")
    assert not matched(tmp_path, nlp_full, 'any: ["hit * face"]', "He hit me in the face.")


def test_exact_terms_are_not_inflected(tmp_path, nlp_full):
    assert matched(tmp_path, nlp_full, 'exact: "used to"', "I used to smoke.")
    assert not matched(tmp_path, nlp_full, 'exact: "used to"', "I use to smoke.")


def test_regex_and_case_sensitivity(tmp_path, nlp_full):
    assert matched(tmp_path, nlp_full, r"regex: '\b05/06\b'", "I was sent to a 05/06 centre.")
    assert matched(tmp_path, nlp_full, r"regex: '\bhiv\b'", "I have HIV.")
    assert not matched(tmp_path, nlp_full, "regex: 'HIV'\ncase_sensitive: true", "I have hiv.")


def test_spacy_token_pattern(tmp_path, nlp_full):
    rule = "pattern: [{LEMMA: hit}, {LOWER: me}]"
    assert matched(tmp_path, nlp_full, rule, "He hit me.")
    assert not matched(tmp_path, nlp_full, rule, "He hit the wall.")


def test_all_any_and_nested_lists(tmp_path, nlp_full):
    rule = "all: [[borrow, owe, loan], [money, dong]]"
    assert matched(tmp_path, nlp_full, rule, "We owed a lot of money.")
    assert matched(tmp_path, nlp_full, rule, "My father took a loan of ten million dong.")
    assert not matched(tmp_path, nlp_full, rule, "We had no loan.")  # 'no' negates loan, and no money word
    assert not matched(tmp_path, nlp_full, rule, "I had money.")


def test_near_within_and_in_order(tmp_path, nlp_full):
    rule = "near: [[owner, boss], [beat, hit]]\nwithin: 3"
    assert matched(tmp_path, nlp_full, rule, "The owner often beat us.")
    assert matched(tmp_path, nlp_full, rule, "I was beaten by the owner.")
    assert not matched(
        tmp_path, nlp_full, rule, "The owner of the small noodle shop near the market had once beaten a dog."
    )
    ordered = "near: [[owner, boss], [beat, hit]]\nwithin: 3\nin_order: true"
    assert matched(tmp_path, nlp_full, ordered, "The owner beat us.")
    assert not matched(tmp_path, nlp_full, ordered, "I was beaten by the owner.")


def test_not_excludes_a_unit(tmp_path, nlp_full):
    rule = 'any: [beat]\nnot: ["beat the price", drum]'
    assert matched(tmp_path, nlp_full, rule, "He beat me.")
    assert not matched(tmp_path, nlp_full, rule, "We beat the price down at the market.")
    assert not matched(tmp_path, nlp_full, rule, "He beat the drum.")


def test_only_if_requires_another_mention(tmp_path, nlp_full):
    rule = "any: [poor]\nonly_if: {exact: [my, our, we]}"
    assert matched(tmp_path, nlp_full, rule, "My family was poor.")
    assert not matched(tmp_path, nlp_full, rule, "Poor families send their girls away.")


# --------------------------------------------------------------------------- negation


@pytest.mark.parametrize(
    "rules,sentence",
    [
        ("any: [condom]", "I didn't use a condom with that customer."),
        ("any: [hit, beat]", "They never hit me."),
        ("any: [hit, beat]", "Nobody beat me there."),
        ("any: [hit, kick]", "I have not been hit or kicked by customers."),
        ("any: [hit, beat]", "No one ever hit me."),
        ("any: [drug]", "I don't take drugs."),
        ("any: [drug]", "No drugs, I only drink beer."),
        ("any: [condom]", "I had sex without a condom."),
        ("any: [pregnant]", "I was never pregnant."),
        ("near: [[use, take], [drug]]\nwithin: 3", "I never used drugs."),
    ],
)
def test_negated_mentions_do_not_count_by_default(tmp_path, nlp_full, rules, sentence):
    assert not matched(tmp_path, nlp_full, rules, sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "They never paid, and the owner beat me.",
        "No, he beat me every day.",
        "I never thought he would beat me.",
        "He not only beat me but also took my money.",
    ],
)
def test_negation_does_not_spill_over_to_other_clauses(tmp_path, nlp_full, sentence):
    assert matched(tmp_path, nlp_full, "any: [beat]", sentence)


def test_negation_require_codes_only_negated_statements(tmp_path, nlp_full):
    rule = "any: [hit, beat, hurt]\nnegation: require"
    assert matched(tmp_path, nlp_full, rule, "The customers never hit me.")
    assert matched(tmp_path, nlp_full, rule, "Nobody hurt me there.")
    assert not matched(tmp_path, nlp_full, rule, "The owner beat me.")


def test_negation_allow_counts_both(tmp_path, nlp_full):
    rule = "any: [condom]\nnegation: allow"
    assert matched(tmp_path, nlp_full, rule, "I didn't use a condom.")
    assert matched(tmp_path, nlp_full, rule, "I used a condom.")


def test_negation_cues_inside_a_phrase_belong_to_it(tmp_path, nlp_full):
    assert matched(tmp_path, nlp_full, 'any: ["no money"]', "I had no money left.")
    assert matched(tmp_path, nlp_full, 'any: ["nowhere to go"]', "I had nowhere to go.")


def test_negation_per_item_inside_a_rule(tmp_path, nlp_full):
    rule = "all: [{any: [drug], negation: allow}, [stop, quit]]"
    assert matched(tmp_path, nlp_full, rule, "I don't use drugs now, I quit last year.")
    assert not matched(tmp_path, nlp_full, rule, "I am using drugs, I cannot quit.")


# --------------------------------------------------------------------------- scope and units

TRANSCRIPT = """Interview ID: 7
Note: the respondent hit the table when she arrived.
Interviewer: Did the owner beat you?
R: Yes. He beat me often.
Interviewer: And the customers?
R: They were kind.
Mai: Then my friend beat her too.
"""


def test_respondent_turns_only_by_default_and_never_metadata(tmp_path, nlp_full):
    cb = make_codebook(tmp_path, one_code("any: [beat, hit]"))
    rows = code_text(tmp_path, nlp_full, cb, TRANSCRIPT)
    assert [(r.speaker, r.text) for r in rows] == [("R", "He beat me often."), ("Mai", "Then my friend beat her too.")]
    assert all(r.coder == "auto" and r.status == "suggested" for r in rows)


def test_speaker_and_role_filters(tmp_path, nlp_full):
    cb = make_codebook(tmp_path, one_code("any: [beat, hit]\nspeakers: [r]"))
    rows = code_text(tmp_path, nlp_full, cb, TRANSCRIPT)
    assert [r.speaker for r in rows] == ["R"]
    cb = make_codebook(tmp_path, one_code("any: [beat, hit]\nroles: [interviewer]"), name="cb2.yaml")
    rows = code_text(tmp_path, nlp_full, cb, TRANSCRIPT)
    assert [r.text for r in rows] == ["Did the owner beat you?"]


def test_units_sentence_turn_paragraph(tmp_path, nlp_full):
    text = "Interviewer: Tell me.\nR: I was happy. Then he beat me.\n\nLater it was better.\n"
    cb = make_codebook(tmp_path, one_code("any: [beat]"))
    sent = code_text(tmp_path, nlp_full, cb, text)
    assert [(r.segment, r.text) for r in sent] == [("2-2", "Then he beat me.")]
    turn = code_text(tmp_path, nlp_full, cb, text, unit="turn")
    assert [(r.segment, r.text) for r in turn] == [("2", "I was happy. Then he beat me.\n\nLater it was better.")]
    para = code_text(tmp_path, nlp_full, cb, text, unit="paragraph")
    assert [(r.segment, r.text) for r in para] == [("2-p1", "I was happy. Then he beat me.")]
    for r in sent + turn + para:
        assert text[r.start : r.end] == r.text


def test_unit_in_rules_and_codebook_defaults(tmp_path, nlp_full):
    text = "R: He lied to me. It was my cousin.\n"
    codes = one_code("all: [cousin, lie]\nunit: turn")
    cb = make_codebook(tmp_path, codes)
    assert [r.segment for r in code_text(tmp_path, nlp_full, cb, text)] == ["1"]
    cb = make_codebook(tmp_path, one_code("all: [cousin, lie]"), defaults="unit: turn", name="cb2.yaml")
    assert [r.segment for r in code_text(tmp_path, nlp_full, cb, text)] == ["1"]
    # the run's unit (command line) replaces the codebook default
    assert code_text(tmp_path, nlp_full, cb, text, unit="sentence") == []


def test_theme_rules_are_inherited(tmp_path, nlp_full):
    codes = "- id: a\n  label: A\n  rules: {any: [beat]}\n- id: b\n  label: B\n  rules: {any: [kick]}"
    cb = make_codebook(tmp_path, codes, theme_rules="not: [father]")
    rows = code_text(tmp_path, nlp_full, cb, "R: He beat and kicked me.\nR: My father beat and kicked me.\n")
    assert [(r.code, r.segment) for r in rows] == [("th.a", "1-1"), ("th.b", "1-1")]


def test_compiled_once_per_codebook_and_pipeline(nlp_full, tmp_path):
    from qualkit.coding.rules import compile_codebook

    cb = load_codebook(make_codebook(tmp_path, one_code("any: [beat]")))
    assert compile_codebook(cb, nlp_full) is compile_codebook(cb, nlp_full)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "rules,line,what,fix",
    [
        ("any: [beat]\nnegaton: exclude", 11, "unknown key 'negaton'", "did you mean 'negation'"),
        ("regex: '(unclosed'", 10, "regular expression does not compile", "brackets"),
        ("any: []", 10, "'any' needs a list", "write any:"),
        ("any: [beat]\nall: [hit, me]", 11, "several conditions", "list"),
        ("any: [beat]\nnegation: sometimes", 11, "unknown negation mode", "require"),
        ("any: [beat]\nunit: page", 11, "unknown unit 'page'", "sentence, turn or paragraph"),
        ("any: [beat, no]", 10, "'False' is not a word", "quote words like yes/no"),
        ("any: ['*beat']", 10, "a wildcard can only end a word", "regex"),
        ("pattern: [{LEMA: hit}]", 10, "unknown token attribute 'LEMA'", "did you mean 'LEMMA'"),
        ("near: [beat]", 10, "'near' needs at least two items", "near:"),
        ("any: [beat]\nroles: [metadata]", 11, "unknown role 'metadata'", "respondent"),
        ("within: 3", 10, "rules without a condition", "any"),
        ("- any: [beat]\n  unit: turn", 11, "unknown key 'unit' in a rule", "use one of"),
    ],
)
def test_malformed_rules_name_file_line_and_fix(tmp_path, rules, line, what, fix):
    path = make_codebook(tmp_path, one_code(rules))
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    err = info.value
    assert what in err.what and err.line == line and str(path) == err.file
    assert fix in err.fix
    assert f"{path}:{line}" in err.message


def test_theme_rules_and_defaults_are_validated(tmp_path):
    path = make_codebook(tmp_path, one_code("any: [beat]"), theme_rules="unit: turn\nspeaker: [R]")
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    assert "unknown key 'speaker'" in info.value.what and "speakers" in info.value.fix
    path = make_codebook(tmp_path, one_code("any: [beat]"), defaults="negaton: exclude", name="d.yaml")
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    assert info.value.line == 4 and "negation" in info.value.fix
    # other commands may keep their own settings under defaults:
    load_codebook(make_codebook(tmp_path, one_code("any: [beat]"), defaults="table_title: Codes", name="e.yaml"))


def test_spacy_checks_token_patterns_when_compiling(tmp_path, cli):
    path = make_codebook(tmp_path, one_code("pattern: [{LEMMA: {IN: hit}}]"))
    load_codebook(path)  # structure is fine; spaCy's schema is checked on compile
    result = cli("codebook", "validate", path)
    assert result.exit_code == 1
    assert "token pattern is not valid" in result.stderr and f"{path}:10" in result.stderr


def test_match_list_with_shared_settings(tmp_path, nlp_full):
    rules = """
    unit: turn
    not: [cousin]
    match:
      - near: [[sell], [me, us]]
        within: 1
        in_order: true
      - exact: ["was sold"]
    """
    cb = make_codebook(tmp_path, one_code(rules))
    rows = code_text(tmp_path, nlp_full, cb, "R: They sold me. It was far.\nR: I was sold.\nR: My cousin sold me.\n")
    assert [(r.segment, r.text) for r in rows] == [("1", "They sold me. It was far."), ("2", "I was sold.")]


def test_yaml_anchors_reuse_word_lists(tmp_path, nlp_full):
    codes = (
        "- id: a\n  label: A\n  rules: {any: &harm [beat, slap]}\n- id: b\n  label: B\n  rules: {all: [*harm, [owner]]}"
    )
    cb = make_codebook(tmp_path, codes)
    rows = code_text(tmp_path, nlp_full, cb, "R: The owner slapped me.\n")
    assert [r.code for r in rows] == ["th.a", "th.b"]
