"""Hostile files and hand-edited private files (issue #11, items 5-12 and the CSV messages of 18).

Every file is generated in the test. Redaction runs without the spaCy NER (rules, lists
and the key only) so the suite stays fast; what is tested is the file handling.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path

import pytest

from qualkit.errors import InputError, SafetyError
from qualkit.redact import RedactionKey, RedactOptions, redact_corpus


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _redact(inputs, out: Path, key: Path, **opts):
    return redact_corpus([Path(p) for p in inputs], out, key, RedactOptions(use_ner=False, **opts), report_path=None)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """transcripts/ with two interviews, private/names.txt; nothing written yet."""
    _write(tmp_path / "transcripts" / "P01.txt", "Interviewer: Who helped you?\nR: My friend Hoa helped me.\n")
    _write(tmp_path / "transcripts" / "P02.txt", "Interviewer: And then?\nR: Then Hoa and Tuan left.\n")
    _write(tmp_path / "private" / "names.txt", "Hoa\nTuan\n")
    return tmp_path


# --------------------------------------------------------------------------- item 11: strict key


def _key_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["original", "label", "replacement", "first_document", "tag", "pseudonym"])
    w.writerows(rows)
    return buf.getvalue()


def _many_rows(n: int) -> list[list[str]]:
    return [[f"Person{i:03d}", "PERSON", f"[PERSON {i}]", "P01.txt", f"[PERSON {i}]", ""] for i in range(1, n + 1)]


def test_stray_quote_in_key_stops_the_run_and_keeps_the_key(study: Path) -> None:
    key = study / "private" / "key.csv"
    text = _key_text(_many_rows(40))
    lines = text.splitlines(keepends=True)
    lines[5] = '"' + lines[5]  # a stray quote at the start of row 5: the CSV reader swallows the rest
    _write(key, "".join(lines))
    before = key.read_bytes()
    with pytest.raises(InputError) as exc:
        _redact([study / "transcripts"], study / "out", key, names_file=study / "private" / "names.txt")
    assert exc.value.line == 6 and exc.value.file == str(key)
    assert "Person" not in exc.value.message  # never the originals in a message
    assert key.read_bytes() == before
    assert not (study / "out").exists()  # nothing written from an incomplete key


@pytest.mark.parametrize(
    "rows, line, words",
    [
        ([["Hoa", "PERSON", "Lan", "P01.txt"]], 2, "cell(s)"),  # 4 cells, header has 6
        (
            [["Hoa", "PERSON", "Lan", "P01.txt", "", ""], ["HOA", "PERSON", "Mai", "P02.txt", "", ""]],
            3,
            "same original",
        ),
        ([["Hoa", "PERSON", "Tuan", "P01.txt", "", ""], ["Tuan", "PERSON", "Binh", "P01.txt", "", ""]], 2, "line 3"),
        ([["Hoa", "PERSON", "hoa", "P01.txt", "", ""]], 2, "its own original"),
        ([["Hoa", "PERSN", "Lan", "P01.txt", "", ""]], 2, "unknown label"),
        ([["", "PERSON", "Lan", "P01.txt", "", ""]], 2, "without an original"),
    ],
)
def test_key_rows_are_validated_with_file_and_line(tmp_path: Path, rows, line: int, words: str) -> None:
    key = _write(tmp_path / "key.csv", _key_text(rows))
    with pytest.raises(InputError) as exc:
        RedactionKey(key)
    assert exc.value.line == line
    assert words in exc.value.message


def test_key_that_cannot_be_read_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    key = tmp_path / "key.csv"
    key.mkdir()  # e.g. a folder where the key should be
    with pytest.raises(InputError, match="folder"):
        RedactionKey(key)
    bad = _write(tmp_path / "bad.csv", "")
    bad.write_bytes(b"original,label,replacement\n\xff\xfeHoa,PERSON,X\n")
    with pytest.raises(InputError) as exc:
        RedactionKey(bad)
    assert exc.value.line == 2


def test_key_backup_on_every_change_and_no_rewrite_when_unchanged(study: Path) -> None:
    key = study / "private" / "key.csv"
    names = study / "private" / "names.txt"
    _redact([study / "transcripts" / "P01.txt"], study / "out", key, names_file=names)
    first = key.read_bytes()
    backups = study / "private" / "key-backups"
    assert not backups.exists()  # a new key has no previous version
    _redact([study / "transcripts"], study / "out", key, names_file=names)  # P02 adds Tuan
    saved = sorted(backups.iterdir())
    assert len(saved) == 1 and saved[0].read_bytes() == first
    assert _mode(saved[0]) == 0o600 and _mode(backups) == 0o700
    assert key.read_bytes() != first
    mtime = key.stat().st_mtime_ns
    _redact([study / "transcripts"], study / "out", key, names_file=names)  # nothing new
    assert key.stat().st_mtime_ns == mtime
    assert len(list(backups.iterdir())) == 1


def test_key_edited_during_the_run_is_not_overwritten(tmp_path: Path) -> None:
    path = _write(tmp_path / "key.csv", _key_text(_many_rows(2)))
    key = RedactionKey(path, style="tag")
    key.assign("Hoa", "PERSON", "P01.txt")
    hand = _key_text(_many_rows(3))
    _write(path, hand)  # a coder saves the key meanwhile
    with pytest.raises(SafetyError, match="changed on disk"):
        key.save()
    assert path.read_text(encoding="utf-8") == hand


def test_original_with_a_line_break_is_written_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "key.csv"
    key = RedactionKey(path)
    key.assign("Nguyen Thi\nHoa", "PERSON", "P01.txt")
    key.save()
    again = RedactionKey(path)  # reads back strictly
    assert [e.original for e in again.entries.values()] == ["Nguyen Thi Hoa"]


# --------------------------------------------------------------------------- item 12: pseudonym = real name


def test_replacement_that_is_a_name_in_the_study_is_refused(study: Path) -> None:
    key = _write(study / "private" / "key.csv", _key_text([["Hoa", "PERSON", "Tuan", "P01.txt", "", ""]]))
    before = key.read_bytes()
    with pytest.raises(InputError) as exc:  # Tuan is a participant of P02 (names list)
        _redact([study / "transcripts"], study / "out", key, names_file=study / "private" / "names.txt")
    assert exc.value.line == 2 and "Tuan" not in exc.value.message
    assert key.read_bytes() == before
    assert not (study / "out").exists()


def test_replacement_that_is_a_given_name_found_in_the_study_is_refused(study: Path) -> None:
    _write(study / "transcripts" / "P03.txt", "R: Her name is Nguyễn Thị Linh.\n")
    key = _write(study / "private" / "key.csv", _key_text([["Hoa", "PERSON", "Linh", "P01.txt", "", ""]]))
    names = _write(study / "private" / "names2.txt", "Hoa\nNguyễn Thị Linh\n")
    with pytest.raises(InputError, match="real name"):
        _redact([study / "transcripts"], study / "out", key, names_file=names)
    ok = _write(study / "private" / "key2.csv", _key_text([["Hoa", "PERSON", "Kim", "P01.txt", "", ""]]))
    result = _redact([study / "transcripts"], study / "out", ok, names_file=names)
    assert result.ok


# --------------------------------------------------------------------------- item 5: links out of the input folder


@pytest.fixture
def linked(study: Path) -> Path:
    """transcripts/ with a file link and a folder link to material outside it."""
    outside = study / "elsewhere"
    _write(outside / "secret.txt", "R: The account password of Hoa is hunter2.\n")
    _write(outside / "more" / "P09.txt", "R: Tuan was there.\n")
    (study / "transcripts" / "P03.txt").symlink_to(outside / "secret.txt")
    (study / "transcripts" / "extra").symlink_to(outside / "more", target_is_directory=True)
    (study / "transcripts" / "P01-again.txt").symlink_to(study / "transcripts" / "P01.txt")  # inside: fine
    return study


def test_links_out_of_the_input_folder_are_refused_and_named(linked: Path) -> None:
    from qualkit.readers import iter_inputs

    with pytest.raises(InputError) as exc:
        list(iter_inputs([linked / "transcripts"]))
    assert "2 link(s)" in exc.value.what and "P03.txt" in exc.value.what and "extra" in exc.value.what
    assert "--follow-links" in exc.value.fix
    result = _redact([linked / "transcripts"], linked / "out", linked / "private" / "key.csv")
    assert not result.ok and "point outside" in result.errors[0].what
    assert not (linked / "out" / "P03.txt").exists()


def test_links_are_followed_only_when_asked(linked: Path) -> None:
    from qualkit.readers import iter_inputs

    rels = [f.rel.as_posix() for f in iter_inputs([linked / "transcripts"], follow_links=True)]
    assert rels == ["P01-again.txt", "P01.txt", "P02.txt", "P03.txt", "extra/P09.txt"]
    result = _redact([linked / "transcripts"], linked / "out", linked / "private" / "key.csv", follow_links=True)
    assert result.ok and (linked / "out" / "extra" / "P09.txt").is_file()


def test_every_command_that_lists_inputs_refuses_links(linked: Path, cli) -> None:
    from qualkit.project import init_project, run_project

    res = cli("code", linked / "transcripts", "-c", _codebook(linked), "-o", linked / "seg.csv")
    assert res.exit_code == 1 and "point outside" in res.output
    res = cli("redact", linked / "transcripts", "-o", linked / "out", "--key", linked / "private" / "k.csv")
    assert res.exit_code == 1 and "point outside" in res.output
    proj = linked / "proj"
    init_project(proj)
    (proj / "transcripts" / "P03.txt").symlink_to(linked / "elsewhere" / "secret.txt")
    with pytest.raises(InputError, match="point outside"):
        run_project(proj, stages=("redact",))


def _codebook(root: Path) -> Path:
    return _write(
        root / "codebook.yaml",
        "codebook: t\nthemes:\n  - id: help\n    label: Help\n    codes:\n"
        "      - id: friend\n        label: Friend\n        rules:\n          - any: [friend]\n",
    )


# --------------------------------------------------------------------------- item 6: overlapping places


def test_input_folder_inside_the_output_folder_is_refused(study: Path, cli) -> None:
    out = study / "o"
    inner = out / "o2"
    _write(inner / "P01.txt", "R: My friend Hoa helped me.\n")
    res = cli("redact", inner, "-o", out, "--key", study / "private" / "key.csv")
    assert res.exit_code == 1
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and "the input folder is inside the output folder" in err[0]
    assert sorted(p.name for p in out.iterdir()) == ["o2"]  # nothing written next to the originals


@pytest.mark.parametrize(
    "where, flag, message",
    [
        ("out/names.txt", "--names", "the names list is inside the output folder"),
        ("out/keep.txt", "--keep", "the keep list is inside the output folder"),
        ("transcripts/names.txt", "--names", "the names list is inside the input folder"),
        ("transcripts/keep.txt", "--keep", "the keep list is inside the input folder"),
    ],
)
def test_study_lists_inside_shareable_or_input_folders_are_refused(study: Path, where, flag, message) -> None:
    lst = _write(study / where, "Hoa\n")
    opts = {"names_file" if flag == "--names" else "keep_file": lst}
    with pytest.raises(SafetyError) as exc:
        _redact([study / "transcripts"], study / "out", study / "private" / "key.csv", **opts)
    assert exc.value.what == message
    assert not (study / "out" / "P01.txt").exists() and not (study / "private" / "key.csv").exists()


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("transcripts: transcripts/", "transcripts: output/originals/", "the input folder is inside the output folder"),
        ("output: output/", "output: transcripts/out/", "the output folder is inside the input folder"),
        ("output: output/", "output: private/out/", "the output folder is inside the private folder"),
        ("  keep: keep.txt", "  keep: output/keep.txt", "the keep list is inside the output folder"),
        ("  keep: keep.txt", "  keep: transcripts/keep.txt", "the keep list is inside the input folder"),
        ("  names: private/names.txt", "  names: transcripts/names.txt", "the names list is inside the input folder"),
    ],
)
def test_overlaps_in_the_project_file_get_the_same_message(tmp_path: Path, cli, old, new, message) -> None:
    from qualkit.config import load_settings
    from qualkit.project import init_project

    init_project(tmp_path / "s")
    pf = tmp_path / "s" / "qualkit.yaml"
    text = pf.read_text(encoding="utf-8")
    assert old in text
    pf.write_text(text.replace(old, new), encoding="utf-8")
    line = next(i for i, ln in enumerate(pf.read_text(encoding="utf-8").splitlines(), 1) if ln.startswith(new))
    with pytest.raises(SafetyError) as exc:
        load_settings(tmp_path / "s")
    assert exc.value.what == message and exc.value.line == line
    res = cli("run", tmp_path / "s")
    assert res.exit_code == 1 and f"qualkit.yaml:{line}" in res.stderr and message in res.stderr


# --------------------------------------------------------------------------- item 7: REFI import reads only the archive

_QDE = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="test">
<CodeBook><Codes><Code guid="11111111-1111-1111-1111-111111111111" name="Topic" isCodable="true"/></Codes></CodeBook>
<Sources>
<TextSource guid="22222222-2222-2222-2222-222222222222" name="ok" plainTextPath="internal://ok.txt"/>
<TextSource guid="33333333-3333-3333-3333-333333333333" name="bad" plainTextPath="{ref}"/>
</Sources>
</Project>
"""


