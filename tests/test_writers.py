"""Writers for redacted output: .txt/.md and .vtt/.srt round trips, replacement checks, safety.

Every test writes real files, reads the output back with the reader
(``read_document``) and compares the text; .docx is in test_writers_docx.py.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualkit.errors import QualkitError, SafetyError, UsageError
from qualkit.readers import read_document
from qualkit.readers.subtitles import TIMING_RE
from qualkit.writers import (
    Piece,
    ReplacementError,
    apply_replacements,
    batch_redact,
    diff_replacements,
    distribute,
    write_redacted,
)

NAMES = ["Nguyen Thi Mai", "Mai", "Lao Cai", "Hung"]
NAME_RE = re.compile("|".join(re.escape(n) for n in NAMES))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reps_for(text: str, new: str = "[PERSON 1]") -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), new) for m in NAME_RE.finditer(text)]


def redact(text: str) -> str:
    return NAME_RE.sub("[R]", text)


def assert_offsets_consistent(old: str, reps, new_text: str) -> None:
    """Each replacement's text sits where the shifted offsets say."""
    shift = 0
    for s, e, new in reps:
        assert new_text[s + shift : s + shift + len(new)] == new
        shift += len(new) - (e - s)
    assert len(new_text) == len(old) + shift


# --- .txt / .md ---------------------------------------------------------------------------------------

TEXT = "Interviewer: Where did you grow up?\nMai: In Lao Cai, with Nguyen Thi Mai.\nInterviewer: And Hung?\n"


