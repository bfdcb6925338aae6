"""The pseudonym key: original -> replacement, private, read and extended on every run.

CSV columns: ``original, label, replacement, first_document, tag, pseudonym``.
The first four are the contract; ``tag`` and ``pseudonym`` keep the numbering
and the pseudonym stable when the style changes between runs. The same
original (after case and diacritic folding) always gets the same replacement.
A team may edit ``replacement`` by hand: a value that is not a tag or a
category is taken as the pseudonym.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..choices import Style, values
from ..errors import InputError, SafetyError
from ..fsutil import PRIVATE_MODE, atomic_write_text
from ..textnorm import fold, has_diacritics, is_vn_syllable
from .lexicon import lexicon, phrase_key, tokens_of
from .spans import LABELS

KEY_COLUMNS = ("original", "label", "replacement", "first_document", "tag", "pseudonym")
STYLES = values(Style)
_TAG_RE = re.compile(r"^\[([A-Z]+) (\d+)\]$")
_CAT_RE = re.compile(r"^\[([A-Z]+)\]$")


@dataclass
class KeyEntry:
    original: str
    label: str
    first_document: str
    tag: str
    pseudonym: str
    replacement: str = ""
    line: int = 0  # line in the key file (0: added in this run)

    def replacement_for(self, style: str) -> str:
        if style == "tag":
            return self.tag
        if style == "category":
            return f"[{self.label}]"
        return self.pseudonym or self.tag


class RedactionKey:
    """The key file in memory. Not thread-safe; one per run."""

    def __init__(self, path: Path | None, style: str = "pseudonym") -> None:
        self.path = Path(path) if path is not None else None
        self.style = style
        self.entries: dict[str, KeyEntry] = {}
        self.counters: dict[str, int] = {}
        self.used_pseudonyms: set[str] = set()
        self.used_given: set[str] = set()  # last words of the pseudonyms in use
        self.components: dict[str, str] = {}  # folded name part -> pseudonym part
        self.avoid: set[str] = set()  # folded words that occur in the study
        self.added = 0
        self._file = PrivateFile(self.path, "pseudonym key") if self.path is not None else None
        if self._file is not None and self._file.exists():
            self._load()

    # -- file ------------------------------------------------------------------------
    def _load(self) -> None:
        assert self._file is not None
        for row in parse_key(self._file.read(), self.path):
            self._add_loaded(row)

    def _add_loaded(self, row: KeyRow) -> None:
        replacement, tag, pseudonym = row.replacement, row.tag, row.pseudonym
        m = _TAG_RE.match(replacement)
        if m:
            tag = tag or replacement
        elif _CAT_RE.match(replacement):
            pass
        elif replacement:
            pseudonym = replacement  # a pseudonym, possibly edited by hand
        if not tag:
            tag = self._next_tag(row.label)
        entry = KeyEntry(row.original, row.label, row.first_document, tag, pseudonym, replacement, line=row.line)
        self._remember(entry)
        self.entries.setdefault(phrase_key(row.original), entry)

    def render(self) -> str:
        """The key file's text as :meth:`save` writes it."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(KEY_COLUMNS)
        for e in self.entries.values():
            writer.writerow([e.original, e.label, e.replacement_for(self.style), e.first_document, e.tag, e.pseudonym])
        return buf.getvalue()

    def save(self) -> Path | None:
        """Write the key if it changed, safely; return the backup of the previous key (or None).

        - nothing is written when the file already holds exactly this key (re-runs are idempotent);
        - the key is refused if the file on disk changed since it was read (a hand edit made
          during the run is never overwritten);
        - before the first change in this run, the previous file is copied to
          ``<key folder>/key-backups/`` (0600; the last :data:`KEEP_BACKUPS` are kept);
        - the new text is written atomically (temp file + rename, 0600) and read back.

        Call it before writing any output that uses the key's replacements.
        """
        if self._file is None:
            return None
        # what we write must read back (an original with a line break would not)
        return self._file.save(self.render(), check=lambda data: parse_key(data, self.path))

    def check_replacements(self, study_names: Iterable[tuple[str, str]] = (), *, where: str = "the study") -> None:
        """Refuse a pseudonym that is a real name: the original of another key entry, or a
        name of the study (*study_names*: (text, label) of the names found in the transcripts
        and of the names list). Raises :class:`InputError` naming the key line."""
        names: dict[str, str] = {}
        singles: set[str] = set()  # given names of the study's people
        for text, label in study_names:
            k = phrase_key(text)
            if not k:
                continue
            names.setdefault(k, label)
            if label == "PERSON":
                toks = k.split()
                singles.add(toks[-1] if len(toks) > 1 else toks[0])
        for entry in self.entries.values():
            p = phrase_key(entry.pseudonym)
            if not p or p == phrase_key(entry.original):
                continue
            clash = p in names or (len(p.split()) == 1 and p in singles)
            if clash:
                raise InputError(
                    f"the replacement of key line {entry.line or '(new)'} is a real name that occurs in {where}",
                    file=self.path,
                    line=entry.line or None,
                    fix="give that entry another replacement (a pseudonym no participant bears)",
                )

    # -- lookup / assign ---------------------------------------------------------------
    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: str) -> KeyEntry | None:
        return self.entries.get(key)

    def assign(self, original: str, label: str, document: str) -> KeyEntry:
        """The entry for *original*, created (tag + pseudonym) on first sight."""
        key = phrase_key(original)
        entry = self.entries.get(key)
        if entry is not None:
            return entry
        tag = self._next_tag(label)
        pseudonym = self._make_pseudonym(original, label, key) if label == "PERSON" else ""
        entry = KeyEntry(one_line(original), label, document, tag, pseudonym)
        self._remember(entry)
        self.entries[key] = entry
        self.added += 1
        return entry

    def replacement(self, original: str, label: str, document: str) -> str:
        return self.assign(original, label, document).replacement_for(self.style)

    def _next_tag(self, label: str) -> str:
        n = self.counters.get(label, 0) + 1
        self.counters[label] = n
        return f"[{label} {n}]"

    def _remember(self, e: KeyEntry) -> None:
        m = _TAG_RE.match(e.tag)
        if m:
            self.counters[m.group(1)] = max(self.counters.get(m.group(1), 0), int(m.group(2)))
        if e.pseudonym:
            pk = phrase_key(e.pseudonym)
            self.used_pseudonyms.add(pk)
            if pk:
                self.used_given.add(pk.split()[-1])
            self._learn_components(e.original, e.pseudonym)
        self.avoid.update(tokens_of(e.original))

    # -- pseudonyms ----------------------------------------------------------------------
    def _learn_components(self, original: str, pseudonym: str) -> None:
        o, p = tokens_of(original), pseudonym.split()
        if not o or not p:
            return
        if len(o) == 1 and len(p) >= 1:
            self.components.setdefault(o[0], p[-1] if _looks_vietnamese(original) else p[0])
            return
        if _looks_vietnamese(original):
            self.components.setdefault(o[-1], p[-1])
        else:
            self.components.setdefault(o[0], p[0])
            if len(p) > 1:
                self.components.setdefault(o[-1], p[-1])

    def _free(self, word: str) -> bool:
        return fold(word) not in self.avoid

    def _pick(self, pool: list[str], seed: str, extra_ok=lambda w: True) -> str | None:
        if not pool:
            return None
        h = int(hashlib.sha256(seed.encode("utf-8")).hexdigest(), 16)
        n = len(pool)
        for k in range(n):
            w = pool[(h + k * 7919) % n]
            if self._free(w) and extra_ok(w):
                return w
        return None

    def _make_pseudonym(self, original: str, label: str, key: str) -> str:
        pools = lexicon().pseudonyms
        toks = tokens_of(original)
        vn = _looks_vietnamese(original)
        accents = has_diacritics(original)
        lex = lexicon()
        for attempt in range(50):
            seed = f"{key}#{attempt}"
            if vn:
                female = "thi" in toks[1:-1] or (len(toks) == 1 and toks[0] in lex.female and toks[0] not in lex.male)
                male = "van" in toks[1:-1] or (len(toks) == 1 and toks[0] in lex.male and toks[0] not in lex.female)
                given_pool = (
                    pools["vn_given_female"]
                    if female
                    else pools["vn_given_male"]
                    if male
                    else pools["vn_given_female"] + pools["vn_given_male"]
                )
                given = self.components.get(toks[-1]) if attempt == 0 else None
                if given is None:
                    given = self._pick(given_pool, seed + "g", lambda w: fold(w) not in self._used_given())
                    if given is None:
                        given = self._pick(given_pool, seed + "g") or "An"
                if len(toks) == 1:
                    name = given
                elif toks[0] not in lex.surnames:  # "Minh Anh": two given names
                    first = (
                        self._pick(
                            pools["vn_given_female"] + pools["vn_given_male"],
                            seed + "m",
                            lambda w, given=given: fold(w) != fold(given),
                        )
                        or "Minh"
                    )
                    name = f"{first} {given}"
                else:
                    surname = self._pick(pools["vn_surnames"], seed + "s", lambda w: fold(w) != toks[0]) or "Lê"
                    middle = "Thị" if female else "Văn" if male else ""
                    if not middle and len(toks) >= 3:
                        middle = self._pick(pools["vn_given_female"] + pools["vn_given_male"], seed + "m") or ""
                    name = " ".join(p for p in (surname, middle, given) if p)
                if not accents:
                    name = _strip_accents(name)
            else:
                first = self.components.get(toks[0]) if attempt == 0 else None
                if first is None:
                    first = self._pick(pools["en_first"], seed + "f") or "Alex"
                if len(toks) == 1:
                    name = first
                else:
                    last = self.components.get(toks[-1]) if attempt == 0 else None
                    if last is None:
                        last = self._pick(pools["en_last"], seed + "l") or "Smith"
                    name = f"{first} {last}"
            if phrase_key(name) not in self.used_pseudonyms and phrase_key(name) not in self.entries:
                return name
        return self._next_tag(label)  # pools exhausted: fall back to a tag

    def _used_given(self) -> set[str]:
        return self.used_given

    def avoid_words(self, words: Iterable[str]) -> None:
        """Words that occur in the study: no pseudonym uses them."""
        self.avoid.update(words)