def _qdpx(path: Path, ref: str, members: dict[str, bytes] | None = None) -> Path:
    import zipfile
    from xml.sax.saxutils import quoteattr

    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", _QDE.replace('"{ref}"', quoteattr(ref)))
        zf.writestr("sources/ok.txt", "R: fine.\n")
        for name, data in (members or {}).items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    return _write(tmp_path / "study" / "private" / "redaction-key.csv", "original,label\nNguyen Thi Hoa,PERSON\n")


@pytest.mark.parametrize(
    "ref",
    [
        "absolute://{secret}",
        "absolute:///{secret}",
        "relative://../study/private/redaction-key.csv",
        "../study/private/redaction-key.csv",
        "{secret}",
        "relative:///{secret}",
    ],
)
def test_import_refuses_sources_outside_the_archive(tmp_path: Path, secret: Path, ref: str, cli) -> None:
    from qualkit.refi import import_refi

    ref = ref.format(secret=secret.as_posix().lstrip("/") if ref.startswith("absolute:///") else secret.as_posix())
    (tmp_path / "dl").mkdir()
    qdpx = _qdpx(tmp_path / "dl" / "p.qdpx", ref)
    with pytest.raises(InputError) as exc:
        import_refi(qdpx, tmp_path / "imported")
    assert ref in exc.value.what and "--sources" in exc.value.fix
    assert not (tmp_path / "imported").exists()
    res = cli("import", "refi", qdpx, "-o", tmp_path / "imported")
    assert res.exit_code == 1 and len(res.stderr.strip().splitlines()) == 1


