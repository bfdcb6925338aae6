"""REFI-QDA exchange: export a tiny study to .qdpx/.qdc, validate against the
official schemas, import it back, and import projects written the way NVivo,
ATLAS.ti and others write them (CRLF counted one or two, BOMs, braced GUIDs,
nested codes, Word-only sources, internal/relative/absolute paths)."""

from __future__ import annotations

import csv
import os
import stat
import uuid
import zipfile
from pathlib import Path

import docx
import pytest
from lxml import etree

from qualkit.cases import read_cases
from qualkit.coding.codebook import load_codebook
from qualkit.coding.segments import read_segments
from qualkit.config import load_settings
from qualkit.errors import InputError, SafetyError, UsageError
from qualkit.readers import read_document
from qualkit.refi import (
    code_guid,
    export_codebook,
    export_project,
    import_refi,
    plan_export,
    validate_file,
)
from qualkit.refi.common import (
    QUALKIT_NAMESPACE,
    compose_description,
    guess_variable_type,
    id_from_name,
    inverse_map,
    newline_view,
    norm_guid,
    parse_description,
)
from qualkit.refi.exporter import SKIP_SUGGESTED

PNS = "{urn:QDA-XML:project:1.0}"

# --------------------------------------------------------------------------- fixture study

CODEBOOK = """\
codebook: refi-test
title: REFI test codebook
themes:
  - id: family
    label: Family experiences
    description: What the respondent says about her family.
    codes:
      - id: poor_family
        label: Poor family
        definition: The family lacked money for food, school or housing.
        when_to_use: Any mention of the family being poor.
        when_not_to_use: Poverty of the village in general.
        examples: ["We had no rice.", "My parents could not pay the school fees."]
      - id: domestic_violence
        label: Domestic violence
  - id: violence
    label: Experience of violence
    codes:
      - id: physical
        label: Physical violence
        definition: Hitting, beating.
        codes:
          - id: by_customer
            label: By a customer
            definition: A customer hit her.
  - id: empty_theme
    label: A theme with no codes yet
    codes: []
"""

# original (unredacted) and redacted transcripts; int01 has CRLF line breaks and a BOM
INT01_ORIG = (
    "Interviewer: Tell me about your family.\r\n"
    "Respondent: My name is Thảo. We had no rice, we were very poor.\r\n"
    "My father hit my mother 😢 every night.\r\n"
    "Interviewer: And later?\r\n"
    "Respondent: A customer in Nha Trang beat me.\r\n"
)
INT01_RED = INT01_ORIG.replace("Thảo", "Mai").replace("Nha Trang", "[PLACE]")
FGD01_RED = (
    "Moderator: Why did you leave home?\nP1: My parents could not pay the school fees.\nP2: My stepfather beat me.\n"
)
INT02_PARAS = [
    ("Interviewer", "How did it start?"),
    ("Respondent", "We had no rice at home."),
    (None, "So I went to the city."),
]


def _docx(path: Path, paras) -> None:
    d = docx.Document()
    for label, text in paras:
        p = d.add_paragraph()
        if label:
            p.add_run(label + ":").bold = True
            p.add_run(" " + text)
        else:
            p.add_run(text)
    d.save(path)


def _span(text: str, piece: str) -> tuple[int, int]:
    i = text.index(piece)
    return i, i + len(piece)


@pytest.fixture
def study(tmp_path) -> Path:
    root = tmp_path / "study"
    (root / "transcripts").mkdir(parents=True)
    (root / "output" / "transcripts").mkdir(parents=True)
    (root / "private").mkdir()
    (root / "qualkit.yaml").write_text(
        "project: refi-test\ntranscripts: transcripts/\noutput: output/\nprivate: private/\n"
        "cases: cases.csv\ncodebook: codebook.yaml\n",
        encoding="utf-8",
    )
    (root / "codebook.yaml").write_text(CODEBOOK, encoding="utf-8")
    (root / "transcripts" / "int01.txt").write_bytes(b"\xef\xbb\xbf" + INT01_ORIG.encode("utf-8"))
    (root / "output" / "transcripts" / "int01.txt").write_bytes(b"\xef\xbb\xbf" + INT01_RED.encode("utf-8"))
    (root / "transcripts" / "fgd01.txt").write_text(FGD01_RED, encoding="utf-8")
    (root / "output" / "transcripts" / "fgd01.txt").write_text(FGD01_RED, encoding="utf-8")
    _docx(root / "transcripts" / "int02.docx", INT02_PARAS)
    _docx(root / "output" / "transcripts" / "int02.docx", INT02_PARAS)

    int02 = read_document(root / "output" / "transcripts" / "int02.docx").text
    rows = []

    def add(doc, text, piece, code, coder="Lan", status="accepted", case=""):
        s, e = _span(text, piece)
        rows.append(
            {
                "document": doc,
                "code": code,
                "case": case,
                "segment": "",
                "start": s,
                "end": e,
                "speaker": "",
                "coder": coder,
                "status": status,
                "text": piece,
            }
        )

    add("int01", INT01_RED, "We had no rice, we were very poor.", "family.poor_family")
    add("int01", INT01_RED, "We had no rice, we were very poor.", "family.poor_family", coder="Hung")
    add("int01", INT01_RED, "My father hit my mother 😢 every night.", "family.domestic_violence", status="")
    add("int01", INT01_RED, "A customer in [PLACE] beat me.", "violence.physical.by_customer")
    add("int01", INT01_RED, "A customer in [PLACE] beat me.", "violence.physical", coder="auto", status="suggested")
    add("int01", INT01_RED, "Tell me about your family.", "family.poor_family", coder="auto", status="rejected")
    add("fgd01", FGD01_RED, "My parents could not pay the school fees.", "family.poor_family", case="P1")
    add("fgd01", FGD01_RED, "My stepfather beat me.", "family.domestic_violence", case="P2")
    add("int02", int02, "We had no rice at home.", "family.poor_family", coder="auto", status="accepted")
    # spans crossing the CRLF line break
    add("int01", INT01_RED, "very poor.\r\nMy father", "family.domestic_violence", coder="Lan")
    with open(root / "output" / "segments.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    (root / "cases.csv").write_text(
        "case,sex,age,score,consent,interviewed,code_no,province\n"
        "int01,female,16,3.5,true,2011-03-12,007,Khanh Hoa\n"
        "int02,female,17,4.25,false,2011-03-14,012,Ha Noi\n"
        "P1,female,,1.0,TRUE,2011-04-01,101,An Giang\n"
        "P2,male,15,2,false,,102,\n",
        encoding="utf-8",
    )
    return root