# --- reading the key strictly -------------------------------------------------------------

KEEP_BACKUPS = 20
BACKUP_DIR = "key-backups"
_LABEL_ALIASES = {"LOCATION": "PLACE", "GPE": "PLACE", "NAME": "PERSON", "ORG": "FACILITY"}
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


@dataclass
class KeyRow:
    """One entry of the key file as written (cells stripped, label upper-cased)."""

    line: int
    original: str
    label: str
    replacement: str
    first_document: str
    tag: str
    pseudonym: str


def one_line(text: str) -> str:
    """*text* with line breaks turned into spaces, stripped (an original never spans lines in the key)."""
    return _LINE_BREAKS.sub(" ", text).strip()


class PrivateFile:
    """A private file qualkit reads whole and rewrites (the key, the document id list).

    :meth:`read` keeps what was on disk; :meth:`save` writes only a change, refuses when the
    file changed on disk since it was read (a hand edit made meanwhile is never overwritten),
    copies the previous version to ``key-backups/`` before the first change (0600, the newest
    :data:`KEEP_BACKUPS` kept), writes atomically with 0600 and reads the result back.
    """

    def __init__(self, path: Path, what: str) -> None:
        self.path = Path(path)
        self.what = what
        self.disk: bytes | None = None  # as read (None: there was no file)
        self.backed_up = False

    def exists(self) -> bool:
        return self.path.exists() or self.path.is_symlink()

    def read(self) -> bytes:
        """The file's bytes; a file that cannot be read is an error, never taken for a missing one."""
        data = self._read(missing_ok=False)
        assert data is not None
        self.disk = data
        return data

    def _read(self, *, missing_ok: bool = True) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            if missing_ok:
                return None
            raise InputError(
                f"the {self.what} is a link to a missing file", file=self.path, fix="restore it or point to it"
            ) from None
        except IsADirectoryError:
            raise InputError(f"the {self.what} is a folder", file=self.path, fix="point to the CSV file") from None
        except OSError as exc:
            raise InputError(
                f"the {self.what} cannot be read ({exc.strerror or type(exc).__name__})",
                file=self.path,
                fix="check its permissions; qualkit never writes over a file it could not read",
            ) from None

    def save(self, text: str, check=None) -> Path | None:
        """Write *text* if it differs from the file (after *check(data)*, which may raise);
        return the backup of the previous version, if one was made."""
        data = text.encode("utf-8")
        on_disk = self._read()
        if on_disk is not None and self.disk is not None and on_disk != self.disk:
            raise SafetyError(
                f"the {self.what} changed on disk while qualkit was running",
                file=self.path,
                fix="run again: the file on disk was kept as it is, nothing was written over it",
            )
        if on_disk == data:
            os.chmod(self.path, PRIVATE_MODE)
            return None
        if check is not None:
            check(data)
        backup = None
        if on_disk is not None and not self.backed_up:
            backup = backup_key(self.path, on_disk)
        try:
            atomic_write_text(self.path, text, private=True)
        except BaseException:
            if backup is not None:  # the previous file is still in place: no copy of it is needed
                backup.unlink(missing_ok=True)
            raise
        self.backed_up = self.backed_up or backup is not None
        os.chmod(self.path, PRIVATE_MODE)
        if self._read() != data:
            raise SafetyError(
                f"the {self.what} did not read back as written",
                file=self.path,
                fix=f"check the disk; the previous version is in {backup or 'the file as it was'}",
            )
        self.disk = data
        return backup


