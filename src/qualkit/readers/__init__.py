"""Read transcripts into :class:`~qualkit.documents.Document` objects.

``read_document(path)`` dispatches on the extension; ``iter_inputs(paths)``
expands files and folders into (file, relative path) pairs in a stable order.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

from ..documents import SUPPORTED_EXTENSIONS, Document
from ..errors import InputError
from .docx import read_docx
from .subtitles import read_srt, read_vtt
from .text import decode_bytes, read_text

__all__ = ["read_document", "iter_inputs", "outside_links", "decode_bytes", "InputFile"]

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


def iter_inputs(
    paths: Iterable[str | Path], *, all_files: bool = False, follow_links: bool = False
) -> Iterator[InputFile]:
    """Expand files and folders. Folders are walked recursively, sorted, hidden
    files and Office lock files (``~$x.docx``) skipped; with ``all_files`` files of
    unsupported types are yielded too (so the caller can report them).

    Symbolic links inside a folder that point outside it (to a file or a folder) are
    refused with an :class:`InputError` naming them, before anything is yielded, unless
    *follow_links* (then they are read as if they were in the folder). Links to files
    inside the folder are read; links to folders inside it are skipped (their files are
    listed under their real path). A file given by name is read wherever it points.
    """
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files, outside = _walk(p, all_files=all_files, follow_links=follow_links)
            if outside:
                raise _outside_error(p, outside)
            for f in sorted(files):
                yield InputFile(f, f.relative_to(p))
        elif p.exists():
            yield InputFile(p, Path(p.name))
        else:
            raise InputError("input not found", file=p, fix="check the path (a file or a folder of transcripts)")


def outside_links(paths: Iterable[str | Path], *, all_files: bool = False) -> list[Path]:
    """The symbolic links inside the folders of *paths* that point outside them (see :func:`iter_inputs`)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out += _walk(p, all_files=all_files, follow_links=False)[1]
    return sorted(out)


def _wanted(name: str, all_files: bool) -> bool:
    return not name.startswith((".", "~$")) and (all_files or Path(name).suffix.lower() in SUPPORTED_EXTENSIONS)


def _walk(root: Path, *, all_files: bool, follow_links: bool) -> tuple[list[Path], list[Path]]:
    """(files to read, links pointing outside *root* that were not followed)."""
    real_root = root.resolve()
    files: list[Path] = []
    outside: list[Path] = []
    seen = {real_root}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise InputError(
                f"folder cannot be read ({exc.strerror or type(exc).__name__})",
                file=folder,
                fix="check its permissions",
            ) from None
        for e in entries:
            if e.name.startswith("."):
                continue  # hidden files and folders are never inputs
            path = Path(e.path)
            if not e.is_symlink():
                if e.is_dir(follow_symlinks=False):
                    stack.append(path)
                elif e.is_file(follow_symlinks=False) and _wanted(e.name, all_files):
                    files.append(path)  # regular files only: never a pipe or a device
                continue
            target = path.resolve()
            inside = target == real_root or real_root in target.parents
            if target.is_dir():
                if inside or target in seen:
                    continue  # listed under its real path (and no loops)
                if follow_links:
                    seen.add(target)
                    stack.append(path)
                else:
                    outside.append(path)
            elif _wanted(e.name, all_files) and (target.is_file() or not target.exists()):
                if inside or not target.exists() or follow_links:
                    files.append(path)  # a dangling link is reported by the reader ("file not found")
                else:
                    outside.append(path)
    return files, outside


def _outside_error(root: Path, links: list[Path]) -> InputError:
    names = ", ".join(str(link.relative_to(root)) for link in links[:5])
    more = f" and {len(links) - 5} more" if len(links) > 5 else ""
    return InputError(
        f"{len(links)} link(s) in the input folder point outside it ({names}{more}): refused",
        file=links[0],
        fix="copy the files into the folder or remove the links; or read them with --follow-links "
        "(redact, code, run, export refi)",
    )
