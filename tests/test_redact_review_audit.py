"""Data-safety review: the leak audit reads every text of a .docx, not only the body paragraphs."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_redact_review import _opts
from test_redact_review import _setup as _setup_with

from qualkit.redact import redact_corpus


def _setup(tmp_path: Path):
    return _setup_with(tmp_path, text=None)


def _docx_with_parts(path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = "Interview"
    d.sections[0].header.paragraphs[0].text = "Interview with Nguyễn Thị Mai"
    d.sections[0].footer.paragraphs[0].text = "Bản Phùng, 2025"
    d.add_paragraph("Mai: I grew up in Bản Phùng.")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text = "Respondent"
    t.cell(0, 1).text = "Nguyễn Thị Mai"
    d.save(str(path))


def _rezip_replacing(path: Path, part: str, old: str, new: str) -> None:
    import zipfile

    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            if info.filename == part:
                text = data.decode("utf-8")
                assert old in text
                data = text.replace(old, new, 1).encode("utf-8")
            z.writestr(info, data)


@pytest.mark.parametrize("part", ["word/header1.xml", "word/footer1.xml", "word/document.xml"])
def test_audit_finds_an_original_left_in_a_docx_header_footer_or_table(cli, tmp_path, part):
    from qualkit.redact.audit import audit_output
    from qualkit.redact.key import RedactionKey

    src, names, key = _setup(tmp_path)
    _docx_with_parts(src / "int02.docx")
    out = tmp_path / "out"
    res = redact_corpus([src], out, key, _opts(names))
    assert res.ok and res.written
    clean = audit_output(out, key, use_ner=False)
    assert clean.ok, [x.line for x in clean.leaks]
    k = RedactionKey(key)
    original, pseudo = (
        ("Bản Phùng", "[PLACE 1]")
        if part == "word/footer1.xml"
        else ("Nguyễn Thị Mai", k.get("nguyen thi mai").pseudonym)
    )
    if part == "word/document.xml":  # the table cell, not the body paragraph
        import zipfile

        xml = zipfile.ZipFile(out / "int02.docx").read(part).decode("utf-8")
        assert xml.count(pseudo) == 1  # only in the table: the body says "Mai" and "Bản Phùng"
    _rezip_replacing(out / "int02.docx", part, pseudo, original)
    found = audit_output(out, key, use_ner=False, fresh=False)
    assert [(x.document, x.kind) for x in found.leaks] == [(f"int02.docx#{part}", "key")]
    r = cli("audit", out, "--key", key, "--key-only")
    assert r.exit_code == 1 and f"LEAK int02.docx#{part}:" in r.stdout
    assert "Mai" not in r.stdout and "Phùng" not in r.stdout


def test_rerun_writes_a_byte_identical_docx(tmp_path):
    import zipfile

    src, names, key = _setup(tmp_path)
    _docx_with_parts(src / "int02.docx")
    redact_corpus([src], tmp_path / "out1", key, _opts(names))
    redact_corpus([src], tmp_path / "out2", key, _opts(names))
    first = (tmp_path / "out1" / "int02.docx").read_bytes()
    assert (tmp_path / "out2" / "int02.docx").read_bytes() == first
    # the zip entries carry a fixed date, not the time of the run, so a later run gives the same bytes
    with zipfile.ZipFile(tmp_path / "out1" / "int02.docx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
