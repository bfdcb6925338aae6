"""Plain text and Markdown output: same encoding, byte-order mark and line endings.

``doc.text`` is the decoded file content unchanged (CRLF kept, BOM stripped), so
the redacted copy is ``doc.text`` with the replacements applied, encoded the way
the input was. A legacy code page (cp1258, cp1252, latin-1) may not hold a
replacement's letters (a Vietnamese pseudonym in cp1252): those letters are
written as close as the code page allows (Vietnamese precomposed letters as
base letter + combining tone mark in cp1258, accents dropped where that fails,
"?" as the last resort) and a warning is added to ``doc.warnings``. The text
that was not replaced is always written byte for byte as it was.
"""

from __future__ import annotations

import codecs
import unicodedata
from pathlib import Path
from typing import Sequence

from ..documents import Document
from ..fsutil import atomic_open, verify_text
from . import RedactText, Replacement

_UNICODE = {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
# Letters with no decomposition: the nearest ASCII.
_NEAREST = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "‘": "'",
        "’": "'",
        "‚": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "–": "-",
        "—": "-",
        "…": "...",
        "\u00a0": " ",
    }
)


def write_text(
    doc: Document, replacements: Sequence[Replacement], out_path: Path, *, redact_text: RedactText | None = None
) -> None:
    """Write a .txt/.md document (*redact_text* is unused: the whole file is ``doc.text``)."""
    segments: list[tuple[str, bool]] = []
    pos = 0
    for s, e, new in replacements:
        segments.append((doc.text[pos:s], False))
        segments.append((new, True))
        pos = e
    segments.append((doc.text[pos:], False))
    data = encode_segments(segments, doc.encoding, doc.bom, source=Path(doc.path), warnings=doc.warnings)
    with atomic_open(out_path, "wb", verify=read_back(doc.encoding, doc.bom, Path(doc.path), out_path)) as fh:
        fh.write(data)


def read_back(encoding: str, bom: bool, source: Path | None, out_path: Path):
    """The check :func:`~qualkit.fsutil.atomic_open` runs on a text file written like *source*:
    it must decode in the codec it was written in."""
    codec = _codec_and_bom(encoding, bom, source)[0]
    return lambda tmp: verify_text(tmp, Path(out_path), codec)


def encode_text(
    text: str, encoding: str, bom: bool, *, source: Path | None = None, warnings: list[str] | None = None
) -> bytes:
    """Encode a whole text like its source file (lossy letters only where unavoidable)."""
    return encode_segments([(text, True)], encoding, bom, source=source, warnings=warnings)


def encode_segments(
    segments: Sequence[tuple[str, bool]],
    encoding: str,
    bom: bool,
    *,
    source: Path | None = None,
    warnings: list[str] | None = None,
) -> bytes:
    """Encode (text, is_new) segments in *encoding*, with the input's BOM.

    Text that came from the file always encodes (it was decoded from that
    encoding); new text the encoding cannot hold is simplified letter by letter
    (see the module doc) and counted in a warning.
    """
    codec, prefix = _codec_and_bom(encoding, bom, source)
    out = [prefix]
    simplified = 0
    for text, _is_new in segments:
        if not text:
            continue
        try:
            out.append(text.encode(codec))
        except UnicodeEncodeError:
            data, changed = _encode_closest(text, codec)
            out.append(data)
            simplified += changed
    if simplified and warnings is not None:
        warnings.append(
            f"{simplified} letter(s) of replacement text cannot be written in {encoding}; "
            f"written as the closest letters it has — re-save the input as UTF-8 to avoid this"
        )
    return b"".join(out)


def _codec_and_bom(encoding: str, bom: bool, source: Path | None) -> tuple[str, bytes]:
    enc = codecs.lookup(encoding).name  # normalise "UTF8", "utf_16"...
    if enc == "utf-8":
        return "utf-8", codecs.BOM_UTF8 if bom else b""
    if enc in ("utf-16", "utf-32"):
        # the reader decodes "utf-16" with a BOM of either byte order: write the same order
        head = b""
        if source is not None:
            try:
                with open(source, "rb") as fh:
                    head = fh.read(4)
            except OSError:
                head = b""
        if enc == "utf-32":
            big = head.startswith(codecs.BOM_UTF32_BE)
            return ("utf-32-be", codecs.BOM_UTF32_BE) if big else ("utf-32-le", codecs.BOM_UTF32_LE)
        big = head.startswith(codecs.BOM_UTF16_BE)
        return ("utf-16-be", codecs.BOM_UTF16_BE) if big else ("utf-16-le", codecs.BOM_UTF16_LE)
    if enc in ("utf-16-le", "utf-16-be"):
        mark = codecs.BOM_UTF16_LE if enc.endswith("le") else codecs.BOM_UTF16_BE
        return enc, mark if bom else b""
    return enc, b""


def _encodable(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _encode_closest(text: str, codec: str) -> tuple[bytes, int]:
    """Encode *text*, replacing letters *codec* lacks by their closest form. Returns (bytes, letters changed)."""
    out: list[bytes] = []
    changed = 0
    for ch in text:
        try:
            out.append(ch.encode(codec))
            continue
        except UnicodeEncodeError:
            pass
        changed += 1
        out.append(_closest(ch, codec).encode(codec))
    return b"".join(out), changed


def _closest(ch: str, codec: str) -> str:
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[:1], decomposed[1:]
    # most marks composed into the base letter, the rest as combining marks the code
    # page has (cp1258 writes "ễ" as "ê" + combining tilde), unencodable marks dropped
    for k in range(len(marks), -1, -1):
        composed = unicodedata.normalize("NFC", base + marks[:k])
        if _encodable(composed, codec):
            return composed + "".join(m for m in marks[k:] if _encodable(m, codec))
    near = ch.translate(_NEAREST)
    if near != ch and _encodable(near, codec):
        return near
    folded = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode("ascii")
    if folded and _encodable(folded, codec):
        return folded
    return "?"