def test_import_reads_outside_sources_only_from_the_given_folder(tmp_path: Path, secret: Path) -> None:
    from qualkit.refi import import_refi

    given = tmp_path / "given"
    _write(given / "AR" / "john.txt", "John: I sold cornflakes.\n")
    res = import_refi(_qdpx(tmp_path / "a.qdpx", "relative://AR/john.txt"), tmp_path / "a", sources=given)
    assert (tmp_path / "a" / "transcripts" / "bad.txt").read_text(encoding="utf-8") == "John: I sold cornflakes.\n"
    assert res.documents == 2
    (given / "link.txt").symlink_to(secret)  # a link in the sources folder that leads out of it
    with pytest.raises(InputError, match="leads out"):
        import_refi(_qdpx(tmp_path / "b.qdpx", "relative://link.txt"), tmp_path / "b", sources=given)
    with pytest.raises(InputError, match=r"'\.\.'"):
        import_refi(_qdpx(tmp_path / "c.qdpx", "relative://AR/../../study/x.txt"), tmp_path / "c", sources=given)
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_import_of_a_bare_qde_reads_only_its_sources_folder(tmp_path: Path, secret: Path) -> None:
    from qualkit.refi import import_refi

    folder = tmp_path / "bare"
    _write(folder / "project.qde", _QDE.replace("{ref}", "internal://key.txt"))
    _write(folder / "sources" / "ok.txt", "R: fine.\n")
    (folder / "sources" / "key.txt").symlink_to(secret)
    with pytest.raises(InputError, match="leads out"):
        import_refi(folder / "project.qde", tmp_path / "out")


