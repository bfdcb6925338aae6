"""WebVTT and SubRip output: timings, cue numbers, settings and blocks kept.

The original file is read again and split with the reader's own
:func:`~qualkit.readers.subtitles.parse_cues`; ``doc.text`` is the cue payload
lines joined with "\\n", so each payload line is one piece of it. Replacements
edit payload lines only (a replacement running over a line end keeps the line
break and puts its text on the first line). Everything else — the WEBVTT line,
header lines, cue numbers, timing lines and cue settings, STYLE and REGION
blocks, blank lines, CRLF line ends, encoding and BOM — is written unchanged,
except that *redact_text* cleans the text of NOTE blocks, free text after
``WEBVTT`` on the first line and cue identifiers that contain letters.

New text is kept on one line; in .vtt ``&``, ``<`` and ``>`` in it are written
as character references, in .srt ``<`` and ``>`` as ``‹`` and ``›``, so a
replacement can never open a tag or look like a timing line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from ..documents import Document
from ..errors import InputError
from ..fsutil import atomic_open
from ..readers.subtitles import parse_cues
from ..readers.text import decode_bytes
from . import Piece, RedactText, Replacement, batch_redact, diff_replacements, distribute, one_line
from .text import encode_text, read_back

_HEADER_RE = re.compile(r"\ufeff?WEBVTT[ \t]*(?:-[ \t]*)?")
_NOTE_RE = re.compile(r"NOTE(?:[ \t]+|$)")


def _payload_text(new: str, fmt: str) -> str:
    new = one_line(new)
    if fmt == "vtt":
        return new.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return new.replace("<", "‹").replace(">", "›")


def _block_text(new: str) -> str:
    return one_line(new).replace("-->", "->")


def write_subtitles(
    doc: Document, replacements: Sequence[Replacement], out_path: Path, *, redact_text: RedactText | None = None
) -> None:
    fmt = doc.format
    path = Path(doc.path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the original file again ({exc.strerror or exc})",
            file=path,
            fix="keep the input files in place until the output is written",
        ) from None
    file_text, encoding, bom, _warnings = decode_bytes(data, path=path)
    lines, cues = parse_cues(file_text, path=path, fmt=fmt)
    raw = file_text.split("\n")
    new_lines = list(lines)

    # cue payload lines: the pieces of doc.text
    pieces: list[Piece] = []
    where: list[int] = []
    pos = 0
    for cue in cues:
        for n, k in enumerate(cue.payload):
            if n:
                pos += 1
            pieces.append(Piece(pos, pos + len(lines[k]), lines[k]))
            where.append(k)
            pos += len(lines[k])
        pos += 1
    rebuilt = "\n".join("\n".join(lines[k] for k in cue.payload) for cue in cues)
    if rebuilt != doc.text:
        raise InputError("the file changed since it was read", file=path, fix="run the command again")
    reps = [(s, e, _payload_text(new, fmt)) for s, e, new in replacements]
    for k, new in zip(where, distribute(pieces, reps)):
        if new is not None:
            new_lines[k] = new

    if redact_text is not None:
        _clean_blocks(lines, new_lines, cues, fmt, redact_text)

    out = "\n".join(new + raw[k][len(lines[k]) :] for k, new in enumerate(new_lines))
    encoded = encode_text(out, encoding, bom, source=path, warnings=doc.warnings)
    with atomic_open(out_path, "wb", verify=read_back(encoding, bom, path, out_path)) as fh:
        fh.write(encoded)


def _clean_blocks(lines: list[str], new_lines: list[str], cues, fmt: str, redact_text: RedactText) -> None:
    """Apply *redact_text* to NOTE blocks, the WEBVTT header text and textual cue ids."""
    in_cue = set()
    for cue in cues:
        in_cue.add(cue.timing_line)
        in_cue.update(cue.payload)
    groups: list[list[tuple[int, int]]] = []  # each: [(line index, first column), ...]

    def block_start(i: int) -> bool:
        return i == 0 or not lines[i - 1].strip()

    if fmt == "vtt":
        m = _HEADER_RE.match(lines[0])
        if m and m.end() < len(lines[0]):
            groups.append([(0, m.end())])
        i = 1
        while i < len(lines):
            if i not in in_cue and block_start(i):
                m = _NOTE_RE.match(lines[i])
                if m:
                    group = [(i, m.end())]
                    i += 1
                    while i < len(lines) and lines[i].strip() and i not in in_cue:
                        group.append((i, 0))
                        i += 1
                    groups.append(group)
                    continue
            i += 1
    for cue in cues:
        k = cue.timing_line - 1
        if (
            k >= 0
            and k not in in_cue
            and block_start(k)
            and any(c.isalpha() for c in lines[k])
            and not (fmt == "vtt" and k == 0)
        ):
            groups.append([(k, 0)])

    texts = ["\n".join(lines[k][col:] for k, col in group) for group in groups]
    for group, old, new in zip(groups, texts, batch_redact(texts, redact_text)):
        if new == old:
            continue
        pieces = []
        pos = 0
        for k, col in group:
            part = lines[k][col:]
            pieces.append(Piece(pos, pos + len(part), part))
            pos += len(part) + 1
        reps = [(s, e, _block_text(t)) for s, e, t in diff_replacements(old, new)]
        for (k, col), piece_new in zip(group, distribute(pieces, reps)):
            if piece_new is not None:
                new_lines[k] = lines[k][:col] + piece_new
