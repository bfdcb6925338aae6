"""Word transcripts: paragraph texts joined with "\\n"; bold leading runs are speaker labels."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..documents import Block, Document, split_turns
from ..errors import InputError

MAX_BOLD_LABEL = 40


def _bold_label(paragraph) -> int | None:
    """Length of a bold label run sequence at the start of *paragraph*, or None.

    "**Interviewer**: text", "**Interviewer:** text" and "**Mai** text" all count;
    a wholly bold paragraph (a heading) does not.
    """
    length = 0
    # walk what paragraph.text is made of (runs and hyperlinks, in order) so the
    # label length agrees with the offsets of the text
    for item in paragraph.iter_inner_content():
        runs = getattr(item, "runs", None)
        if runs is not None:  # a hyperlink: a label never contains one
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
        return None  # everything bold (or empty): a heading, not a label
    label = paragraph.text[:length]
    stripped = label.strip().rstrip(":").strip()
    if not stripped or length > MAX_BOLD_LABEL or len(stripped.split()) > 4:
        return None
    return len(label.rstrip().rstrip(":").rstrip())


def read_docx(path: Path) -> Document:
    try:
        import docx  # python-docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError:  # pragma: no cover - core dependency
        raise
    try:
        d = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError):
        raise InputError(
            "not a valid Word .docx file", file=path, fix="open and re-save it in Word or LibreOffice as .docx"
        ) from None
    parts: list[str] = []
    blocks: list[Block] = []
    labels: list[tuple[int, int] | None] = []
    pos = 0
    for i, para in enumerate(d.paragraphs):
        text = para.text
        parts.append(text)
        blocks.append(Block(pos, pos + len(text), i))
        lead = len(text) - len(text.lstrip())
        n = _bold_label(para)
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
                except etree.XMLSyntaxError:
                    continue
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
    except (zipfile.BadZipFile, OSError, KeyError):
        return out
    return out
