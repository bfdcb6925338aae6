"""Redacted .docx output: body runs keep their formatting, everything else is cleaned.

The test document is built with python-docx (plus a few parts python-docx has no
API for, added to the zip by hand: footnotes, endnotes, people, custom
properties, an attached template, a document variable). The output zip is then
scanned part by part: no identifier may be left in any XML part.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zipfile
import zlib
from pathlib import Path

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Pt

from qualkit.readers import read_document
from qualkit.writers import apply_replacements, write_redacted

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W15_NS = "http://schemas.microsoft.com/office/word/2012/wordml"

# what the test's "detector" replaces in the body, and its replacement text
BODY = {
    "Hoang\tLieu": "[PERSON 3]",  # a name with a tab inside one run
    "Kha Van Dung": "[PERSON 2]",  # spans a plain and a bold run
    "lieu.kha": "[HANDLE 1]",  # inside a hyperlink's text
    "Ha Giang": "[PLACE 1]",  # an italic run
    "Lieu": "[PERSON 1]",  # the bold speaker label
}
BODY_RE = re.compile("|".join(re.escape(k) for k in BODY))
# every identifier anywhere in the package (body, properties, authors, links...)
IDENTIFIERS = [
    "Lieu",
    "Kha Van Dung",
    "Ha Giang",
    "Hoang",
    "Pham Quoc Bao",
    "Bao Pham",
    "Vo Thi Hanh",
    "VTH",
    "Dinh Cong Son",
    "son.dinh",
    "baopham",
    "Tamkhoa",
    "Le Van Khoi",
    "Dong Van",
]
REDACT_RE = re.compile("|".join(re.escape(k) for k in sorted(IDENTIFIERS, key=len, reverse=True)), re.IGNORECASE)


def redact(text: str) -> str:
    return REDACT_RE.sub("[R]", text)


def body_replacements(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), BODY[m.group()]) for m in BODY_RE.finditer(text)]


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
        + chunk(b"IEND", b"")
    )


def add_hyperlink(paragraph, text: str, url: str) -> None:
    rid = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    link.set(qn("w:tooltip"), "Profile of Lieu")
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def add_field(paragraph, instruction: str, result: str) -> None:
    def fld(kind: str) -> None:
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        paragraph.add_run()._r.append(el)

    fld("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = instruction
    paragraph.add_run()._r.append(instr)
    fld("separate")
    paragraph.add_run(result)
    fld("end")


TEXTBOX = (
    f'<w:r xmlns:w="{W_NS}" xmlns:v="urn:schemas-microsoft-com:vml"><w:pict>'
    '<v:shape id="box1" style="width:120pt;height:40pt"><v:textbox><w:txbxContent>'
    "<w:p><w:r><w:t>Box: Lieu lives in Dong Van</w:t></w:r></w:p>"
    "</w:txbxContent></v:textbox></v:shape></w:pict></w:r>"
)
TRACKED = (
    f'<w:p xmlns:w="{W_NS}"><w:r><w:t xml:space="preserve">Interviewer: And </w:t></w:r>'
    '<w:ins w:id="901" w:author="Dinh Cong Son" w:date="2011-01-02T00:00:00Z">'
    "<w:r><w:t>Pham Quoc Bao</w:t></w:r></w:ins>"
    '<w:del w:id="902" w:author="Dinh Cong Son" w:date="2011-01-02T00:00:00Z">'
    "<w:r><w:delText>Bao Pham</w:delText></w:r></w:del>"
    '<w:r><w:t xml:space="preserve"> helped?</w:t></w:r></w:p>'
)


def _notes(kind: str, text: str) -> bytes:
    tag = kind[:-1]  # footnotes -> footnote
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:{kind} xmlns:w="{W_NS}">'
        f'<w:{tag} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{tag}>'
        f'<w:{tag} w:id="1"><w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p></w:{tag}>'
        f"</w:{kind}>"
    ).encode()


PEOPLE = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w15:people xmlns:w15="{W15_NS}">'
    '<w15:person w15:author="Dinh Cong Son"><w15:presenceInfo w15:providerId="AD" '
    'w15:userId="son.dinh@example.org"/></w15:person></w15:people>'
).encode()
CUSTOM = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties '
    b'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    b'<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Interviewee">'
    b"<vt:lpwstr>Lieu, Ha Giang</vt:lpwstr></property></Properties>"
)


def _add_parts(path: Path) -> None:
    """Add the parts python-docx cannot create, by editing the zip."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    ct = parts["[Content_Types].xml"].decode()
    overrides = {
        "/word/footnotes.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
        "/word/endnotes.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.endnotes+xml",
        "/word/people.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.people+xml",
        "/docProps/custom.xml": "application/vnd.openxmlformats-officedocument.custom-properties+xml",
    }
    ct = ct.replace(
        "</Types>", "".join(f'<Override PartName="{k}" ContentType="{v}"/>' for k, v in overrides.items()) + "</Types>"
    )
    parts["[Content_Types].xml"] = ct.encode()
    rels = parts["word/_rels/document.xml.rels"].decode()
    rels = rels.replace(
        "</Relationships>",
        (
            '<Relationship Id="rIdF1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>'
            '<Relationship Id="rIdE1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/endnotes" Target="endnotes.xml"/>'
            '<Relationship Id="rIdP1" Type="http://schemas.microsoft.com/office/2011/relationships/people" Target="people.xml"/>'
            "</Relationships>"
        ),
    )
    parts["word/_rels/document.xml.rels"] = rels.encode()
    pkg_rels = (
        parts["_rels/.rels"]
        .decode()
        .replace(
            "</Relationships>",
            (
                '<Relationship Id="rIdC1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" '
                'Target="docProps/custom.xml"/></Relationships>'
            ),
        )
    )
    parts["_rels/.rels"] = pkg_rels.encode()
    parts["word/footnotes.xml"] = _notes("footnotes", "Lieu's cousin works in Ha Giang.")
    parts["word/endnotes.xml"] = _notes("endnotes", "Checked by Vo Thi Hanh.")
    parts["word/people.xml"] = PEOPLE
    parts["docProps/custom.xml"] = CUSTOM
    app = parts["docProps/app.xml"].decode()
    parts["docProps/app.xml"] = (
        app.replace("<Manager/>", "<Manager>Le Van Khoi</Manager>")
        .replace("<Company/>", "<Company>Tamkhoa Research</Company>")
        .encode()
    )
    settings = parts["word/settings.xml"].decode()
    head_end = settings.index(">", settings.index("<w:settings")) + 1
    settings = (
        settings[:head_end] + '<w:attachedTemplate r:id="rIdT1"/>'
        '<w:docVars><w:docVar w:name="interviewee" w:val="Lieu from Ha Giang"/></w:docVars>' + settings[head_end:]
    )
    parts["word/settings.xml"] = settings.encode()
    parts["word/_rels/settings.xml.rels"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
        b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdT1" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" '
        b'Target="file:///C:/Users/baopham/AppData/Roaming/Microsoft/Templates/Normal.dotm" TargetMode="External"/>'
        b"</Relationships>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


@pytest.fixture
def transcript(tmp_path) -> Path:
    d = docx.Document()
    p0 = d.add_paragraph()
    p0.add_run("Lieu:").bold = True
    p0.add_run(" I grew up in ")
    p0.add_run("Ha Giang").italic = True
    p0.add_run(" with my uncle ")
    p0.add_run("Kha ")
    p0.add_run("Van Dung").bold = True
    p0.add_run(".")
    p1 = d.add_paragraph("Interviewer: Did you meet ")
    p1.add_run("Hoang\tLieu").font.size = Pt(14)
    p1.add_run(" there?")
    p2 = d.add_paragraph()
    p2.add_run("Lieu:").bold = True
    p2.add_run(" See ")
    add_hyperlink(p2, "facebook.com/lieu.kha", "https://facebook.com/lieu.kha")
    p2.add_run(" or ")
    add_field(p2, ' HYPERLINK "mailto:lieu.kha@example.org" ', "my email")
    p2.add_run(".")
    p2._p.append(parse_xml(TEXTBOX))
    d.element.body.insert(d.element.body.index(p2._p) + 1, parse_xml(TRACKED))
    img = tmp_path / "lieu_photo.png"
    img.write_bytes(tiny_png())
    d.add_paragraph().add_run().add_picture(str(img))
    d.inline_shapes[0]._inline.docPr.set("descr", "Lieu at the Ha Giang market")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).paragraphs[0].add_run("Lieu").bold = True
    table.cell(0, 1).text = "I left Ha Giang in 2009."
    inner = table.cell(1, 1).add_table(rows=1, cols=1)
    inner.cell(0, 0).text = "Kha Van Dung knows"
    d.add_paragraph("Interviewer: Thank you.")
    d.add_comment(p0.runs[2], text="Ask Lieu about Ha Giang", author="Vo Thi Hanh", initials="VTH")

    section = d.sections[0]
    section.header.paragraphs[0].text = "Interview with Lieu"
    section.footer.paragraphs[0].text = "Transcribed by Vo Thi Hanh"
    section.different_first_page_header_footer = True
    section.first_page_header.paragraphs[0].add_run("Kha Van Dung").bold = True
    d.settings.odd_and_even_pages_header_footer = True
    section.even_page_footer.paragraphs[0].text = "Ha Giang 2010"
    second = d.add_section()
    second.header.is_linked_to_previous = False
    second.header.paragraphs[0].text = "Part two: Hoang"

    props = d.core_properties
    props.author = "Pham Quoc Bao"
    props.last_modified_by = "Bao Pham"
    props.title = "Interview Lieu"
    props.subject = "Ha Giang"
    props.keywords = "Lieu; Kha Van Dung"
    props.comments = "Recorded by Pham Quoc Bao"
    props.category = "Ha Giang"
    path = tmp_path / "in" / "int09.docx"
    path.parent.mkdir()
    d.save(str(path))
    _add_parts(path)
    return path