def parse_key(data: bytes, path: Path | None) -> list[KeyRow]:
    """Parse and validate a key file completely, or raise :class:`InputError` with file:line.

    Checks: UTF-8; a header with original, label, replacement; every row with the header's
    number of cells; no cell spanning lines (the mark of a stray quote swallowing rows); a
    known label; the same original (case and accents aside) never with two replacements; no
    replacement that is the original of an entry (its own or another's).
    """
    from ..csvfiles import decode_csv, detect_separator

    text = decode_csv(data, path, "key")
    sep = detect_separator(text, ("original", "label", "replacement"))  # Excel may save with ';' or tabs
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    rows: list[KeyRow] = []
    header: list[str] | None = None
    end = 0
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            spans = reader.line_num > start
            raise InputError(
                f"a quote opened on line {start} of the key is never closed properly"
                if spans
                else f"the key is not valid CSV ({exc})",
                file=path,
                line=start,
                fix="remove the stray '\"' on that line, or close it; a cell holding a comma or a quote "
                'is written in "..."',
            ) from None
        end = reader.line_num
        if end > start:
            raise InputError(
                f"a cell of the key runs over lines {start}-{end} (a stray '\"'?)",
                file=path,
                line=start,
                fix="remove the stray quote, or close it; no key cell may hold a line break",
            )
        if header is None:
            header = [c.strip().lower() for c in cells]
            missing = [c for c in ("original", "label", "replacement") if c not in header]
            if missing:
                raise InputError(
                    f"the key lacks the column(s) {', '.join(missing)}",
                    file=path,
                    line=start,
                    fix="the header row is original,label,replacement,first_document",
                )
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise InputError(
                f"key row has {len(cells)} cell(s), the header has {len(header)}",
                file=path,
                line=start,
                fix="give the row one cell per header column (empty cells are fine); "
                'a cell holding a comma is written in "..."',
            )
        row = dict(zip(header, (c.strip() for c in cells)))
        original = row.get("original", "")
        if not original:
            raise InputError(
                "key row without an original", file=path, line=start, fix="fill in the original or delete the row"
            )
        label = row.get("label", "").upper() or "PERSON"
        label = _LABEL_ALIASES.get(label, label)
        if label not in LABELS:
            raise InputError("unknown label in the key", file=path, line=start, fix=f"use one of {', '.join(LABELS)}")
        rows.append(
            KeyRow(
                start,
                original,
                label,
                row.get("replacement", ""),
                row.get("first_document", ""),
                row.get("tag", ""),
                row.get("pseudonym", ""),
            )
        )
    if header is None:
        raise InputError(
            "the key is empty",
            file=path,
            line=1,
            fix="restore it from key-backups/, or delete the file to start a new key",
        )
    _check_rows(rows, path)
    return rows


