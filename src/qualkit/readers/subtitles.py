"""WebVTT and SubRip transcripts: the cue texts joined with "\\n".

Cue payload is kept as is (``<v Speaker>`` tags included) so offsets map back to
the file; a voice tag, or a ``Name:`` prefix, is the speaker label of the cue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..documents import Block, Document, split_turns
from ..errors import InputError
from .text import decode_bytes

TIMING_RE = re.compile(
    r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<end>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})(?P<settings>.*)$"
)
VOICE_RE = re.compile(r"<v(?:\.[\w.-]+)?\s+(?P<name>[^>]+)>")


@dataclass
class Cue:
    """A cue as found in the file: its payload lines' offsets in the *file* text."""

    number: int
    timing_line: int  # index of the timing line in the file's lines
    payload: list[int]  # indices of payload lines in the file's lines


def parse_cues(file_text: str, *, path: Path | None = None, fmt: str) -> tuple[list[str], list[Cue]]:
    """Split a .vtt/.srt file into its lines and cues (shared by reader and writer)."""
    lines = file_text.split("\n")
    stripped = [ln.rstrip("\r") for ln in lines]
    if fmt == "vtt" and not stripped[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise InputError(
            "not a WebVTT file (first line must be WEBVTT)",
            file=path,
            line=1,
            fix="add a WEBVTT header line or save the file as .txt",
        )
    cues: list[Cue] = []
    i = 0
    n = len(stripped)
    while i < n:
        m = TIMING_RE.match(stripped[i])
        if not m:
            if fmt == "vtt" and stripped[i].startswith(("NOTE", "STYLE", "REGION")):
                while i < n and stripped[i].strip():
                    i += 1
            i += 1
            continue
        j = i + 1
        payload = []
        while j < n and stripped[j].strip():
            if TIMING_RE.match(stripped[j]):
                break
            payload.append(j)
            j += 1
        cues.append(Cue(number=len(cues) + 1, timing_line=i, payload=payload))
        i = j
    if not cues:
        raise InputError(
            "no subtitle cues found", file=path, fix="check the timing lines (00:00:01.000 --> 00:00:04.000)"
        )
    return stripped, cues


def _read(path: Path, fmt: str) -> Document:
    file_text, encoding, bom, warnings = decode_bytes(path.read_bytes(), path=path)
    lines, cues = parse_cues(file_text, path=path, fmt=fmt)
    parts: list[str] = []
    blocks: list[Block] = []
    turn_lines: list[tuple[int, int]] = []
    labels: list[tuple[int, int] | None] = []
    pos = 0
    for cue in cues:
        cue_text = "\n".join(lines[k] for k in cue.payload)
        blocks.append(Block(pos, pos + len(cue_text), cue.number - 1))
        # one turn line per cue: a cue never continues across a speaker change
        turn_lines.append((pos, pos + len(cue_text)))
        m = VOICE_RE.match(cue_text)
        labels.append((pos + m.start("name"), pos + m.end("name")) if m else None)
        parts.append(cue_text)
        pos += len(cue_text) + 1
    text = "\n".join(parts)
    turns = split_turns(text, turn_lines, labels=labels)
    # a voice tag's text starts after the closing ">"
    fixed = []
    for t in turns:
        if t.label_end is not None and text[t.label_end : t.label_end + 1] == ">":
            ts = t.label_end + 1
            while ts < t.end and text[ts] in " \t":
                ts += 1
            t = type(t)(**{**t.__dict__, "text_start": ts})
        fixed.append(t)
    return Document(
        id=path.stem,
        path=path,
        text=text,
        format=fmt,
        turns=fixed,
        blocks=blocks,
        encoding=encoding,
        bom=bom,
        warnings=warnings,
    )


def read_vtt(path: Path) -> Document:
    return _read(path, "vtt")


def read_srt(path: Path) -> Document:
    return _read(path, "srt")