# --------------------------------------------------------------------------- item 8: REFI export of originals


@pytest.fixture
def exportable(tmp_path: Path) -> Path:
    """A study with a key, and a copy of its originals outside it."""
    from qualkit.project import init_project

    root = tmp_path / "s"
    init_project(root)
    _write(root / "transcripts" / "P01.txt", "R: Hanh took me to the market.\n")
    _write(root / "output" / "transcripts" / "P01.txt", "R: Lan took me to the market.\n")
    _write(root / "private" / "redaction-key.csv", _key_text([["Hanh", "PERSON", "Lan", "P01.txt", "", "Lan"]]))
    _write(tmp_path / "copy" / "P01.txt", "R: Hanh took me to the market.\n")
    _write(root / "cases.csv", "case,sex\nP01,F\n")
    return root


def test_export_of_transcripts_holding_originals_is_refused(exportable: Path, cli) -> None:
    out = exportable.parent / "x.qdpx"
    res = cli("export", "refi", exportable, "-o", out, "--transcripts", exportable.parent / "copy")
    assert res.exit_code == 1 and "original(s) from the pseudonym key" in res.stderr
    assert "P01.txt:3-7 PERSON" in res.stderr and "Hanh" not in res.stderr
    assert not out.exists()
    res = cli("export", "refi", exportable, "-o", out, "--transcripts", exportable.parent / "copy", "--original")
    assert res.exit_code == 0 and "ORIGINAL" in res.stderr
    assert _mode(out) == 0o600


