"""Plain text and Markdown transcripts, with encoding detection."""

from __future__ import annotations

import codecs
from pathlib import Path

from ..documents import Document, line_spans, split_turns
from ..errors import InputError

# Legacy fallbacks, in order: Vietnamese Windows code page first (our users), then Western.
LEGACY_ENCODINGS = ("cp1258", "cp1252", "latin-1")


def decode_bytes(data: bytes, *, path: Path | None = None) -> tuple[str, str, bool, list[str]]:
    """Decode transcript bytes: UTF-8 (BOM or not), UTF-16 (BOM), then a legacy
    code page with a warning. Returns (text, encoding, had_bom, warnings)."""
    warnings: list[str] = []
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8", True, warnings
        except UnicodeDecodeError as exc:
            raise InputError(
                f"text is not valid UTF-8 at byte {exc.start}", file=path, fix="re-save the file as UTF-8"
            ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", True, warnings
        except UnicodeDecodeError:
            raise InputError("text is not valid UTF-16", file=path, fix="re-save the file as UTF-8") from None
    if b"\x00" in data[:4096]:
        # UTF-16 without a BOM: many NUL bytes at even or odd positions
        head = data[:4096]
        for enc, zeros in (("utf-16-le", head[1::2]), ("utf-16-be", head[0::2])):
            if zeros.count(0) > len(zeros) * 0.6:
                try:
                    return data.decode(enc), enc, False, warnings
                except UnicodeDecodeError:
                    break
        raise InputError("file looks binary, not text", file=path, fix="export it as .txt (UTF-8), .docx, .vtt or .srt")
    try:
        return data.decode("utf-8"), "utf-8", False, warnings
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    for enc in LEGACY_ENCODINGS:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        warnings.append(
            f"not UTF-8 (first bad byte at {first_bad}); read as {enc} — check the output and re-save as UTF-8"
        )
        return text, enc, False, warnings
    raise InputError("text cannot be decoded", file=path, fix="re-save the file as UTF-8")  # pragma: no cover


def read_text(path: Path) -> Document:
    text, encoding, bom, warnings = decode_bytes(path.read_bytes(), path=path)
    lines = line_spans(text)
    from ..documents import Block

    return Document(
        id=path.stem,
        path=path,
        text=text,
        format=path.suffix.lower().lstrip("."),
        turns=split_turns(text, lines),
        blocks=[Block(s, e, i) for i, (s, e) in enumerate(lines)],
        encoding=encoding,
        bom=bom,
        warnings=warnings,
    )
