"""Readers: offsets, turns, encodings and formats (the contract in the README)."""

from __future__ import annotations

import codecs

import docx
import pytest

from qualkit.documents import split_turns
from qualkit.errors import InputError
from qualkit.readers import iter_inputs, read_document

TRANSCRIPT = (
    "Interview 07 - girl victim, Khanh Hoa\n"
    "Date: 12/03/2011\n"
    "Interviewer: How old were you when you started?\n"
    "Respondent: I was 14. My friend Mai\n"
    "took me to Nha Trang.\n"
    "Note: the respondent cried here.\n"
    "I: And then?\n"
    "R: Yes: I went with her.\n"
)


def _turns(text):
    return [(t.role, t.speaker, text[t.text_start : t.end]) for t in split_turns(text)]


def test_turn_splitting_labels_continuations_and_metadata():
    turns = _turns(TRANSCRIPT)
    assert turns == [
        ("metadata", None, "Interview 07 - girl victim, Khanh Hoa"),
        ("metadata", "Date", "12/03/2011"),
        ("interviewer", "Interviewer", "How old were you when you started?"),
        ("respondent", "Respondent", "I was 14. My friend Mai\ntook me to Nha Trang."),
        ("metadata", "Note", "the respondent cried here."),
        ("interviewer", "I", "And then?"),
        ("respondent", "R", "Yes: I went with her."),
    ]


def test_pseudonym_and_numbered_labels():
    text = "Moderator: Welcome.\nResearcher 1: Go on.\nP3: We were poor.\nAna: I left school.\n"
    roles = [(r, s) for r, s, _ in _turns(text)]
    assert roles == [
        ("interviewer", "Moderator"),
        ("interviewer", "Researcher 1"),
        ("respondent", "P3"),
        ("respondent", "Ana"),
    ]


def test_text_without_labels_is_narrative_paragraphs():
    text = "My name is Lan.\nI grew up poor.\n\nThen I left home."
    assert _turns(text) == [
        ("respondent", None, "My name is Lan.\nI grew up poor."),
        ("respondent", None, "Then I left home."),
    ]


def test_txt_offsets_are_indices_into_decoded_text_crlf_kept(tmp_path):
    p = tmp_path / "int01.txt"
    p.write_bytes(TRANSCRIPT.replace("\n", "\r\n").encode("utf-8"))
    doc = read_document(p)
    assert doc.id == "int01" and doc.format == "txt"
    assert doc.text == TRANSCRIPT.replace("\n", "\r\n")
    resp = [t for t in doc.turns if t.speaker == "Respondent"][0]
    assert doc.text[resp.text_start : resp.end] == "I was 14. My friend Mai\r\ntook me to Nha Trang."
    assert doc.text[resp.label_start : resp.label_end] == "Respondent"


@pytest.mark.parametrize(
    "encoded,encoding,bom",
    [
        (codecs.BOM_UTF8 + "R: Tôi tên là Thảo".encode(), "utf-8", True),
        ("R: Tôi tên là Thảo".encode("utf-16"), "utf-16", True),
        ("R: Tôi tên là Thảo".encode("utf-16-le"), "utf-16-le", False),
    ],
)
def test_encodings(tmp_path, encoded, encoding, bom):
    p = tmp_path / "a.txt"
    p.write_bytes(encoded)
    doc = read_document(p)
    assert doc.text == "R: Tôi tên là Thảo"
    assert (doc.encoding, doc.bom) == (encoding, bom)
    assert doc.warnings == []


def test_legacy_encoding_falls_back_with_warning(tmp_path):
    p = tmp_path / "legacy.txt"
    p.write_bytes("R: café in Ha Noi".encode("cp1252"))
    doc = read_document(p)
    assert doc.text == "R: café in Ha Noi"
    assert doc.warnings and "not UTF-8" in doc.warnings[0]


@pytest.mark.parametrize(
    "name,content,what",
    [
        ("x.pdf", b"%PDF", "unsupported file type"),
        ("empty.txt", b"  \n", "file is empty"),
        ("bin.txt", b"\x00\x01\x02\x03" * 50, "binary"),
        ("bad.docx", b"not a zip", "not a valid Word"),
        ("bad.vtt", b"hello\n", "not a WebVTT"),
    ],
)
def test_bad_inputs_name_the_file(tmp_path, name, content, what):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_document(p)
    assert what in info.value.message
    assert str(p) in info.value.message