def test_export_checks_file_names_and_needs_a_key_outside_a_project(exportable: Path, cli) -> None:
    named = exportable.parent / "named"
    _write(named / "Interview_Hanh.txt", "R: Lan took me to the market.\n")
    key = exportable / "private" / "redaction-key.csv"
    out = exportable.parent / "y.qdpx"
    res = cli("export", "refi", "-o", out, "--transcripts", named, "--key", key)
    assert res.exit_code == 1 and "(file name)" in res.stderr and not out.exists()
    res = cli("export", "refi", "-o", out, "--transcripts", exportable / "output" / "transcripts")
    assert res.exit_code == 2 and "--key" in res.stderr and not out.exists()
    res = cli("export", "refi", "-o", out, "--transcripts", exportable / "output" / "transcripts", "--key", key)
    assert res.exit_code == 0, res.stderr
    assert _mode(out) != 0o600


# --------------------------------------------------------------------------- item 10: decisions in the CSV and its .xlsx twin

_CB = """\
codebook: mini
title: Mini
themes:
  - id: violence
    label: Violence
    codes:
      - id: physical
        label: Physical violence
        rules:
          any: [beat, hit, slap]
"""


@pytest.fixture
def coded(tmp_path: Path, nlp_full):
    """A segments.csv + .xlsx pair as `qualkit code` writes it (4 suggestions), and a re-run function."""
    from qualkit.coding.codebook import load_codebook
    from qualkit.coding.merge import update_segments_file
    from qualkit.readers import read_document

    docs_dir = tmp_path / "redacted"
    _write(docs_dir / "P01.txt", "R: The owner beat me.\nR: A guest hit me.\n")
    _write(docs_dir / "P02.txt", "R: They slap us.\nR: He beat her too.\n")
    cb = load_codebook(_write(tmp_path / "cb.yaml", _CB))
    out = tmp_path / "out" / "segments.csv"

    def code(**kw):
        docs = [read_document(p, rel=Path(p.name)) for p in sorted(docs_dir.iterdir())]
        return update_segments_file(docs, cb, out, nlp=nlp_full, **kw)

    code()
    return out, code