def _export(study: Path, out: Path, **kw):
    plan = plan_export(load_settings(study))
    return export_project(
        out,
        transcripts=plan.transcripts,
        codebook=plan.codebook,
        segments=plan.segments,
        cases=plan.cases,
        project_name=plan.project_name,
        **kw,
    )


def _qde(path: Path):
    with zipfile.ZipFile(path) as zf:
        return etree.fromstring(zf.read("project.qde")), {n: zf.read(n) for n in zf.namelist()}


# --------------------------------------------------------------------------- unit pieces


def test_code_guids_are_uuid5_of_codebook_and_path_and_stable():
    g = code_guid("csec-study", "family.poor_family")
    assert g == code_guid("csec-study", "family.poor_family")
    assert uuid.UUID(g).version == 5
    assert g != code_guid("csec-study", "family.orphaned") != code_guid("other", "family.poor_family")
    assert str(QUALKIT_NAMESPACE) == "6b1f3c52-9f0e-5d0a-8c1e-71a1c0d3e7a4"  # never change it
    assert norm_guid("{AE6D04CE-D987-4FC8-AF97-D72CA6FFD08F}") == "ae6d04ce-d987-4fc8-af97-d72ca6ffd08f"
    assert norm_guid("not-a-guid") is None


def test_ids_from_names():
    assert id_from_name("Hà Nội / Đà Nẵng") == "ha_noi_da_nang"
    assert id_from_name("self-categorization") == "self_categorization"
    assert id_from_name('"rushed"') == "rushed"
    assert id_from_name("???") == "code"


def test_description_round_trip():
    text = compose_description("Def line.", "Use me.", "Not me.", ["ex 1", "ex\n2"], qualkit_id="family.poor")
    assert text.endswith("\n\nqualkit id: family.poor")
    assert parse_description(text) == {
        "definition": "Def line.",
        "when_to_use": "Use me.",
        "when_not_to_use": "Not me.",
        "examples": ["ex 1", "ex 2"],
        "qualkit_id": "family.poor",
    }
    assert parse_description("Anything about jobs") == {
        "definition": "Anything about jobs",
        "when_to_use": "",
        "when_not_to_use": "",
        "examples": [],
        "qualkit_id": None,
    }


@pytest.mark.parametrize(
    "values, expected",
    [
        (["16", "17", ""], "Integer"),
        (["3.5", "4", "2"], "Float"),
        (["007", "12"], "Text"),
        (["true", "FALSE"], "Boolean"),
        (["2011-03-12", ""], "Date"),
        (["2011-02-30"], "Text"),
        (["3-4", "5"], "Text"),
        (["1e3"], "Text"),
        ([], "Text"),
    ],
)
def test_variable_types(values, expected):
    assert guess_variable_type(values) == expected


def test_newline_views_map_offsets():
    text = "ab\r\ncd\ne\rf"
    lf, fwd = newline_view(text, "lf")
    assert lf == "ab\ncd\ne\nf"
    crlf, fwd2 = newline_view(text, "crlf")
    assert crlf == "ab\r\ncd\r\ne\r\nf"
    for view, f in ((lf, fwd), (crlf, fwd2)):
        back = inverse_map(f, len(view))
        for i, ch in enumerate(text):
            if ch not in "\r\n":
                assert view[f[i]] == ch and back[f[i]] == i


# --------------------------------------------------------------------------- export


