"""qualkit code: coded segments (offsets, ids, format), one spaCy pass, and
re-running on a reviewed file without losing any human decision."""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import pytest

from qualkit.coding.apply import code_documents
from qualkit.coding.codebook import load_codebook
from qualkit.coding.merge import merge_segments, merge_with_previous, suggestion_key
from qualkit.coding.segments import COLUMNS, CodedSegment, read_segments, write_segments
from qualkit.readers import read_document

CODEBOOK = """\
codebook: mini
title: Mini codebook
themes:
  - id: violence
    label: Violence
    codes:
      - id: physical
        label: Physical violence
        rules:
          any: [beat, hit, slap, kick]
      - id: none
        label: No violence
        rules:
          any: [beat, hit, hurt]
          negation: require
  - id: drug_use
    label: Drug use
    codes:
      - id: current
        label: Uses drugs now
        rules:
          near: [[use, smoke, take], [drug, heroin, ice]]
          within: 3
      - id: none
        label: No drugs
        rules:
          any: [drug, heroin, ice]
          negation: require
"""

INT01 = """Interview: 1
Date: 12/03/2011
Interviewer: Did the owner ever beat you?
R: Yes. The owner beat me when I refused a guest.
The customers never hit me.
Interviewer: Do you use drugs?
R: I smoke ice with the other girls every night.
"""

INT02 = """Interviewer: Tell me about your work.\r\nR: I don't take drugs.\r\nR: Once a guest slapped me.\r\n"""


@pytest.fixture
def study(tmp_path):
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    tr = tmp_path / "transcripts"
    tr.mkdir()
    (tr / "int01.txt").write_text(INT01, encoding="utf-8")
    (tr / "int02.txt").write_bytes(b"\xef\xbb\xbf" + INT02.encode("utf-8"))  # BOM + CRLF
    return tmp_path


def _docs(folder: Path):
    return [read_document(p) for p in sorted(folder.glob("*.*"))]


def test_coded_segments_have_exact_offsets_ids_and_speakers(study, nlp_full):
    cb = load_codebook(study / "cb.yaml")
    docs = _docs(study / "transcripts")
    rows = code_documents(docs, cb, nlp=nlp_full)
    texts = {d.id: d.text for d in docs}
    got = [(r.document, r.segment, r.code, r.speaker, r.text) for r in rows]
    assert got == [
        ("int01", "4-2", "violence.physical", "R", "The owner beat me when I refused a guest."),
        ("int01", "4-3", "violence.none", "R", "The customers never hit me."),
        ("int01", "6-1", "drug_use.current", "R", "I smoke ice with the other girls every night."),
        ("int02", "2-1", "drug_use.none", "R", "I don't take drugs."),
        ("int02", "3-1", "violence.physical", "R", "Once a guest slapped me."),
    ]
    for r in rows:
        assert texts[r.document][r.start : r.end] == r.text  # offsets into the text as read (CRLF kept, BOM gone)
        assert (r.coder, r.status, r.case) == ("auto", "suggested", "")


def test_docx_offsets_are_into_the_joined_paragraphs(tmp_path, nlp_full):
    import docx

    d = docx.Document()
    d.add_paragraph("Case: 3")
    p = d.add_paragraph()
    p.add_run("Interviewer:").bold = True
    p.add_run(" Did they hurt you?")
    p = d.add_paragraph()
    p.add_run("Lan:").bold = True
    p.add_run(" The guest kicked me.")
    d.save(tmp_path / "int03.docx")
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    doc = read_document(tmp_path / "int03.docx")
    rows = code_documents([doc], load_codebook(tmp_path / "cb.yaml"), nlp=nlp_full)
    assert [(r.speaker, r.text) for r in rows] == [("Lan", "The guest kicked me.")]
    assert doc.text[rows[0].start : rows[0].end] == "The guest kicked me."


class _CountingPipeline:
    """Wraps the spaCy pipeline and counts what goes through nlp.pipe / nlp()."""

    def __init__(self, nlp):
        self._nlp = nlp
        self.pipe_calls = 0
        self.docs = 0
        self.direct_calls = 0

    def __getattr__(self, name):
        return getattr(self._nlp, name)

    def __call__(self, *a, **k):  # pragma: no cover - must not happen
        self.direct_calls += 1
        return self._nlp(*a, **k)

    def pipe(self, docs, **kw):
        self.pipe_calls += 1
        for d in self._nlp.pipe(docs, **kw):
            self.docs += 1
            yield d


