"""Safe file writing: atomic replace, private (0600) files, path containment checks."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from .errors import SafetyError

PRIVATE_MODE = 0o600


@contextlib.contextmanager
def atomic_open(
    path: str | Path,
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
    private: bool = False,
) -> Iterator[IO]:
    """Open a temporary file next to *path*; rename it over *path* on success.

    On an exception the temporary file is removed and *path* is untouched, so a
    reader never sees a half-written output. ``private=True`` creates the file
    with 0600 permissions from the start (never world-readable, not even briefly).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if private:
            os.fchmod(fd, PRIVATE_MODE)
        else:
            os.fchmod(fd, 0o666 & ~_umask())
        binary = "b" in mode
        with os.fdopen(
            fd,
            mode,
            encoding=None if binary else encoding,
            newline=None if binary else newline,
        ) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        if private:
            os.chmod(path, PRIVATE_MODE)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_text(path: str | Path, text: str, *, encoding: str = "utf-8", private: bool = False) -> None:
    with atomic_open(path, "w", encoding=encoding, newline="", private=private) as fh:
        fh.write(text)


def atomic_write_bytes(path: str | Path, data: bytes, *, private: bool = False) -> None:
    with atomic_open(path, "wb", private=private) as fh:
        fh.write(data)


def is_inside(path: str | Path, folder: str | Path) -> bool:
    """True when *path* is *folder* or lies below it (after resolving links)."""
    p = Path(path).resolve()
    f = Path(folder).resolve()
    return p == f or f in p.parents


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when *a* and *b* name the same file (after resolving links; hard links too when both exist)."""
    try:
        if os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b):
            return True
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def ensure_private_location(path: str | Path, shareable_dirs: list[str | Path], what: str) -> None:
    """Refuse to write private material (*what*) inside any shareable folder."""
    for folder in shareable_dirs:
        if folder is not None and is_inside(path, folder):
            raise SafetyError(
                f"{what} would be written inside the output folder {folder}",
                file=path,
                fix=f"put the {what} outside {folder} (e.g. in a private/ folder beside it)",
            )


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