def xml_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist() if i.filename.endswith((".xml", ".rels"))}


def leftovers(path: Path) -> dict[str, list[str]]:
    found = {}
    for name, data in xml_parts(path).items():
        low = data.decode("utf-8").lower()
        hits = [ident for ident in IDENTIFIERS if ident.lower() in low]
        if hits:
            found[name] = hits
    return found


def test_fixture_has_identifiers_everywhere(transcript):
    # the test would prove nothing if the identifiers were not there to begin with
    where = leftovers(transcript)
    for part in (
        "word/document.xml",
        "word/comments.xml",
        "word/footnotes.xml",
        "word/endnotes.xml",
        "word/people.xml",
        "docProps/core.xml",
        "docProps/app.xml",
        "docProps/custom.xml",
        "word/settings.xml",
        "word/_rels/settings.xml.rels",
        "word/_rels/document.xml.rels",
    ):
        assert part in where, part
    assert sum(name.startswith(("word/header", "word/footer")) for name in where) >= 4
    with zipfile.ZipFile(transcript) as z:
        assert "docProps/thumbnail.jpeg" in z.namelist()


def test_docx_round_trip(transcript, tmp_path):
    before = hashlib.sha256(transcript.read_bytes()).hexdigest()
    doc = read_document(transcript)
    reps = body_replacements(doc.text)
    assert len(reps) == 6
    out = tmp_path / "out" / "int09.docx"
    seen: list[str] = []
    write_redacted(doc, reps, out, redact_text=lambda t: seen.append(t) or redact(t))
    # body text is replaced from the detector's spans only, never passed through redact_text
    assert seen and not any("grew up" in t or "Did you meet" in t or "Thank you" in t for t in seen)
    assert any("helped" not in t and "Pham Quoc Bao" in t for t in seen)  # the tracked insertion alone

    # the input is untouched, the output reads back as the expected text
    assert hashlib.sha256(transcript.read_bytes()).hexdigest() == before
    again = read_document(out)
    assert again.text == apply_replacements(doc.text, reps)
    assert [t.speaker for t in again.turns if t.speaker] == [
        "[PERSON 1]",
        "Interviewer",
        "[PERSON 1]",
        "Interviewer",
        "Interviewer",
    ]

    # no identifier in any XML part, no thumbnail of the first page
    assert leftovers(out) == {}
    with zipfile.ZipFile(out) as z:
        assert not [n for n in z.namelist() if "thumbnail" in n]
        assert z.testzip() is None

    d = docx.Document(str(out))
    p0, p1, p2, p3 = d.paragraphs[:4]
    # formatting: the label stays bold, the place italic, a name over two runs lands in the first
    assert [(r.text, r.bold, r.italic) for r in p0.runs] == [
        ("[PERSON 1]:", True, None),
        (" I grew up in ", None, None),
        ("[PLACE 1]", None, True),
        ("", None, None),  # the comment reference
        (" with my uncle ", None, None),
        ("[PERSON 2]", None, None),
        ("", True, None),
        (".", None, None),
    ]
    assert p0.text == "[PERSON 1]: I grew up in [PLACE 1] with my uncle [PERSON 2]."
    # the tab inside the replaced name is gone, the run keeps its size
    assert (p1.runs[1].text, p1.runs[1].font.size) == ("[PERSON 3]", Pt(14))
    # hyperlink text replaced, target and screen tip cleaned, field code cleaned
    link = p2.hyperlinks[0]
    assert link.text == "facebook.com/[HANDLE 1]" and "lieu" not in link.address.lower()
    assert link.address.startswith("https://facebook.com/")
    instr = "".join(p2._p.xpath(".//w:instrText/text()"))
    assert instr == ' HYPERLINK "mailto:[R].kha@example.org" '
    assert p2._p.xpath(".//w:txbxContent//w:t/text()") == ["Box: [R] lives in [R]"]
    # tracked changes: text cleaned, authors gone
    assert p3._p.xpath(".//w:ins//w:t/text()") == ["[R]"]
    assert p3._p.xpath(".//w:del//w:delText/text()") == ["[R]"]
    assert set(p3._p.xpath(".//@w:author")) == {"qualkit"}
    # picture alt text and file name
    doc_pr = d.inline_shapes[0]._inline.docPr
    assert doc_pr.get("descr") == "[R] at the [R] market"
    assert d.inline_shapes[0]._inline.xpath(".//pic:cNvPr/@name") == ["image0.png"]
    # table cells (nested too), bold kept
    cell = d.tables[0].cell(0, 0).paragraphs[0]
    assert (cell.runs[0].text, cell.runs[0].bold) == ("[R]", True)
    assert d.tables[0].cell(0, 1).text == "I left [R] in 2009."
    assert d.tables[0].cell(1, 1).tables[0].cell(0, 0).text == "[R] knows"
    # headers and footers of both sections, first-page and even-page ones included
    s1, s2 = d.sections
    assert s1.header.paragraphs[0].text == "Interview with [R]"
    assert s1.footer.paragraphs[0].text == "Transcribed by [R]"
    assert (s1.first_page_header.paragraphs[0].text, s1.first_page_header.paragraphs[0].runs[0].bold) == ("[R]", True)
    assert s1.even_page_footer.paragraphs[0].text == "[R] 2010"
    assert s2.header.paragraphs[0].text == "Part two: [R]"
    # comments: text, author and initials
    comment = next(iter(d.comments))
    assert (comment.text, comment.author, comment.initials) == ("Ask [R] about [R]", "qualkit", "")
    # properties
    props = d.core_properties
    assert (props.author, props.last_modified_by) == ("qualkit", "qualkit")
    assert (props.title, props.subject, props.keywords, props.comments, props.category) == (
        "Interview [R]",
        "[R]",
        "[R]; [R]",
        "Recorded by [R]",
        "[R]",
    )
    parts = xml_parts(out)
    assert b"<Company></Company>" in parts["docProps/app.xml"] or b"<Company/>" in parts["docProps/app.xml"]
    assert b"presenceInfo" not in parts["word/people.xml"]
    assert b"[R], [R]" in parts["docProps/custom.xml"]
    assert b'Target="Normal.dotm"' in parts["word/_rels/settings.xml.rels"]
    assert b"[R] from [R]" in parts["word/settings.xml"]
    assert b"[R]'s cousin works in [R]." in parts["word/footnotes.xml"]


