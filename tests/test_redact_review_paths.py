"""Data-safety review: a participant's name in a transcript's file name is kept in the output and the log."""

from __future__ import annotations

from pathlib import Path

from qualkit.redact import RedactOptions, redact_corpus
from qualkit.redact.audit import audit_output


def _corpus(tmp_path: Path) -> tuple[Path, Path, Path]:
    src = tmp_path / "transcripts"
    src.mkdir()
    (src / "Interview_Nguyen_Thi_Mai.txt").write_text("R: My name is Nguyễn Thị Mai.\n", encoding="utf-8")
    (src / "P02.txt").write_text("R: I know Nguyễn Thị Mai.\n", encoding="utf-8")
    names = tmp_path / "private" / "names.txt"
    names.parent.mkdir()
    names.write_text("Nguyễn Thị Mai\n", encoding="utf-8")
    return src, names, tmp_path / "private" / "key.csv"


def test_redact_warns_about_a_name_in_a_file_name_without_naming_it(tmp_path):
    src, names, key = _corpus(tmp_path)
    res = redact_corpus([src], tmp_path / "out", key, RedactOptions(use_ner=False, names_file=names))
    assert res.ok
    named = [w for w in res.warnings if "file or folder name" in w]
    assert len(named) == 1 and named[0].startswith("1 ")
    assert "Mai" not in named[0] and "Nguyen" not in named[0]


def test_audit_flags_a_name_in_a_file_name_masked_by_its_tag(cli, tmp_path):
    src, names, key = _corpus(tmp_path)
    out = tmp_path / "out"
    redact_corpus([src], out, key, RedactOptions(use_ner=False, names_file=names))
    res = audit_output(out, key, use_ner=False)
    assert [(x.document, x.detector) for x in res.leaks] == [("Interview_[PERSON 1].txt", "file name")]
    r = cli("audit", out, "--key", key, "--key-only")
    assert r.exit_code == 1 and "LEAK Interview_[PERSON 1].txt:" in r.stdout
    assert "Mai" not in r.stdout and "Nguyen" not in r.stdout
    # renamed: clean
    (out / "Interview_Nguyen_Thi_Mai.txt").rename(out / "P01.txt")
    assert audit_output(out, key, use_ner=False).ok


def test_key_only_audit_finds_the_given_name_of_a_keyed_full_name(tmp_path):
    from qualkit.redact.audit import KeyMatcher

    src, names, key = _corpus(tmp_path)
    (src / "Interview_Nguyen_Thi_Mai.txt").unlink()
    names.write_text("Trần Thị Hoa\n", encoding="utf-8")
    (src / "P02.txt").write_text("R: I know Trần Thị Hoa.\n", encoding="utf-8")
    out = tmp_path / "out"
    redact_corpus([src], out, key, RedactOptions(use_ner=False, names_file=names))
    assert audit_output(out, key, use_ner=False, fresh=False).ok
    with (out / "P02.txt").open("a", encoding="utf-8") as fh:
        fh.write("R: Later Hoa came back.\n")
    res = audit_output(out, key, use_ner=False, fresh=False)
    assert [(x.document, x.label, x.kind) for x in res.leaks] == [("P02.txt", "PERSON", "key")]
    # as redaction propagates it: capitalised only ("hoa" is also a Vietnamese word)
    assert KeyMatcher(key).find("bông hoa") == []
