"""`qualkit annex` safety: identifiers from the redaction key, the original transcripts folder,
atomic writes, and the command line with project-file defaults."""

from __future__ import annotations

import csv
from pathlib import Path

import docx
import pytest

from qualkit.annex import KeyIdentifier, LeakGuard, build_annex, read_key_identifiers, render_annex
from qualkit.annex.guard import _tokens
from qualkit.errors import LeakError

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / "codebooks" / "csec-study.yaml"

INT01 = (
    "Interviewer: Tell me about your family.\n"
    "Respondent: We are very poor, we have no rice field.\n"
    "Interviewer: Who took you to the city?\n"
    "Respondent: My friend THAO took me to the city, she said there was work.\n"
)
INT02 = "Interviewer: How was home?\nRespondent: My father drank and beat my mother.\n"
KEY = (
    "original,label,replacement,first_document\n"
    "Thảo,PERSON,Lan,int01.txt\n"
    "Nguyễn Văn Hùng,PERSON,Binh,int02.txt\n"
    "Hoa,PERSON,Mai,int02.txt\n"
    "Khánh Hòa,PLACE,[PLACE 1],int01.txt\n"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def study(tmp_path) -> Path:
    """A study folder: project file, ORIGINAL transcripts, redacted output, private key, annex spec."""
    write(
        tmp_path / "qualkit.yaml",
        f"project: t\ntranscripts: transcripts/\noutput: output/\nprivate: private/\n"
        f"cases: cases.csv\ncodebook: {CODEBOOK}\nannex:\n  spec: annex.yaml\n",
    )
    write(
        tmp_path / "cases.csv",
        "case,category,age_now,province\n"
        "int01,girl victim of prostitution,16,Khanh Hoa\n"
        "int02,girl victim of prostitution,17,Ha Noi\n",
    )
    write(tmp_path / "transcripts" / "int01.txt", INT01.replace("THAO", "Thảo"))
    write(tmp_path / "transcripts" / "int02.txt", INT02)
    write(tmp_path / "output" / "transcripts" / "int01.txt", INT01)  # redaction missed one name: THAO
    write(tmp_path / "output" / "transcripts" / "int02.txt", INT02)
    write(tmp_path / "private" / "redaction-key.csv", KEY)
    rows = []
    for doc, text, code in (
        ("int01", "We are very poor, we have no rice field.", "family.poor_family"),
        ("int01", "My friend THAO took me to the city, she said there was work.", "recruitment.friend_asked"),
        ("int02", "My father drank and beat my mother.", "family.domestic_violence"),
    ):
        body = INT01 if doc == "int01" else INT02
        s = body.index(text)
        rows.append(
            {"document": doc, "code": code, "start": s, "end": s + len(text), "status": "accepted", "text": text}
        )
    with (tmp_path / "output" / "segments.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["document", "code", "start", "end", "status", "text"])
        w.writeheader()
        w.writerows(rows)
    write(
        tmp_path / "annex.yaml",
        """
title: Annex
allow: [Khanh Hoa]          # provinces are published in attributions on purpose
sections:
  - type: quotes
    heading: Quotes
    codes: [family.poor_family, family.domestic_violence]
    attribution: "(Interview with {category}, now {age_now} years old, {province})"
""",
    )
    return tmp_path


def add_friend_quotes(study: Path) -> None:
    spec = (study / "annex.yaml").read_text(encoding="utf-8")
    (study / "annex.yaml").write_text(
        spec.replace("family.domestic_violence]", "family.domestic_violence, recruitment]"), encoding="utf-8"
    )


# --------------------------------------------------------------------------- the guard itself


def test_guard_is_case_and_diacritic_insensitive_whole_words():
    guard = LeakGuard(
        [KeyIdentifier(_tokens("Nguyễn Văn Hùng"), "PERSON", 3), KeyIdentifier(_tokens("Thảo"), "PERSON", 2)]
    )
    text = "Then NGUYEN van hung came. Thao-ly? No: thảo. Hungary, Thaos and Nguyen Van are fine."
    hits = guard.find(text)
    assert [(text[s:e], label, line) for s, e, (label, line) in hits] == [
        ("NGUYEN van hung", "PERSON", 3),
        ("Thao", "PERSON", 2),
        ("thảo", "PERSON", 2),
    ]
    # decomposed accents (combining marks) still match, offsets point into the original string
    decomposed = "Ask Tha\u0309o now"
    ((s, e, _),) = guard.find(decomposed)
    assert decomposed[s:e] == "Tha\u0309o"
    # line breaks and double spaces inside a name do not hide it
    assert len(guard.find("Nguyen  Van\nHung")) == 1


def test_allowed_phrase_masks_its_words_only():
    guard = LeakGuard(
        [KeyIdentifier(_tokens("Hoa"), "PERSON", 4), KeyIdentifier(_tokens("Khánh Hòa"), "PLACE", 5)],
        allow=["Khanh Hoa"],
    )
    assert guard.find("(Interview with a girl, Khánh Hòa)") == []
    assert len(guard.find("Hoa told me, in Khanh Hoa")) == 1


def test_key_is_read_with_the_csv_module(tmp_path):
    key = write(
        tmp_path / "key.csv", '\ufefforiginal,label,replacement,first_document\n"Le, Thi Mai",PERSON,X,a.txt\n,,,\n'
    )
    (ident,) = read_key_identifiers(key)
    assert ident.tokens == ("le", "thi", "mai") and ident.label == "PERSON" and ident.line == 2


# --------------------------------------------------------------------------- refusals


def test_leaked_identifier_refuses_with_document_and_offset_never_the_name(study, cli):
    add_friend_quotes(study)
    out = study / "output" / "annex.docx"
    res = cli("annex", "-p", str(study))
    assert res.exit_code == 1
    err = res.stderr
    offset = INT01.index("THAO")
    assert f"quote from document int01 at offset {offset}" in err
    assert "PERSON, key line 2" in err and "nothing was written" in err
    assert "thao" not in err.lower() and "thảo" not in err.lower()
    assert "thao" not in res.stdout.lower()
    assert not out.exists()


def test_leak_in_a_life_story_names_the_document_offset(study):
    write(
        study / "story.yaml",
        """
sections:
  - type: life_stories
    stories: [{document: int01, pseudonym: Mai}]
""",
    )
    from qualkit.config import load_settings

    with pytest.raises(LeakError) as exc:
        render_annex(study / "story.yaml", key=study / "private" / "redaction-key.csv", settings=load_settings(study))
    msg = str(exc.value)
    assert f"document int01 at offset {INT01.index('THAO')}" in msg
    assert "output/transcripts/int01.txt" in msg and "thao" not in msg.lower()


def test_identifier_in_a_pseudonym_or_spec_text_is_refused_too(study):
    write(
        study / "story.yaml",
        """
sections:
  - type: life_stories
    stories: [{document: int02, pseudonym: Hoa}]
""",
    )
    from qualkit.config import load_settings

    with pytest.raises(LeakError) as exc:
        render_annex(study / "story.yaml", key=study / "private" / "redaction-key.csv", settings=load_settings(study))
    assert "heading of life story int02 at offset 0 (PERSON, key line 4)" in str(exc.value)


def test_previous_annex_is_untouched_when_refused(study):
    from qualkit.config import load_settings

    out = study / "output" / "annex.docx"
    out.write_bytes(b"previous annex")
    add_friend_quotes(study)
    with pytest.raises(LeakError):
        build_annex(
            study / "annex.yaml", out, key=study / "private" / "redaction-key.csv", settings=load_settings(study)
        )
    assert out.read_bytes() == b"previous annex"
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".annex")] == []