def test_docx_paragraphs_joined_and_bold_labels(tmp_path):
    d = docx.Document()
    d.add_paragraph("Life story interview")  # a heading-like first line
    p = d.add_paragraph()
    p.add_run("Interviewer:").bold = True
    p.add_run(" Where did you grow up?")
    p = d.add_paragraph()
    p.add_run("Thao").bold = True
    p.add_run(" In An Giang, near Chau Doc.")
    d.add_paragraph("We were very poor.")
    path = tmp_path / "story.docx"
    d.save(path)
    doc = read_document(path)
    assert doc.text == (
        "Life story interview\nInterviewer: Where did you grow up?\n"
        "Thao In An Giang, near Chau Doc.\nWe were very poor."
    )
    speech = [(t.speaker, t.role, doc.turn_text(t)) for t in doc.turns if t.is_speech]
    assert speech == [
        ("Interviewer", "interviewer", "Where did you grow up?"),
        ("Thao", "respondent", "In An Giang, near Chau Doc.\nWe were very poor."),
    ]
    assert [(b.start, b.end) for b in doc.blocks][1] == (21, 56)


def test_vtt_voice_tags_and_cue_text(tmp_path):
    p = tmp_path / "fgd.vtt"
    p.write_text(
        "WEBVTT\n\nNOTE recorded in Ha Noi\n\n1\n00:00:01.000 --> 00:00:04.000\n<v Moderator>Welcome everyone.\n\n"
        "00:00:04.500 --> 00:00:09.000\n<v Lan>I came from Lao Cai.\nMy aunt sent me.\n",
        encoding="utf-8",
    )
    doc = read_document(p)
    assert doc.text == "<v Moderator>Welcome everyone.\n<v Lan>I came from Lao Cai.\nMy aunt sent me."
    speech = [(t.speaker, t.role, doc.turn_text(t)) for t in doc.turns]
    assert speech == [
        ("Moderator", "interviewer", "Welcome everyone."),
        ("Lan", "respondent", "I came from Lao Cai.\nMy aunt sent me."),
    ]


def test_srt_name_prefix(tmp_path):
    p = tmp_path / "int.srt"
    p.write_text(
        "1\n00:00:01,000 --> 00:00:02,000\nI: Hello.\n\n2\n00:00:02,500 --> 00:00:05,000\nR: I am from Hue.\n",
        encoding="utf-8",
    )
    doc = read_document(p)
    assert doc.text == "I: Hello.\nR: I am from Hue."
    assert [(t.speaker, t.role) for t in doc.turns] == [("I", "interviewer"), ("R", "respondent")]


def test_iter_inputs_walks_folders_sorted_skipping_hidden(tmp_path):
    (tmp_path / "b").mkdir()
    for rel in ("b/2.txt", "a.md", ".hidden.txt", "b/~$lock.docx", "notes.pdf"):
        (tmp_path / rel).write_text("R: x", encoding="utf-8")
    assert [str(f.rel) for f in iter_inputs([tmp_path])] == ["a.md", "b/2.txt"]
    assert "notes.pdf" in [str(f.rel) for f in iter_inputs([tmp_path], all_files=True)]
    with pytest.raises(InputError):
        list(iter_inputs([tmp_path / "missing"]))


def test_redaction_tags_are_speaker_labels():
    text = "Interviewer: Where?\n[PERSON 1]: I went to [PLACE 2].\n[PERSON]: Me too."
    assert _turns(text) == [
        ("interviewer", "Interviewer", "Where?"),
        ("respondent", "[PERSON 1]", "I went to [PLACE 2]."),
        ("respondent", "[PERSON]", "Me too."),
    ]


def test_docx_hyperlink_before_label_does_not_shift_offsets(tmp_path):
    from docx.oxml import OxmlElement

    d = docx.Document()
    p = d.add_paragraph()
    link = OxmlElement("w:hyperlink")
    r = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "see"
    r.append(t)
    link.append(r)
    p._p.append(link)
    run = p.add_run(" Respondent:")
    run.bold = True
    p.add_run(" text")
    path = tmp_path / "h.docx"
    d.save(path)
    doc = read_document(path)
    assert doc.text == "see Respondent: text"
    # a paragraph that starts with a hyperlink has no bold label: no mis-sliced speaker
    assert all(t.speaker in (None, "see Respondent") for t in doc.turns)
