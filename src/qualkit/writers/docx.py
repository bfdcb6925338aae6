"""Word output: replacements in the body runs, everything else cleaned, formatting kept.

``doc.text`` of a .docx is ``"\\n".join(p.text for p in document.paragraphs)``
(python-docx). ``Paragraph.text`` is the text of the paragraph's direct ``w:r``
and ``w:hyperlink`` children (hyperlink text included, while
``Paragraph.runs`` leaves hyperlink runs out), and a run's text is its ``w:t``,
``w:tab``/``w:ptab`` ("\\t"), ``w:br`` ("\\n" for a line break, "" for a page
break), ``w:cr`` ("\\n") and ``w:noBreakHyphen`` ("-") children in order. The
writer walks the very same elements, so every character of ``doc.text`` is
tied to the element holding it:

* a replacement inside one ``w:t`` edits that element (the run keeps its bold,
  italics, colour...); one spanning several runs puts the new text in the
  first run it covers and trims the others; a tab or break it covers is
  removed (its place taken by a ``w:t`` in the same run if the new text starts
  there); paragraph breaks are never removed.

Then *redact_text* cleans every other piece of text in the package, one
paragraph at a time (so a name split over runs is still seen whole, and a
word-level diff puts the result back run by run): tables (nested too), text
boxes, content controls, tracked insertions and deletions, field codes,
headers and footers of every section (first-page and even-page ones too),
comments, footnotes, endnotes, the glossary, chart and diagram text, alt texts
and titles of pictures, hyperlink screen tips, document variables, external
link targets (a local file path keeps only its file name), core properties
(title, subject, keywords, comments, category, status, identifier), custom
properties and custom XML data.

Whether or not *redact_text* is given, personal metadata is removed: the
core properties' author and last-modified-by become "qualkit"; comment and
tracked-change authors become "qualkit" and comment initials are emptied;
reviewers' account ids (``w15:presenceInfo``), pictures' original file names, the extended properties'
Company, Manager and HyperlinkBase, and the document thumbnail (a picture of
the first page) are dropped.

Not cleaned: pictures and embedded objects (an embedded spreadsheet, a photo's
EXIF data), style and list names, bookmark names.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Sequence
from urllib.parse import quote, unquote

from lxml import etree

from ..documents import Document
from ..errors import InputError
from ..fsutil import atomic_open
from ..readers.docx import FIXED_TEXT, br_text, paragraph_items
from . import Piece, RedactText, Replacement, batch_redact, diff_replacements, distribute, one_line, xml_safe

AUTHOR = "qualkit"

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W15 = "http://schemas.microsoft.com/office/word/2012/wordml"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
CP = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
EP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
THUMBNAIL_RT = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail"


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


W_P, W_R, W_HYPERLINK = _w("p"), _w("r"), _w("hyperlink")
W_T, W_DELTEXT, W_INSTR, W_DELINSTR = _w("t"), _w("delText"), _w("instrText"), _w("delInstrText")
W_TAB, W_PTAB, W_BR, W_CR, W_NBH = _w("tab"), _w("ptab"), _w("br"), _w("cr"), _w("noBreakHyphen")
W_DEL, W_MOVEFROM = _w("del"), _w("moveFrom")
W_DOCVAR, W_ALIAS = _w("docVar"), _w("alias")
A_P, A_T = f"{{{A}}}p", f"{{{A}}}t"
C_V = f"{{{C}}}v"
W15_PRESENCE = f"{{{W15}}}presenceInfo"

_FIXED = FIXED_TEXT  # run children that hold a fixed text in python-docx's Run.text
_EDITABLE_KIND = {W_T: "t", A_T: "t", W_DELTEXT: "del", W_INSTR: "instr", W_DELINSTR: "instr"}
_TEXT_TAGS = (*_EDITABLE_KIND, *_FIXED, W_BR)
#: attributes holding free text (alt texts, titles, screen tips, field instructions)
_TEXT_ATTRS = frozenset({"descr", "title", "alt", "tooltip", "instr"})
_NAME_ATTR_OWNERS = frozenset({"docPr", "cNvPr"})
_URL_RE = re.compile(r"^(?:https?|mailto|ftp|ftps|tel|callto|sms|skype|news):", re.IGNORECASE)

_FILE_NAME_RE = re.compile(r"\.[A-Za-z0-9]{2,5}$")
_URI_SAFE = ":/?#@!$&'()*+,;=~"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# --- the body: exactly the elements python-docx reads ------------------------------------------------


def _body_pieces(document, path: Path, expected: str) -> tuple[list[Piece], list[object]]:
    """The body paragraphs' text pieces, in ``doc.text`` offsets, and their elements."""
    pieces: list[Piece] = []
    elements: list[object] = []
    texts: list[str] = []
    pos = 0
    for p in document.element.body.iterchildren(W_P):
        parts = []
        for el, text, editable in paragraph_items(p):
            pieces.append(Piece(pos, pos + len(text), text, editable))
            elements.append(el)
            parts.append(text)
            pos += len(text)
        texts.append("".join(parts))  # the reader's own walk (readers.docx.paragraph_items)
        pos += 1
    if "\n".join(texts) != expected:
        raise InputError("the file changed since it was read", file=path, fix="run the command again")
    return pieces, elements


