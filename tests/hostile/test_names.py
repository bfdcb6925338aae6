"""Hostile input, names that must not get through (issue #11, "Names that get through").

Each test is a way a name got past redaction, the audit or the annex leak guard.
Rules only (no spaCy model) unless the model is the point: the names list, the key,
the detectors and study-wide propagation must catch these on their own.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from qualkit.redact import RedactOptions, redact_corpus
from qualkit.redact.audit import audit_output

# --- helpers ------------------------------------------------------------------------------


def _study(tmp_path: Path, docs: dict[str, str], names: str | None = None, keep: str | None = None):
    src = tmp_path / "in"
    src.mkdir()
    for name, text in docs.items():
        (src / name).write_text(text, encoding="utf-8")
    private = tmp_path / "private"
    private.mkdir()
    opts = RedactOptions(style="tag", use_ner=False)
    if names is not None:
        opts.names_file = private / "names.txt"
        opts.names_file.write_text(names, encoding="utf-8")
    if keep is not None:
        opts.keep_file = private / "keep.txt"
        opts.keep_file.write_text(keep, encoding="utf-8")
    return src, private / "key.csv", opts


def _redact(tmp_path: Path, docs: dict[str, str], names: str | None = None, keep: str | None = None):
    """Redact *docs* (rules only, tags); returns ({name: output text}, key path, result)."""
    src, key, opts = _study(tmp_path, docs, names, keep)
    out = tmp_path / "out"
    res = redact_corpus([src], out, key, opts, report_path=tmp_path / "private" / "review.html")
    assert res.ok, [str(e) for e in res.errors]
    return {n: (out / n).read_text(encoding="utf-8") for n in docs}, key, res


def _letters(text: str) -> str:
    """The text as a reader sees it: invisible characters gone, look-alikes folded, lower case."""
    from qualkit.textnorm import fold

    return fold(text)


# --- 1. invisible and look-alike characters ---------------------------------------------------

ZW = "\u200b"
TRICKS = {
    "zero-width space": f"Ma{ZW}i",
    "soft hyphen": "Ma\u00adi",
    "word joiner U+2060": "Ma\u2060i",
    "zero-width joiner": "Ma\u200di",
    "BOM inside": "M\ufeffai",
    "variation selector": "Ma\ufe0fi",
    "fullwidth": "\uff2d\uff41\uff49",
    "Cyrillic a": "M\u0430i",
    "Greek iota": "Ma\u03b9",
    "mathematical bold": "\U0001d40c\U0001d41a\U0001d422",
    "combining acute (NFD)": "Mai\u0301",
    "stray combining mark": "Ma\u0335i",
    "right-to-left override": "\u202eiaM\u202c",
    "left-to-right mark": "Ma\u200ei",
}


@pytest.mark.parametrize("written", list(TRICKS.values()), ids=list(TRICKS))
def test_a_listed_name_is_replaced_however_it_is_disguised(tmp_path, written):
    out, _key, _res = _redact(
        tmp_path, {"int01.txt": f"Respondent: I met {written} at the market. {written}'s sister came too.\n"}, "Mai\n"
    )
    text = out["int01.txt"]
    assert "mai" not in _letters(text), ascii(text)
    # the whole original span went: no invisible or look-alike character is left behind
    assert text.isascii(), ascii(text)
    assert text.count("[PERSON 1]") == 2


def test_a_disguised_full_name_is_found_by_the_detectors_and_replaced_whole(tmp_path):
    text = f"Respondent: Chị Ng{ZW}uyễn Thị Ma{ZW}i helped me. Then Nguye\u0302\u0303n Thi\u0323 Mai left.\n"
    out, key, _res = _redact(tmp_path, {"int01.txt": text})
    red = out["int01.txt"]
    assert "mai" not in _letters(red) and "nguyen" not in _letters(red), ascii(red)
    assert ZW not in red and "\u0302" not in red
    rows = list(csv.DictReader(key.open(encoding="utf-8")))
    # one key entry for the name, written as it reads (no invisible character in the private key)
    assert [r["original"] for r in rows if "Nguy" in r["original"]] == ["Nguyễn Thị Mai"]


def test_fullwidth_and_homoglyph_digits_in_a_phone_number(tmp_path):
    out, _key, _res = _redact(
        tmp_path,
        {
            "int01.txt": "Call me on \uff10\uff19\uff11\uff12 \uff13\uff14\uff15 \uff16\uff17\uff18 or \u0660\u0669\u0661\u0662 345 678.\n"
        },
    )
    assert "[PHONE" in out["int01.txt"]
    assert not any(c.isdigit() for c in out["int01.txt"].replace("[PHONE 1]", "").replace("[PHONE 2]", "")), ascii(
        out["int01.txt"]
    )


def _audit_setup(tmp_path: Path, leaked: str):
    """A clean redaction, then an output file that leaks *leaked*."""
    out, key, _res = _redact(tmp_path, {"int01.txt": "Respondent: Mai and Nguyễn Thị Hằng came.\n"}, "Mai\n")
    folder = tmp_path / "out"
    (folder / "int01.txt").write_text(out["int01.txt"] + f"Later {leaked} came back.\n", encoding="utf-8")
    return folder, key


@pytest.mark.parametrize("written", list(TRICKS.values()), ids=list(TRICKS))
def test_audit_finds_a_disguised_original(tmp_path, written):
    folder, key = _audit_setup(tmp_path, written)
    res = audit_output(folder, key, use_ner=False, fresh=False)
    assert len(res.key_leaks) == 1, [x.line for x in res.leaks]
    leak = res.key_leaks[0]
    text = (folder / "int01.txt").read_text(encoding="utf-8")
    assert _letters(text[leak.start : leak.end]) == "mai"


def test_junk_key_entries_do_not_make_audit_report_pseudonyms_as_leaks(tmp_path):
    """A key written before the fix holds originals with invisible characters inside."""
    out, key, _res = _redact(tmp_path, {"int01.txt": "Respondent: Nguyễn Thị Mai and Lan came.\n"})
    rows = list(csv.DictReader(key.open(encoding="utf-8")))
    fields = list(rows[0])
    rows += [
        dict(rows[0], original=f"Ng{ZW}uyễn Thị Ma{ZW}i"),
        dict(rows[0], original="Hoa\u00adng Lan"),
        dict(rows[0], original=f"Tr{ZW}ần"),
    ]
    with key.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fields)
        w.writeheader()
        w.writerows(rows)
    folder = tmp_path / "out"
    # the output holds tags and ordinary words that are fragments of the junk entries
    (folder / "int01.txt").write_text(out["int01.txt"] + "Ng said uyen and ng are sounds; Tr is a street.\n")
    res = audit_output(folder, key, use_ner=False, fresh=False)
    assert res.ok, [x.line for x in res.leaks]
    (folder / "int02.txt").write_text(f"But Ma{ZW}i came.\n")
    assert len(audit_output(folder, key, use_ner=False, fresh=False).key_leaks) == 1


@pytest.mark.parametrize("written", list(TRICKS.values()), ids=list(TRICKS))
def test_annex_guard_refuses_a_disguised_original(written):
    from qualkit.annex.guard import KeyIdentifier, LeakGuard, _tokens

    guard = LeakGuard(
        [KeyIdentifier(_tokens("Nguyễn Thị Mai"), "PERSON", 2), KeyIdentifier(_tokens("Mai"), "PERSON", 3)]
    )
    hits = guard.find(f"In the quote {written} said no.")
    assert [h[2] for h in hits] == [("PERSON", 3)], ascii(written)
    assert guard.find(f"Ng{ZW}uyễn Th\u0456 Ma{ZW}i")[0][2] == ("PERSON", 2)


def test_annex_guard_reads_junk_key_entries_as_the_names_they_are(tmp_path):
    from qualkit.annex.guard import LeakGuard, read_key_identifiers

    key = tmp_path / "key.csv"
    key.write_text(f"original,label,replacement\nMa{ZW}i,PERSON,Hoa\nTr\u00adần Văn An,PERSON,Lê Văn Bình\n")
    guard = LeakGuard(read_key_identifiers(key))
    assert guard.find("Ng said uyen; Tr and Ma are syllables.") == []
    assert len(guard.find("Mai and Trần Văn An")) == 2


# --- 2. a name found once goes everywhere it is used as a name ---------------------------------


def test_a_name_is_replaced_at_line_and_sentence_starts_in_capitals_and_possessive(tmp_path):
    out, _key, _res = _redact(
        tmp_path,
        {
            "int01.txt": "Note: Minh is a 15 year old girl. Minh was sold to a karaoke bar.\n",
            "int02.txt": "Minh cried.\nMINH left. Minh's mother came; later minh's friend too.\n",
        },
    )
    for name, text in out.items():
        assert "minh" not in _letters(text), (name, text)


def test_a_title_before_a_name_that_is_also_a_word(tmp_path):
    out, _key, _res = _redact(
        tmp_path,
        {
            "int01.txt": "Respondent: I talked to Mr Sang and Ms My yesterday. Hôm qua chị My đến. Dr Will came.\n",
            "int02.txt": "Respondent: Later I saw Sang again, and My said no. My mother cried. SANG left.\n",
        },
    )
    assert out["int01.txt"] == (
        "Respondent: I talked to Mr [PERSON 1] and Ms [PERSON 2] yesterday. Hôm qua chị [PERSON 2] đến. "
        "Dr [PERSON 3] came.\n"
    )
    # used as names inside a sentence and in capitals; "My mother" at a sentence start is the word
    assert out["int02.txt"] == (
        "Respondent: Later I saw [PERSON 1] again, and [PERSON 2] said no. My mother cried. [PERSON 1] left.\n"
    )


def test_lower_case_names_where_they_are_used_as_names(tmp_path):
    out, _key, res = _redact(
        tmp_path,
        {
            "int01.txt": "Respondent: Nguyễn Thị Mai came with Duyên.\n",
            "int02.txt": "Respondent: Later mai's sister came, and chị mai cried.\n",
            "int03.txt": "ok so duyen and mai went to the market\n",
            "int04.txt": "Respondent: Ngày mai tôi đi. My friend went too.\n",
        },
    )
    assert "mai" not in _letters(out["int02.txt"])
    assert out["int03.txt"] == "ok so [PERSON 2] and [PERSON 3] went to the market\n"
    # "mai" (tomorrow) in ordinary text stays, and the review report lists it for a human
    assert out["int04.txt"] == "Respondent: Ngày mai tôi đi. My friend went too.\n"
    report = (tmp_path / "private" / "review.html").read_text(encoding="utf-8")
    assert report.count('<mark class="LEFT" title=') == 1 and ">mai</mark>" in report
    assert "1 occurrence(s) of words that are names or places elsewhere" in report


def test_the_given_name_of_a_full_name_is_found_alone_even_if_it_is_a_word(tmp_path):
    out, key, _res = _redact(
        tmp_path,
        {"int01.txt": "Respondent: Nguyễn Văn Sang came. Later Sang left with anh Sang.\n"},
    )
    assert "sang" not in _letters(out["int01.txt"]), out["int01.txt"]
    # and the audit finds it alone, as redaction would
    folder = tmp_path / "out"
    (folder / "int02.txt").write_text("Then I met Sang again.\n", encoding="utf-8")
    assert len(audit_output(folder, key, use_ner=False, fresh=False).key_leaks) == 1


def test_lower_case_names_in_a_turn_typed_without_capitals_after_a_speaker_label(tmp_path):
    out, _key, _res = _redact(
        tmp_path,
        {"int01.txt": "Respondent: Duyên came.\n", "int02.txt": "R: ok so duyen went to the market\nR: bông hoa\n"},
    )
    assert out["int02.txt"] == "R: ok so [PERSON 1] went to the market\nR: bông hoa\n"


def test_names_that_are_vietnamese_words_stay_words_where_they_are_words(tmp_path):
    """Precision: kinship terms are also pronouns, and Vietnamese typed without capitals is
    full of syllables that are names elsewhere."""
    out, _key, _res = _redact(
        tmp_path,
        {
            "int01.txt": "Respondent: Chị Mai, anh An, cô Hoa and em Học came. Minh too.\n",
            "int02.txt": "Respondent: Em học lớp 9. Chị an cơm chưa? Mai em đi.\n",
            "int03.txt": "R: ngay mai minh di cho voi chi hoa\n",
        },
    )
    assert "mai" not in _letters(out["int01.txt"]) and "hoc" not in _letters(out["int01.txt"])
    assert out["int02.txt"] == "Respondent: Em học lớp 9. Chị an cơm chưa? [PERSON 1] em đi.\n"
    assert out["int03.txt"] == "R: ngay mai minh di cho voi chi hoa\n"


def test_a_name_that_is_an_english_word_is_left_as_the_word(tmp_path):
    out, _key, _res = _redact(
        tmp_path,
        {
            "int01.txt": "Respondent: Nguyễn Văn Sơn and Lê Văn Long came.\n",
            "int02.txt": "Mother: call my son's number. It was a long day. Long ago, I sang.\n",
        },
    )
    assert out["int02.txt"] == "Mother: call my son's number. It was a long day. Long ago, I sang.\n"