def _set_status(xlsx: Path, statuses: dict[int, str]) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)
    ws = wb["segments"]
    col = [c.value for c in ws[1]].index("status") + 1
    for row, status in statuses.items():
        ws.cell(row=row, column=col, value=status)
    wb.save(xlsx)


def _statuses(path: Path) -> list[str]:
    """The status column of one file as stored (no merging with a twin)."""
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        rows = list(load_workbook(path)["segments"].values)
        col = list(rows[0]).index("status")
        return [r[col] or "" for r in rows[1:]]
    with path.open(encoding="utf-8", newline="") as fh:
        return [r["status"] for r in csv.DictReader(fh)]


def test_decisions_made_in_the_xlsx_survive_a_copy_of_the_study(coded) -> None:
    out, code = coded
    twin = out.with_suffix(".xlsx")
    assert _statuses(out) == ["suggested"] * 4
    _set_status(twin, {2: "rejected", 4: "rejected"})
    st = out.stat()
    os.utime(twin, (st.st_atime, st.st_mtime))  # a copy of the study: the times tell nothing
    update = code()
    assert update.from_twin == 2 and not update.conflicts
    assert _statuses(out) == ["rejected", "suggested", "rejected", "suggested"]  # the CSV holds them now
    assert _statuses(twin) == ["rejected", "suggested", "rejected", "suggested"]  # and the twin kept them


def test_readers_of_the_csv_honour_decisions_made_in_the_xlsx(coded) -> None:
    from qualkit.coding.segments import read_segments

    out, _code = coded
    _set_status(out.with_suffix(".xlsx"), {3: "rejected"})
    df = read_segments(out)  # what tables, annex, agree and export read
    assert list(df["effective_status"]) == ["suggested", "rejected", "suggested", "suggested"]
    (out.parent / ".segments.written").unlink()  # an older study without the record: still merged
    assert list(read_segments(out)["effective_status"])[1] == "rejected"


def test_the_same_row_decided_differently_is_a_reported_conflict_with_a_backup(coded) -> None:
    from qualkit.coding.segments import write_segments

    out, code = coded
    twin = out.with_suffix(".xlsx")
    _set_status(twin, {2: "rejected", 3: "rejected"})
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["status"] = "accepted"  # the same row accepted in the CSV...
    write_segments(out, rows)  # (the CSV alone, as a coder saving it would)
    update = code()
    assert len(update.conflicts) == 1
    message = update.conflicts[0].message("segments.csv", "segments.xlsx")
    assert "segments.csv:2 (accepted)" in message and "segments.xlsx:2 (rejected)" in message
    assert _statuses(out) == ["accepted", "rejected", "suggested", "suggested"]  # the CSV wins, the rest merged
    [backup] = update.backups
    assert backup.suffix == ".xlsx" and _statuses(backup)[:2] == ["rejected", "rejected"]


def test_a_row_deleted_in_the_xlsx_stays_deleted(coded) -> None:
    from openpyxl import load_workbook

    out, code = coded
    twin = out.with_suffix(".xlsx")
    wb = load_workbook(twin)
    wb["segments"].delete_rows(3)
    wb.save(twin)
    code()
    assert len(_statuses(out)) == 3


def test_run_merges_xlsx_decisions_when_no_transcript_changed(tmp_path: Path, nlp_full) -> None:
    from qualkit.project import init_project, run_project

    root = tmp_path / "s"
    init_project(root)
    _write(root / "codebook.yaml", _CB)
    _write(root / "output" / "transcripts" / "P01.txt", "R: The owner beat me.\nR: A guest hit me.\n")
    run_project(root, stages=("code",))
    seg = root / "output" / "segments.csv"
    _set_status(seg.with_suffix(".xlsx"), {2: "rejected"})
    summary = run_project(root, stages=("code",))
    assert "review decision(s)" in summary.stages[0].message
    assert _statuses(seg)[0] == "rejected"


# --------------------------------------------------------------------------- item 9: neutral document ids


