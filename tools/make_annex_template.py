"""Generate the Word template of ``qualkit annex``: ``src/qualkit/data/annex-template.docx``.

Run it from the repository root after changing a style::

    python tools/make_annex_template.py

It writes the one copy qualkit ships and uses (``src/qualkit/data/annex-template.docx``).
The file is generated; edit this script, not it.

What the template holds (``qualkit annex`` looks styles up by these names and
falls back to Word's built-in styles when an organisation template lacks one):

* A4 portrait, 2.5 cm margins, header/footer 1.25 cm from the edge;
* a footer "Page X of Y" (PAGE and NUMPAGES fields), centred;
* paragraph styles: Normal (Arial 10.5 pt), Title, Subtitle, Heading 1-3,
  Caption (table and figure captions: bold, black, keep with next),
  Table Description (the sentence under a caption), Table Text, Table Heading,
  Table Note (base, multi-response and source notes under a table), Quote,
  Attribution (the line under a quote), Story Text, Interviewer Text;
* table style "Annex Table": rules above and below the table, a shaded header
  row with a rule under it, thin grey rules between rows, a rule above the
  total row; everything black/grey so that it prints in grayscale.

The output is byte-for-byte reproducible (fixed dates inside the document and
in the zip), so regenerating it does not change the committed file.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

ROOT = Path(__file__).resolve().parents[1]
TARGETS = [ROOT / "src" / "qualkit" / "data" / "annex-template.docx"]

FONT = "Arial"
BLACK = RGBColor(0, 0, 0)
DARK = RGBColor(0x26, 0x26, 0x26)
GREY = RGBColor(0x40, 0x40, 0x40)
FIXED_DATE = dt.datetime(2024, 1, 1, 0, 0, 0)


def _font(style, size: float | None = None, *, bold=None, italic=None, color=BLACK, name: str | None = FONT) -> None:
    f = style.font
    if name:
        f.name = name
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.insert(0, fonts)
        for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(qn(attr), name)
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
            if fonts.get(qn(attr)) is not None:
                del fonts.attrib[qn(attr)]
    if size is not None:
        f.size = Pt(size)
    if bold is not None:
        f.bold = bold
    if italic is not None:
        f.italic = italic
    if color is not None:
        f.color.rgb = color
        # drop theme colours so the RGB value wins in every application
        c = style.element.rPr.find(qn("w:color"))
        for attr in ("w:themeColor", "w:themeShade", "w:themeTint"):
            if c is not None and c.get(qn(attr)) is not None:
                del c.attrib[qn(attr)]


def _spacing(style, before: float = 0, after: float = 0, line: float | None = None) -> None:
    pf = style.paragraph_format
    pf.space_before = Pt(before)
    pf.space_after = Pt(after)
    if line is not None:
        pf.line_spacing = line


def _paragraph_style(doc, name: str, base: str = "Normal"):
    styles = doc.styles
    if name in [s.name for s in styles]:
        return styles[name]
    style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = styles[base]
    style.quick_style = True
    return style


def _no_border_bottom(style) -> None:
    """Built-in Title/Heading styles of the default template carry a coloured rule; drop it."""
    ppr = style.element.get_or_add_pPr()
    for el in ppr.findall(qn("w:pBdr")):
        ppr.remove(el)


def _border(tag: str, size: int, color: str = "000000", val: str = "single"):
    el = OxmlElement(tag)
    el.set(qn("w:val"), val)
    el.set(qn("w:sz"), str(size))
    el.set(qn("w:space"), "0")
    el.set(qn("w:color"), color)
    return el


def _table_style(doc) -> None:
    """ "Annex Table": publication style rules, shaded header row, bold total row."""
    style = doc.styles.add_style("Annex Table", WD_STYLE_TYPE.TABLE)
    style.base_style = doc.styles["Normal Table"]
    el = style.element
    ppr = OxmlElement("w:pPr")
    sp = OxmlElement("w:spacing")
    sp.set(qn("w:before"), "0")
    sp.set(qn("w:after"), "0")
    sp.set(qn("w:line"), "240")
    sp.set(qn("w:lineRule"), "auto")
    ppr.append(sp)
    rpr = OxmlElement("w:rPr")
    fonts = OxmlElement("w:rFonts")
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), FONT)
    rpr.append(fonts)
    sz = OxmlElement("w:sz")
    sz.set(qn("w:val"), "18")
    rpr.append(sz)
    tblpr = OxmlElement("w:tblPr")
    borders = OxmlElement("w:tblBorders")
    borders.append(_border("w:top", 12))
    borders.append(_border("w:bottom", 12))
    borders.append(_border("w:insideH", 4, "A6A6A6"))
    tblpr.append(borders)
    mar = OxmlElement("w:tblCellMar")
    for side, width in (("top", 40), ("left", 85), ("bottom", 40), ("right", 85)):
        m = OxmlElement(f"w:{side}")
        m.set(qn("w:w"), str(width))
        m.set(qn("w:type"), "dxa")
        mar.append(m)
    tblpr.append(mar)
    for child in (ppr, rpr, tblpr):
        el.append(child)

    def conditional(kind: str, *, shade: str | None, top: int | None, bottom: int | None):
        cond = OxmlElement("w:tblStylePr")
        cond.set(qn("w:type"), kind)
        crpr = OxmlElement("w:rPr")
        crpr.append(OxmlElement("w:b"))
        cond.append(crpr)
        cond.append(OxmlElement("w:tblPr"))
        tcpr = OxmlElement("w:tcPr")
        tcb = OxmlElement("w:tcBorders")
        if top:
            tcb.append(_border("w:top", top))
        if bottom:
            tcb.append(_border("w:bottom", bottom))
        tcpr.append(tcb)
        if shade:
            shd = OxmlElement("w:shd")
            shd.set(qn("w:val"), "clear")
            shd.set(qn("w:color"), "auto")
            shd.set(qn("w:fill"), shade)
            tcpr.append(shd)
        cond.append(tcpr)
        el.append(cond)

    conditional("firstRow", shade="D9D9D9", top=12, bottom=8)
    conditional("lastRow", shade=None, top=8, bottom=12)


def _field(paragraph, instruction: str, shown: str) -> None:
    """A complex field (PAGE, NUMPAGES) with a cached result."""

    def run_with(child):
        r = OxmlElement("w:r")
        r.append(child)
        paragraph._p.append(r)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with(instr)
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    run_with(sep)
    t = OxmlElement("w:t")
    t.text = shown
    run_with(t)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def build_template() -> Document:
    doc = Document()
    # -- page: A4 portrait, 2.5 cm margins
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.top_margin = sec.bottom_margin = Cm(2.5)
    sec.left_margin = sec.right_margin = Cm(2.5)
    sec.header_distance = sec.footer_distance = Cm(1.25)

    styles = doc.styles
    normal = styles["Normal"]
    _font(normal, 10.5)
    _spacing(normal, 0, 6, 1.15)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-GB")
    normal.element.get_or_add_rPr().append(lang)

    title = styles["Title"]
    _font(title, 22, bold=True, color=BLACK)
    _spacing(title, 0, 12, 1.0)
    _no_border_bottom(title)
    subtitle = styles["Subtitle"]
    _font(subtitle, 13, italic=False, color=GREY)
    _spacing(subtitle, 0, 18, 1.0)

    for level, size, before, after, italic in ((1, 16, 0, 10, False), (2, 13, 16, 6, False), (3, 11, 12, 4, True)):
        h = styles[f"Heading {level}"]
        _font(h, size, bold=True, italic=italic, color=BLACK)
        _spacing(h, before, after, 1.0)
        h.paragraph_format.keep_with_next = True
        _no_border_bottom(h)

    caption = styles["Caption"]
    _font(caption, 10, bold=True, italic=False, color=BLACK)
    _spacing(caption, 12, 3, 1.0)
    caption.paragraph_format.keep_with_next = True

    desc = _paragraph_style(doc, "Table Description")
    _font(desc, 9.5, italic=True, color=DARK)
    _spacing(desc, 0, 6, 1.0)
    desc.paragraph_format.keep_with_next = True

    ttext = _paragraph_style(doc, "Table Text")
    _font(ttext, 9)
    _spacing(ttext, 0, 0, 1.0)

    thead = _paragraph_style(doc, "Table Heading", "Table Text")
    _font(thead, 9, bold=True)
    _spacing(thead, 0, 0, 1.0)
    thead.paragraph_format.keep_with_next = True

    note = _paragraph_style(doc, "Table Note")
    _font(note, 8.5, color=DARK)
    _spacing(note, 2, 0, 1.0)

    quote = styles["Quote"]
    _font(quote, 10.5, italic=True, color=BLACK)
    _spacing(quote, 6, 2, 1.15)
    quote.paragraph_format.left_indent = Cm(1)
    quote.paragraph_format.right_indent = Cm(1)
    quote.paragraph_format.keep_with_next = True
    quote.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT

    attr = _paragraph_style(doc, "Attribution")
    _font(attr, 9.5, italic=False, color=DARK)
    _spacing(attr, 0, 10, 1.0)
    attr.paragraph_format.left_indent = Cm(1)
    attr.paragraph_format.right_indent = Cm(1)
    attr.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    story = _paragraph_style(doc, "Story Text")
    _font(story, 10.5)
    _spacing(story, 0, 6, 1.15)
    story.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

    interviewer = _paragraph_style(doc, "Interviewer Text", "Story Text")
    _font(interviewer, 10, italic=True, color=GREY)
    _spacing(interviewer, 0, 4, 1.15)
    interviewer.paragraph_format.keep_with_next = True

    footer_style = styles["Footer"]
    _font(footer_style, 9, color=GREY)

    _table_style(doc)

    # -- footer: "Page X of Y"
    footer = sec.footer
    p = footer.paragraphs[0]
    p.style = footer_style
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run("Page ")
    _field(p, "PAGE", "1")
    p.add_run(" of ")
    _field(p, "NUMPAGES", "1")

    # -- the body says what the file is; qualkit annex clears it before writing
    doc.add_paragraph("qualkit annex template", style="Title")
    doc.add_paragraph(
        "This document only carries styles, page setup and the footer for 'qualkit annex'. "
        "Its text is removed when an annex is written. To use your organisation's look, "
        "copy this file, change the styles (keep their names) and pass it with --template.",
        style="Normal",
    )
    for name in (
        "Heading 1",
        "Heading 2",
        "Heading 3",
        "Caption",
        "Table Description",
        "Table Note",
        "Quote",
        "Attribution",
        "Story Text",
        "Interviewer Text",
    ):
        doc.add_paragraph(f"{name}: sample text of this style.", style=name)

    cp = doc.core_properties
    cp.title = "qualkit annex template"
    cp.author = ""
    cp.last_modified_by = ""
    cp.comments = ""
    cp.keywords = ""
    cp.subject = ""
    cp.revision = 1
    cp.created = FIXED_DATE
    cp.modified = FIXED_DATE
    cp.last_printed = FIXED_DATE
    return doc


def _reproducible(data: bytes) -> bytes:
    """Rewrite the zip with fixed timestamps and a fixed entry order."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        first = [n for n in names if n == "[Content_Types].xml"]
        for name in first + sorted(n for n in names if n not in first):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    return out.getvalue()


def template_bytes() -> bytes:
    buf = io.BytesIO()
    build_template().save(buf)
    return _reproducible(buf.getvalue())


def main(argv: list[str] | None = None) -> int:
    data = template_bytes()
    targets = [Path(a) for a in (argv or [])] or TARGETS
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".docx.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        print(f"wrote {target} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