@pytest.mark.parametrize(
    "suffix, encode, encoding, bom",
    [
        (".txt", lambda t: t.encode("utf-8"), "utf-8", False),
        (".md", lambda t: codecs.BOM_UTF8 + t.replace("\n", "\r\n").encode("utf-8"), "utf-8", True),
        (".txt", lambda t: t.encode("utf-16"), "utf-16", True),  # native order BOM
        (".txt", lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"), "utf-16", True),
        (".txt", lambda t: t.encode("utf-16-le"), "utf-16-le", False),
    ],
    ids=["utf8", "utf8-bom-crlf", "utf16", "utf16-be", "utf16-le-nobom"],
)
def test_text_round_trip_keeps_encoding_bom_and_line_ends(tmp_path, suffix, encode, encoding, bom):
    src = tmp_path / "in" / f"int01{suffix}"
    src.parent.mkdir()
    original = encode(TEXT)
    src.write_bytes(original)
    doc = read_document(src)
    assert (doc.encoding, doc.bom) == (encoding, bom)
    reps = reps_for(doc.text, "Lan")  # a pseudonym: "[PERSON 1]:" is not read back as a label
    assert len(reps) == 4
    out = tmp_path / "out" / "deep" / f"int01{suffix}"  # parents are created
    write_redacted(doc, reps, out)

    expected = apply_replacements(doc.text, reps)
    again = read_document(out)
    assert again.text == expected
    assert (again.encoding, again.bom) == (encoding, bom)
    assert_offsets_consistent(doc.text, reps, again.text)
    assert out.read_bytes() == encode(apply_replacements(TEXT, reps_for(TEXT, "Lan")))
    if "\r\n" in doc.text:
        assert again.text.count("\r\n") == doc.text.count("\r\n") and "\n" not in again.text.replace("\r\n", "")
    assert [t.speaker for t in again.turns] == ["Interviewer", "Lan", "Interviewer"]
    assert sha(src) == hashlib.sha256(original).hexdigest()


def test_legacy_code_page_keeps_bytes_and_simplifies_only_new_letters(tmp_path):
    src = tmp_path / "old.txt"
    original = "R: Tôi đi Lao Cai, café Mai.\r\n".encode("cp1258")
    src.write_bytes(original)
    doc = read_document(src)
    assert doc.encoding == "cp1258" and doc.warnings
    s = doc.text.index("Lao Cai")
    m = doc.text.index("Mai")
    reps = [(s, s + 7, "Nguyễn Thị Lan"), (m, m + 3, "Łukasz 李")]
    out = tmp_path / "out.txt"
    warnings_before = len(doc.warnings)
    write_redacted(doc, reps, out)
    data = out.read_bytes()
    # untouched text is byte for byte the input's
    assert data.startswith(original[:s]) and data.endswith(".\r\n".encode("cp1258"))
    again = read_document(out)
    assert again.encoding == "cp1258"
    text = unicodedata.normalize("NFC", again.text)
    # cp1258 writes Vietnamese letters as base letter + combining tone mark: nothing lost
    assert "Nguyễn Thị Lan" in text
    assert "Lukasz ?" in text
    assert len(doc.warnings) == warnings_before + 1
    assert "Łukasz" not in doc.warnings[-1] and "cp1258" in doc.warnings[-1]


def test_cp1252_drops_accents_it_cannot_hold(tmp_path):
    from qualkit.writers.text import encode_text

    warnings: list[str] = []
    data = encode_text("Nguyễn Đức", "cp1252", False, warnings=warnings)
    assert data.decode("cp1252") == "Nguyên Duc"
    assert len(warnings) == 1


# --- .vtt / .srt ----------------------------------------------------------------------------------------

VTT = """WEBVTT - Interview with Nguyen Thi Mai
Kind: captions

STYLE
::cue(v[voice="Mai"]) { color: yellow }

NOTE recorded in Lao Cai
by Hung

intro-Mai
00:00:01.000 --> 00:00:04.000 align:start position:10%
<v Mai>I grew up in Lao Cai.

2
00:00:04.500 --> 00:00:08.000
<v Interviewer>Did Hung come
with you, Mai?

3
00:00:08.000 --> 00:00:09.000
<v Nguyen Thi Mai>Yes.
"""

SRT = """1
00:00:01,000 --> 00:00:04,000
Mai: I grew up in Lao Cai.

2
00:00:04,500 --> 00:00:08,000
Interviewer: Did Hung come
with you?
"""


def _timing_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if TIMING_RE.match(ln)]


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_vtt_keeps_structure_replaces_voice_tags_and_cleans_notes(tmp_path, crlf):
    content = VTT.replace("\n", "\r\n") if crlf else VTT
    src = tmp_path / "fgd.vtt"
    src.write_bytes(content.encode("utf-8"))
    doc = read_document(src)
    labels = [(t.label_start, t.label_end) for t in doc.turns if t.speaker in ("Mai", "Nguyen Thi Mai")]
    assert len(labels) == 2
    reps = []
    for m in NAME_RE.finditer(doc.text):
        tag = "[PERSON 1]" if (m.start(), m.end()) in labels else "[X]"
        reps.append((m.start(), m.end(), tag))
    out = tmp_path / "out" / "fgd.vtt"
    write_redacted(doc, reps, out, redact_text=redact)

    written = out.read_bytes().decode("utf-8")
    assert (written.count("\r\n") == content.count("\r\n")) and (crlf or "\r" not in written)
    assert _timing_lines(written) == _timing_lines(content)  # timings and cue settings untouched
    assert 'STYLE\r\n::cue(v[voice="Mai"])' in written or 'STYLE\n::cue(v[voice="Mai"])' in written
    lines = written.splitlines()
    assert lines[0] == "WEBVTT - Interview with [R]"
    assert lines[1] == "Kind: captions"
    assert "NOTE recorded in [R]" in lines and "by [R]" in lines
    assert "intro-[R]" in lines and "2" in lines and "3" in lines
    assert "<v [PERSON 1]>I grew up in [X]." in lines
    assert "<v [PERSON 1]>Yes." in lines
    assert "with you, [X]?" in lines  # second payload line of a two-line cue

    again = read_document(out)
    assert again.text == apply_replacements(doc.text, reps)
    assert [t.speaker for t in again.turns] == ["[PERSON 1]", "Interviewer", "[PERSON 1]"]
    assert sha(src) == hashlib.sha256(content.encode("utf-8")).hexdigest()


