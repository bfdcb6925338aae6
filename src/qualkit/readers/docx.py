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
        raise InputError("not a valid Word .docx file", file=path,
                         fix="open and re-save it in Word or LibreOffice as .docx") from None
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
    return Document(id=path.stem, path=path, text=text, format="docx",
                    turns=split_turns(text, lines, labels=labels), blocks=blocks)
