"""Word transcripts: paragraph texts joined with "\\n"; bold leading runs are speaker labels.

Every package is checked before anything parses it (:func:`check_package`): a part whose
uncompressed size is absurd (a zip bomb) is refused from the zip directory alone, before it
is inflated; a part whose compressed data is damaged, and an XML part that declares a DTD
(Word never writes one: it is how XML bombs and external-entity tricks are built), make the
file fail with one :class:`~qualkit.errors.InputError` naming the part, so a batch goes on
with the other files.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterator

from ..documents import Block, Document, split_turns
from ..errors import InputError
from ..fsutil import check_package as check_zip_package

MAX_BOLD_LABEL = 40
_REFUSE_FIX = "open it in Word or LibreOffice and save it again as .docx, or leave it out"


def _damaged(what: str, path: Path) -> InputError:
    return InputError(what, file=path, fix=_REFUSE_FIX)


def check_package(path: Path) -> None:
    """Refuse a damaged or hostile .docx before anything parses it (:func:`qualkit.fsutil.check_package`)."""
    check_zip_package(path, "Word file", _REFUSE_FIX)


# --- the body, read straight from the XML (python-docx's own objects are slow per run) --------------

_WNS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_P, W_R, W_HYPERLINK = f"{{{_WNS}}}p", f"{{{_WNS}}}r", f"{{{_WNS}}}hyperlink"
W_T, W_TAB, W_PTAB, W_BR, W_CR, W_NBH = (f"{{{_WNS}}}{t}" for t in ("t", "tab", "ptab", "br", "cr", "noBreakHyphen"))
W_RPR, W_B, W_RSTYLE, W_VAL, W_TYPE = (f"{{{_WNS}}}{t}" for t in ("rPr", "b", "rStyle", "val", "type"))
#: run children whose text is fixed, as python-docx's ``CT_R.text`` reads them
FIXED_TEXT = {W_TAB: "\t", W_PTAB: "\t", W_CR: "\n", W_NBH: "-"}


def br_text(el) -> str:
    """A ``w:br``'s text: a line break is "\\n", a page or column break nothing."""
    return "\n" if el.get(W_TYPE, "textWrapping") == "textWrapping" else ""


def run_items(run) -> Iterator[tuple[Any, str, bool]]:
    """(element, text, editable) for the children python-docx's ``CT_R.text`` reads, in order."""
    for child in run:
        tag = child.tag
        if tag == W_T:
            yield child, child.text or "", True
        elif tag == W_BR:
            yield child, br_text(child), False
        elif tag in FIXED_TEXT:
            yield child, FIXED_TEXT[tag], False


def run_text(run) -> str:
    return "".join(text for _el, text, _e in run_items(run))


def paragraph_items(p) -> Iterator[tuple[Any, str, bool]]:
    """Mirror of ``CT_P.text``: direct ``w:r`` and ``w:hyperlink`` children, hyperlinks' ``w:r``."""
    for child in p:
        if child.tag == W_R:
            yield from run_items(child)
        elif child.tag == W_HYPERLINK:
            for run in child:
                if run.tag == W_R:
                    yield from run_items(run)


def paragraph_text(p) -> str:
    """``Paragraph.text`` of python-docx, from the element."""
    return "".join(text for _el, text, _e in paragraph_items(p))


def _on(el) -> bool | None:
    """A ``w:b``-like on/off element's value (absent element: None)."""
    if el is None:
        return None
    return el.get(W_VAL, "true") in ("1", "true", "on")


class _RunBold:
    """Whether a run is bold the way ``run.bold or run.style.font.bold`` says (python-docx)."""

    def __init__(self, styles) -> None:
        self.by_id: dict[str, bool | None] = {}
        self.default: bool | None = None
        if styles is None:
            return
        w_style, w_type, w_default, w_id = (f"{{{_WNS}}}{t}" for t in ("style", "type", "default", "styleId"))
        for st in styles.iterchildren(w_style):
            if st.get(w_type) != "character":
                continue
            rpr = st.find(W_RPR)
            bold = _on(rpr.find(W_B)) if rpr is not None else None
            self.by_id[st.get(w_id)] = bold
            if st.get(w_default) in ("1", "true", "on"):
                self.default = bold  # the last default in document order

    def __call__(self, run) -> bool:
        rpr = run.find(W_RPR)
        if rpr is not None:
            if _on(rpr.find(W_B)):
                return True
            rstyle = rpr.find(W_RSTYLE)
            if rstyle is not None and rstyle.get(W_VAL) in self.by_id:
                return bool(self.by_id[rstyle.get(W_VAL)])
        return bool(self.default)


def _bold_label(p, text: str, bold: _RunBold) -> int | None:
    """Length of a bold label run sequence at the start of paragraph *p* (text *text*), or None.

    "**Interviewer**: text", "**Interviewer:** text" and "**Mai** text" all count;
    a wholly bold paragraph (a heading) does not.
    """
    length = 0
    # walk what the paragraph's text is made of (runs and hyperlinks, in order) so the
    # label length agrees with the offsets of the text
    for child in p:
        if child.tag == W_HYPERLINK:  # a label never contains one
            if any(run_text(r) for r in child if r.tag == W_R):
                break
            continue
        if child.tag != W_R:
            continue
        run = run_text(child)
        if not run:
            continue
        if bold(child):
            length += len(run)
            continue
        break
    else:
        return None  # everything bold (or empty): a heading, not a label
    label = text[:length]
    stripped = label.strip().rstrip(":").strip()
    if not stripped or length > MAX_BOLD_LABEL or len(stripped.split()) > 4:
        return None
    return len(label.rstrip().rstrip(":").rstrip())