def test_srt_keeps_numbers_timings_and_crlf(tmp_path):
    content = SRT.replace("\n", "\r\n")
    src = tmp_path / "int.srt"
    src.write_bytes(codecs.BOM_UTF8 + content.encode("utf-8"))
    doc = read_document(src)
    reps = reps_for(doc.text, "Lan")
    out = tmp_path / "o.srt"
    write_redacted(doc, reps, out, redact_text=redact)
    data = out.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    written = data[3:].decode("utf-8")
    assert written == apply_replacements(content, reps_for(content, "Lan"))
    again = read_document(out)
    assert again.text == apply_replacements(doc.text, reps)
    assert [t.speaker for t in again.turns] == ["Lan", "Interviewer"]


def test_subtitle_replacement_over_a_line_end_keeps_the_cue_shape(tmp_path):
    src = tmp_path / "a.vtt"
    src.write_text(VTT, encoding="utf-8")
    doc = read_document(src)
    s = doc.text.index("Hung come")
    e = doc.text.index("with you") + len("with")
    out = tmp_path / "b.vtt"
    write_redacted(doc, [(s, e, "[PERSON 2]")], out)
    lines = out.read_text(encoding="utf-8").splitlines()
    i = lines.index("<v Interviewer>Did [PERSON 2]")
    assert lines[i + 1] == " you, Mai?"
    assert _timing_lines("\n".join(lines)) == _timing_lines(VTT)


def test_subtitle_new_text_cannot_break_the_file(tmp_path):
    src = tmp_path / "a.vtt"
    src.write_text(VTT, encoding="utf-8")
    doc = read_document(src)
    m = doc.text.index("Lao Cai")
    out = tmp_path / "b.vtt"
    write_redacted(doc, [(m, m + 7, "<b>x</b>\n\n00:00:01.000 --> 00:00:02.000")], out)
    again = read_document(out)
    assert len(again.blocks) == len(doc.blocks)
    assert _timing_lines(out.read_text(encoding="utf-8")) == _timing_lines(VTT)
    assert "&lt;b&gt;x&lt;/b&gt;" in again.text and "--&gt;" in again.text


# --- checks and safety --------------------------------------------------------------------------------


def _doc(tmp_path, text=TEXT, name="int.txt"):
    src = tmp_path / name
    src.write_text(text, encoding="utf-8")
    return read_document(src)


@pytest.mark.parametrize(
    "reps",
    [
        [(5, 10, "SECRETNEW"), (8, 12, "SECRETNEW")],  # overlap
        [(20, 25, "SECRETNEW"), (5, 10, "SECRETNEW")],  # unsorted
        [(5, 10_000, "SECRETNEW")],  # out of range
        [(-1, 3, "SECRETNEW")],
        [(7, 3, "SECRETNEW")],
        [(1.0, 3, "SECRETNEW")],
        [(1, 3)],
        [(1, 3, None)],
    ],
)
def test_bad_replacements_are_refused_without_text_in_the_message(tmp_path, reps):
    doc = _doc(tmp_path)
    out = tmp_path / "out.txt"
    with pytest.raises(ReplacementError) as info:
        write_redacted(doc, reps, out)
    assert isinstance(info.value, QualkitError)
    message = str(info.value)
    assert "SECRETNEW" not in message and "Mai" not in message and "Lao" not in message
    assert str(doc.path) in message
    assert not out.exists()


def test_insertions_and_adjacent_replacements_are_allowed(tmp_path):
    doc = _doc(tmp_path)
    out = tmp_path / "o.txt"
    reps = [(0, 0, ">> "), (0, 11, "Q"), (11, 11, "!")]
    write_redacted(doc, reps, out)
    assert read_document(out).text.startswith(">> Q!:")


def test_refuses_to_overwrite_the_input(tmp_path):
    doc = _doc(tmp_path)
    before = sha(doc.path)
    with pytest.raises(SafetyError):
        write_redacted(doc, reps_for(doc.text), doc.path)
    os.symlink(doc.path, tmp_path / "link.txt")
    with pytest.raises(SafetyError):
        write_redacted(doc, reps_for(doc.text), tmp_path / "link.txt")
    assert sha(doc.path) == before