def test_rename_gives_neutral_ids_stable_across_runs_and_new_documents(tmp_path: Path) -> None:
    src = tmp_path / "transcripts"
    _write(src / "Interview_Hanh.txt", "R: My name is Hanh.\n")
    _write(src / "Bui_Tuan" / "notes.txt", "R: Tuan was there.\n")
    names = _write(tmp_path / "private" / "names.txt", "Hanh\nBui Tuan\n")
    key = tmp_path / "private" / "key.csv"
    out = tmp_path / "out"
    result = _redact([src], out, key, names_file=names, rename=True)
    assert result.ok and not any("file or folder name" in w for w in result.warnings)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "T001.txt",
        "T002.txt",
        "redaction-log.csv",
    ]
    shared = "".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file())
    assert "Hanh" not in shared and "Tuan" not in shared
    ids = tmp_path / "private" / "document-ids.csv"
    assert _mode(ids) == 0o600
    first = list(csv.DictReader(ids.open(encoding="utf-8")))
    assert first == [
        {"original": "Bui_Tuan/notes.txt", "neutral": "T001"},
        {"original": "Interview_Hanh.txt", "neutral": "T002"},
    ]
    _write(src / "A_first.txt", "R: Nothing to say.\n")  # sorts first, but comes later
    _redact([src], out, key, names_file=names, rename=True)
    again = list(csv.DictReader(ids.open(encoding="utf-8")))
    assert again[:2] == first and again[2] == {"original": "A_first.txt", "neutral": "T003"}
    assert (out / "T003.txt").is_file()
    assert len(list((tmp_path / "private" / "key-backups").glob("document-ids.*.csv"))) == 1


def test_without_rename_the_file_name_warning_stays(tmp_path: Path) -> None:
    src = _write(tmp_path / "transcripts" / "Interview_Hanh.txt", "R: My name is Hanh.\n").parent
    names = _write(tmp_path / "private" / "names.txt", "Hanh\n")
    result = _redact([src], tmp_path / "out", tmp_path / "private" / "key.csv", names_file=names)
    assert any("--rename" in w for w in result.warnings)
    assert (tmp_path / "out" / "Interview_Hanh.txt").is_file()


def test_new_studies_rename_by_default_existing_ones_do_not(tmp_path: Path) -> None:
    from qualkit.config import load_settings
    from qualkit.project import init_project

    init_project(tmp_path / "new")
    assert load_settings(tmp_path / "new").value(None, "redact.rename") is True
    _write(tmp_path / "old" / "qualkit.yaml", "project: old\nredact:\n  style: tag\n")
    assert load_settings(tmp_path / "old").value(None, "redact.rename") is False


def test_cases_keyed_by_file_names_match_the_neutral_ids(tmp_path: Path) -> None:
    from qualkit.cases import read_cases
    from qualkit.redact.docids import DocumentIds

    ids = DocumentIds(tmp_path / "ids.csv")
    ids.assign(["Interview_Hanh.txt", "P02.txt"])
    cases = _write(tmp_path / "cases.csv", "case,sex\nInterview_Hanh,F\nT002,M\n")
    df = read_cases(cases, ids=ids.by_document_id())
    assert list(df.index) == ["T001", "T002"]


def test_run_of_a_new_study_shares_no_file_name(tmp_path: Path) -> None:
    from qualkit.project import init_project, run_project

    root = tmp_path / "s"
    init_project(root)
    _write(root / "codebook.yaml", _CB)
    _write(root / "tables.yaml", "tables:\n  - id: t1\n    title: Violence\n    theme: violence\n    by: sex\n")
    _write(root / "cases.csv", "case,sex\nInterview_Hanh,F\n")
    _write(root / "private" / "names.txt", "Hanh\n")
    _write(root / "transcripts" / "Interview_Hanh.txt", "R: Hanh says the owner beat her.\n")
    summary = run_project(root, stages=("redact", "code", "tables"))
    assert not summary.errors, summary.errors
    out = root / "output"
    assert (out / "transcripts" / "T001.txt").is_file()
    for p in out.rglob("*"):
        assert "hanh" not in p.name.lower()
        if p.suffix in (".csv", ".txt"):
            assert "Hanh" not in p.read_text(encoding="utf-8"), p
    assert "T001" in (out / "segments.csv").read_text(encoding="utf-8")
    assert (out / "tables.xlsx").is_file()  # cases.csv keyed by the file name matched T001


