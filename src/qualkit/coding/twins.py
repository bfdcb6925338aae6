"""The segments CSV and its ``.xlsx`` twin: where review decisions live, and how both are kept.

``segments.csv`` is the source of truth; ``segments.xlsx`` is the same rows in a spreadsheet
for review. A coder may decide in either. Every read of the CSV (``qualkit code``, ``run``,
``tables``, ``annex``, ``agree``, ``export refi``) merges the decisions made in the twin, row
by row (a row is identified by document, segment id and code), never by file time:

- a row changed in one file only (status, coder, case, offsets, text, a row added or
  deleted) takes that change;
- a row decided differently in both files since qualkit wrote them is a *conflict*: the
  CSV's version is kept and the conflict reported (file:line of both);
- what qualkit last wrote to both is remembered in ``.<name>.written`` beside them (hashes of
  the rows, no text), which tells "changed in the twin" from "changed in the CSV". Without
  it (an older study), a row present in one file only is kept, and a decision beats an
  untouched suggestion.

When qualkit rewrites the files (``code``, ``run``), a file whose decisions would be lost
(a conflict the other side won) is first copied to ``<name>-backups/``.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..fsutil import atomic_write_text, file_sha256

#: columns a decision is made of (the row's identity aside)
_VALUE_COLUMNS = ("case", "start", "end", "speaker", "coder", "status", "text")


def twin_of(path: str | Path) -> Path:
    """The ``.xlsx`` twin of a segments CSV."""
    return Path(path).with_suffix(".xlsx")


def written_record_path(path: str | Path) -> Path:
    p = Path(path)
    return p.with_name(f".{p.stem}.written")


def backup_dir(path: str | Path) -> Path:
    p = Path(path)
    return p.with_name(f"{p.stem}-backups")


@dataclass
class Conflict:
    """The same row decided differently in the CSV and in its twin (the CSV's version is kept)."""

    document: str
    code: str
    segment: str
    csv_line: int | None
    xlsx_line: int | None
    csv_status: str
    xlsx_status: str

    def message(self, csv_name: str, xlsx_name: str) -> str:
        def side(name: str, line: int | None, status: str) -> str:
            return f"{name}:{line} ({status or 'accepted'})" if line else f"deleted in {name}"

        seg = f" segment {self.segment}" if self.segment else ""
        return (
            f"row {self.document}{seg} {self.code} was decided differently in "
            f"{side(csv_name, self.csv_line, self.csv_status)} and {side(xlsx_name, self.xlsx_line, self.xlsx_status)}: "
            f"kept {csv_name}'s (the source of truth); change it there if the spreadsheet was right"
        )


@dataclass
class Reviewed:
    """The rows of a segments file with its twin's decisions merged in."""

    rows: list[dict]  # column -> value (strings; start/end int or None), plus "_file" and "_line"
    conflicts: list[Conflict] = field(default_factory=list)
    from_twin: int = 0  # rows whose version came from the twin
    twin_read: bool = False
    csv_rows: list[dict] = field(default_factory=list)  # each file's rows as read (for backups)
    twin_rows: list[dict] = field(default_factory=list)


# --------------------------------------------------------------------------- identity and value


def row_identity(row: dict) -> tuple:
    seg = str(row.get("segment") or "")
    if seg:
        return (row["document"], seg, row["code"])
    return (row["document"], "", row["code"], _num(row.get("start")), _num(row.get("end")), _squash(row.get("text")))


def _num(v) -> str:
    if v is None or v == "":
        return ""
    try:
        if v != v:  # NaN / NA
            return ""
    except (TypeError, ValueError):
        return ""
    return str(int(v))


def _squash(v) -> str:
    return " ".join(str(v or "").split())


def row_value(row: dict) -> str:
    """A hash of what a coder decides on a row (identity aside); whitespace in the text does not count."""
    parts = []
    for c in _VALUE_COLUMNS:
        v = row.get(c)
        if c in ("start", "end"):
            parts.append(_num(v))
        elif c == "text":
            parts.append(_squash(v))
        elif c == "status":
            parts.append(str(v or "").strip().lower() or "accepted")
        else:
            parts.append(str(v or "").strip())
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def _keyed(rows: Iterable[dict]) -> dict[str, dict]:
    """Rows by identity (+ occurrence number: the same identity twice stays two rows)."""
    out: dict[str, dict] = {}
    seen: dict[tuple, int] = {}
    for r in rows:
        ident = row_identity(r)
        n = seen.get(ident, 0)
        seen[ident] = n + 1
        out[hashlib.sha1(repr((ident, n)).encode("utf-8")).hexdigest()[:16]] = r
    return out


def _is_suggestion(row: dict) -> bool:
    return (str(row.get("coder") or "").strip().lower() == "auto") and (
        str(row.get("status") or "").strip().lower() == "suggested"
    )


# --------------------------------------------------------------------------- what qualkit wrote


def read_written(path: str | Path) -> tuple[str | None, dict[str, str] | None]:
    """(sha256 of the twin as qualkit wrote it, {row key: row value}) or (None, None)."""
    rec = written_record_path(path)
    try:
        lines = rec.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None, None
    sha, rows = None, {}
    for ln in lines:
        parts = ln.split()
        if len(parts) == 2 and parts[0] == "xlsx":
            sha = parts[1]
        elif len(parts) == 3 and parts[0] == "row":
            rows[parts[1]] = parts[2]
    return sha, rows


def record_written(path: str | Path, records: list[dict]) -> Path:
    """Remember what was just written to the CSV and its twin (called after writing both)."""
    path = Path(path)
    body = [
        f"# qualkit: the rows as last written to {path.name} and {twin_of(path).name} (hashes, no text); do not edit",
        f"xlsx {file_sha256(twin_of(path))}",
    ]
    body += [f"row {k} {row_value(r)}" for k, r in _keyed(records).items()]
    target = written_record_path(path)
    atomic_write_text(target, "\n".join(body) + "\n")
    return target


# --------------------------------------------------------------------------- reading both


def _frame_rows(df, name: str) -> list[dict]:
    out = []
    for i, rec in zip(df.index, df.to_dict("records")):
        row = {k: rec.get(k) for k in ("document", "code", "case", "segment", "speaker", "coder", "status", "text")}
        for k in ("start", "end"):
            v = rec.get(k)
            row[k] = None if _num(v) == "" else int(v)
        row["_file"], row["_line"] = name, int(i) + 2
        out.append(row)
    return out


def read_reviewed(path: str | Path) -> Reviewed:
    """The rows of the segments CSV *path* with the decisions made in its twin merged in
    (see module docs). Either file may be missing; both missing is an error of the caller."""
    from .segments import read_segments_frame

    path = Path(path)
    twin = twin_of(path)
    if path.suffix.lower() != ".csv" or not twin.is_file():
        rows = _frame_rows(read_segments_frame(path), path.name)
        return Reviewed(rows, csv_rows=rows)
    if not path.is_file():
        rows = _frame_rows(read_segments_frame(twin), twin.name)
        return Reviewed(rows, twin_read=True, twin_rows=rows)
    sha, base = read_written(path)
    csv_rows = _frame_rows(read_segments_frame(path), path.name)
    if sha is not None and sha == file_sha256(twin):
        return Reviewed(csv_rows, csv_rows=csv_rows)  # the twin is as qualkit wrote it: nothing decided there
    twin_rows = _frame_rows(read_segments_frame(twin), twin.name)
    merged = _merge(csv_rows, twin_rows, base)
    merged.csv_rows, merged.twin_rows = csv_rows, twin_rows
    return merged


def _merge(csv_rows: list[dict], twin_rows: list[dict], base: dict[str, str] | None) -> Reviewed:
    C, X = _keyed(csv_rows), _keyed(twin_rows)
    out = Reviewed(rows=[], twin_read=True)
    chosen: dict[str, dict | None] = {}
    for k in list(C) + [k for k in X if k not in C]:
        c, x = C.get(k), X.get(k)
        hc = row_value(c) if c is not None else None
        hx = row_value(x) if x is not None else None
        if hc == hx:
            pick = c
        elif base is not None and hx == base.get(k):
            pick = c  # unchanged in the twin (or deleted in both, or added in the CSV)
        elif base is not None and hc == base.get(k):
            pick = x  # unchanged in the CSV: the twin's decision (also a row added or deleted there)
        elif base is None and (c is None or x is None):
            pick = c if c is not None else x  # without a record, a row in one file only is kept
        elif base is None and c is not None and x is not None and _is_suggestion(c) != _is_suggestion(x):
            pick = x if _is_suggestion(c) else c  # a decision beats an untouched suggestion
        else:
            pick = c if c is not None else x  # both changed: the CSV wins, unless it deleted a row edited in the twin
            ref = c if c is not None else x
            assert ref is not None
            out.conflicts.append(
                Conflict(
                    str(ref["document"]),
                    str(ref["code"]),
                    str(ref.get("segment") or ""),
                    c["_line"] if c is not None else None,
                    x["_line"] if x is not None else None,
                    str(c["status"] or "") if c is not None else "",
                    str(x["status"] or "") if x is not None else "",
                )
            )
        chosen[k] = pick
        if pick is not None and pick is x and hc != hx:
            out.from_twin += 1
    # order: the CSV's, with rows only the twin has placed after their predecessor in the twin
    after: dict[str | None, list[str]] = {}
    prev: str | None = None
    for k in X:
        if k not in C:
            after.setdefault(prev, []).append(k)
        prev = k if k in C else prev
    order: list[str] = list(after.get(None, []))
    for k in C:
        order.append(k)
        order += after.get(k, [])
    out.rows = [chosen[k] for k in order if chosen.get(k) is not None]  # type: ignore[misc]
    return out


# --------------------------------------------------------------------------- rewriting both


def decisions(rows: Iterable[dict]) -> set[tuple]:
    """The human decisions in *rows*, as comparable tuples (offsets aside: a row that moved
    with its text keeps its decision)."""
    out = set()
    for r in rows:
        if _is_suggestion(r):
            continue
        where = str(r.get("segment") or "") or _squash(r.get("text"))
        status = str(r.get("status") or "").strip().lower() or "accepted"
        out.add((r["document"], where, r["code"], status, str(r.get("coder") or "").strip(), str(r.get("case") or "")))
    return out


def backup_if_losing(path: Path, old_rows: list[dict], new_rows: Iterable[dict]) -> Path | None:
    """Copy *path* to its backups folder when some decision in *old_rows* (read from it) is
    not among *new_rows*, before the caller overwrites it. Returns the copy or None."""
    if not path.is_file() or decisions(old_rows) <= decisions(new_rows):
        return None
    folder = backup_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = folder / f"{path.stem}.{stamp}{path.suffix}"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{path.stem}.{stamp}-{n}{path.suffix}"
    import shutil

    shutil.copy2(path, target)
    return target