def _check_rows(rows: list[KeyRow], path: Path | None) -> None:
    first: dict[str, KeyRow] = {}
    for r in rows:
        k = phrase_key(r.original)
        seen = first.setdefault(k, r)
        if seen is not r and seen.replacement != r.replacement:
            raise InputError(
                f"the key has the same original on lines {seen.line} and {r.line} with different replacements",
                file=path,
                line=r.line,
                fix="keep one of the two rows",
            )
    for r in rows:
        for name in (r.replacement, r.pseudonym):
            if not name or _TAG_RE.match(name) or _CAT_RE.match(name):
                continue
            other = first.get(phrase_key(name))
            if other is None:
                continue
            what = "its own original" if other is r else f"the original of line {other.line}"
            raise InputError(
                f"the replacement on key line {r.line} is {what}",
                file=path,
                line=r.line,
                fix="give it a pseudonym that is nobody's real name (a replacement must never be a real name)",
            )


def backup_key(path: Path, data: bytes) -> Path:
    """Copy the previous key (*data*) to ``<key folder>/key-backups/<name>.<time>.csv``, 0600;
    keep the newest :data:`KEEP_BACKUPS`. Returns the backup's path."""
    import time

    folder = Path(path).parent / BACKUP_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    stem = Path(path).stem
    n = 1
    while True:  # a new file of its own (never replacing anything), 0600 from the start
        target = folder / (f"{stem}.{stamp}.csv" if n == 1 else f"{stem}.{stamp}-{n}.csv")
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
            break
        except FileExistsError:
            n += 1
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    old = sorted(folder.glob(f"{stem}.*.csv"), key=lambda p: (p.stat().st_mtime, p.name))
    for stale in old[:-KEEP_BACKUPS]:
        stale.unlink(missing_ok=True)
    return target


def _looks_vietnamese(original: str) -> bool:
    toks = tokens_of(original)
    if not toks:
        return False
    lex = lexicon()
    if any(c in original for c in "ăâđêôơưĂÂĐÊÔƠƯ") or any("\u1ea0" <= c <= "\u1ef9" for c in original):
        return True
    if has_diacritics(original) and all(is_vn_syllable(t) for t in toks):
        return True
    if len(toks) >= 2 and toks[0] in lex.surnames and all(is_vn_syllable(t) for t in toks):
        return True
    return all(t in lex.given or t in lex.middles for t in toks)


def _strip_accents(text: str) -> str:
    out = []
    for ch in text:
        f = fold(ch)
        out.append(f.upper() if ch.isupper() else f)
    return "".join(out)
