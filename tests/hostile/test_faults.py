"""Hostile input and faults (issue #11, items 13-19): damaged and malicious Word files, outputs
that would not read back, full disks and read-only folders, killed runs, catastrophic regexes,
huge documents, loose permissions. Every damaged file is generated here, from a small docx."""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from qualkit.errors import InputError, QualkitError
from qualkit.redact import RedactOptions, redact_corpus

GOOD_TEXT = "Interviewer: Where do you live?\nRespondent: My friend Nguyễn Thị Mai lives in Hà Nội.\n"


# --- damaged Word files, generated ---------------------------------------------------------------


@pytest.fixture(scope="session")
def docx_bytes() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("Interviewer: Hello Mai.")
    d.add_paragraph("Respondent: I live in Hà Nội with Nguyễn Thị Mai.")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _replace_part(data: bytes, name: str, new: bytes) -> bytes:
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            z.writestr(info.filename, new if info.filename == name else zin.read(info))
        if name not in zin.namelist():
            z.writestr(name, new)
    return out.getvalue()


def _data_offset(data: bytes, info: zipfile.ZipInfo) -> int:
    n, m = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    return info.header_offset + 30 + n + m


def corrupt_deflate(data: bytes, name: str = "word/document.xml") -> bytes:
    """The part's deflate data overwritten; the zip directory left intact."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    start = _data_offset(data, info)
    raw = bytearray(data)
    raw[start + 2 : start + info.compress_size - 2] = b"\xff" * (info.compress_size - 4)
    return bytes(raw)


_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8))
    + "]>"
)


def billion_laughs(data: bytes, name: str) -> bytes:
    xml = zipfile.ZipFile(io.BytesIO(data)).read(name).decode("utf-8")
    head, sep, rest = xml.partition("?>") if "?>" in xml else ("", "", xml)
    if "Hello Mai." in rest:
        rest = rest.replace("Hello Mai.", "Hello &i;")
    elif "</cp:coreProperties>" in rest:
        rest = rest.replace("</cp:coreProperties>", "<dc:title>&i;</dc:title></cp:coreProperties>")
    return _replace_part(data, name, (head + sep + "\n" + _LAUGHS + rest.lstrip()).encode("utf-8"))


def xxe(data: bytes) -> bytes:
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    head, sep, rest = xml.partition("?>")
    dtd = '<!DOCTYPE w:document [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    return _replace_part(data, "word/document.xml", (head + sep + dtd + rest.replace("Hello Mai.", "Hi &x;")).encode())


def absurd_size(data: bytes, name: str = "word/document.xml", size: int = 600 << 20) -> bytes:
    """The zip directory (central and local headers) says the part expands to *size* bytes."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    raw = bytearray(data)
    raw[info.header_offset + 22 : info.header_offset + 26] = struct.pack("<I", size)
    central = raw.find(b"PK\x01\x02")
    while central >= 0:
        n = struct.unpack("<H", raw[central + 28 : central + 30])[0]
        if bytes(raw[central + 46 : central + 46 + n]) == name.encode():
            raw[central + 24 : central + 28] = struct.pack("<I", size)
            break
        central = raw.find(b"PK\x01\x02", central + 4)
    return bytes(raw)


def zip_bomb(data: bytes) -> bytes:
    """A real bomb: a part of 64 MB of one repeated byte (about 64 KB compressed)."""
    out = io.BytesIO()
    zin = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            z.writestr(info.filename, zin.read(info))
        z.writestr("word/media/bomb.bin", b"\0" * (64 << 20))
    return out.getvalue()


DAMAGED = {
    "corrupt-deflate": corrupt_deflate,
    "corrupt-deflate-core": lambda d: corrupt_deflate(d, "docProps/core.xml"),
    "laughs-document": lambda d: billion_laughs(d, "word/document.xml"),
    "laughs-core": lambda d: billion_laughs(d, "docProps/core.xml"),
    "xxe": xxe,
    "absurd-size": absurd_size,
}


def _study(tmp_path: Path, docx_bytes: bytes, kind: str) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a_good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (src / "b_bad.docx").write_bytes(DAMAGED[kind](docx_bytes))
    (src / "c_good.docx").write_bytes(docx_bytes)
    return src