def test_unknown_format_is_a_usage_error(tmp_path):
    doc = _doc(tmp_path)
    doc.format = "pdf"
    with pytest.raises(UsageError):
        write_redacted(doc, [], tmp_path / "x.pdf")


def test_failure_midway_leaves_no_output_and_keeps_an_older_one(tmp_path):
    src = tmp_path / "a.vtt"
    src.write_text(VTT, encoding="utf-8")
    doc = read_document(src)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "a.vtt"

    def boom(text: str) -> str:
        raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError):
        write_redacted(doc, reps_for(doc.text), out, redact_text=boom)
    assert list(out_dir.iterdir()) == []
    out.write_bytes(b"previous run")
    with pytest.raises(RuntimeError):
        write_redacted(doc, reps_for(doc.text), out, redact_text=boom)
    assert out.read_bytes() == b"previous run"
    assert sorted(p.name for p in out_dir.iterdir()) == ["a.vtt"]  # no temporary file left


def test_source_changed_since_reading_is_an_input_error(tmp_path):
    src = tmp_path / "a.srt"
    src.write_text(SRT, encoding="utf-8")
    doc = read_document(src)
    src.write_text(SRT.replace("Lao Cai", "Ha Noi"), encoding="utf-8")
    with pytest.raises(QualkitError, match="changed since it was read"):
        write_redacted(doc, [], tmp_path / "b.srt")


# --- the shared helpers -----------------------------------------------------------------------------


def test_distribute_first_piece_takes_the_text_others_are_trimmed():
    # "Nguyen " | "Thi" | "\t" (fixed) | "Mai said" ; paragraph gap ; "Hi"
    pieces = [
        Piece(0, 7, "Nguyen "),
        Piece(7, 10, "Thi"),
        Piece(10, 11, "\t", False),
        Piece(11, 19, "Mai said"),
        Piece(20, 22, "Hi"),
    ]
    reps = [(0, 14, "[P1]"), (19, 21, "[X]")]
    assert distribute(pieces, reps) == ["[P1]", "", "", " said", "[X]i"]
    # insertion at a boundary prefers the editable piece touching it
    assert distribute(pieces, [(10, 10, "+")]) == [None, "Thi+", None, None, None]
    # a replacement covering only a gap goes to the piece before it
    assert distribute(pieces, [(19, 20, "~")]) == [None, None, None, "Mai said~", None]
    assert distribute(pieces, [(19, 20, "")]) == [None] * 5


words = st.text(alphabet="ab \n.", max_size=30)


@settings(max_examples=200, deadline=None)
@given(old=words, new=words)
def test_diff_replacements_rebuild_the_new_text(old, new):
    reps = diff_replacements(old, new)
    assert apply_replacements(old, reps) == new
    assert all(a[1] <= b[0] for a, b in zip(reps, reps[1:]))


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_distribute_matches_plain_replacement_when_pieces_tile_the_text(data):
    text = data.draw(st.text(alphabet="abc", min_size=1, max_size=25))
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=6))) | {0, len(text)})
    pieces = [Piece(a, b, text[a:b]) for a, b in zip(cuts, cuts[1:])]
    bounds = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    reps = [(a, b, data.draw(st.text(alphabet="XY", max_size=3))) for a, b in zip(bounds[::2], bounds[1::2])]
    new = distribute(pieces, reps)
    rebuilt = "".join(p.text if n is None else n for p, n in zip(pieces, new))
    assert rebuilt == apply_replacements(text, reps)


def test_batch_redact_joins_short_texts_and_falls_back_when_a_separator_is_crossed():
    calls: list[str] = []

    def red(text: str) -> str:
        calls.append(text)
        return text.replace("Mai", "[P]").replace("Lan\n\nAnh", "[Q]")

    texts = ["Mai said", "", "...", "ok Mai", "Lan", "Anh"]
    assert batch_redact(texts, red) == ["[P] said", "", "...", "ok [P]", "Lan", "Anh"]
    assert len(calls) == 1 + 4  # one joined call, crossed by "Lan\n\nAnh", then one by one
    calls.clear()
    assert batch_redact(["Mai", "x Mai"], red) == ["[P]", "x [P]"]
    assert len(calls) == 1