def test_export_writes_redacted_sources_selections_codings_cases(study, tmp_path):
    out = tmp_path / "study.qdpx"
    res = _export(study, out)
    root, files = _qde(out)
    assert res.sources == 3 and res.cases == 4 and res.users == 3
    assert res.skipped["rejected segment"] == 1
    assert res.skipped[SKIP_SUGGESTED] == 1
    # codes: 3 themes + 4 codes, nested, with stable GUIDs and descriptions
    codes = {c.get("name"): c for c in root.iter(PNS + "Code")}
    assert len(codes) == 7 and res.codes == 7
    assert codes["Poor family"].get("guid") == code_guid("refi-test", "family.poor_family")
    assert codes["Family experiences"].get("isCodable") == "false"
    assert codes["By a customer"].getparent() is codes["Physical violence"]
    desc = codes["Poor family"].find(PNS + "Description").text
    assert "When not to use: Poverty of the village" in desc and "- We had no rice." in desc
    # the redacted text is exported, not the original
    sources = {s.get("name"): s for s in root.iter(PNS + "TextSource")}
    assert set(sources) == {"int01", "int02", "fgd01"}
    stored = {n: files["sources/" + s.get("plainTextPath").split("//")[1]].decode("utf-8") for n, s in sources.items()}
    assert "Mai" in stored["int01"] and "Thảo" not in stored["int01"]
    assert not stored["int01"].startswith("\ufeff") and "\r" not in stored["int01"]
    assert sources["int02"].get("richTextPath", "").endswith(".docx")
    # every selection's offsets (code points of the stored text) hold the coded text
    for name, src in sources.items():
        for sel in src.iter(PNS + "PlainTextSelection"):
            a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
            assert stored[name][a:b] == sel.get("name").replace("\r\n", " ") or " ".join(
                stored[name][a:b].split()
            ) == sel.get("name")
    # two coders on the same span: one selection, two codings with their users
    users = {u.get("guid"): u.get("name") for u in root.iter(PNS + "User")}
    poor = [
        s
        for s in sources["int01"].iter(PNS + "PlainTextSelection")
        if s.get("name") == "We had no rice, we were very poor."
    ]
    assert len(poor) == 1
    assert sorted(users[c.get("creatingUser")] for c in poor[0].iter(PNS + "Coding")) == ["Hung", "Lan"]
    # emoji = one code point
    emoji = [s for s in sources["int01"].iter(PNS + "PlainTextSelection") if "😢" in s.get("name")][0]
    assert int(emoji.get("endPosition")) - int(emoji.get("startPosition")) == len(
        "My father hit my mother 😢 every night."
    )
    # cases: typed variables, values, membership
    vtypes = {v.get("name"): v.get("typeOfVariable") for v in root.iter(PNS + "Variable")}
    assert vtypes == {
        "sex": "Text",
        "age": "Integer",
        "score": "Float",
        "consent": "Boolean",
        "interviewed": "Date",
        "code_no": "Text",
        "province": "Text",
    }
    cases = {c.get("name"): c for c in root.iter(PNS + "Case")}
    src_guid = {s.get("guid"): n for n, s in sources.items()}
    assert [src_guid[r.get("targetGUID")] for r in cases["int01"].iter(PNS + "SourceRef")] == ["int01"]
    assert len(list(cases["P1"].iter(PNS + "SelectionRef"))) == 1
    assert cases["P1"].find(f"{PNS}VariableValue/{PNS}BooleanValue").text == "true"
    assert not [
        v
        for v in cases["P1"].iter(PNS + "VariableRef")
        if v.get("targetGUID") == next(x.get("guid") for x in root.iter(PNS + "Variable") if x.get("name") == "age")
    ]


def test_export_is_stable_and_validates(study, tmp_path, refi_xsd):
    xsd_dir = refi_xsd
    a, b = tmp_path / "a.qdpx", tmp_path / "b.qdpx"
    _export(study, a)
    _export(study, b, include_suggested=True, newline="crlf")
    assert validate_file(a, xsd_dir) == []
    assert validate_file(b, xsd_dir) == []
    ga = {c.get("name"): c.get("guid") for c in _qde(a)[0].iter(PNS + "Code")}
    gb = {c.get("name"): c.get("guid") for c in _qde(b)[0].iter(PNS + "Code")}
    assert ga == gb
    qdc = tmp_path / "cb.qdc"
    res = export_codebook(study / "codebook.yaml", qdc)
    assert res.codes == 7 and validate_file(qdc, xsd_dir) == []
    assert {c.get("guid") for c in etree.parse(str(qdc)).iter("{urn:QDA-XML:codebook:1.0}Code")} == set(ga.values())


def test_crlf_transcript_offsets_lf_and_crlf_storage(study, tmp_path):
    lf_out, crlf_out = tmp_path / "lf.qdpx", tmp_path / "crlf.qdpx"
    _export(study, lf_out)
    _export(study, crlf_out, newline="crlf")
    piece = "very poor.\r\nMy father"
    s, e = _span(INT01_RED, piece)
    for out, stored_piece, expect_start in ((lf_out, "very poor.\nMy father", s - 1), (crlf_out, piece, s)):
        root, files = _qde(out)
        src = next(x for x in root.iter(PNS + "TextSource") if x.get("name") == "int01")
        stored = files["sources/" + src.get("plainTextPath").split("//")[1]].decode("utf-8")
        sel = [x for x in src.iter(PNS + "PlainTextSelection") if x.get("name") == "very poor. My father"][0]
        a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
        assert stored[a:b] == stored_piece and a == expect_start  # one CRLF before it
    crlf_stored = next(v for k, v in _qde(crlf_out)[1].items() if k.endswith(".txt") and b"Mai" in v).decode()
    assert crlf_stored.count("\r\n") == crlf_stored.count("\n") == 5


def test_original_needs_the_flag_is_private_and_stays_out_of_output(study, tmp_path, cli):
    r = cli("export", "refi", study, "--output", tmp_path / "x.qdpx", "--transcripts", study / "transcripts")
    assert r.exit_code == 2 and "original" in r.stderr
    r = cli("export", "refi", study, "--output", study / "output" / "orig.qdpx", "--original")
    assert r.exit_code == 1 and "output folder" in r.stderr
    out = study / "private" / "orig.qdpx"
    r = cli("export", "refi", study, "--output", out, "--original")
    assert r.exit_code == 0, r.stderr
    assert "ORIGINAL" in r.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    root, files = _qde(out)
    text = b"".join(v for k, v in files.items() if k.endswith(".txt")).decode()
    assert "Thảo" in text
    # segments were coded on the redacted text: the ones whose text is not in the original are left out
    assert "segment whose text is not at its offsets" in r.stderr


