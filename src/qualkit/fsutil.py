"""Safe file writing: atomic replace, read-back checks, staged commits, private (0600) files,
stale temp-file removal, path containment checks.

Every file qualkit writes goes through :func:`atomic_open`: a temporary file beside the
target (``.<name>.<random>.tmp``), flushed and synced, **read back** (a zip package is
unpacked and each XML part parsed, a text file decoded) and only then renamed over the
target. Any failure removes the temporary file, leaves the target as it was and raises
:class:`WriteError`, which names the file and the reason on one line. Inside
:class:`StagedWrites` the renames wait until :meth:`StagedWrites.commit`, so a run can
write its private key before any shareable output that depends on it is put in place.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import hashlib
import os
import re
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import IO, Callable, Iterator

from .errors import InputError, QualkitError, SafetyError

PRIVATE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
#: files whose bytes are a zip package of XML parts (checked part by part when read back)
ZIP_SUFFIXES = frozenset({".docx", ".xlsx", ".pptx", ".qdpx"})
#: files that are one XML document (parsed when read back)
XML_SUFFIXES = frozenset({".xml", ".qdc"})
#: a temporary file of :func:`atomic_open` (``tempfile.mkstemp``'s 8 random characters)
TEMP_RE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
Verify = Callable[[Path], None]
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG, errno.EACCES, errno.EPERM})


class WriteError(QualkitError, OSError):
    """A file could not be written (full disk, read-only folder, ...) or did not read back.

    Also an :class:`OSError`, so code that handles OSError keeps working.
    """

    def __init__(self, what: str, *, file: str | Path | None = None, fix: str | None = None) -> None:
        QualkitError.__init__(self, what, file=file, fix=fix)


class ReadBackError(QualkitError):
    """A file qualkit wrote does not read back (it was not put in place)."""


def write_error(path: str | Path, exc: BaseException) -> WriteError:
    """A one-line :class:`WriteError` for *exc* raised while writing *path*."""
    if isinstance(exc, WriteError):
        return exc
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return WriteError(
        f"cannot write the file ({reason})",
        file=path,
        fix="free some disk space or make the folder writable, then run again; the previous version was kept",
    )


_STAGING: contextvars.ContextVar[StagedWrites | None] = contextvars.ContextVar("qualkit_staging", default=None)


class StagedWrites:
    """Hold back the renames of :func:`atomic_open` until :meth:`commit`.

    ``with staged.collecting(): ...`` writes every file as a verified temporary file;
    :meth:`commit` renames them all into place (in the order written), :meth:`abort`
    removes them (the previous files stay as they were).
    """

    def __init__(self) -> None:
        self.pending: list[tuple[str, Path, bool]] = []

    @contextlib.contextmanager
    def collecting(self) -> Iterator[StagedWrites]:
        token = _STAGING.set(self)
        try:
            yield self
        finally:
            _STAGING.reset(token)

    def commit(self) -> None:
        try:
            while self.pending:
                tmp, path, private = self.pending[0]
                try:
                    os.replace(tmp, path)
                    if private:
                        os.chmod(path, PRIVATE_MODE)
                except OSError as exc:
                    raise write_error(path, exc) from None
                self.pending.pop(0)
        finally:
            self.abort()

    def abort(self) -> None:
        for tmp, _path, _private in self.pending:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self.pending.clear()


@contextlib.contextmanager
def atomic_open(
    path: str | Path,
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
    private: bool = False,
    verify: Verify | bool = True,
) -> Iterator[IO]:
    """Open a temporary file next to *path*; read it back and rename it over *path* on success.

    On an exception the temporary file is removed and *path* is untouched, so a
    reader never sees a half-written output; an :class:`OSError` (full disk,
    read-only folder) becomes a one-line :class:`WriteError` naming *path*.
    ``private=True`` creates the file with 0600 permissions from the start (never
    world-readable, not even briefly). *verify*: ``True`` reads the file back by its
    kind (:func:`verify_written`), a callable is called with the temporary file's path,
    ``False`` skips the check. Inside :meth:`StagedWrites.collecting` the rename waits
    for the commit.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_error(path, exc) from None
    binary = "b" in mode
    staged = _STAGING.get()
    try:
        if private:
            os.fchmod(fd, PRIVATE_MODE)
        else:
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, mode, encoding=None if binary else encoding, newline=None if binary else newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if verify is True:
            verify_written(Path(tmp), path, None if binary else encoding)
        elif callable(verify):
            verify(Path(tmp))
        if staged is not None:
            staged.pending.append((tmp, path, private))
            return
        os.replace(tmp, path)
        if private:
            os.chmod(path, PRIVATE_MODE)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        # a failed write, flush or rename is named; the caller's own errors pass unchanged
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            if exc.errno in _WRITE_ERRNOS and exc.filename in (None, tmp, str(path)):
                raise write_error(path, exc) from None
        raise