def _flat(output: str) -> str:
    """CLI output with Rich's line wrapping undone."""
    return " ".join(output.split())


def _opts(**kw) -> RedactOptions:
    return RedactOptions(use_ner=False, **kw)


@pytest.mark.parametrize("kind", sorted(DAMAGED))
def test_damaged_docx_is_one_error_and_the_batch_goes_on(tmp_path, docx_bytes, kind):
    src = _study(tmp_path, docx_bytes, kind)
    res = redact_corpus([src], tmp_path / "out", tmp_path / "private" / "key.csv", _opts())
    assert [Path(e.file).name for e in res.errors] == ["b_bad.docx"]
    assert all(isinstance(e, InputError) for e in res.errors)
    assert sorted(res.documents) == ["a_good.txt", "c_good.docx"]
    assert (tmp_path / "out" / "c_good.docx").is_file()
    assert not (tmp_path / "out" / "b_bad.docx").exists()
    assert "Mai" not in (tmp_path / "out" / "a_good.txt").read_text(encoding="utf-8")


def test_absurd_size_is_refused_before_inflating(tmp_path, docx_bytes, monkeypatch):
    from qualkit.readers import read_document

    path = tmp_path / "bomb.docx"
    path.write_bytes(absurd_size(docx_bytes))
    opened: list[str] = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(
        zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(str(name)) or real_open(self, name, *a, **k)
    )
    with pytest.raises(InputError, match=r"word/document.xml .* expand to 600 MB"):
        read_document(path)
    assert opened == []  # refused from the zip directory alone


def test_real_zip_bomb_is_refused(tmp_path, docx_bytes):
    from qualkit.readers import read_document

    path = tmp_path / "bomb.docx"
    path.write_bytes(zip_bomb(docx_bytes))
    assert path.stat().st_size < 2 << 20
    with pytest.raises(InputError, match="zip bomb"):
        read_document(path)


def test_cli_redact_names_the_failed_file_and_exits_1(tmp_path, docx_bytes, cli):
    src = _study(tmp_path, docx_bytes, "corrupt-deflate")
    r = cli("redact", src, "-o", tmp_path / "out", "--key", tmp_path / "private" / "key.csv")
    assert r.exit_code == 1
    lines = [ln for ln in r.output.splitlines() if "b_bad.docx" in ln]
    assert any(ln.startswith("Error:") and "damaged" in ln for ln in lines), r.output
    assert any("1 file(s) could not be redacted" in ln for ln in lines), r.output
    assert "Traceback" not in r.output
    assert (tmp_path / "out" / "a_good.txt").is_file()


def test_audit_reports_a_damaged_docx_and_goes_on(tmp_path, docx_bytes):
    from qualkit.redact.audit import audit_output

    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("Respondent: nothing here.\n", encoding="utf-8")
    (out / "b.docx").write_bytes(billion_laughs(docx_bytes, "docProps/core.xml"))
    (out / "c.docx").write_bytes(corrupt_deflate(docx_bytes, "docProps/core.xml"))
    key = tmp_path / "key.csv"
    key.write_text("original,label,replacement,first_document\nMai,PERSON,[PERSON 1],a\n", encoding="utf-8")
    res = audit_output(out, key, fresh=False)
    assert sorted(Path(e.file).name for e in res.errors) == ["b.docx", "c.docx"]
    assert res.documents == 1


def test_audit_does_not_skip_an_unparsable_part(tmp_path, docx_bytes):
    """A part the audit cannot parse was skipped silently: a leak there went unseen."""
    from qualkit.readers.docx import docx_other_texts

    bad = _replace_part(docx_bytes, "word/footer9.xml", b"<ftr><p>Nguyen Thi Mai</ftr>")
    path = tmp_path / "b.docx"
    path.write_bytes(bad)
    with pytest.raises(InputError, match="footer9.xml"):
        docx_other_texts(path)


# --- never write an output that cannot be read back -------------------------------------------------


def test_xxe_input_never_gives_an_unreadable_output(tmp_path, docx_bytes):
    src = tmp_path / "in"
    src.mkdir()
    (src / "x.docx").write_bytes(xxe(docx_bytes))
    res = redact_corpus([src], tmp_path / "out", tmp_path / "p" / "key.csv", _opts())
    assert [Path(e.file).name for e in res.errors] == ["x.docx"]
    assert not (tmp_path / "out" / "x.docx").exists()