# --------------------------------------------------------------------------- item 18: CSV files as spreadsheets save them


def test_semicolon_cases_file_is_read(tmp_path: Path) -> None:
    from qualkit.cases import read_cases

    cases = _write(tmp_path / "cases.csv", "case;sex;age\nP01;F;15\nP02;M;16,5\n")
    df = read_cases(cases)
    assert list(df.index) == ["P01", "P02"] and df.at["P02", "age"] == "16,5"
    tab = tmp_path / "unicode.csv"  # Excel's "Unicode text": UTF-16, tab-separated
    tab.write_bytes("case\tsex\nP01\tF\n".encode("utf-16"))
    assert list(read_cases(tab).index) == ["P01"]


def test_cases_file_without_a_case_column_shows_its_header(tmp_path: Path) -> None:
    from qualkit.cases import read_cases

    with pytest.raises(InputError) as exc:
        read_cases(_write(tmp_path / "cases.csv", "id;sex\nP01;F\n"))
    assert "id, sex" in exc.value.what and exc.value.line == 1


def test_semicolon_segments_file_saved_by_excel_is_read(tmp_path: Path) -> None:
    from qualkit.coding.segments import read_segments

    seg = _write(
        tmp_path / "segments.csv",
        "document;code;case;segment;start;end;speaker;coder;status;text\n"
        "P01;violence.physical;;1-1;0;20;R;auto;rejected;The owner, he beat me\n"
        "P01;violence.physical;;2-1;21;40;R;lan;accepted;A guest hit me, twice\n",
    )
    df = read_segments(seg)
    assert list(df["status"]) == ["rejected", "accepted"] and df["text"][0] == "The owner, he beat me"


def test_a_row_with_too_many_cells_is_named_in_the_users_terms(tmp_path: Path) -> None:
    from qualkit.coding.segments import read_segments

    seg = _write(
        tmp_path / "segments.csv",
        "document;code;status;text\nP01;a.b;accepted;fine\nP01;a.b;rejected;one; two\n",
    )
    with pytest.raises(InputError) as exc:
        read_segments(seg)
    assert exc.value.line == 3 and "5 cells, the header has 4" in exc.value.what and "';'" in exc.value.fix


def test_cases_file_in_a_local_code_page_says_how_to_save_it(tmp_path: Path) -> None:
    from qualkit.cases import read_cases

    cases = tmp_path / "cases.csv"
    cases.write_bytes(b"case,province\nP01,H\xe0 N\xf4\xf2i\n")  # "Hà Nội" as Excel saves it in cp1258
    with pytest.raises(InputError) as exc:
        read_cases(cases)
    assert exc.value.line == 2 and "UTF-8" in exc.value.what and "CSV UTF-8" in exc.value.fix


def test_semicolon_key_saved_by_excel_is_read(tmp_path: Path) -> None:
    key = _write(tmp_path / "key.csv", "original;label;replacement;first_document\nHoa;PERSON;Lan;P01.txt\n")
    assert RedactionKey(key).get("hoa").pseudonym == "Lan"


def test_names_list_that_is_not_plain_utf8_is_an_error(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_bytes(b"Nguy\xea\xden Thi\xf2 Hoa\n")  # "Nguyễn Thị Hoa" in cp1258: read as cp1252 it never matches
    with pytest.raises(InputError) as exc:
        _redact(
            [_write(tmp_path / "t" / "P01.txt", "R: hi\n").parent], tmp_path / "o", tmp_path / "k.csv", names_file=names
        )
    assert exc.value.line == 1 and "names list is not UTF-8" in exc.value.what
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Hoa"])
    wb.save(tmp_path / "names.xlsx")
    with pytest.raises(InputError, match="not a plain text file"):
        _redact([tmp_path / "t"], tmp_path / "o", tmp_path / "k.csv", names_file=tmp_path / "names.xlsx")
