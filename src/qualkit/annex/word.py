"""python-docx plumbing: the template as base document, styles with fallbacks, captions with
SEQ fields, tables with repeated header rows, pictures; every text passes the leak guard."""

from __future__ import annotations

import io
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError
from .guard import LeakGuard

TEMPLATE_NAME = "annex-template.docx"

#: style name -> fallbacks tried in order when a template lacks it
STYLE_FALLBACKS = {
    "Title": ("Title", "Heading 1"),
    "Subtitle": ("Subtitle",),
    "Heading 1": ("Heading 1",),
    "Heading 2": ("Heading 2",),
    "Heading 3": ("Heading 3",),
    "Caption": ("Caption",),
    "Table Description": ("Caption",),
    "Table Text": ("No Spacing",),
    "Table Heading": ("Table Text", "No Spacing"),
    "Table Note": ("Footnote Text", "No Spacing"),
    "Quote": ("Quote", "Intense Quote"),
    "Attribution": ("Quote",),
    "Story Text": ("Body Text",),
    "Interviewer Text": ("Story Text", "Body Text"),
    "Annex Table": ("Table Grid",),
}

# =========================================================================== docx helpers


def default_template() -> Path:
    """The template shipped with qualkit (src/qualkit/data/annex-template.docx)."""
    return Path(str(resources.files("qualkit") / "data" / TEMPLATE_NAME))


def _open_template(path: Path | None):
    """Open *path* (a .docx or .dotx) as the base document and clear its body."""
    import docx
    from docx.oxml.ns import qn

    path = Path(path) if path is not None else default_template()
    if not path.is_file():
        raise InputError(
            "Word template not found", file=path, fix="give --template FILE.docx or leave it out to use qualkit's"
        )
    from ..fsutil import check_package

    check_package(path, "Word template", "give a .docx or .dotx saved by Word or LibreOffice")
    try:
        data = path.read_bytes()
        if path.suffix.lower() in (".dotx", ".dotm") or b"template.main+xml" in _content_types(data):
            data = _template_as_document(data)
        doc = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(
            f"Word template cannot be opened ({type(exc).__name__})",
            file=path,
            fix="give a .docx or .dotx saved by Word or LibreOffice",
        ) from None
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    return doc