def _styles_element(d):
    try:
        return d.styles.element
    except (KeyError, ValueError, AttributeError):  # no styles part
        return None


def read_docx(path: Path) -> Document:
    try:
        import docx  # python-docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError:  # pragma: no cover - core dependency
        raise
    from lxml import etree

    check_package(path)
    try:
        d = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError):
        raise InputError(
            "not a valid Word .docx file", file=path, fix="open and re-save it in Word or LibreOffice as .docx"
        ) from None
    except etree.XMLSyntaxError as exc:
        raise _damaged(f"a part of the Word file is not well-formed XML (line {exc.lineno})", path) from None
    except (zlib.error, EOFError, RecursionError, MemoryError):
        raise _damaged("the Word file is damaged", path) from None
    parts: list[str] = []
    blocks: list[Block] = []
    labels: list[tuple[int, int] | None] = []
    bold = _RunBold(_styles_element(d))
    pos = 0
    for i, p in enumerate(d.element.body.iterchildren(W_P)):  # Document.paragraphs, without its objects
        text = paragraph_text(p)
        parts.append(text)
        blocks.append(Block(pos, pos + len(text), i))
        lead = len(text) - len(text.lstrip())
        n = _bold_label(p, text, bold)
        labels.append((pos + lead, pos + n) if n and n > lead else None)
        pos += len(text) + 1
    text = "\n".join(parts)
    lines = [(b.start, b.end) for b in blocks]
    return Document(
        id=path.stem, path=path, text=text, format="docx", turns=split_turns(text, lines, labels=labels), blocks=blocks
    )


# --- everything else in the package (for the leak audit) ----------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_PARAGRAPHS = (f"{{{_W}}}p", f"{{{_A}}}p")
_LEAVES = frozenset(f"{{{_W}}}{t}" for t in ("t", "delText", "instrText", "delInstrText")) | {f"{{{_A}}}t"}
_TEXT_ATTRS = frozenset({"descr", "title", "alt", "tooltip", "instr", "Target"})
#: elements whose name/val attributes are free text (document variables, pictures' names)
_NAMED = frozenset({"docVar", "docPr", "cNvPr"})


def _own_text(p) -> str:
    """Text of *p*'s leaves whose nearest paragraph is *p* (not a nested text box's)."""
    out = []
    for el in p.iter(*_LEAVES):
        anc = el.getparent()
        while anc is not None and anc.tag not in _PARAGRAPHS:
            anc = anc.getparent()
        if anc is p and el.text:
            out.append(el.text)
    return "".join(out)


def docx_other_texts(path: Path, body: str | None = None) -> list[tuple[str, str, bool]]:
    """Every text of a .docx package outside ``doc.text``: (part name, text, is prose).

    Prose is paragraph text (tables, text boxes, tracked changes, headers, footers, comments,
    notes, charts); the rest are property values, text attributes (alt texts, screen tips,
    field codes) and relationship targets (hyperlink addresses, URL-decoded). The body
    paragraphs python-docx reads are left out when *body* (``doc.text``) is given.
    """
    from urllib.parse import unquote

    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    body_lines = set(body.split("\n")) if body is not None else set()
    out: list[tuple[str, str, bool]] = []
    try:
        with zipfile.ZipFile(path) as z:
            for name in sorted(z.namelist()):
                if not name.endswith((".xml", ".rels")):
                    continue
                try:
                    root = etree.fromstring(z.read(name), parser)
                except etree.XMLSyntaxError as exc:  # never skipped silently: an unread part is unaudited
                    raise _damaged(
                        f"part {name} of the Word file is not well-formed XML (line {exc.lineno})", path
                    ) from None
                prose = []
                for p in root.iter(*_PARAGRAPHS):
                    text = _own_text(p)
                    if not text:
                        continue
                    parent = p.getparent()
                    if (
                        name == "word/document.xml"
                        and parent is not None
                        and parent.tag == f"{{{_W}}}body"
                        and text in body_lines
                    ):
                        continue
                    prose.append(text)
                if prose:
                    out.append((name, "\n".join(prose), True))
                other = []
                for el in root.iter():
                    if not isinstance(el.tag, str):
                        continue
                    named = el.tag.rsplit("}", 1)[-1] in _NAMED
                    for attr, value in el.attrib.items():
                        local = attr.rsplit("}", 1)[-1]
                        if (
                            (local in _TEXT_ATTRS or named and local in ("name", "val"))
                            and value
                            and any(c.isalpha() for c in value)
                        ):
                            other.append(unquote(value) if attr == "Target" else value)
                    if len(el) == 0 and el.tag not in _LEAVES and el.text and el.text.strip():
                        other.append(el.text.strip())
                if other:
                    out.append((name, "\n".join(other), False))
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError):
        raise _damaged("the Word file is damaged", path) from None
    except OSError as exc:
        raise InputError(f"file cannot be read ({exc.strerror or exc})", file=path, fix="check the file") from None
    return out