def test_one_spacy_pass_per_document_and_progress(study, nlp_full):
    cb = load_codebook(study / "cb.yaml")
    docs = _docs(study / "transcripts")
    counting = _CountingPipeline(nlp_full)
    seen = []
    code_documents(docs, cb, nlp=counting, on_progress=lambda doc_id, done, total: seen.append((doc_id, done, total)))
    assert (counting.pipe_calls, counting.docs, counting.direct_calls) == (1, 2, 0)
    assert seen == [("int01", 1, 2), ("int02", 2, 2)]


# --------------------------------------------------------------------------- merging with a reviewed file


def _row(**kw) -> CodedSegment:
    return CodedSegment(**kw)


def _review(rows: list[CodedSegment]) -> list[CodedSegment]:
    """A coder's review of the first run (as they would do in the spreadsheet)."""
    out = [CodedSegment(**r.__dict__) for r in rows]
    out[0].status = "accepted"  # violence.physical on 4-2
    out[1].status = "rejected"  # violence.none on 4-3
    out[2].code = "drug_use.none"  # edited code, status left 'suggested'
    if len(out) > 3:
        out[3].status = ""  # empty = accepted
    out.append(
        _row(
            document="int01",
            code="violence.physical",
            segment="4",
            start=out[0].start,
            end=out[1].end,
            speaker="R",
            coder="lan",
            status="accepted",
            text="(whole answer)",
        )
    )
    return out


def test_rerun_keeps_every_human_decision_and_adds_only_new_suggestions(study, nlp_full):
    cb = load_codebook(study / "cb.yaml")
    docs = _docs(study / "transcripts")
    first = code_documents(docs, cb, nlp=nlp_full)
    reviewed = _review(first)
    again = code_documents(docs, cb, nlp=nlp_full)
    log = {suggestion_key(r) for r in first}  # what qualkit code remembers it offered
    merged = merge_with_previous(again, reviewed, recoded_documents={"int01", "int02"}, suggested_before=log)
    key = lambda r: (r.document, r.code, r.start, r.end, r.coder, r.status)  # noqa: E731
    assert sorted(map(key, merged)) == sorted(map(key, reviewed))  # nothing lost, nothing came back
    # a rejected suggestion does not come back, the edited code is kept, the accepted row is not duplicated
    assert sum(1 for r in merged if r.code == "violence.none") == 1
    assert [r.status for r in merged if r.code == "violence.none"] == ["rejected"]
    assert any(r.code == "drug_use.none" and r.segment == "6-1" for r in merged)


def test_without_a_suggestion_log_edited_codes_are_still_kept(study, nlp_full):
    cb = load_codebook(study / "cb.yaml")
    docs = _docs(study / "transcripts")
    reviewed = _review(code_documents(docs, cb, nlp=nlp_full))
    res = merge_segments(code_documents(docs, cb, nlp=nlp_full), reviewed, recoded_documents={"int01", "int02"})
    codes_on_6_1 = sorted(r.code for r in res.rows if r.document == "int01" and r.segment == "6-1")
    # the coder's code stays; the rules' own code is offered again (nothing tells us it was there before)
    assert codes_on_6_1 == ["drug_use.current", "drug_use.none"]
    assert all(r.status == "rejected" for r in res.rows if r.code == "violence.none")


def test_a_deleted_suggestion_is_not_offered_again(study, nlp_full):
    cb = load_codebook(study / "cb.yaml")
    docs = _docs(study / "transcripts")
    first = code_documents(docs, cb, nlp=nlp_full)
    log = {suggestion_key(r) for r in first}
    res = merge_segments(
        code_documents(docs, cb, nlp=nlp_full), first[1:], recoded_documents={"int01", "int02"}, suggested_before=log
    )
    assert res.withheld_suggestions == 1 and len(res.rows) == len(first) - 1


def test_new_transcripts_and_new_rules_add_suggestions(study, nlp_full, tmp_path):
    cb = load_codebook(study / "cb.yaml")
    docs = _docs(study / "transcripts")
    first = code_documents(docs[:1], cb, nlp=nlp_full)
    reviewed = _review(first)
    res = merge_segments(
        code_documents(docs, cb, nlp=nlp_full),
        reviewed,
        recoded_documents={"int01", "int02"},
        suggested_before={suggestion_key(r) for r in first},
    )
    assert res.new_suggestions == 2 and {r.document for r in res.rows} == {"int01", "int02"}
    assert res.kept_decisions == 4 and res.withheld_suggestions == 1