def _content_types(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.read("[Content_Types].xml")
    except (zipfile.BadZipFile, KeyError):
        return b""


def _template_as_document(data: bytes) -> bytes:
    """A .dotx declares its main part as a template; python-docx opens only documents."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                payload = payload.replace(b"wordprocessingml.template.main+xml", b"wordprocessingml.document.main+xml")
                payload = payload.replace(
                    b"ms-word.template.macroEnabledTemplate.main+xml", b"wordprocessingml.document.main+xml"
                )
            dst.writestr(info, payload)
    return out.getvalue()


class Writer:
    """Appends styled content to a python-docx Document; every text passes the leak guard."""

    def __init__(self, doc, guard: LeakGuard) -> None:
        self.doc = doc
        self.guard = guard
        self.missing_styles: set[str] = set()
        self._style_cache: dict[tuple[str, int], Any] = {}
        self._style_ids: dict[int, str | None] = {}  # id(style object) -> w:pStyle value
        self.tables = 0
        self.figures = 0
        self.quotes = 0
        self.stories = 0
        self.blocks = 0  # paragraphs/tables written (to know whether a page break is needed)

    # -- styles ----------------------------------------------------------------------------
    def style(self, name: str, kind: str = "paragraph"):
        from docx.enum.style import WD_STYLE_TYPE

        want = WD_STYLE_TYPE.TABLE if kind == "table" else WD_STYLE_TYPE.PARAGRAPH
        key = (name, int(want))
        if key in self._style_cache:
            return self._style_cache[key]
        found = None
        for candidate in (name,) + STYLE_FALLBACKS.get(name, ()):
            try:
                st = self.doc.styles[candidate]
            except KeyError:
                continue
            if st.type == want:
                found = st
                break
        if found is None or found.name != name:
            self.missing_styles.add(name)
        self._style_cache[key] = found
        return found

    def set_style(self, paragraph, st) -> None:
        """``paragraph.style = st`` with the style id worked out once per style.

        python-docx's setter looks the id up again on every call (and compares the
        style with the document default by an XPath search): 7 s for 1,100 table cells.
        """
        key = id(st)
        if key not in self._style_ids:
            from docx.enum.style import WD_STYLE_TYPE

            self._style_ids[key] = self.doc.part.get_style_id(st, WD_STYLE_TYPE.PARAGRAPH)
        paragraph._p.style = self._style_ids[key]

    def _direct_format(self, paragraph, name: str) -> None:
        """Direct formatting for a style the template lacks (so headings still look like headings)."""
        from docx.shared import Pt

        if self.style(name) is not None and self.style(name).name == name:
            return
        sizes = {"Title": 20, "Heading 1": 16, "Heading 2": 13, "Heading 3": 11, "Caption": 10}
        if name in sizes or name == "Table Heading":
            for r in paragraph.runs:
                r.bold = True
                if name in sizes:
                    r.font.size = Pt(sizes[name])
            paragraph.paragraph_format.keep_with_next = True
        elif name in ("Table Note", "Table Text", "Table Description"):
            for r in paragraph.runs:
                r.font.size = Pt(8.5 if name == "Table Note" else 9)
                if name == "Table Description":
                    r.italic = True
        elif name in ("Quote", "Interviewer Text"):
            for r in paragraph.runs:
                r.italic = True

    # -- text ------------------------------------------------------------------------------
    def paragraph(
        self,
        text: str,
        style: str = "Normal",
        *,
        source: str = "",
        base: int = 0,
        file: str | None = None,
        bold: bool = False,
        italic: bool = False,
        container=None,
        check: bool = True,
    ):
        """Append a paragraph; *check=False* when the caller checked the text at its source offsets."""
        if check:
            self.guard.check(text, source, base=base, file=file)
        container = container if container is not None else self.doc
        p = container.add_paragraph()
        st = self.style(style)
        if st is not None:
            self.set_style(p, st)
        if text:
            run = p.add_run(text)
            run.bold = bold or None
            run.italic = italic or None
        self._direct_format(p, style)
        self.blocks += 1
        return p

    def heading(self, text: str, level: int, *, source: str):
        p = self.paragraph(text, f"Heading {level}", source=source)
        p.paragraph_format.keep_with_next = True
        return p

    def page_break(self) -> None:
        from docx.enum.text import WD_BREAK

        if self.blocks == 0:
            return
        p = self.doc.add_paragraph()
        p.add_run().add_break(WD_BREAK.PAGE)

    def new_section(self, landscape: bool) -> None:
        """Start a new page section in portrait or landscape (footers stay linked: page numbers continue)."""
        from docx.enum.section import WD_ORIENT, WD_SECTION

        current = self.doc.sections[-1]
        is_landscape = current.orientation == WD_ORIENT.LANDSCAPE
        if is_landscape == landscape:
            self.page_break()
            return
        if self.blocks == 0:
            sec = current
        else:
            sec = self.doc.add_section(WD_SECTION.NEW_PAGE)
        w, h = sec.page_width, sec.page_height
        if (landscape and w < h) or (not landscape and w > h):
            sec.page_width, sec.page_height = h, w
        sec.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT

    @property
    def landscape(self) -> bool:
        sec = self.doc.sections[-1]
        return sec.page_width > sec.page_height

    @property
    def text_width(self):
        sec = self.doc.sections[-1]
        return sec.page_width - sec.left_margin - sec.right_margin

    def caption(self, fmt: str, kind: str, number: str, title: str, *, source: str, keep_with_next: bool = True):
        """A caption paragraph: "Table 23: title", the number as a SEQ field when it is a whole number.
        A caption above its table keeps with it; one below its figure does not (*keep_with_next*)."""
        text = fmt.replace("{number}", number).replace("{title}", title)
        self.guard.check(text, source)
        p = self.doc.add_paragraph()
        st = self.style("Caption")
        if st is not None:
            self.set_style(p, st)
        before, sep, after = fmt.partition("{number}")
        if sep and number.isdigit():
            if before.replace("{title}", title):
                p.add_run(before.replace("{title}", title))
            _add_field(p, f"SEQ {kind} \\r {number} \\* ARABIC", number)
            if after.replace("{title}", title):
                p.add_run(after.replace("{title}", title))
        else:
            p.add_run(text)
        p.paragraph_format.keep_with_next = keep_with_next
        self._direct_format(p, "Caption")
        self.blocks += 1
        return p

    # -- tables ----------------------------------------------------------------------------
    def table(
        self,
        headers: list[str],
        rows: list[list[str]],
        *,
        source: str,
        widths: list[float] | None = None,
        numeric: list[bool] | None = None,
        total_row: bool = False,
        bold_rows: Iterable[int] = (),
        band_rows: dict[int, str] | None = None,
        fraction: float = 1.0,
        keep_with_next: bool = False,
    ):
        """A table with a repeated header row; *widths* are shares of the table width, which is
        *fraction* of the text width. *keep_with_next*: the table's end stays on the page of the
        paragraph that follows (its base line and notes)."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml.ns import qn

        ncols = len(headers)
        for j, h in enumerate(headers):
            self.guard.check(h, f"{source} (column heading {j + 1})")
        for i, r in enumerate(rows):
            for j, c in enumerate(r):
                self.guard.check(c, f"{source} (row {i + 1}, column {j + 1})")
        for i, text in (band_rows or {}).items():
            self.guard.check(text, f"{source} (row {i + 1})")
        n_body = len(rows) + len(band_rows or {})
        table = self.doc.add_table(rows=1 + n_body, cols=ncols)
        st = self.style("Annex Table", "table")
        if st is not None:
            table.style = st
        else:
            _set_borders(table)
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        table.autofit = False
        _table_look(table, first_row=True, last_row=total_row)
        numeric = numeric or [False] * ncols
        total_w = int(self.text_width * max(0.3, min(1.0, fraction)))
        shares = widths or [1 / ncols] * ncols
        col_w = [int(total_w * s) for s in shares]
        tbl = table._tbl
        layout = tbl.tblPr.find(qn("w:tblLayout"))
        if layout is None:
            from docx.oxml import OxmlElement

            layout = OxmlElement("w:tblLayout")
            tbl.tblPr.append(layout)
        layout.set(qn("w:type"), "fixed")
        for j, col in enumerate(table.columns):
            col.width = col_w[j]
        head_style, text_style = self.style("Table Heading"), self.style("Table Text")

        def fill(cell, text, *, style, align=None, bold=False, width=None):
            p = cell.paragraphs[0]
            if style is not None:
                self.set_style(p, style)
            if align is not None:
                p.alignment = align
            lines = str(text).split("\n")
            for k, line in enumerate(lines):
                if k:
                    p = cell.add_paragraph()
                    if style is not None:
                        self.set_style(p, style)
                    if align is not None:
                        p.alignment = align
                run = p.add_run(line)
                if bold:
                    run.bold = True
                if style is None or style.name not in ("Table Text", "Table Heading"):
                    from docx.shared import Pt

                    run.font.size = Pt(9)
            if width is not None:
                cell.width = width

        header = table.rows[0]
        _repeat_header(header)
        for j, h in enumerate(headers):
            fill(
                header.cells[j],
                h,
                style=head_style,
                bold=True,
                width=col_w[j],
                align=WD_ALIGN_PARAGRAPH.RIGHT if numeric[j] else WD_ALIGN_PARAGRAPH.LEFT,
            )
        bold_rows = set(bold_rows)
        # no widow/orphan rows: the header stays with the first two rows, the last four rows stay
        # together (a table of up to six rows is kept whole); longer tables may break in between
        # and repeat their header row on the next page
        keep_rows = {i for i in range(n_body if keep_with_next else n_body - 1) if i < 2 or i >= n_body - 4}
        r_index = 1
        data_i = 0
        band_rows = band_rows or {}
        for out_i in range(n_body):
            row = table.rows[r_index]
            _cant_split(row)
            if out_i in band_rows:
                merged = row.cells[0].merge(row.cells[-1])
                fill(merged, band_rows[out_i], style=head_style, bold=True)
                _shade(merged, "F2F2F2")
            else:
                values = rows[data_i]
                data_i += 1
                last = total_row and data_i == len(rows)
                for j, v in enumerate(values):
                    fill(
                        row.cells[j],
                        v,
                        style=text_style,
                        bold=last or (data_i - 1) in bold_rows,
                        width=col_w[j],
                        align=WD_ALIGN_PARAGRAPH.RIGHT if numeric[j] else None,
                    )
            if out_i in keep_rows:
                for cell in row.cells:
                    for par in cell.paragraphs:
                        par.paragraph_format.keep_with_next = True
            r_index += 1
        for cell in header.cells:
            for par in cell.paragraphs:
                par.paragraph_format.keep_with_next = True
        self.blocks += 1
        return table

    def picture(self, png: bytes, width_cm: float, *, alt_text: str = "", space_before: bool = False):
        """A centred picture kept with its caption below; *alt_text* becomes its description (checked)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm, Pt

        width = min(Cm(width_cm), self.text_width)
        shape = self.doc.add_picture(io.BytesIO(png), width=width)
        if alt_text:
            self.guard.check(alt_text, "alternative text of a chart")
            shape._inline.docPr.set("descr", alt_text)
        p = self.doc.paragraphs[-1]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.keep_with_next = True
        if space_before:
            p.paragraph_format.space_before = Pt(12)
        self.blocks += 1
        return p

    def body_font(self) -> str | None:
        """The font family of the document's Normal style (the template's), if it names one."""
        try:
            style = self.doc.styles["Normal"]
        except KeyError:
            return None
        while style is not None:
            if style.font.name:
                return style.font.name
            style = style.base_style
        return None


def _add_field(paragraph, instruction: str, shown: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def run_with(child):
        r = OxmlElement("w:r")
        r.append(child)
        paragraph._p.append(r)

    for kind, payload in (("begin", None), ("instr", instruction), ("separate", None), ("text", shown), ("end", None)):
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {payload} "
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = payload
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        run_with(el)


def _repeat_header(row) -> None:
    """Mark *row* as a header row repeated at the top of each page (w:tblHeader)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)
    _cant_split(row)


def _cant_split(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    if trpr.find(qn("w:cantSplit")) is None:
        el = OxmlElement("w:cantSplit")
        el.set(qn("w:val"), "true")
        trpr.insert(0, el)


def _table_look(table, *, first_row: bool, last_row: bool) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tblpr = table._tbl.tblPr
    look = tblpr.find(qn("w:tblLook"))
    if look is None:
        look = OxmlElement("w:tblLook")
        tblpr.append(look)
    flags = {
        "firstRow": first_row,
        "lastRow": last_row,
        "firstColumn": False,
        "lastColumn": False,
        "noHBand": True,
        "noVBand": True,
    }
    val = (0x20 if first_row else 0) | (0x40 if last_row else 0) | 0x200 | 0x400
    look.set(qn("w:val"), f"{val:04X}")
    for k, v in flags.items():
        look.set(qn(f"w:{k}"), "1" if v else "0")


def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _set_borders(table) -> None:
    """Plain single borders when the template has neither 'Annex Table' nor 'Table Grid'."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    table._tbl.tblPr.append(borders)
