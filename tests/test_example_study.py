"""The shipped example study (examples/csec-study): its raw material is well formed.

These transcripts are the README's demo and the redactor's showcase, so they must
read cleanly, have respondent speech, match cases.csv one to one, and carry the
parts a careless redactor forgets (Word headers, footers and document properties).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import docx
import pandas as pd
import pytest

from qualkit.cases import read_cases
from qualkit.readers import iter_inputs, read_document

STUDY = Path(__file__).resolve().parents[1] / "examples" / "csec-study"
TRANSCRIPTS = STUDY / "transcripts"
VICTIM_GROUPS = {"prostitution", "trafficked_border", "trafficked_internal"}
NUMBER_WORDS = {13: "thirteen", 14: "fourteen", 15: "fifteen", 16: "sixteen", 17: "seventeen"}


def _files() -> list[Path]:
    return [f.path for f in iter_inputs([TRANSCRIPTS])]


def _fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).casefold()


def _docx_extras(path: Path) -> str:
    """Header, footer and core-property text of a .docx (not part of Document.text)."""
    d = docx.Document(str(path))
    parts = []
    for sec in d.sections:
        parts += [p.text for p in sec.header.paragraphs] + [p.text for p in sec.footer.paragraphs]
    cp = d.core_properties
    parts += [cp.author or "", cp.last_modified_by or "", cp.title or ""]
    return "\n".join(parts)


def _list_entries(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


@pytest.fixture(scope="module")
def docs():
    return {p.stem: read_document(p) for p in _files()}


@pytest.fixture(scope="module")
def cases():
    return read_cases(STUDY / "cases.csv")


def test_mixed_formats_about_twelve_transcripts():
    exts = sorted(p.suffix for p in _files())
    assert exts.count(".txt") == 7 and exts.count(".docx") == 3 and exts.count(".vtt") == 2
    assert len({p.stem for p in _files()}) == len(exts)  # ids are unique across formats


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_transcript_reads_cleanly_with_respondent_turns(path):
    doc = read_document(path)
    assert doc.warnings == []
    respondent = [t for t in doc.turns if t.role == "respondent"]
    interviewer = [t for t in doc.turns if t.role == "interviewer"]
    assert len(respondent) >= 8 and len(interviewer) >= 8
    assert all(t.speaker for t in respondent), "every respondent turn carries a speaker label"
    assert all(doc.turn_text(t).strip() for t in respondent)
    assert 350 <= len(doc.text.split()) <= 720
    if doc.format != "vtt":
        # the header (Date:, Location:, Note:) is metadata, never respondent speech
        meta = {t.speaker for t in doc.turns if t.role == "metadata"}
        assert {"Date", "Location", "Note"} <= meta
        assert doc.turns[0].role == "metadata"


def test_voice_tags_are_the_fgd_speakers(docs):
    for doc_id in ("fgd01", "fgd02"):
        doc = docs[doc_id]
        speakers = set(doc.speakers)
        assert len(speakers) == 5, speakers  # four participants and a moderator/facilitator
        assert all(doc.text[t.label_start - 3 : t.label_start] == "<v " for t in doc.turns)


def test_every_document_has_a_case_row_and_vice_versa(docs, cases):
    assert set(docs) == set(cases.index)


def test_case_attributes_are_well_formed_and_agree_with_the_text(docs, cases):
    for case_id, row in cases.iterrows():
        assert row["interview_type"] in {"interview", "FGD"}
        assert (row["interview_type"] == "FGD") == (docs[case_id].format == "vtt")
        assert row["province"] in {"Ha Noi", "Ho Chi Minh City", "An Giang", "Lao Cai", "Khanh Hoa"}
        group = row["group"]
        if not pd.isna(group):
            assert group in VICTIM_GROUPS
            text = docs[case_id].text.lower()
            for col in ("age_now", "age_first"):
                age = int(row[col])
                assert re.search(rf"\b{age}\b", text) or NUMBER_WORDS[age] in text, (case_id, col)
            assert row["education"].lower() in text, case_id
            assert row["setting"] in {"currently engaged", "05/06 centre", "shelter"}
            assert re.fullmatch(r"\d+-\d+|\d+\+", row["customers_per_day"]), case_id
            assert row["category"].startswith(("girl", "boy"))
            assert row["sex"] == ("male" if row["category"].startswith("boy") else "female")
    victims = cases[cases["group"].isin(VICTIM_GROUPS)]
    assert len(victims) == 8
    assert set(victims["group"]) == VICTIM_GROUPS
    assert set(victims["setting"]) == {"currently engaged", "05/06 centre", "shelter"}
    assert "male" in set(victims["sex"])


@pytest.mark.parametrize("name", ["int03", "int05", "int08"])
def test_docx_has_identifying_header_footer_and_properties(name, docs):
    path = TRANSCRIPTS / f"{name}.docx"
    d = docx.Document(str(path))
    header = " ".join(p.text for s in d.sections for p in s.header.paragraphs)
    footer = " ".join(p.text for s in d.sections for p in s.footer.paragraphs)
    assert header.startswith("Interviewer:") and len(header.split()) >= 4
    assert footer.strip()
    assert d.core_properties.author and len(d.core_properties.author.split()) >= 3
    # none of this is in the body text qualkit reads, so a redactor must handle it separately
    body = _fold(docs[name].text)
    assert _fold(header) not in body and _fold(d.core_properties.author) not in body
    # some speaker labels are bold runs, some typed: both reach the turn splitter
    bold = [p for p in d.paragraphs if p.runs and p.runs[0].bold and p.text.startswith("Interviewer:")]
    typed = [p for p in d.paragraphs if p.text.startswith("R: ") and not p.runs[0].bold]
    assert bold and typed


def test_names_list_entries_all_occur_in_the_transcripts(docs):
    corpus = _fold("\n".join(d.text for d in docs.values()))
    corpus += _fold("\n".join(_docx_extras(p) for p in TRANSCRIPTS.glob("*.docx")))
    entries = _list_entries(STUDY / "private" / "names.txt")
    assert len(entries) >= 10
    missing = [e for e in entries if _fold(e) not in corpus]
    assert not missing, f"{len(missing)} names.txt entries occur in no transcript"
    # a names-list entry folding to a common English word would wipe that word everywhere
    assert not {_fold(e) for e in entries} & {"my", "an", "ha", "to", "me", "hue"}


def test_keep_list_terms_occur_in_the_transcripts(docs):
    corpus = "\n".join(d.text for d in docs.values())
    entries = _list_entries(STUDY / "keep.txt")
    assert {"Viet Nam", "UNICEF", "DOLISA", "Department of Social Vice Prevention"} <= set(entries)
    missing = [e for e in entries if e not in corpus]
    assert not missing, missing
