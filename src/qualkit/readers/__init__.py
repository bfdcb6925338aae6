"""Read transcripts into :class:`~qualkit.documents.Document` objects.

``read_document(path)`` dispatches on the extension; ``iter_inputs(paths)``
expands files and folders into (file, relative path) pairs in a stable order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from ..documents import SUPPORTED_EXTENSIONS, Document
from ..errors import InputError
from .docx import read_docx
from .subtitles import read_srt, read_vtt
from .text import decode_bytes, read_text

__all__ = ["read_document", "iter_inputs", "decode_bytes", "InputFile"]

_READERS = {".txt": read_text, ".md": read_text, ".docx": read_docx, ".vtt": read_vtt, ".srt": read_srt}


class InputFile(tuple):
    """(path, relative path under its input root)."""

    __slots__ = ()

    def __new__(cls, path: Path, rel: Path):
        return super().__new__(cls, (path, rel))

    @property
    def path(self) -> Path:
        return self[0]

    @property
    def rel(self) -> Path:
        return self[1]


def read_document(path: str | Path, *, rel: Path | None = None) -> Document:
    """Read one transcript. Raises :class:`InputError` with the file and the fix."""
    path = Path(path)
    ext = path.suffix.lower()
    reader = _READERS.get(ext)
    if reader is None:
        raise InputError(
            f"unsupported file type '{ext or '(none)'}'",
            file=path,
            fix=f"convert it to one of {', '.join(SUPPORTED_EXTENSIONS)} or leave it out",
        )
    if not path.is_file():
        raise InputError("file not found", file=path, fix="check the path")
    try:
        doc = reader(path)
    except InputError:
        raise
    except PermissionError:
        raise InputError("file is not readable", file=path, fix="check its permissions") from None
    except OSError as exc:
        raise InputError(f"file cannot be read ({exc.strerror or exc})", file=path, fix="check the file") from None
    if not doc.text.strip():
        raise InputError("file is empty", file=path, fix="add the transcript text or leave the file out")
    doc.relpath = rel if rel is not None else Path(path.name)
    return doc


def iter_inputs(paths: Iterable[str | Path], *, all_files: bool = False) -> Iterator[InputFile]:
    """Expand files and folders. Folders are walked recursively, sorted, hidden
    files and Office lock files (``~$x.docx``) skipped; with ``all_files`` files of
    unsupported types are yielded too (so the caller can report them)."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p)
                if not f.is_file() or any(part.startswith(".") for part in rel.parts) or f.name.startswith("~$"):
                    continue
                if all_files or f.suffix.lower() in SUPPORTED_EXTENSIONS:
                    yield InputFile(f, rel)
        elif p.exists():
            yield InputFile(p, Path(p.name))
        else:
            raise InputError("input not found", file=p, fix="check the path (a file or a folder of transcripts)")