def test_original_plan_points_at_originals_and_guards_the_output_folder(study):
    from qualkit.refi import check_original_destination

    plan = plan_export(load_settings(study), original=True)
    assert plan.original and plan.transcripts == (study / "transcripts").resolve()
    with pytest.raises(SafetyError):
        check_original_destination(study / "output" / "sub" / "x.qdpx", plan)
    check_original_destination(study / "private" / "x.qdpx", plan)  # fine
    redacted = plan_export(load_settings(study))
    assert redacted.transcripts == (study / "output" / "transcripts").resolve()
    assert redacted.segments == (study / "output" / "segments.csv").resolve()
    check_original_destination(study / "output" / "x.qdpx", redacted)  # redacted: shareable


def test_no_redacted_transcripts_is_an_error(study, tmp_path):
    import shutil

    shutil.rmtree(study / "output" / "transcripts")
    with pytest.raises(InputError, match="no redacted transcripts"):
        plan_export(load_settings(study))


# --------------------------------------------------------------------------- round trip


def test_round_trip_export_import(study, tmp_path):
    out = tmp_path / "rt.qdpx"
    _export(study, out)
    res = import_refi(out, tmp_path / "back")
    back = tmp_path / "back"
    assert res.documents == 3 and res.codes == 7
    # codebook: same paths, labels and definition fields
    orig_cb, new_cb = load_codebook(study / "codebook.yaml"), load_codebook(back / "codebook.yaml")
    assert [t.id for t in new_cb.themes] == [t.id for t in orig_cb.themes]
    assert new_cb.code_paths == orig_cb.code_paths
    for c in orig_cb.iter_codes():
        n = new_cb.code(c.path)
        assert (n.label, n.definition, n.when_to_use, n.when_not_to_use, n.examples) == (
            c.label,
            c.definition,
            c.when_to_use,
            c.when_not_to_use,
            c.examples,
        )
    assert new_cb.theme("family").description == orig_cb.theme("family").description
    # segments: same (document, code, coder, case, text) and text at the new offsets
    seg_in = read_segments(study / "output" / "segments.csv")
    seg_in = seg_in[seg_in["effective_status"] == "accepted"]
    seg_out = read_segments(back / "segments.csv")

    def norm(t):
        return t.replace("\r\n", "\n")

    want = sorted((r.document, r.code, r.coder, r.case_id, norm(r.text)) for r in seg_in.itertuples())
    got = sorted((r.document, r.code, r.coder, r.case_id, norm(r.text)) for r in seg_out.itertuples())
    assert got == want
    docs = {p.stem: read_document(p) for p in (back / "transcripts").iterdir()}
    for r in seg_out.itertuples():
        assert docs[r.document].text[r.start : r.end] == r.text
        assert r.status == "accepted"
    assert set(seg_out["speaker"]) >= {"Respondent", "P1"}
    # cases: same attributes (booleans in XML form)
    c_in, c_out = read_cases(study / "cases.csv"), read_cases(back / "cases.csv")
    assert list(c_out.index) == list(c_in.index)
    assert list(c_out.columns) == list(c_in.columns)
    for cid in c_in.index:
        for col in c_in.columns:
            a, b = c_in.at[cid, col], c_out.at[cid, col]
            if col == "consent" and isinstance(a, str):
                a = a.lower()
            assert (a == b) or (a is b) or (str(a) == str(b)), (cid, col, a, b)


def test_round_trip_crlf_export_keeps_offsets(study, tmp_path):
    out = tmp_path / "rt.qdpx"
    _export(study, out, newline="crlf")
    import_refi(out, tmp_path / "back")
    seg = read_segments(tmp_path / "back" / "segments.csv")
    orig = read_segments(study / "output" / "segments.csv")
    pairs_in = {
        (r.document, r.code, r.coder, int(r.start), int(r.end))
        for r in orig.itertuples()
        if r.document == "int01" and r.effective_status == "accepted"
    }
    pairs_out = {
        (r.document, r.code, r.coder, int(r.start), int(r.end)) for r in seg.itertuples() if r.document == "int01"
    }
    assert pairs_out == pairs_in  # CRLF stored as is: offsets identical to ours


# --------------------------------------------------------------------------- import: other tools' files

ATLAS_TEXT = "I: How was breakfast?\r\nR: We had Coke for breakfast.\r\nR: Then we slept.\r\n"