def test_documents_not_recoded_are_left_alone(study, nlp_full):
    cb = load_codebook(study / "cb.yaml")
    docs = _docs(study / "transcripts")
    reviewed = _review(code_documents(docs, cb, nlp=nlp_full))
    only_two = code_documents(docs[1:], cb, nlp=nlp_full)
    merged = merge_with_previous(only_two, reviewed, recoded_documents={"int02"})
    assert [r for r in merged if r.document == "int01"] == [r for r in reviewed if r.document == "int01"]


def test_changed_transcript_keeps_decisions_on_unchanged_text(study, nlp_full):
    cb = load_codebook(study / "cb.yaml")
    path = study / "transcripts" / "int01.txt"
    first = code_documents([read_document(path)], cb, nlp=nlp_full)
    reviewed = _review(first)
    # a line is added at the top, a typo is fixed in one answer, another answer is deleted
    changed = INT01.replace("Interview: 1\n", "Interview: 1\nTranscriber: H.\n")
    changed = changed.replace("The owner beat me when I refused a guest.", "The owner beat me when I refused a guest!")
    changed = changed.replace("The customers never hit me.\n", "")
    path.write_text(changed, encoding="utf-8")
    doc = read_document(path)
    res = merge_segments(code_documents([doc], cb, nlp=nlp_full), reviewed, recoded_documents={"int01"})
    by = {(r.code, r.coder): r for r in res.rows}
    acc = by[("violence.physical", "auto")]
    assert acc.status == "accepted" and acc.text == "The owner beat me when I refused a guest!"
    assert doc.text[acc.start : acc.end] == acc.text  # moved with its (lightly edited) text
    edited = by[("drug_use.none", "auto")]
    assert doc.text[edited.start : edited.end] == edited.text == "I smoke ice with the other girls every night."
    # the rejected row's sentence is gone: the decision is kept (never silently lost) and reported
    rej = by[("violence.none", "auto")]
    assert rej.status == "rejected" and res.unmatched >= 1 and "int01" in res.unmatched_documents
    assert res.relocated >= 2


def test_refresh_drops_stale_machine_suggestions_only(study, nlp_full):
    cb = load_codebook(study / "cb.yaml")
    docs = _docs(study / "transcripts")
    first = code_documents(docs, cb, nlp=nlp_full)
    stale = CodedSegment(**first[-1].__dict__)
    stale.code = "violence.none"  # a suggestion the rules do not give (e.g. from an older codebook)
    previous = first + [stale]
    kept = merge_segments(code_documents(docs, cb, nlp=nlp_full), previous, recoded_documents={"int01", "int02"})
    assert kept.stale_suggestions == 1 and stale.code in {r.code for r in kept.rows if r.segment == stale.segment}
    # with the suggestion log an untouched suggestion the rules no longer give goes by itself
    log = {suggestion_key(r) for r in previous}
    logged = merge_segments(
        code_documents(docs, cb, nlp=nlp_full), previous, recoded_documents={"int01", "int02"}, suggested_before=log
    )
    assert logged.dropped_suggestions == 1 and len(logged.rows) == len(first)
    dropped = merge_segments(
        code_documents(docs, cb, nlp=nlp_full), previous, recoded_documents={"int01", "int02"}, refresh=True
    )
    assert dropped.dropped_suggestions == 1 and len(dropped.rows) == len(first)


def test_merge_accepts_the_dataframe_read_back_from_csv(study, nlp_full, tmp_path):
    cb = load_codebook(study / "cb.yaml")
    docs = _docs(study / "transcripts")
    reviewed = _review(code_documents(docs, cb, nlp=nlp_full))
    write_segments(tmp_path / "segments.csv", reviewed)
    df = read_segments(tmp_path / "segments.csv")
    log = {suggestion_key(r) for r in code_documents(docs, cb, nlp=nlp_full)}
    merged = merge_with_previous(
        code_documents(docs, cb, nlp=nlp_full), df, recoded_documents={"int01", "int02"}, suggested_before=log
    )
    assert len(merged) == len(reviewed)
    assert {r.status for r in merged} == {"accepted", "rejected", "suggested", ""}


# --------------------------------------------------------------------------- the command


def test_cli_writes_the_segments_format_and_an_xlsx_twin(study, cli):
    out = study / "out" / "segments.csv"
    result = cli("code", study / "transcripts", "--codebook", study / "cb.yaml", "--output", out)
    assert result.exit_code == 0, result.stderr
    with out.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    assert header == COLUMNS
    assert len(rows) == 5 and all(r[7] == "auto" and r[8] == "suggested" for r in rows)
    twin = out.with_suffix(".xlsx")
    assert twin.is_file()
    df = read_segments(twin)
    assert list(df["code"]) == [r[1] for r in rows]
    assert "Coded 2 transcript(s)" in result.stderr
    from openpyxl import load_workbook

    wb = load_workbook(twin)
    assert wb.sheetnames == ["segments", "codebook"]
    assert [c.value for c in wb["codebook"]["A"]][1:] == [
        "violence.physical",
        "violence.none",
        "drug_use.current",
        "drug_use.none",
    ]
    assert any("codebook!$A$2:$A$5" in (dv.formula1 or "") for dv in wb["segments"].data_validations.dataValidation)