# --- applying new text to pieces --------------------------------------------------------------------


def _set_text(el, new: str) -> None:
    el.text = new
    if el.tag.startswith(f"{{{W}}}"):
        el.set(XML_SPACE, "preserve")


def _apply(el, editable: bool, old: str, new: str, kind: str = "t") -> None:
    """Put *new* (the piece's text after replacements) into element *el* that held *old*."""
    if editable:
        if not new and el.tag == W_T:
            el.getparent().remove(el)
        else:
            _set_text(el, new)
        return
    # a tab, break or hyphen element: kept when only text next to it was inserted,
    # otherwise a w:t with the new text takes its place in the same run
    before, after, keep = new, "", False
    if not old:
        keep = True  # a page or column break: never removed
    elif new.startswith(old):
        before, after, keep = "", new[len(old) :], True
    elif new.endswith(old):
        before, keep = new[: -len(old)], True
    for text, where in ((before, el.addprevious), (after, el.addnext)):
        if text:
            t = el.makeelement(W_DELTEXT if kind == "del" else W_T, {})
            _set_text(t, text)
            where(t)
    if not keep:
        el.getparent().remove(el)


def _clean_text(text: str) -> str:
    return xml_safe(one_line(text))


# --- everything else --------------------------------------------------------------------------------


def _clean_paragraph_text(root, redact_text: RedactText, handled: set | frozenset = frozenset()) -> bool:
    """Apply *redact_text* to the text of every paragraph under *root*, except *handled* elements.

    Each paragraph's own text elements (not those of a text box nested in it)
    form groups of consecutive pieces of one kind (text, deleted text, field
    code); each group is redacted as one string.
    """
    by_paragraph: dict[object, list[tuple[object, str, bool, str]]] = {}
    for el in root.iter(*_TEXT_TAGS):
        tag = el.tag
        if tag in _EDITABLE_KIND:
            text, editable, kind = el.text or "", True, _EDITABLE_KIND[tag]
        else:
            parent = el.getparent()
            if parent is None or parent.tag != W_R:
                continue  # w:tab in tab stops, not in text
            text = br_text(el) if tag == W_BR else _FIXED[tag]
            if not text:
                continue
            editable = False
            kind = "del" if parent.getparent() is not None and parent.getparent().tag in (W_DEL, W_MOVEFROM) else "t"
        owner = next(el.iterancestors(W_P, A_P), None)
        by_paragraph.setdefault(owner if owner is not None else el, []).append((el, text, editable, kind))

    groups: list[list[tuple[object, str, bool, str]]] = []
    for items in by_paragraph.values():
        current: list = []
        for item in items:
            if item[0] in handled:
                if current:
                    groups.append(current)
                current = []
                continue
            if current and current[-1][3] != item[3]:
                groups.append(current)
                current = []
            current.append(item)
        if current:
            groups.append(current)
    groups = [g for g in groups if any(c.isalnum() for it in g for c in it[1])]
    if not groups:
        return False
    olds = ["".join(it[1] for it in g) for g in groups]
    changed = False
    for group, old, new in zip(groups, olds, batch_redact(olds, redact_text)):
        if new == old:
            continue
        pieces = []
        pos = 0
        for _el, text, editable, _kind in group:
            pieces.append(Piece(pos, pos + len(text), text, editable))
            pos += len(text)
        reps = [(s, e, _clean_text(t)) for s, e, t in diff_replacements(old, new)]
        for (el, text, editable, kind), piece_new in zip(group, distribute(pieces, reps)):
            if piece_new is not None:
                _apply(el, editable, text, piece_new, kind)
                changed = True
    return changed