def test_a_docx_that_does_not_read_back_is_not_put_in_place(tmp_path, docx_bytes, monkeypatch):
    import qualkit.writers.docx as wd

    src = tmp_path / "in"
    src.mkdir()
    (src / "d.docx").write_bytes(docx_bytes)
    out = tmp_path / "out"
    out.mkdir()
    (out / "d.docx").write_bytes(b"previous")
    real = wd._serialize
    # a serializer that writes an entity reference without its DTD (what the XXE input produced)
    monkeypatch.setattr(wd, "_serialize", lambda root: real(root).replace(b"</", b"&x;</", 1))
    monkeypatch.setattr(wd, "_clean_part", lambda name, root, redact_text: True)
    res = redact_corpus([src], out, tmp_path / "p" / "key.csv", _opts())
    assert res.documents == [] and len(res.errors) == 1
    assert "does not read back" in res.errors[0].message
    assert (out / "d.docx").read_bytes() == b"previous"
    assert _temps(tmp_path) == []


def test_a_text_output_that_does_not_decode_is_not_put_in_place(tmp_path, monkeypatch):
    import qualkit.writers.text as wt

    src = tmp_path / "in"
    src.mkdir()
    (src / "t.txt").write_text(GOOD_TEXT, encoding="utf-8")
    monkeypatch.setattr(wt, "encode_segments", lambda *a, **k: b"Respondent: \xff\xfe broken\n")
    res = redact_corpus([src], tmp_path / "out", tmp_path / "p" / "key.csv", _opts())
    assert len(res.errors) == 1 and "does not read back" in res.errors[0].message
    assert not (tmp_path / "out" / "t.txt").exists()


@pytest.mark.parametrize("name", ["segments.xlsx", "annex.docx", "project.qdpx"])
def test_atomic_open_reads_back_zip_packages(tmp_path, name):
    from qualkit.fsutil import ReadBackError, atomic_open

    target = tmp_path / name
    target.write_bytes(b"old")
    with pytest.raises(ReadBackError, match="does not read back"):
        with atomic_open(target, "wb") as fh:
            with zipfile.ZipFile(fh, "w") as z:
                z.writestr("xl/workbook.xml", "<workbook>&nbsp;</workbook>")
    assert target.read_bytes() == b"old"
    assert _temps(tmp_path) == []


# --- full disks, read-only folders, killed runs ----------------------------------------------------------