def test_cli_takes_defaults_from_the_project_file(study, cli):
    (study / "qualkit.yaml").write_text(
        "project: demo\ncodebook: cb.yaml\noutput: out\ncode:\n  unit: turn\n  xlsx: false\n", encoding="utf-8"
    )
    result = cli("code", study / "transcripts", "--project", study)
    assert result.exit_code == 0, result.stderr
    df = read_segments(study / "out" / "segments.csv")
    assert set(df["segment"]) == {"4", "6", "2", "3"}  # turn units
    assert not (study / "out" / "segments.xlsx").exists()


def test_cli_rerun_reads_the_review_from_the_xlsx_twin(study, cli):
    from openpyxl import load_workbook

    out = study / "segments.csv"
    assert cli("code", study / "transcripts", "-c", study / "cb.yaml", "-o", out).exit_code == 0
    twin = out.with_suffix(".xlsx")
    wb = load_workbook(twin)
    ws = wb["segments"]
    status_col = [c.value for c in ws[1]].index("status") + 1
    ws.cell(row=2, column=status_col, value="rejected")
    ws.cell(row=3, column=status_col, value="accepted")
    wb.save(twin)
    later = time.time() + 60
    os.utime(twin, (later, later))  # the coder saved the spreadsheet after the run
    result = cli("code", study / "transcripts", "-c", study / "cb.yaml", "-o", out, "--no-xlsx")
    assert result.exit_code == 0, result.stderr
    df = read_segments(out)
    assert list(df["status"][:3]) == ["rejected", "accepted", "suggested"]
    assert len(df) == 5 and "segments.xlsx" in result.stderr


def test_cli_rerun_after_editing_codes_in_the_csv(study, cli):
    out = study / "segments.csv"
    assert cli("code", study / "transcripts", "-c", study / "cb.yaml", "-o", out, "--no-xlsx").exit_code == 0
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[2]["code"] = "drug_use.none"  # re-coded, status left as suggested
    rows[1]["status"] = "rejected"
    del rows[4]  # deleted instead of rejected
    rows.append({**rows[0], "code": "violence.none", "coder": "minh", "status": "accepted"})
    write_segments(out, rows)
    result = cli("code", study / "transcripts", "-c", study / "cb.yaml", "-o", out, "--no-xlsx")
    assert result.exit_code == 0, result.stderr
    again = read_segments(out)
    got = sorted(zip(again["segment"], again["code"], again["coder"], again["status"]))
    want = sorted((r["segment"], r["code"], r["coder"], r["status"]) for r in rows)
    assert got == want  # every decision kept, nothing re-offered
    log = study / ".segments.suggested"
    assert log.is_file() and "drug" not in log.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args,code,what",
    [
        (["--output", "x.csv"], 2, "no codebook given"),
        (["--codebook", "{cb}", "--output", "x.xlsx"], 2, "must be a .csv file"),
        (["--codebook", "{cb}", "--output", "x.csv", "--unit", "page"], 2, "unknown unit"),
        (["--codebook", "{bad}", "--output", "x.csv"], 1, "bad.yaml:11"),
    ],
)
def test_cli_errors(study, cli, args, code, what):
    (study / "bad.yaml").write_text(
        CODEBOOK.replace("any: [beat, hit, slap, kick]", "any: [beat, hit, slap, kick]\n          negaton: exclude"),
        encoding="utf-8",
    )
    args = [a.format(cb=study / "cb.yaml", bad=study / "bad.yaml") for a in args]
    result = cli("code", study / "transcripts", *args)
    assert result.exit_code == code
    assert what in result.stderr and "Traceback" not in result.stderr


def test_duplicate_document_ids_are_an_error(study, cli):
    sub = study / "transcripts" / "more"
    sub.mkdir()
    (sub / "int01.md").write_text("R: Hello.\n", encoding="utf-8")
    result = cli("code", study / "transcripts", "-c", study / "cb.yaml", "-o", study / "s.csv")
    assert result.exit_code == 1 and "have the document id 'int01'" in result.stderr
