"""Merge fresh rule suggestions with an earlier, possibly reviewed, segments file
without losing any human decision (``merge_with_previous``, ``update_segments_file``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from ..documents import Document
from ..progress import ProgressFn
from .apply import code_documents
from .segments import CodedSegment

# --------------------------------------------------------------------------- merging with a reviewed file


@dataclass
class MergeResult:
    rows: list[CodedSegment]
    kept_decisions: int = 0  # human rows kept (accepted, rejected, added, edited)
    relocated: int = 0  # rows whose offsets moved because the transcript changed
    unmatched: int = 0  # human rows whose text is no longer in the (changed or removed) transcript
    new_suggestions: int = 0
    kept_suggestions: int = 0  # earlier suggestions still given by the rules
    stale_suggestions: int = 0  # earlier suggestions the rules no longer give, kept (no log, no refresh)
    dropped_suggestions: int = 0  # earlier untouched suggestions dropped (text changed, rules changed)
    withheld_suggestions: int = 0  # suggestions a coder already removed or re-coded: not offered again
    unmatched_documents: list[str] = field(default_factory=list)
    suggested: set[str] = field(default_factory=set)  # the suggestion log to keep for the next run


def suggestion_key(row: CodedSegment) -> str:
    """Fingerprint of a machine suggestion: document, code and segment text (not offsets).

    ``qualkit code`` keeps these in a small log next to the segments file, so a
    re-run can tell an untouched suggestion from one a coder edited or deleted.
    Only a hash is stored: no transcript text.
    """
    import hashlib

    raw = "\x1f".join((row.document, row.code, " ".join((row.text or "").split())))
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:20]


def suggestion_log_path(segments_path) -> Path:
    from pathlib import Path

    p = Path(segments_path)
    return p.with_name(f".{p.stem}.suggested")


def read_suggestion_log(segments_path) -> set[str] | None:
    """The suggestion log of a segments file, or None when there is none."""
    path = suggestion_log_path(segments_path)
    if not path.is_file():
        return None
    return {ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")}


def write_suggestion_log(segments_path, keys: Iterable[str]):
    from ..fsutil import atomic_write_text

    path = suggestion_log_path(segments_path)
    body = "# qualkit code: fingerprints of machine suggestions already offered (no text); do not edit\n"
    atomic_write_text(path, body + "".join(f"{k}\n" for k in sorted(set(keys))))
    return path


def is_human(row: CodedSegment) -> bool:
    """A human decision: any row not still an untouched machine suggestion."""
    return (row.coder or "").strip().lower() != "auto" or (row.status or "").strip().lower() != "suggested"


def _rows_from(previous) -> list[CodedSegment]:
    if previous is None:
        return []
    if isinstance(previous, list):
        out = []
        for r in previous:
            if isinstance(r, CodedSegment):
                out.append(CodedSegment(**{k: getattr(r, k) for k in r.__dataclass_fields__}))
            else:
                out.append(_row_from_mapping(r))
        return out
    return [_row_from_mapping(rec) for rec in previous.to_dict("records")]


def _int_or_none(v):
    if v is None or v == "":
        return None
    try:
        import math

        if isinstance(v, float) and math.isnan(v):
            return None
        return int(v)
    except (TypeError, ValueError):
        return None


def _row_from_mapping(rec) -> CodedSegment:
    def s(key):
        v = rec.get(key, "")
        return "" if v is None or (isinstance(v, float) and v != v) else str(v)

    return CodedSegment(
        document=s("document"),
        code=s("code"),
        case=s("case"),
        segment=s("segment"),
        start=_int_or_none(rec.get("start")),
        end=_int_or_none(rec.get("end")),
        speaker=s("speaker"),
        coder=s("coder"),
        status=s("status").lower(),
        text=s("text"),
    )


def _relocate(row: CodedSegment, text: str, spans: list[tuple[int, int]], *, fuzzy: bool) -> tuple[int, int] | None:
    """Where *row*'s segment is in the (possibly changed) *text*, or None."""
    s, e = row.start, row.end
    seg = row.text
    if s is not None and e is not None and 0 <= s <= e <= len(text):
        if not seg or text[s:e] == seg:
            return s, e
    if not seg:
        return None
    # the same text elsewhere (lines inserted or removed above it): nearest occurrence
    best, pos = None, text.find(seg)
    while pos != -1:
        if best is None or abs(pos - (s or 0)) < abs(best - (s or 0)):
            best = pos
        pos = text.find(seg, pos + 1)
    if best is not None:
        return best, best + len(seg)
    if not fuzzy:
        return None
    # a lightly edited segment (typo fixed): the most similar unit near its old place
    candidates = spans or [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    sm = difflib.SequenceMatcher(None, seg, "", autojunk=False)
    best_ratio, best_span = 0.0, None
    for a, b in candidates:
        if abs(b - a - len(seg)) > max(20, len(seg) // 2):
            continue
        sm.set_seq2(text[a:b])
        if sm.real_quick_ratio() < 0.8 or sm.quick_ratio() < 0.8:
            continue
        r = sm.ratio()
        if r > best_ratio or (r == best_ratio and best_span and abs(a - (s or 0)) < abs(best_span[0] - (s or 0))):
            best_ratio, best_span = r, (a, b)
    return best_span if best_ratio >= 0.8 else None


def _overlaps(a: CodedSegment, b: CodedSegment) -> bool:
    """Does *b* cover at least half of *a* (same document and code)?"""
    if a.start is None or a.end is None or b.start is None or b.end is None:
        return bool(a.text) and a.text == b.text
    inter = min(a.end, b.end) - max(a.start, b.start)
    length = max(1, a.end - a.start)
    return inter * 2 >= length or (a.start == b.start and a.end == b.end)


def merge_segments(
    new_rows: list[CodedSegment],
    previous,
    *,
    recoded_documents: set[str],
    texts: Mapping[str, str] | None = None,
    spans: Mapping[str, list] | None = None,
    refresh: bool = False,
    suggested_before: set[str] | None = None,
) -> MergeResult:
    """Combine fresh suggestions with an earlier segments file (see :func:`merge_with_previous`)."""
    texts = dict(getattr(new_rows, "texts", {}) or {}) | dict(texts or {})
    spans = dict(getattr(new_rows, "spans", {}) or {}) | dict(spans or {})
    recoded = set(recoded_documents) | {r.document for r in new_rows}
    log = suggested_before
    prev = _rows_from(previous)
    res = MergeResult(rows=[], suggested=set(log or ()) | {suggestion_key(r) for r in new_rows})
    doc_order: list[str] = []
    by_doc: dict[str, list[CodedSegment]] = {}
    for r in prev:
        if r.document not in by_doc:
            doc_order.append(r.document)
            by_doc[r.document] = []
        by_doc[r.document].append(r)
    new_by_doc: dict[str, list[CodedSegment]] = {}
    for r in new_rows:
        if r.document not in new_by_doc:
            new_by_doc[r.document] = []
            if r.document not in by_doc:
                doc_order.append(r.document)
                by_doc[r.document] = []
        new_by_doc[r.document].append(r)
    code_rank: dict[str, int] = {}
    for r in new_rows:
        code_rank.setdefault(r.code, len(code_rank))

    for doc_id in doc_order:
        old = by_doc.get(doc_id, [])
        fresh = new_by_doc.get(doc_id, [])
        if doc_id not in recoded:
            res.rows.extend(old)
            res.kept_decisions += sum(1 for r in old if is_human(r))
            continue
        text = texts.get(doc_id)
        kept: list[CodedSegment] = []
        fresh_keys = {(r.code, r.start, r.end) for r in fresh}
        old_keys = {suggestion_key(r) for r in old}
        for r in old:
            # an 'auto'/'suggested' row not in the log was changed by a coder (code or span edited)
            human = is_human(r) or (log is not None and suggestion_key(r) not in log)
            where = _relocate(r, text, spans.get(doc_id, []), fuzzy=human) if text is not None else None
            if where is None:
                if human:
                    kept.append(r)
                    res.kept_decisions += 1
                    res.unmatched += 1
                    if doc_id not in res.unmatched_documents:
                        res.unmatched_documents.append(doc_id)
                else:
                    res.dropped_suggestions += 1
                continue
            if where != (r.start, r.end):
                res.relocated += 1
                r.start, r.end = where
                r.text = text[where[0] : where[1]]
            if human:
                kept.append(r)
                res.kept_decisions += 1
            elif (r.code, r.start, r.end) in fresh_keys:
                kept.append(r)
                res.kept_suggestions += 1
            elif refresh or log is not None:
                res.dropped_suggestions += 1  # untouched, and the rules no longer give it
            else:
                kept.append(r)
                res.stale_suggestions += 1
        added: list[CodedSegment] = []
        for r in fresh:
            if any(k.code == r.code and _overlaps(r, k) for k in kept):
                continue
            if log is not None and suggestion_key(r) in log and suggestion_key(r) not in old_keys:
                res.withheld_suggestions += 1  # offered before; a coder deleted it or changed its code
                continue
            added.append(r)
        res.new_suggestions += len(added)
        merged = kept + added
        big = 1 << 62
        merged.sort(
            key=lambda r: (
                r.start if r.start is not None else big,
                -(r.end if r.end is not None else 0),
                code_rank.get(r.code, len(code_rank)),
                r.code,
            )
        )
        res.rows.extend(merged)
    return res


def merge_with_previous(
    new_rows: list[CodedSegment],
    previous,
    *,
    recoded_documents: set[str],
    texts: Mapping[str, str] | None = None,
    refresh: bool = False,
    suggested_before: set[str] | None = None,
) -> list[CodedSegment]:
    """Fresh suggestions + an earlier (reviewed) segments file -> the rows to write.

    *previous* is the DataFrame of :func:`qualkit.segments.read_segments` (or a
    list of rows, or None). Rules:

    - documents not in *recoded_documents* (and without new rows) keep their rows untouched;
    - every human decision is kept: rows whose coder is not ``auto`` (added by a
      coder) or whose status is not ``suggested`` (accepted, rejected, or empty =
      accepted), with any code a coder typed in. In a changed transcript the
      row follows its text: same offsets if the text there is unchanged, else the
      nearest place where the same text now is, else (a lightly edited
      sentence) the most similar unit (>= 80 % similar); a row whose text cannot
      be found is kept with its old offsets and counted as unmatched;
    - *suggested_before* is the suggestion log of the previous run
      (:func:`read_suggestion_log`). With it, an ``auto``/``suggested`` row that
      is not in the log was edited by a coder (its code or span changed) and is
      kept as a decision; untouched suggestions the rules no longer give are
      dropped; a suggestion already offered that a coder deleted or re-coded is
      not offered again.
      Without a log, earlier suggestions stay while their text is unchanged (so
      a code edited in place is never lost) unless *refresh* drops those the
      rules no longer give;
    - suggestions on text that changed are dropped (the new run re-codes it);
    - a new suggestion is added unless a kept row of the same document and code
      already covers at least half of it (a rejected suggestion does not come back).

    *texts* (document id -> current text) defaults to what ``code_documents`` recorded.
    """
    return merge_segments(
        new_rows,
        previous,
        recoded_documents=recoded_documents,
        texts=texts,
        refresh=refresh,
        suggested_before=suggested_before,
    ).rows


# --------------------------------------------------------------------------- the segments file


def previous_segments_file(output) -> Path | None:
    """The reviewed file to merge with: the CSV (its .xlsx twin's decisions are merged in when
    it is read, :mod:`qualkit.coding.twins`), or the twin alone when there is no CSV."""
    from .twins import twin_of

    output = Path(output)
    if output.is_file():
        return output
    return twin_of(output) if twin_of(output).is_file() else None


@dataclass
class SegmentsUpdate:
    """What :func:`update_segments_file` did."""

    merge: MergeResult
    suggestions: int  # suggestions the rules gave for the coded documents
    previous_file: Path | None
    written: list
    conflicts: list = field(default_factory=list)  # twins.Conflict: rows decided differently in CSV and .xlsx
    from_twin: int = 0  # rows whose decision came from the .xlsx twin
    backups: list = field(default_factory=list)  # files copied before being overwritten (decisions they lose)


def check_unique_ids(docs: Iterable[Document], root: Path | None = None) -> None:
    """Refuse two transcripts with the same document id (file name without extension):
    their segments, cases and table counts would be mixed up. With *root*, the files are
    named as ``root / relpath`` (the original transcripts of redacted copies)."""
    seen: dict[str, Document] = {}

    def name(d: Document) -> Path:
        return root / d.relpath if root is not None and d.relpath is not None else d.path

    for d in docs:
        first = seen.setdefault(d.id, d)
        if first is not d:
            from ..errors import InputError

            raise InputError(
                f"two transcripts have the document id '{d.id}'",
                file=name(d),
                fix=f"rename one of them (the other is {name(first)}); the id is the file name without extension",
            )


def update_segments_file(
    docs: list[Document],
    codebook,
    out_path,
    *,
    unit: str | None = None,
    model: str | None = None,
    nlp=None,
    xlsx: bool = True,
    refresh: bool = False,
    recoded_documents: set[str] | None = None,
    on_progress: ProgressFn | None = None,
    executor=None,
) -> SegmentsUpdate:
    """Code *docs* and merge the suggestions into the segments file *out_path*.

    Every human decision in the existing file and in its .xlsx twin is kept (merged row by
    row, :mod:`qualkit.coding.twins`; a conflict keeps the CSV's and is reported); only new
    suggestions are added. Rows of documents not in *recoded_documents* (default: the ids of
    *docs*) are kept as they are, so a caller can re-code only the transcripts that changed.
    Writes the CSV (+ .xlsx twin with a codebook sheet, also when *xlsx* is off but a twin
    exists, so the two never disagree) atomically, after backing up a file whose decisions
    would be lost, and the suggestion log next to it. Used by ``qualkit code`` and ``qualkit run``.
    """
    from .twins import read_reviewed

    out_path = Path(out_path)
    check_unique_ids(docs)
    prev_path = previous_segments_file(out_path)
    reviewed = read_reviewed(out_path) if prev_path is not None else None
    previous = reviewed.rows if reviewed is not None else None
    rows = code_documents(docs, codebook, unit=unit, model=model, nlp=nlp, on_progress=on_progress, executor=executor)
    log = read_suggestion_log(out_path) if previous is not None else None
    recoded = {d.id for d in docs} if recoded_documents is None else set(recoded_documents)
    merged = merge_segments(rows, previous, recoded_documents=recoded, refresh=refresh, suggested_before=log)
    update = _write_reviewed(out_path, merged, reviewed, xlsx=xlsx, codebook=codebook)
    update.suggestions, update.previous_file = len(rows), prev_path
    return update


def reconcile_segments_file(out_path, *, xlsx: bool = True, codebook=None) -> SegmentsUpdate | None:
    """Bring the segments CSV and its .xlsx twin back in step when a coder decided in the twin
    (nothing is coded). Returns what was done, or None when there was nothing to do."""
    from .twins import read_reviewed, twin_of

    out_path = Path(out_path)
    if not out_path.is_file() or not twin_of(out_path).is_file():
        return None
    reviewed = read_reviewed(out_path)
    if not reviewed.from_twin and not reviewed.conflicts:
        return None
    merged = MergeResult(rows=[_row_from_mapping(r) for r in reviewed.rows])
    merged.kept_decisions = sum(1 for r in merged.rows if is_human(r))
    update = _write_reviewed(out_path, merged, reviewed, xlsx=xlsx, codebook=codebook, log=False)
    update.previous_file = out_path
    return update


def _write_reviewed(out_path: Path, merged: MergeResult, reviewed, *, xlsx: bool, codebook, log: bool = True):
    from .segments import write_segments
    from .twins import backup_if_losing, twin_of

    twin = twin_of(out_path)
    records = [r.as_row() for r in merged.rows]
    backups = []
    if reviewed is not None:
        for path, old in ((out_path, reviewed.csv_rows), (twin, reviewed.twin_rows)):
            copy = backup_if_losing(path, old, records) if old else None
            if copy is not None:
                backups.append(copy)
    written = write_segments(out_path, merged.rows, xlsx=xlsx or twin.is_file(), codebook=codebook)
    if log:
        write_suggestion_log(out_path, merged.suggested)
    return SegmentsUpdate(
        merge=merged,
        suggestions=0,
        previous_file=None,
        written=written,
        conflicts=list(reviewed.conflicts) if reviewed is not None else [],
        from_twin=reviewed.from_twin if reviewed is not None else 0,
        backups=backups,
    )