def _qdpx(path: Path, qde: str, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", qde.encode("utf-8"))
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _project(body: str, origin: str = "Test", extra: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="Breakfast study" '
        f'origin="{origin}" {extra}>{body}</Project>'
    )


CODES = """
<Users><User guid="{AD68FBE7-E1EE-4A82-A279-23CC698C89EB}" name="Friedrich"/></Users>
<CodeBook><Codes>
  <Code guid="{5215CC69-B628-4E02-AFB9-9BEEAEE55808}" name="Topics" isCodable="false">
    <Code guid="D7AA29DA-519B-4946-9B90-253B6DB8FD0A" name="Economy" isCodable="true"><Description>Jobs, taxes</Description></Code>
    <Code guid="0DCEF2F5-E55C-49DA-8C33-9B0803C7AEB4" name="Économie!" isCodable="true"/>
  </Code>
  <Code guid="7496BA52-9C8D-4396-8FAB-CC438614E453" name="Coke" isCodable="true"/>
  <Code guid="0983E32E-6866-431A-BD94-DAC9BB963825" name="Coke::full-fat Coke" isCodable="true"/>
  <Code guid="AE6D04CE-D987-4FC8-AF97-D72CA6FFD08F" name="cornflakes" isCodable="true"/>
</Codes></CodeBook>"""


def _sel(start: int, end: int, code: str, name: str = "", guid: str | None = None) -> str:
    guid = guid or str(uuid.uuid4()).upper()
    return (
        f'<PlainTextSelection guid="{guid}" name="{name}" startPosition="{start}" endPosition="{end}" '
        f'creatingUser="AD68FBE7-E1EE-4A82-A279-23CC698C89EB"><Coding guid="{uuid.uuid4()}">'
        f'<CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>'
    )


def _text_src(
    guid: str, name: str, sels: str, *, plain: str | None = None, rich: str | None = None, inline: str | None = None
) -> str:
    attrs = f'guid="{guid}" name="{name}"'
    if plain:
        attrs += f' plainTextPath="{plain}"'
    if rich:
        attrs += f' richTextPath="{rich}"'
    content = f"<PlainTextContent>{inline}</PlainTextContent>" if inline is not None else ""
    return f"<TextSource {attrs}>{content}{sels}</TextSource>"


def _one_char_crlf(text: str, piece: str) -> tuple[int, int]:
    lf = text.replace("\r\n", "\n")
    return _span(lf, piece.replace("\r\n", "\n"))


def test_import_atlas_style_crlf_counted_once_braced_upper_guids_bom(tmp_path):
    piece = "We had Coke for breakfast."
    a, b = _one_char_crlf(ATLAS_TEXT, "R: Then we slept.")
    c, d = _one_char_crlf(ATLAS_TEXT, piece)
    src = _text_src(
        "{69A4332D-5B31-4915-B520-5275CFC21B40}",
        "Mabel.txt",
        _sel(c, d, "{7496BA52-9C8D-4396-8FAB-CC438614E453}", piece)
        + _sel(a, b, "0983e32e-6866-431a-bd94-dac9bb963825"),  # lower case, no name
        plain="internal://{01106019-2518-43DD-BBD1-8F0252BACB30}.txt",
    )
    qde = _project(CODES + f"<Sources>{src}</Sources>", origin="ATLAS.ti 8.4.0")
    path = _qdpx(
        tmp_path / "atlas.qdpx",
        qde,
        {"Sources/01106019-2518-43DD-BBD1-8F0252BACB30.TXT": b"\xef\xbb\xbf" + ATLAS_TEXT.encode("utf-8")},
    )
    res = import_refi(path, tmp_path / "out")
    doc = read_document(tmp_path / "out" / "transcripts" / "Mabel.txt")
    assert doc.text == ATLAS_TEXT and not doc.bom  # line breaks kept, BOM dropped
    seg = read_segments(tmp_path / "out" / "segments.csv")
    got = {r.code: doc.text[r.start : r.end] for r in seg.itertuples()}
    assert got == {"coke.general": piece, "coke.full_fat_coke": "R: Then we slept."}  # Coke got a sub-code
    assert set(seg["coder"]) == {"Friedrich"}
    assert res.line_breaks["Mabel"] == "one"
    cb = load_codebook(tmp_path / "out" / "codebook.yaml")
    assert cb.code_paths == [
        "topics.economy",
        "topics.economie",
        "coke.full_fat_coke",
        "coke.general",
        "codes.cornflakes",
    ]
    assert cb.code("topics.economy").definition == "Jobs, taxes"
    assert cb.code("coke.full_fat_coke").label == "full-fat Coke"
    assert res.codes == 6


def test_import_crlf_counted_twice_by_default_and_detected_from_names(tmp_path):
    piece = "R: Then we slept."
    s, e = _span(ATLAS_TEXT, piece)  # code points of the file: CRLF = 2
    c1, d1 = _one_char_crlf(ATLAS_TEXT, piece)
    srcs = _text_src(
        "11111111-1111-1111-1111-111111111111",
        "two",
        _sel(s, e, "AE6D04CE-D987-4FC8-AF97-D72CA6FFD08F"),
        plain="internal://11111111-1111-1111-1111-111111111111.txt",
    ) + _text_src(
        "22222222-2222-2222-2222-222222222222",
        "one",
        _sel(c1, d1, "AE6D04CE-D987-4FC8-AF97-D72CA6FFD08F", name=piece),
        plain="internal://22222222-2222-2222-2222-222222222222.txt",
    )
    qde = _project(CODES + f"<Sources>{srcs}</Sources>", origin="NVivo 14")
    path = _qdpx(
        tmp_path / "p.qdpx",
        qde,
        {
            "sources/11111111-1111-1111-1111-111111111111.txt": ATLAS_TEXT.encode(),
            "sources/22222222-2222-2222-2222-222222222222.txt": ATLAS_TEXT.encode(),
        },
    )
    res = import_refi(path, tmp_path / "out")
    seg = read_segments(tmp_path / "out" / "segments.csv")
    assert set(seg["text"]) == {piece}
    assert res.line_breaks == {"two": "file", "one": "one"}
    # forcing a convention overrides the evidence
    res2 = import_refi(path, tmp_path / "out2", line_breaks="file")
    seg2 = read_segments(tmp_path / "out2" / "segments.csv")
    assert piece in set(seg2["text"]) and len(set(seg2["text"])) == 2
    assert res2.line_breaks == {"two": "file", "one": "file"}


def test_import_docx_only_inline_text_relative_and_absolute_paths(tmp_path):
    word = tmp_path / "w.docx"
    _docx(word, INT02_PARAS)
    wtext = read_document(word).text
    ws, we = _span(wtext, "We had no rice at home.")
    ext = tmp_path / "external" / "AR"
    ext.mkdir(parents=True)
    (ext / "john.txt").write_text("John: I sold cornflakes.", encoding="utf-8")
    (tmp_path / "abs.txt").write_text("Ann: cornflakes again.", encoding="utf-8")
    (tmp_path / "external" / "abs.txt").write_text("Ann: cornflakes again.", encoding="utf-8")
    inline = "Bo: cornflakes inline."
    cf = "AE6D04CE-D987-4FC8-AF97-D72CA6FFD08F"
    srcs = (
        _text_src(
            "33333333-3333-3333-3333-333333333333",
            "Word only.docx",
            _sel(ws, we, cf),
            rich="internal://33333333-3333-3333-3333-333333333333.docx",
        )
        + _text_src("44444444-4444-4444-4444-444444444444", "inline", _sel(4, 14, cf), inline=inline)
        + _text_src("55555555-5555-5555-5555-555555555555", "John", _sel(13, 23, cf), plain="relative:///AR/john.txt")
        + _text_src(
            "66666666-6666-6666-6666-666666666666",
            "Ann",
            _sel(5, 15, cf),
            plain=f"absolute://{(tmp_path / 'abs.txt').as_posix()}",
        )
        + _text_src("77777777-7777-7777-7777-777777777777", "lost", "", plain="internal://missing.txt")
        + '<PictureSource guid="88888888-8888-8888-8888-888888888888" name="pic" path="internal://x.jpg"/>'
    )
    qde = _project(CODES + f"<Sources>{srcs}</Sources>", extra=f'basePath="{(tmp_path / "external").as_posix()}"')
    path = _qdpx(tmp_path / "p.qdpx", qde, {"sources/33333333-3333-3333-3333-333333333333.docx": word.read_bytes()})
    with pytest.raises(InputError, match="not in the archive"):  # files outside the archive: only with --sources
        import_refi(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    res = import_refi(path, tmp_path / "out", sources=tmp_path / "external")
    tdir = tmp_path / "out" / "transcripts"
    assert sorted(p.name for p in tdir.iterdir()) == ["Ann.txt", "John.txt", "Word_only.docx", "inline.txt"]
    seg = read_segments(tmp_path / "out" / "segments.csv")
    texts = {r.document: r.text for r in seg.itertuples()}
    assert texts == {
        "Word_only": "We had no rice at home.",
        "inline": "cornflakes",
        "John": "cornflakes",
        "Ann": "cornflakes",
    }
    assert seg.set_index("document").at["Word_only", "speaker"] == "Respondent"
    assert res.skipped["text source without readable text"] == 1
    assert res.skipped["picture source (not imported)"] == 1
    assert any("missing.txt" in w for w in res.warnings)


def test_import_nested_codes_theme_codings_cases_and_nvivo_case_nodes(tmp_path):
    text = "A: one two three four five six"
    case_g = "99999999-0000-0000-0000-000000000001"
    var_g = "99999999-0000-0000-0000-0000000000aa"
    codes = CODES.replace("</Codes>", f'<Code guid="{case_g}" name="Case A" isCodable="true"/></Codes>')
    sels = (
        _sel(3, 6, "{5215CC69-B628-4E02-AFB9-9BEEAEE55808}")  # coded at the theme "Topics"
        + _sel(7, 10, "D7AA29DA-519B-4946-9B90-253B6DB8FD0A", guid="AAAAAAAA-0000-0000-0000-000000000001")
        + _sel(11, 16, case_g)  # NVivo: the case node coded here
        + _sel(11, 16, "ae6d04ce-d987-4fc8-af97-d72ca6ffd08f")
        + _sel(17, 21, "12345678-0000-0000-0000-000000000000")
    )  # unknown code
    body = (
        codes + f'<Variables><Variable guid="{var_g}" name="age" typeOfVariable="Integer"/>'
        '<Variable guid="99999999-0000-0000-0000-0000000000bb" name="case" typeOfVariable="Text"/></Variables>'
        f'<Cases><Case guid="{{{case_g.upper()}}}" name="Case A"><VariableValue><VariableRef targetGUID="{var_g}"/>'
        "<IntegerValue>16</IntegerValue></VariableValue></Case>"
        '<Case guid="99999999-0000-0000-0000-000000000002" name="doc1">'
        '<VariableValue><VariableRef targetGUID="99999999-0000-0000-0000-0000000000bb"/><TextValue>x</TextValue>'
        '</VariableValue><SourceRef targetGUID="{BBBBBBBB-0000-0000-0000-000000000001}"/>'
        '<SelectionRef targetGUID="aaaaaaaa-0000-0000-0000-000000000001"/></Case></Cases>'
        f"<Sources>{_text_src('BBBBBBBB-0000-0000-0000-000000000001', 'doc1', sels, inline=text)}</Sources>"
    )
    res = import_refi(_qdpx(tmp_path / "p.qdpx", _project(body), {}), tmp_path / "out")
    cb = load_codebook(tmp_path / "out" / "codebook.yaml")
    assert "topics.general" in cb.code_paths and "codes.case_a" not in cb.code_paths
    seg = read_segments(tmp_path / "out" / "segments.csv")
    rows = {r.code: (r.text, r.case) for r in seg.itertuples()}
    assert rows == {
        "topics.general": ("one", ""),
        "topics.economy": ("two", ""),
        "codes.cornflakes": ("three", "Case A"),
    }
    assert res.skipped["coding of a code not in the codebook"] == 1
    cases = read_cases(tmp_path / "out" / "cases.csv")
    assert list(cases.columns) == ["case", "age", "case_2"]
    assert cases.at["Case A", "age"] == "16" and cases.at["doc1", "case_2"] == "x"


def test_import_qdc_codebook_only(tmp_path):
    qdc = tmp_path / "cb.qdc"
    qdc.write_text(
        '<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        '<Code guid="{5215cc69-b628-4e02-afb9-9beeaee55808}" name="Topics" isCodable="false">'
        '<Code guid="d7aa29da-519b-4946-9b90-253b6db8fd0a" name="Economy" isCodable="true"/></Code>'
        "</Codes></CodeBook>",
        encoding="utf-8",
    )
    res = import_refi(qdc, tmp_path / "out")
    assert res.kind == "qdc" and res.codes == 2
    assert load_codebook(tmp_path / "out" / "codebook.yaml").code_paths == ["topics.economy"]
    assert not (tmp_path / "out" / "segments.csv").exists()


def test_import_refuses_to_overwrite_and_bad_files(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "codebook.yaml").write_text("x")
    qdc = tmp_path / "cb.qdc"
    qdc.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>')
    with pytest.raises(UsageError):
        import_refi(qdc, tmp_path / "out")
    bad = tmp_path / "bad.qdc"
    bad.write_text("<CodeBook><Codes>")
    with pytest.raises(InputError, match="not valid XML"):
        import_refi(bad, tmp_path / "o2")


def test_real_nvivo_export_imports_every_code_and_source(bench_data, tmp_path):
    sample = bench_data / "refi-qda" / "nvivo-export-sample.qdpx"
    with zipfile.ZipFile(sample) as zf:
        root = etree.fromstring(zf.read("project.qde"))
    n_codes = len(list(root.iter(PNS + "Code")))
    n_sources = len(list(root.iter(PNS + "TextSource")))
    res = import_refi(sample, tmp_path / "nv")
    cb = load_codebook(tmp_path / "nv" / "codebook.yaml")
    assert n_codes == 262
    assert res.codes == n_codes == len(cb.themes) + len(cb.code_paths)
    with open(tmp_path / "nv" / "refi-map.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    code_rows = [r for r in rows if r["kind"] == "code"]
    assert {norm_guid(c.get("guid")) for c in root.iter(PNS + "Code")} == {norm_guid(r["guid"]) for r in code_rows}
    theme_ids = {t.id for t in cb.themes}
    assert all(r["qualkit"] in theme_ids or cb.has_code(r["qualkit"]) for r in code_rows)
    # the duplicate names (programming, citizenship...) stay apart by their paths
    assert sum(p.endswith(".citizenship") for p in cb.code_paths) == 3
    assert res.documents == n_sources == len(list((tmp_path / "nv" / "transcripts").iterdir()))


# --------------------------------------------------------------------------- CLI


def test_cli_export_import_and_qdc(study, tmp_path, cli, refi_xsd):
    out = tmp_path / "cli.qdpx"
    r = cli("export", "refi", study, "--output", out, "--validate", refi_xsd)
    assert r.exit_code == 0, r.stderr
    assert "3 sources" in r.stdout and "Valid" in r.stdout
    assert "1 suggested" in r.stderr and "--include-suggested" in r.stderr
    r = cli("import", "refi", out, "--output", tmp_path / "imp")
    assert r.exit_code == 0, r.stderr
    assert "3 transcripts, 7 codes, 8 coded segments, 4 cases" in r.stdout
    r = cli("import", "refi", out, "--output", tmp_path / "imp")
    assert r.exit_code == 2 and "--force" in r.stderr
    r = cli("export", "refi", "--codebook", study / "codebook.yaml", "--output", tmp_path / "cb.qdc")
    assert r.exit_code == 0 and (tmp_path / "cb.qdc").is_file()
    r = cli("export", "refi", study, "--output", tmp_path / "x.zip")
    assert r.exit_code == 2 and ".qdpx" in r.stderr


# --------------------------------------------------------------------------- more formats and pitfalls


def test_vtt_md_and_control_characters_round_trip(tmp_path, refi_xsd):
    tdir = tmp_path / "red"
    tdir.mkdir()
    (tdir / "fgd02.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Lan>We had no rice.\n\n"
        "00:00:05.000 --> 00:00:07.000\n<v Hoa>My father drank.\n",
        encoding="utf-8",
    )
    (tdir / "notes.md").write_text("**R:** page one\x0cpage two, we were poor.\n", encoding="utf-8")
    docs = {p.stem: read_document(p).text for p in tdir.iterdir()}
    rows = []
    for doc, piece in (("fgd02", "My father drank."), ("notes", "we were poor.")):
        s, e = _span(docs[doc], piece)
        rows.append(f"{doc},family.poor_family,,,{s},{e},,Lan,accepted,{piece}")
    (tmp_path / "seg.csv").write_text(
        "document,code,case,segment,start,end,speaker,coder,status,text\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    out = tmp_path / "x.qdpx"
    export_project(out, transcripts=tdir, codebook=tmp_path / "cb.yaml", segments=tmp_path / "seg.csv")
    assert validate_file(out, refi_xsd) == []
    import_refi(out, tmp_path / "back")
    seg = read_segments(tmp_path / "back" / "segments.csv")
    back_docs = {p.stem: read_document(p).text for p in (tmp_path / "back" / "transcripts").iterdir()}
    assert back_docs == docs  # cue texts / markdown (form feed included) stored as the text qualkit reads
    assert {r.document: back_docs[r.document][r.start : r.end] for r in seg.itertuples()} == {
        "fgd02": "My father drank.",
        "notes": "we were poor.",
    }


def test_import_detects_a_counted_bom_from_selection_names(tmp_path):
    text = "R: We had Coke for breakfast.\nR: Then we slept.\n"
    piece = "Then we slept."
    s, e = _span(text, piece)
    src = _text_src(
        "12121212-1212-1212-1212-121212121212",
        "bom",
        _sel(s + 1, e + 1, "AE6D04CE-D987-4FC8-AF97-D72CA6FFD08F", name=piece),
        plain="internal://12121212-1212-1212-1212-121212121212.txt",
    )
    path = _qdpx(
        tmp_path / "p.qdpx",
        _project(CODES + f"<Sources>{src}</Sources>"),
        {"sources/12121212-1212-1212-1212-121212121212.txt": b"\xef\xbb\xbf" + text.encode()},
    )
    res = import_refi(path, tmp_path / "out")
    seg = read_segments(tmp_path / "out" / "segments.csv")
    assert list(seg["text"]) == [piece]
    assert res.line_breaks["bom"] == "file (BOM counted)"


def test_line_break_maps_keep_every_span_property():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=200, deadline=None)
    @given(st.text(alphabet="ab\r\n", max_size=30), st.integers(0, 30), st.integers(0, 30))
    def check(text, i, j):
        s, e = sorted((min(i, len(text)), min(j, len(text))))
        for mode in ("lf", "crlf"):
            view, fwd = newline_view(text, mode)
            back = inverse_map(fwd, len(view))
            norm = lambda t: t.replace("\r\n", "\n").replace("\r", "\n")  # noqa: E731
            # letters keep their order and the span's letters survive the trip both ways
            assert view[fwd[s] : fwd[e]].replace("\r", "").replace("\n", "") == text[s:e].replace("\r", "").replace(
                "\n", ""
            )
            a, b = back[fwd[s]], back[fwd[e]]
            assert norm(text[a:b]).strip("\n") == norm(text[s:e]).strip("\n") or a == s and b == e

    check()


def test_newline_maps_back_map_equals_the_inverse_of_the_forward_map():
    from qualkit.refi.common import newline_maps

    for text in ("", "a", "\r\n", "ab\r\ncd\ne\rf\r\n\n\r\r\nz", "\n\n", "x\r"):
        for mode in ("lf", "crlf", "asis"):
            view, fwd, back = newline_maps(text, mode)
            assert len(fwd) == len(text) + 1 and len(back) == len(view) + 1
            assert back == inverse_map(fwd, len(view)), (text, mode)


def test_export_without_codebook_builds_codes_from_segments(study, tmp_path, refi_xsd):
    out = tmp_path / "nocb.qdpx"
    res = export_project(out, transcripts=study / "output" / "transcripts", segments=study / "output" / "segments.csv")
    assert validate_file(out, refi_xsd) == []
    assert any("no codebook" in w for w in res.warnings)
    names = [c.get("name") for c in _qde(out)[0].iter(PNS + "Code")]
    assert names == ["family", "domestic_violence", "poor_family", "violence", "physical", "by_customer"]
    res2 = import_refi(out, tmp_path / "back")
    assert load_codebook(tmp_path / "back" / "codebook.yaml").code_paths == [
        "family.domestic_violence",
        "family.poor_family",
        "violence.physical",
        "violence.physical.by_customer",
    ]
    assert res2.segments == res.codings


def test_cli_import_reports_line_break_conventions_and_losses(tmp_path, cli):
    piece = "We had Coke for breakfast."
    c, d = _one_char_crlf(ATLAS_TEXT, piece)
    src = _text_src(
        "69A4332D-5B31-4915-B520-5275CFC21B40",
        "Mabel",
        _sel(c, d, "AE6D04CE-D987-4FC8-AF97-D72CA6FFD08F", piece),
        plain="internal://01106019-2518-43DD-BBD1-8F0252BACB30.txt",
    )
    pic = '<PictureSource guid="88888888-8888-8888-8888-888888888888" name="pic" path="internal://x.jpg"/>'
    qde = _project(CODES + f"<Sources>{src}{pic}</Sources>", origin="ATLAS.ti 9")
    path = _qdpx(tmp_path / "a.qdpx", qde, {"sources/01106019-2518-43DD-BBD1-8F0252BACB30.txt": ATLAS_TEXT.encode()})
    r = cli("import", "refi", path, "--output", tmp_path / "out")
    assert r.exit_code == 0, r.stderr
    assert "1 transcripts" in r.stdout and "one (1 transcripts)" in r.stdout
    assert "picture source" in r.stderr
    r = cli("import", "refi", path, "--output", tmp_path / "out2", "--line-breaks", "sideways")
    assert r.exit_code == 2