def unreadable(path: str | Path, reason: str) -> ReadBackError:
    """The error for a written file that does not read back."""
    return ReadBackError(
        f"the file written does not read back ({reason}); it was not put in place",
        file=path,
        fix="report this as a qualkit bug; the previous version was kept",
    )


def verify_written(tmp: Path, path: Path, encoding: str | None = None) -> None:
    """Read back *tmp* (to become *path*): a zip package is unpacked, each XML part parsed
    strictly (no DTD, no entity); text written in *encoding* is decoded."""
    suffix = path.suffix.lower()
    if suffix in ZIP_SUFFIXES:
        verify_package(tmp, path)
    elif suffix in XML_SUFFIXES:
        _verify_xml(tmp, path)
    elif encoding is not None:
        verify_text(tmp, path, encoding)


def verify_text(tmp: Path, path: Path, encoding: str) -> None:
    """Decode the written file *tmp* (to become *path*) as *encoding*, in blocks."""
    try:
        with open(tmp, encoding=encoding, newline="") as fh:
            while fh.read(1 << 20):
                pass
    except (UnicodeError, LookupError) as exc:
        raise unreadable(path, f"not valid {encoding}: {type(exc).__name__}") from None
    except OSError as exc:
        raise write_error(path, exc) from None


def _parse_strict(data: bytes, where: Path, part: str) -> None:
    """Parse one XML document; a DTD or an entity reference is refused (no reader expands it)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    root = etree.fromstring(data, parser)
    if root.getroottree().docinfo.doctype or next(root.iter(etree.Entity), None) is not None:
        raise unreadable(where, f"{part} holds a DTD or an entity reference")


def _verify_xml(tmp: Path, path: Path) -> None:
    from lxml import etree

    try:
        _parse_strict(tmp.read_bytes(), path, "the XML")
    except etree.XMLSyntaxError as exc:
        raise unreadable(path, f"not well-formed XML: {exc.msg}") from None
    except OSError as exc:
        raise write_error(path, exc) from None


def verify_package(tmp: Path, path: Path | None = None) -> None:
    """Unpack every part of the zip package *tmp* and parse each XML part strictly."""
    from lxml import etree

    where = path or tmp
    try:
        with zipfile.ZipFile(tmp) as z:
            bad = z.testzip()
            if bad is not None:
                raise unreadable(where, f"part {bad} is damaged")
            for info in z.infolist():
                if info.filename.endswith((".xml", ".rels")):
                    _parse_strict(z.read(info), where, f"part {info.filename}")
    except etree.XMLSyntaxError as exc:
        raise unreadable(where, f"a part is not well-formed XML: {exc.msg}") from None
    except zipfile.BadZipFile as exc:
        raise unreadable(where, f"not a valid zip package: {exc}") from None
    except OSError as exc:
        raise write_error(where, exc) from None


def remove_stale_temps(folder: str | Path, *, recursive: bool = True) -> list[Path]:
    """Remove the temporary files a killed run of :func:`atomic_open` left in *folder*.

    Only names of the form ``.<name>.<8 random characters>.tmp`` are touched; links are
    never followed. Returns the files removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed: list[Path] = []
    walker = os.walk(folder) if recursive else [(str(folder), [], os.listdir(folder))]
    for root, _dirs, names in walker:
        for name in names:
            if not TEMP_RE.match(name):
                continue
            p = Path(root) / name
            try:
                if stat.S_ISREG(os.lstat(p).st_mode):
                    p.unlink()
                    removed.append(p)
            except OSError:
                continue
    return removed


def make_private(folder: str | Path) -> list[Path]:
    """Make every file under *folder* 0600 and every folder 0700 (links left alone).

    Returns the files and folders whose permissions were looser (other than the owner's).
    """
    folder = Path(folder)
    changed: list[Path] = []
    if not folder.is_dir():
        return changed
    for root, dirs, files in os.walk(folder):
        for name, mode in [(root, PRIVATE_DIR_MODE)] if root == str(folder) else []:
            changed += _tighten(Path(name), mode)
        for d in dirs:
            changed += _tighten(Path(root) / d, PRIVATE_DIR_MODE)
        for f in files:
            changed += _tighten(Path(root) / f, PRIVATE_MODE)
    return changed


