"""Data-safety review of redact/audit: inputs and user lists are never overwritten, audit sees all of a .docx."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualkit.errors import QualkitError
from qualkit.redact import RedactOptions, redact_corpus

TEXT = "Interviewer: Hello.\nMai: My name is Nguyễn Thị Mai, from Bản Phùng.\n"


def _setup(tmp_path: Path, text: str | None = TEXT) -> tuple[Path, Path, Path]:
    """A transcripts folder (with int01.txt holding *text*, unless None), a names list, a key path."""
    src = tmp_path / "transcripts"
    src.mkdir()
    if text is not None:
        (src / "int01.txt").write_text(text, encoding="utf-8")
    names = tmp_path / "private" / "names.txt"
    names.parent.mkdir()
    names.write_text("Nguyễn Thị Mai\nPLACE: Bản Phùng\n", encoding="utf-8")
    return src, names, tmp_path / "private" / "key.csv"


def _opts(names: Path) -> RedactOptions:
    return RedactOptions(use_ner=False, names_file=names)


@pytest.mark.parametrize("inputs_as", ["folder", "file"])
def test_review_report_never_overwrites_an_input(tmp_path, inputs_as):
    src, names, key = _setup(tmp_path)
    victim = src / "int01.txt"
    inputs = [src] if inputs_as == "folder" else [victim]
    with pytest.raises(QualkitError):
        redact_corpus(inputs, tmp_path / "out", key, _opts(names), report_path=victim)
    assert victim.read_text(encoding="utf-8") == TEXT
    assert not (tmp_path / "out").exists() and not key.exists()


def test_key_that_is_an_input_file_is_refused_before_reading(tmp_path):
    src, names, _key = _setup(tmp_path)
    victim = src / "int01.txt"
    with pytest.raises(QualkitError, match="overwrite an input transcript"):
        redact_corpus([victim], tmp_path / "out", victim, _opts(names))
    assert victim.read_text(encoding="utf-8") == TEXT


@pytest.mark.parametrize("which", ["names", "keep"])
def test_review_report_or_key_never_overwrites_the_study_lists(tmp_path, which):
    src, names, key = _setup(tmp_path)
    keep = tmp_path / "private" / "keep.txt"
    keep.write_text("Interviewer\n", encoding="utf-8")
    victim = names if which == "names" else keep
    before = victim.read_bytes()
    opts = RedactOptions(use_ner=False, names_file=names, keep_file=keep)
    with pytest.raises(QualkitError):
        redact_corpus([src], tmp_path / "out", key, opts, report_path=victim)
    with pytest.raises(QualkitError):
        redact_corpus([src], tmp_path / "out", victim, opts)
    assert victim.read_bytes() == before


def test_cli_report_on_an_input_is_a_one_line_error(cli, tmp_path):
    src, names, key = _setup(tmp_path)
    r = cli("redact", src, "-o", tmp_path / "out", "--key", key, "--names", names, "--report", src / "int01.txt")
    assert r.exit_code != 0
    assert "Traceback" not in r.stderr and "review report" in r.stderr
    assert (src / "int01.txt").read_text(encoding="utf-8") == TEXT


def test_review_report_inside_the_input_folder_or_on_the_key_is_refused(tmp_path):
    src, names, key = _setup(tmp_path)
    with pytest.raises(QualkitError, match="inside the input folder"):
        redact_corpus([src], tmp_path / "out", key, _opts(names), report_path=src / "review.html")
    assert sorted(p.name for p in src.iterdir()) == ["int01.txt"]
    with pytest.raises(QualkitError, match="overwrite the pseudonym key"):
        redact_corpus([src], tmp_path / "out", key, _opts(names), report_path=key)


def test_aliases_on_one_names_list_line_are_each_redacted(tmp_path):
    from qualkit.redact.engine import split_aliases

    assert split_aliases('Lê Thị Hồng (alias "Bé")') == ["Lê Thị Hồng", "Bé"]
    assert split_aliases("Hùng Còi; Hùng Gầy | Ròm") == ["Hùng Còi", "Hùng Gầy", "Ròm"]
    assert split_aliases("(028) 3823 4567") == ["(028) 3823 4567"]  # a phone's parentheses are not an alias
    assert split_aliases("Nick Vu") == ["Nick Vu"]

    src = tmp_path / "transcripts"
    src.mkdir()
    text = (
        "Interviewer: Who brought you?\n"
        "R: Lê Thị Hồng. Everyone calls her Bé. Ròm drove the motorbike, Hùng Gầy paid him.\n"
    )
    (src / "int01.txt").write_text(text, encoding="utf-8")
    names = tmp_path / "private" / "names.txt"
    names.parent.mkdir()
    names.write_text('Lê Thị Hồng (alias "Bé")\nHùng Còi; Hùng Gầy | Ròm\n', encoding="utf-8")
    redact_corpus([src], tmp_path / "out", tmp_path / "private" / "key.csv", _opts(names))
    out = (tmp_path / "out" / "int01.txt").read_text(encoding="utf-8")
    for original in ("Hồng", "Bé", "Ròm", "Gầy", "alias"):
        assert original not in out, original
    assert "Everyone calls her" in out and "drove the motorbike" in out


def test_a_later_run_replaces_the_lone_surname_of_a_full_name_in_the_key(tmp_path):
    # run 1 puts "Kevin Osterhagen" in the key; run 2 (no names list, no model) meets "Osterhagen" alone
    first = tmp_path / "first"
    first.mkdir()
    (first / "a.txt").write_text("R: I met Kevin Osterhagen at the port.\n", encoding="utf-8")
    names = tmp_path / "private" / "names.txt"
    names.parent.mkdir()
    names.write_text("Kevin Osterhagen\n", encoding="utf-8")
    key = tmp_path / "private" / "key.csv"
    redact_corpus([first], tmp_path / "out1", key, _opts(names))
    later = tmp_path / "later"
    later.mkdir()
    (later / "b.txt").write_text("R: Osterhagen paid the owner.\n", encoding="utf-8")
    redact_corpus([later], tmp_path / "out2", key, RedactOptions(use_ner=False))
    out = (tmp_path / "out2" / "b.txt").read_text(encoding="utf-8")
    assert "Osterhagen" not in out and "paid the owner" in out