def test_original_transcripts_folder_is_refused(study, cli):
    spec = (study / "annex.yaml").read_text(encoding="utf-8")
    (study / "annex.yaml").write_text("transcripts: transcripts\n" + spec, encoding="utf-8")
    res = cli("annex", "-p", str(study))
    assert res.exit_code == 1
    assert "ORIGINAL transcripts" in res.stderr and "annex.yaml:1" in res.stderr
    # a folder that holds the originals is refused as well
    (study / "annex.yaml").write_text("transcripts: .\n" + spec, encoding="utf-8")
    res = cli("annex", "-p", str(study))
    assert res.exit_code == 1 and "ORIGINAL transcripts" in res.stderr
    assert not (study / "output" / "annex.docx").exists()


# --------------------------------------------------------------------------- the command line


def test_cli_with_project_defaults_and_key(study, cli):
    res = cli("annex", "-p", str(study))
    assert res.exit_code == 0, res.stderr
    out = study / "output" / "annex.docx"
    assert f"wrote {out}" in res.stdout.replace("\n", "")
    assert "none found" in res.stdout
    d = docx.Document(str(out))
    quotes = [p.text for p in d.paragraphs if p.style.name == "Quote"]
    attributions = [p.text for p in d.paragraphs if p.style.name == "Attribution"]
    assert quotes == ["“We are very poor, we have no rice field.”", "“My father drank and beat my mother.”"]
    assert attributions == [
        "(Interview with girl victim of prostitution, now 16 years old, Khanh Hoa)",
        "(Interview with girl victim of prostitution, now 17 years old, Ha Noi)",
    ]
    assert d.core_properties.title == "Annex" and d.core_properties.author == ""


def test_cli_explicit_paths_without_project(study, cli, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    write(
        elsewhere / "annex.yaml",
        f"""
cases: {study / "cases.csv"}
segments: {study / "output" / "segments.csv"}
codebook: {CODEBOOK}
transcripts: {study / "output" / "transcripts"}
sections:
  - type: quotes
    codes: [family.poor_family]
    attribution: "({{category}}, {{province}})"
""",
    )
    res = cli("annex", "--spec", "annex.yaml", "--output", "a.docx")
    assert res.exit_code == 0, res.stderr
    assert "no redaction key" in res.stderr
    assert (elsewhere / "a.docx").is_file()
    res = cli("annex", "--spec", "annex.yaml")
    assert res.exit_code == 2 and "--output" in res.stderr
    res = cli("annex", "--spec", "annex.yaml", "--output", "a.pdf")
    assert res.exit_code == 2 and ".docx" in res.stderr


def test_one_word_name_that_is_an_english_word_matches_only_as_written(tmp_path):
    # "Mỷ" folds to "my": the guard must not refuse every "my", but must catch "Mỷ" itself,
    # the same rule redaction uses when it propagates the name
    key = write(
        tmp_path / "key.csv", "original,label,replacement,first_document\nMỷ,PERSON,Trinh,a.txt\nAnd,PERSON,X,a.txt\n"
    )
    guard = LeakGuard(read_key_identifiers(key))
    text = "My mother and I met Mỷ. And then MỶ left."
    assert [text[s:e] for s, e, _ in guard.find(text)] == ["Mỷ", "And", "MỶ"]