def _clean_attributes(root, redact_text: RedactText | None) -> bool:
    """Authors out; alt texts, titles, screen tips, field instructions, document variables redacted."""
    changed = False
    todo: list[tuple[object, str, str]] = []
    drop = []
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str):
            continue  # comments, processing instructions
        if tag == W15_PRESENCE:
            drop.append(el)
            continue
        for name, value in el.attrib.items():
            local = _local(name)
            if local == "author":
                if value != AUTHOR:
                    el.set(name, AUTHOR)
                    changed = True
            elif local == "initials":
                if value:
                    el.set(name, "")
                    changed = True
            elif local == "name" and _local(tag) in _NAME_ATTR_OWNERS and _FILE_NAME_RE.search(value):
                # a picture's original file name ("lieu_photo.png"): no detector reads those
                el.set(name, f"image{el.get('id', '')}{_FILE_NAME_RE.search(value).group()}")
                changed = True
            elif local == "title" and _local(tag) == "imagedata":
                if value:  # VML picture title: the original file name
                    el.set(name, "")
                    changed = True
            elif redact_text is None:
                continue
            elif (
                local in _TEXT_ATTRS
                or (local == "name" and _local(tag) in _NAME_ATTR_OWNERS)
                or (local == "val" and tag in (W_DOCVAR, W_ALIAS))
            ):
                if any(c.isalnum() for c in value):
                    todo.append((el, name, value))
    for el in drop:
        el.getparent().remove(el)
        changed = True
    if todo:
        for (el, name, value), new in zip(todo, batch_redact([v for _e, _n, v in todo], redact_text)):
            if new != value:
                el.set(name, xml_safe(new))
                changed = True
    return changed


def _redact_leaves(elements: list, redact_text: RedactText) -> bool:
    """Redact the text of leaf elements (custom properties, custom XML, chart labels)."""
    todo = [el for el in elements if len(el) == 0 and el.text and any(c.isalpha() for c in el.text)]
    changed = False
    for el, new in zip(todo, batch_redact([el.text for el in todo], redact_text)):
        if new != el.text:
            el.text = xml_safe(new)
            changed = True
    return changed


def _clean_part(name: str, root, redact_text: RedactText | None) -> bool:
    """Clean one XML part other than the main document and the core properties."""
    ns = etree.QName(root).namespace
    if ns == CP:
        return False  # core properties: done through python-docx
    if ns == EP:  # docProps/app.xml
        changed = False
        for tag in ("Company", "Manager", "HyperlinkBase"):
            for el in root.iter(f"{{{EP}}}{tag}"):
                if el.text:
                    el.text = ""
                    changed = True
        if redact_text is not None:
            titles = [
                el for t in root.iter(f"{{{EP}}}TitlesOfParts") for el in t.iter(f"{{{VT}}}lpstr", f"{{{VT}}}lpwstr")
            ]
            changed |= _redact_leaves(titles, redact_text)
        return changed
    if ns == CUSTOM:  # docProps/custom.xml
        if redact_text is None:
            return False
        return _redact_leaves(
            [el for el in root.iter() if isinstance(el.tag, str) and el.tag.startswith(f"{{{VT}}}")], redact_text
        )
    if name.startswith("customXml/") and not _local(root.tag).lower().startswith("datastoreitem"):
        if redact_text is None:
            return False
        return _redact_leaves([el for el in root.iter() if isinstance(el.tag, str)], redact_text)
    changed = _clean_attributes(root, redact_text)
    if redact_text is not None:
        changed |= _clean_paragraph_text(root, redact_text)
        if ns == C:
            changed |= _redact_leaves(list(root.iter(C_V)), redact_text)
    return changed