def _temps(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.tmp"))


def _fd_name(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def redacted_once(tmp_path):
    """A study redacted once: inputs, output, private key; then a new transcript is added."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(GOOD_TEXT, encoding="utf-8")
    out, key = tmp_path / "out", tmp_path / "private" / "key.csv"
    res = redact_corpus([src], out, key, _opts(), report_path=tmp_path / "private" / "review.html")
    assert res.ok
    (src / "b.txt").write_text("Respondent: Trần Văn Hùng called me from Đà Nẵng.\n", encoding="utf-8")
    return src, out, key


def _full_disk_for(monkeypatch, pattern: str) -> None:
    """os.fsync raises ENOSPC for files whose name matches *pattern* (a full disk at flush)."""
    real = os.fsync

    def fsync(fd):
        if re.search(pattern, _fd_name(fd)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("victim", [r"key\.csv", r"b\.txt", r"redaction-log", r"review\.html"])
def test_full_disk_leaves_the_previous_state_and_no_temp_files(tmp_path, redacted_once, monkeypatch, victim):
    src, out, key = redacted_once
    before = _snapshot(tmp_path)
    _full_disk_for(monkeypatch, victim)
    with pytest.raises(QualkitError) as info:
        redact_corpus([src], out, key, _opts(), report_path=tmp_path / "private" / "review.html")
    assert "No space left on device" in info.value.message
    assert re.search(victim, info.value.file or ""), info.value.message
    assert _snapshot(tmp_path) == before  # the key, the outputs, the log and the report as they were
    assert _temps(tmp_path) == []


def test_key_is_written_before_any_output_that_uses_it(tmp_path, redacted_once, monkeypatch):
    src, out, key = redacted_once
    order: list[str] = []
    real = os.replace

    def replace(a, b, *args, **kw):
        order.append(Path(b).name)
        return real(a, b, *args, **kw)

    monkeypatch.setattr(os, "replace", replace)
    redact_corpus([src], out, key, _opts())
    assert order and order[0] == "key.csv", order
    assert {"a.txt", "b.txt", "redaction-log.csv"} <= set(order)


def test_cli_full_disk_is_one_line(tmp_path, redacted_once, monkeypatch, cli):
    src, out, key = redacted_once
    _full_disk_for(monkeypatch, r"key\.csv")
    r = cli("redact", src, "-o", out, "--key", key, "--no-report")
    assert r.exit_code == 1
    errors = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "No space left on device" in errors[0] and "key.csv" in errors[0], r.output
    assert "Traceback" not in r.output


def test_read_only_output_folder(tmp_path, redacted_once, monkeypatch):
    """chmod does not stop root, so the folder refuses new files the way a read-only mount does."""
    import tempfile

    src, out, key = redacted_once
    before = _snapshot(tmp_path)
    real = tempfile.mkstemp

    def mkstemp(*a, dir=None, **k):
        if dir is not None and Path(dir).resolve() == out.resolve():
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
        return real(*a, dir=dir, **k)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    with pytest.raises(QualkitError, match="Read-only file system"):
        redact_corpus([src], out, key, _opts())
    assert _snapshot(tmp_path) == before
    assert _temps(tmp_path) == []


def test_temp_files_of_a_killed_run_are_removed(tmp_path, redacted_once):
    src, out, key = redacted_once
    left = [
        out / ".redaction-log.csv.k1ll3d_x.tmp",
        out / "sub" / ".a.txt.abcdefgh.tmp",
        key.parent / ".key.csv.zz_9yy8x.tmp",
        key.parent / ".review-body.q1w2e3r4.tmp",
    ]
    for p in left:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("Nguyễn Thị Mai", encoding="utf-8")
    keep = out / "notes.tmp"  # not a name qualkit makes
    keep.write_text("mine", encoding="utf-8")
    res = redact_corpus([src], out, key, _opts(), report_path=key.parent / "review.html")
    assert not any(p.exists() for p in left)
    assert keep.read_text(encoding="utf-8") == "mine"
    assert res.stale_temps == len(left)


# --- messages that tell what was written -------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"   \n", b"\x00\x01\x02\xff\xfe\x00binary" * 20])
def test_nothing_written_means_nothing_written(tmp_path, cli, content):
    src = tmp_path / "in"
    src.mkdir()
    (src / "x.txt").write_bytes(content)
    out, key = tmp_path / "out", tmp_path / "private" / "key.csv"
    r = cli("redact", src, "-o", out, "--key", key)
    assert r.exit_code == 1
    assert "no output, key or report was written" in r.output
    assert not key.exists()
    assert not (key.parent / "redaction-review.html").exists()
    assert not (out / "redaction-log.csv").exists()


def test_a_run_where_every_file_fails_keeps_the_previous_log_and_report(tmp_path, redacted_once):
    src, out, key = redacted_once
    log, report = out / "redaction-log.csv", tmp_path / "private" / "review.html"
    before = (log.read_bytes(), report.read_bytes(), key.read_bytes())
    for f in src.iterdir():
        f.write_bytes(b"")
    res = redact_corpus([src], out, key, _opts(), report_path=report)
    assert not res.documents and len(res.errors) == 2
    assert (log.read_bytes(), report.read_bytes(), key.read_bytes()) == before


def test_run_goes_on_past_a_damaged_docx_in_every_stage(tmp_path, docx_bytes, cli):
    from qualkit.project import init_project

    root = tmp_path / "study"
    init_project(root)
    (root / "transcripts" / "a.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (root / "transcripts" / "b.docx").write_bytes(corrupt_deflate(docx_bytes))
    r = cli("run", root, "--stage", "redact", "--stage", "code")
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    assert re.search(r"1 file\(s\) could not be processed: \S*b\.docx", _flat(r.output)), r.output
    assert (root / "output" / "transcripts" / "T001.txt").is_file()  # a.txt (new studies rename: redact.rename)
    segments = (root / "output" / "segments.csv").read_text(encoding="utf-8")
    # a redacted copy damaged later: the code stage says so and codes the rest
    (root / "output" / "transcripts" / "c.docx").write_bytes(billion_laughs(docx_bytes, "docProps/core.xml"))
    r = cli("run", root, "--stage", "code")
    assert r.exit_code == 1
    assert re.search(r"Warning: part docProps/core.xml.*c\.docx", _flat(r.output)), r.output
    assert (root / "output" / "segments.csv").read_text(encoding="utf-8") == segments


def test_cli_code_goes_on_past_a_damaged_docx(tmp_path, docx_bytes, cli):
    src = tmp_path / "red"
    src.mkdir()
    (src / "a.txt").write_text("Respondent: my family was very poor, we had debts.\n", encoding="utf-8")
    (src / "b.docx").write_bytes(xxe(docx_bytes))
    out = tmp_path / "seg" / "segments.csv"
    from qualkit.project import shipped_codebooks

    r = cli("code", src, "--codebook", shipped_codebooks()["csec-study"], "-o", out, "--no-xlsx")
    assert r.exit_code == 1, r.output
    assert re.search(r"Error: part word/document.xml.*b\.docx", _flat(r.output)), r.output
    assert "1 file(s) could not be coded" in r.output
    assert out.is_file() and "a," in out.read_text(encoding="utf-8")


# --- catastrophic regular expressions in codebook rules ------------------------------------------------


def _regex_codebook(tmp_path: Path, pattern: str) -> Path:
    path = tmp_path / "cb.yaml"
    path.write_text(
        "codebook: t\ntitle: test\nthemes:\n  - id: th\n    label: Theme\n    codes:\n"
        f"      - id: c\n        label: C\n        rules:\n          regex: '{pattern}'\n",
        encoding="utf-8",
    )
    return path


def test_validation_names_a_regex_that_backtracks_catastrophically(tmp_path):
    from qualkit.coding.codebook import load_codebook
    from qualkit.errors import CodebookError

    path = _regex_codebook(tmp_path, "(a|aa)+$")
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    assert info.value.line == 10 and "catastrophic backtracking" in info.value.what
    assert f"{path}:10" in info.value.message


def test_nested_quantifier_of_the_issue_codes_an_80_character_line(tmp_path, nlp_full):
    """``(a+)+$`` hung ``qualkit code`` for minutes on an 80-character line."""
    import threading

    from qualkit.coding.apply import code_documents
    from qualkit.coding.codebook import load_codebook
    from qualkit.readers import read_document

    cb = load_codebook(_regex_codebook(tmp_path, "(a+)+$"))
    doc = tmp_path / "d.txt"
    doc.write_text("R: " + "a" * 80 + "b\nR: aaaa\n", encoding="utf-8")
    got: list = []
    worker = threading.Thread(target=lambda: got.append(code_documents([read_document(doc)], cb, nlp=nlp_full)))
    worker.daemon = True
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "coding hung on a nested quantifier"
    assert [r.text for r in got[0]] == ["aaaa"]


def test_a_regex_that_slips_past_validation_stops_with_its_rule(tmp_path, nlp_full, monkeypatch):
    from qualkit.coding.apply import code_documents
    from qualkit.coding.codebook import load_codebook
    from qualkit.coding.rules import safe_regex
    from qualkit.errors import CodebookError
    from qualkit.readers import read_document

    monkeypatch.setattr(safe_regex, "backtracks", lambda rx: False)  # as if validation missed it
    monkeypatch.setattr(safe_regex, "BASE_SECONDS", 0.2)
    import qualkit.coding.rules.parse as parse

    monkeypatch.setattr(parse, "backtracks", lambda rx: False)
    path = _regex_codebook(tmp_path, "(x|xx)+y")
    cb = load_codebook(path)
    doc = tmp_path / "d.txt"
    doc.write_text("R: " + "x" * 60 + "\n", encoding="utf-8")
    with pytest.raises(CodebookError) as info:
        code_documents([read_document(doc)], cb, nlp=nlp_full)
    assert info.value.file == str(path) and info.value.line == 10
    assert "code 'th.c'" in info.value.what


# --- long documents ---------------------------------------------------------------------------------------


def _python_docx_reading(path: Path) -> tuple[str, list]:
    """The text and speaker labels the reader gave when it walked python-docx's own objects."""
    import docx

    d = docx.Document(str(path))
    texts, labels = [], []
    for para in d.paragraphs:
        length = 0
        for item in para.iter_inner_content():
            if getattr(item, "runs", None) is not None:
                if item.text:
                    break
                continue
            if not item.text:
                continue
            if item.bold or (item.style is not None and item.style.font.bold):
                length += len(item.text)
                continue
            break
        else:
            length = -1
        label = para.text[: max(length, 0)]
        stripped = label.strip().rstrip(":").strip()
        ok = length > 0 and stripped and length <= 40 and len(stripped.split()) <= 4
        texts.append(para.text)
        labels.append(len(label.rstrip().rstrip(":").rstrip()) if ok else None)
    return "\n".join(texts), labels


def test_fast_docx_reader_reads_what_python_docx_reads(tmp_path, monkeypatch):
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_BREAK
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    from qualkit.readers import read_document

    d = docx.Document()
    strong = d.styles.add_style("Speaker", WD_STYLE_TYPE.CHARACTER)
    strong.font.bold = True
    p = d.add_paragraph()
    p.add_run("Interviewer:").bold = True
    p.add_run(" where\tdo you live?")
    p = d.add_paragraph()
    p.add_run("Mai", style="Speaker")
    p.add_run(": in Hà Nội")
    p.add_run().add_break(WD_BREAK.LINE)
    p.add_run("with my aunt").add_break(WD_BREAK.PAGE)
    p = d.add_paragraph()
    r = p.add_run("Not bold:")
    r.bold = False
    p.add_run(" text")
    p = d.add_paragraph()
    r = p.add_run("Off:")
    b = OxmlElement("w:b")
    b.set(qn("w:val"), "0")
    r._r.get_or_add_rPr().append(b)
    p.add_run(" text")
    d.add_paragraph().add_run("A whole bold heading").bold = True
    p = d.add_paragraph()
    p.add_run("R:").bold = True
    link = OxmlElement("w:hyperlink")
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = " see the site"
    run.append(t)
    link.append(run)
    p._p.append(link)
    d.add_paragraph("")
    path = tmp_path / "shapes.docx"
    d.save(str(path))

    import qualkit.readers.docx as rd

    seen = {}
    real = rd.split_turns
    monkeypatch.setattr(
        rd, "split_turns", lambda text, lines, labels: seen.setdefault("l", labels) and real(text, lines, labels=labels)
    )
    text, labels = _python_docx_reading(path)
    doc = read_document(path)
    assert doc.text == text
    got = [None if lab is None else lab[1] - b.start for lab, b in zip(seen["l"], doc.blocks)]
    assert got == labels and sum(x is not None for x in labels) == 3


# --- private files with loose permissions ----------------------------------------------------------------


def test_run_makes_every_private_file_owner_only_and_says_so_once(tmp_path, cli):
    from qualkit.project import init_project

    root = tmp_path / "study"
    init_project(root)
    (root / "transcripts" / "a.txt").write_text(GOOD_TEXT, encoding="utf-8")
    assert cli("run", root, "--stage", "redact").exit_code == 0
    private = root / "private"
    loose = [p for p in private.rglob("*") if p.is_file()]
    assert len(loose) >= 4  # key, report, run state, names.txt, cache files
    for p in [*loose, *(d for d in private.rglob("*") if d.is_dir()), private]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    r = cli("run", root, "--stage", "redact")
    assert r.exit_code == 0, r.output
    for p in private.rglob("*"):
        assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, p
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    flat = _flat(r.output)
    assert flat.count("readable by other users") == 1, r.output
    assert re.search(r"\d+ private file\(s\) or folder\(s\) were readable by other users", flat)
    r = cli("run", root, "--stage", "redact")
    assert "readable by other users" not in r.output  # said once, when it was true


def test_redact_makes_key_report_and_names_list_owner_only(tmp_path, redacted_once, cli):
    src, out, key = redacted_once
    names = tmp_path / "names.txt"
    names.write_text("Nguyễn Thị Mai\n", encoding="utf-8")
    for p in (key, names):
        p.chmod(0o644)
    r = cli("redact", src, "-o", out, "--key", key, "--names", names)
    assert r.exit_code == 0, r.output
    report = key.parent / "redaction-review.html"
    for p in (key, names, report):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert _flat(r.output).count("readable by other users") == 1


def test_line_progress_prints_every_few_seconds_and_at_the_end():
    from rich.console import Console

    from qualkit.cli.common import LineProgress

    buf = io.StringIO()
    now = [0.0]
    lines = LineProgress(Console(file=buf, width=200), every=5, clock=lambda: now[0])
    for t, done in ((1, 0), (2, 0.25), (6, 0.5), (7, 0.75), (12, 1), (12.5, 1), (13, 2)):
        now[0] = t
        lines("detect", done, 2)
    assert buf.getvalue().splitlines() == [
        "detect: document 1 of 2, 50% done (6 s)",
        "detect: 1 of 2 document(s) done (12 s)",
        "detect: 2 of 2 document(s) done (13 s)",
    ]


def test_cli_redact_shows_progress_lines_when_not_a_terminal(tmp_path, cli, monkeypatch):
    import qualkit.cli.common as common

    monkeypatch.setattr(common, "PROGRESS_SECONDS", 0.0)
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        (src / f"t{i}.txt").write_text(GOOD_TEXT, encoding="utf-8")
    r = cli("redact", src, "-o", tmp_path / "out", "--key", tmp_path / "p" / "key.csv")
    assert r.exit_code == 0, r.output
    assert "detect: 3 of 3 document(s) done" in r.output and "write: 3 of 3 document(s) done" in r.output


def test_a_long_document_is_read_in_segments_with_the_same_result(tmp_path, monkeypatch):
    """Tokens are held one segment at a time (flat memory) and the result does not change."""
    import qualkit.redact.engine as engine
    from qualkit.redact.phrases import TokenView

    rng_lines = [f"Respondent: My friend Nguyễn Thị Mai{i} lives in Hà Nội, phone 0912 345 {i:03d}." for i in range(60)]
    src = tmp_path / "in"
    src.mkdir()
    (src / "long.txt").write_text("\n".join(["Interviewer: Tell me.", *rng_lines]) + "\n", encoding="utf-8")
    whole = redact_corpus([src], tmp_path / "o1", tmp_path / "p1" / "k.csv", _opts(collect_spans=True))
    sizes: list[int] = []
    real = TokenView.__init__

    def init(self, text):
        sizes.append(len(text))
        real(self, text)

    monkeypatch.setattr(TokenView, "__init__", init)
    monkeypatch.setattr(engine, "SEGMENT_CHARS", 500)
    ticks: list[float] = []
    parts = redact_corpus(
        [src],
        tmp_path / "o2",
        tmp_path / "p2" / "k.csv",
        _opts(collect_spans=True),
        on_progress=lambda stage, done, total: ticks.append(done),
    )
    assert parts.spans["long.txt"].spans == whole.spans["long.txt"].spans
    assert (tmp_path / "o2" / "long.txt").read_bytes() == (tmp_path / "o1" / "long.txt").read_bytes()
    assert max(sizes) <= 600  # never the whole text (about 4,700 characters)
    assert any(0 < t < 1 for t in ticks)  # progress inside the one document


@pytest.mark.parametrize("damage", ["deflate", "laughs"])
def test_a_damaged_segments_or_cases_workbook_is_one_line(tmp_path, damage):
    """The same class of failure outside transcripts: a reviewed segments.xlsx or a cases.xlsx."""
    import pandas as pd

    from qualkit.cases import read_cases
    from qualkit.coding.segments import read_segments

    book = tmp_path / "book.xlsx"
    pd.DataFrame({"case": ["a"], "document": ["a"], "code": ["t.c"]}).to_excel(book, index=False)
    data = book.read_bytes()
    part = "xl/worksheets/sheet1.xml"
    book.write_bytes(corrupt_deflate(data, part) if damage == "deflate" else billion_laughs(data, part))
    for reader in (read_segments, read_cases):
        with pytest.raises(InputError, match=f"part {part} of the Excel file"):
            reader(book)


def test_a_damaged_annex_template_is_one_line(tmp_path, docx_bytes):
    from qualkit.annex.word import _open_template

    template = tmp_path / "t.docx"
    template.write_bytes(billion_laughs(docx_bytes, "docProps/core.xml"))
    with pytest.raises(InputError, match="Word template"):
        _open_template(template)