def make_private_paths(paths) -> list[Path]:
    """:func:`make_private` for each folder of *paths* (None and missing ones skipped) and 0600
    for each file; returns what was looser than owner-only, once each."""
    changed: list[Path] = []
    for p in paths:
        if p is None:
            continue
        p = Path(p)
        if p.is_dir():
            changed += make_private(p)
        elif p.is_file():
            changed += _tighten(p, PRIVATE_MODE)
    return list(dict.fromkeys(changed))


def private_note(changed: list[Path]) -> str:
    """The one line that says which private files were readable by others and are no longer."""
    names = ", ".join(str(p) for p in changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    return (
        f"{len(changed)} private file(s) or folder(s) were readable by other users and are now owner-only "
        f"(0600/0700): {names}"
    )


def _tighten(p: Path, mode: int) -> list[Path]:
    try:
        st = os.lstat(p)
    except OSError:
        return []
    if stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o077:
        return []
    try:
        os.chmod(p, mode)
    except OSError:
        return []
    return [p]


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


# --- Office packages read by qualkit: refused when damaged or hostile ---------------------------------

#: a part larger than this, uncompressed, is refused before it is inflated
MAX_PART_BYTES = 1 << 30
#: ... and so is a part over RATIO_FLOOR bytes that expands more than MAX_RATIO times
#: (Office XML compresses 5-20 times; a zip bomb thousands of times)
MAX_RATIO = 200
RATIO_FLOOR = 32 << 20
#: the XML declaration and comments before the root element: more than this is not Office's
MAX_PROLOG = 1 << 20


def check_package(path: Path, what: str = "Word file", fix: str = "open and save it again, or leave it out") -> None:
    """Refuse a damaged or hostile Office package (*what*: "Word file", "Excel file") before
    anything parses it, with one :class:`~qualkit.errors.InputError` naming the part.

    A part whose uncompressed size is absurd (a zip bomb) is refused from the zip directory
    alone, before it is inflated. Every other part is inflated once, in blocks (its checksum
    verified, memory flat); a damaged part, and an XML part that declares a DTD (Office never
    writes one: it is how XML bombs and external-entity tricks are built), are refused.
    """

    def _damaged(message: str, path: Path) -> InputError:
        return InputError(message, file=path, fix=fix)

    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            for info in infos:
                size = info.file_size
                if size > MAX_PART_BYTES or (size > RATIO_FLOOR and size > MAX_RATIO * max(1, info.compress_size)):
                    raise _damaged(
                        f"part {info.filename} of the {what} would expand to {size >> 20} MB "
                        f"from {max(1, info.compress_size >> 10)} KB (a zip bomb?): refused",
                        path,
                    )
            for info in infos:
                _check_part(z, info, path, what, _damaged)
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError, KeyError):
        raise _damaged(f"not a valid {what} (its zip structure is damaged)", path) from None


def _check_part(z: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, what: str, _damaged) -> None:
    """Inflate one part in blocks; for an XML part, refuse a DTD before its root element."""
    head = b""
    in_prolog = info.filename.endswith((".xml", ".rels"))
    try:
        with z.open(info) as fh:
            while block := fh.read(1 << 16):
                if not in_prolog:
                    continue
                head += block
                root = _prolog_end(head)
                if root == _DECLARATION:
                    raise _damaged(
                        f"part {info.filename} of the {what} declares a DTD (<!DOCTYPE>), which Office never "
                        f"writes (an XML bomb or external entity): refused",
                        path,
                    )
                if root >= 0:
                    in_prolog, head = False, b""
                elif len(head) > MAX_PROLOG:
                    raise _damaged(f"part {info.filename} of the {what} has no XML root element", path)
    except InputError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
        # a bad checksum, damaged deflate data, an unknown compression or an encrypted part
        raise _damaged(f"part {info.filename} of the {what} is damaged (its data cannot be unpacked)", path) from None


_DECLARATION = -2


def _prolog_end(head: bytes) -> int:
    """Offset of the root element's start tag in *head* (an XML part's first bytes); -1 when not
    in *head* yet; ``_DECLARATION`` when a ``<!DOCTYPE`` (or any ``<!`` other than a comment)
    comes first."""
    pos = 0
    while True:
        k = head.find(b"<", pos)
        if k < 0 or k + 1 >= len(head):
            return -1
        if head.startswith(b"<?", k):
            end, skip = head.find(b"?>", k), 2
        elif head.startswith(b"<!--", k):
            end, skip = head.find(b"-->", k), 3
        elif head.startswith(b"<!", k):
            return _DECLARATION
        else:
            return k
        if end < 0:
            return -1
        pos = end + skip