def _clean_target(target: str, redact_text: RedactText | None) -> str:
    """An external link target with identifiers removed, still a valid URI reference."""
    if _URL_RE.match(target):
        if redact_text is None:
            return target
        plain = unquote(target)
        new = redact_text(plain)
        return target if new == plain else quote(xml_safe(new), safe=_URI_SAFE)
    # a file path (C:\Users\<name>\..., file:///..., \\server\...): keep the file name only
    name = re.split(r"[\\/]", unquote(target).rstrip("\\/"))[-1]
    if redact_text is not None and any(c.isalnum() for c in name):
        name = redact_text(name)
    return quote(xml_safe(name), safe=_URI_SAFE) or "_"


def _clean_rels(root, redact_text: RedactText | None) -> bool:
    changed = False
    for rel in root.iter(f"{{{PR}}}Relationship"):
        if rel.get("TargetMode") != "External":
            continue
        old = rel.get("Target", "")
        new = _clean_target(old, redact_text)
        if new != old:
            rel.set("Target", new)
            changed = True
    return changed


def _serialize(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


# --- the writer -------------------------------------------------------------------------------------


def write_docx(
    doc: Document, replacements: Sequence[Replacement], out_path: Path, *, redact_text: RedactText | None = None
) -> None:
    import docx  # python-docx

    path = Path(doc.path)
    try:
        document = docx.Document(str(path))
    except Exception:  # noqa: BLE001 - any failure to open means the input changed or is broken
        raise InputError(
            "cannot open the Word file again",
            file=path,
            fix="keep the input files in place until the output is written",
        ) from None

    # 1. the body, through python-docx's own elements
    pieces, elements = _body_pieces(document, path, doc.text)
    if redact_text is not None:
        # everything in the main part that is not body paragraph text; done before the
        # replacements so replacement text is never redacted a second time
        _clean_paragraph_text(document.element, redact_text, handled=set(elements))
    _clean_attributes(document.element, redact_text)
    reps = [(s, e, _clean_text(new)) for s, e, new in replacements]
    for el, piece, new in zip(elements, pieces, distribute(pieces, reps)):
        if new is not None:
            _apply(el, piece.editable, piece.text, new)

    # 2. core properties
    props = document.core_properties
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    if redact_text is not None:
        for attr in ("title", "subject", "keywords", "comments", "category", "content_status", "identifier"):
            value = getattr(props, attr)
            if value and any(c.isalnum() for c in value):
                setattr(props, attr, xml_safe(redact_text(value))[:255])

    # 3. no thumbnail (a picture of the first page)
    package = document.part.package
    for rid in [rid for rid, rel in package.rels.items() if rel.reltype == THUMBNAIL_RT]:
        package.rels.pop(rid)

    buffer = io.BytesIO()
    document.save(buffer)
    main_part = document.part.partname.lstrip("/")

    # 4. every other part, straight from the package
    with zipfile.ZipFile(buffer) as zin, atomic_open(out_path, "wb") as fh:
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info)
                name = info.filename
                if name != main_part and (name.endswith(".xml") or name.endswith(".rels")):
                    try:
                        root = etree.fromstring(data, _PARSER)
                    except etree.XMLSyntaxError:
                        raise InputError(
                            f"part {name} of the Word file is not well-formed XML",
                            file=path,
                            fix="open and re-save the file in Word or LibreOffice",
                        ) from None
                    if name.endswith(".rels"):
                        changed = _clean_rels(root, redact_text)
                    else:
                        changed = _clean_part(name, root, redact_text)
                    if changed:
                        data = _serialize(root)
                out = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # same bytes on every run
                out.compress_type = zipfile.ZIP_DEFLATED
                out.external_attr = info.external_attr
                zout.writestr(out, data)
