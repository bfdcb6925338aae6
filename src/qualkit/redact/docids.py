"""Neutral document ids (``redact --rename``): a transcript's file name may carry a respondent's name.

With renaming, each input transcript (by its path relative to the input folder) gets a
neutral id, ``T001``, ``T002``, ...; its redacted copy is written as ``<id><ext>`` at the top
of the output folder, so the id that segments, tables, the redaction log and REFI exports
use holds no name. The mapping is private: ``document-ids.csv`` beside the pseudonym key
(columns ``original,neutral``; 0600; backed up on every change like the key).

Ids are stable: an input keeps its id on every later run, new inputs get the next numbers
(in path order), and the id of an input that was removed is never given to another.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path, PurePosixPath
from typing import Iterable

from ..errors import InputError
from .key import PrivateFile

IDS_NAME = "document-ids.csv"
COLUMNS = ("original", "neutral")
PREFIX = "T"
_ID_RE = re.compile(rf"^{PREFIX}(\d+)$")


class DocumentIds:
    """The mapping in memory: input relative path (posix) -> neutral id."""

    def __init__(self, path: Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self.ids: dict[str, str] = {}
        self._file = PrivateFile(self.path, "document id list") if self.path is not None else None
        if self._file is not None and self._file.exists():
            self._load()

    def _load(self) -> None:
        assert self._file is not None
        try:
            text = self._file.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(
                "the document id list is not UTF-8 text", file=self.path, fix="restore it from key-backups/"
            ) from None
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header[:2]] != list(COLUMNS):
            raise InputError(
                "the document id list has no 'original,neutral' header",
                file=self.path,
                line=1,
                fix="restore it from key-backups/ (qualkit writes it; do not edit it by hand)",
            )
        seen: dict[str, int] = {}
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != 2 or not _ID_RE.match(cells[1].strip()) or not cells[0].strip():
                raise InputError(
                    "bad row in the document id list",
                    file=self.path,
                    line=line,
                    fix="each row is: original relative path, neutral id (T001); restore it from key-backups/",
                )
            original, neutral = cells[0].strip(), cells[1].strip()
            if original in self.ids or neutral in seen:
                raise InputError(
                    "the document id list names a transcript or an id twice",
                    file=self.path,
                    line=line,
                    fix="restore it from key-backups/",
                )
            self.ids[original] = neutral
            seen[neutral] = line

    # -- ids -----------------------------------------------------------------------------
    def assign(self, rels: Iterable[str]) -> list[str]:
        """Give every path in *rels* without an id the next one (in sorted order); returns the new paths."""
        n = max((int(_ID_RE.match(v).group(1)) for v in self.ids.values()), default=0)  # type: ignore[union-attr]
        new = sorted(r for r in set(rels) if r not in self.ids)
        for rel in new:
            n += 1
            self.ids[rel] = f"{PREFIX}{n:03d}"
        return new

    def neutral_path(self, rel: str) -> Path:
        """Where the redacted copy of input *rel* goes (relative to the output folder)."""
        return Path(self.ids[rel] + PurePosixPath(rel).suffix.lower())

    def by_document_id(self) -> dict[str, str]:
        """Original document id (file name without extension) -> neutral id, for ids that are
        not ambiguous (two inputs in different folders with the same file name are left out)."""
        out: dict[str, str] = {}
        clash: set[str] = set()
        for rel, neutral in self.ids.items():
            stem = PurePosixPath(rel).stem
            if stem in out:
                clash.add(stem)
            out[stem] = neutral
        return {k: v for k, v in out.items() if k not in clash}

    # -- file ----------------------------------------------------------------------------
    def save(self) -> Path | None:
        """Write the list if it changed (0600, previous version backed up once per run, a list
        changed on disk meanwhile is never overwritten). Returns the backup, if any."""
        if self._file is None:
            return None
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(COLUMNS)
        rows: list[tuple[str, str]] = sorted(self.ids.items(), key=_number)
        w.writerows(rows)
        return self._file.save(buf.getvalue())


def _number(item: tuple[str, str]) -> int:
    return int(item[1][len(PREFIX) :])


def ids_path_for(key_path: Path) -> Path:
    """The document id list of a study: beside its pseudonym key."""
    return Path(key_path).parent / IDS_NAME