def test_without_redact_text_authors_still_go_and_nothing_else_changes(transcript, tmp_path):
    doc = read_document(transcript)
    out = tmp_path / "plain.docx"
    write_redacted(doc, [], out)
    assert read_document(out).text == doc.text
    d = docx.Document(str(out))
    assert d.sections[0].header.paragraphs[0].text == "Interview with Lieu"
    assert (d.core_properties.author, d.core_properties.title) == ("qualkit", "Interview Lieu")
    assert next(iter(d.comments)).author == "qualkit"
    left = leftovers(out)
    assert "word/people.xml" not in left and "docProps/app.xml" not in left
    assert "word/_rels/settings.xml.rels" not in left  # a local path keeps only its file name
    assert b"lieu_photo" not in xml_parts(out)["word/document.xml"]  # a picture's file name
    assert all(
        "Vo Thi Hanh" not in hits or name == "word/endnotes.xml" or name.startswith("word/footer")
        for name, hits in left.items()
    )


def test_failure_midway_leaves_no_output(transcript, tmp_path):
    doc = read_document(transcript)
    out_dir = tmp_path / "out"
    out = out_dir / "int09.docx"

    def fails_on_footnotes(text: str) -> str:
        if "cousin" in text:
            raise RuntimeError("model crashed")
        return redact(text)

    with pytest.raises(RuntimeError):
        write_redacted(doc, body_replacements(doc.text), out, redact_text=fails_on_footnotes)
    assert not out.exists()
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_example_study_docx_round_trip(tmp_path):
    src = Path(__file__).resolve().parents[1] / "examples" / "csec-study" / "transcripts" / "int03.docx"
    if not src.exists():
        pytest.skip("example study not present")
    doc = read_document(src)
    # capitalised words that are not speaker/metadata labels (redaction never replaces "Date:")
    words = sorted({m.group() for m in re.finditer(r"\b[A-Z][a-z]{3,}\b(?!:)", doc.text)})[:5]
    pattern = re.compile("|".join(map(re.escape, words)))
    reps = [(m.start(), m.end(), "[X]") for m in pattern.finditer(doc.text)]
    out = tmp_path / "int03.docx"
    write_redacted(doc, reps, out, redact_text=lambda t: pattern.sub("[X]", t))
    again = read_document(out)
    assert again.text == apply_replacements(doc.text, reps)
    assert [t.role for t in again.turns] == [t.role for t in doc.turns]


def test_page_breaks_stay_and_tabs_give_way(tmp_path):
    from docx.enum.text import WD_BREAK

    d = docx.Document()
    p = d.add_paragraph()
    p.add_run("Mai")
    p.add_run().add_break(WD_BREAK.PAGE)
    p.add_run("Lan said")
    q = d.add_paragraph()
    q.add_run("Name:\tMai Lan\tage 15").bold = True
    src = tmp_path / "b.docx"
    d.save(str(src))
    doc = read_document(src)
    assert doc.text == "MaiLan said\nName:\tMai Lan\tage 15"
    reps = [(0, 6, "[P]"), (17, 26, " [Q] "), (26, 26, "!")]
    out = tmp_path / "o.docx"
    write_redacted(doc, reps, out)
    assert read_document(out).text == "[P] said\nName: [Q] !age 15"
    o = docx.Document(str(out))
    assert len(o.paragraphs[0]._p.xpath(".//w:br[@w:type='page']")) == 1
    assert [r.bold for r in o.paragraphs[1].runs] == [True]
    assert o.paragraphs[1]._p.xpath(".//w:tab") == []
