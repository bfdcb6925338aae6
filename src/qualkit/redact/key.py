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
from ..errors import InputError
from ..fsutil import PRIVATE_MODE, atomic_write_text
from ..textnorm import fold, has_diacritics, is_vn_syllable
from .lexicon import lexicon, phrase_key, tokens_of

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
        if self.path is not None and self.path.exists():
            self._load()

    # -- file ------------------------------------------------------------------------
    def _load(self) -> None:
        assert self.path is not None
        try:
            text = self.path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(
                "the key is not UTF-8 text",
                file=self.path,
                fix="save the key as UTF-8 CSV or point --key at a new file",
            ) from None
        reader = csv.DictReader(io.StringIO(text))
        missing = {"original", "label", "replacement"} - set(reader.fieldnames or ())
        if missing:
            raise InputError(
                f"the key lacks the column(s) {', '.join(sorted(missing))}",
                file=self.path,
                line=1,
                fix="use the columns original,label,replacement,first_document",
            )
        for lineno, row in enumerate(reader, start=2):
            original = (row.get("original") or "").strip()
            if not original:
                continue
            label = (row.get("label") or "").strip().upper() or "PERSON"
            replacement = (row.get("replacement") or "").strip()
            tag = (row.get("tag") or "").strip()
            pseudonym = (row.get("pseudonym") or "").strip()
            m = _TAG_RE.match(replacement)
            if m:
                tag = tag or replacement
            elif _CAT_RE.match(replacement):
                pass
            elif replacement:
                pseudonym = replacement  # a pseudonym, possibly edited by hand
            if not tag:
                tag = self._next_tag(label)
            entry = KeyEntry(
                original, label, (row.get("first_document") or "").strip(), tag, pseudonym, replacement, line=lineno
            )
            self._remember(entry)
            self.entries.setdefault(phrase_key(original), entry)

    def save(self) -> None:
        if self.path is None:
            return
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(KEY_COLUMNS)
        for e in self.entries.values():
            writer.writerow([e.original, e.label, e.replacement_for(self.style), e.first_document, e.tag, e.pseudonym])
        atomic_write_text(self.path, buf.getvalue(), private=True)
        os.chmod(self.path, PRIVATE_MODE)

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
        entry = KeyEntry(original.strip(), label, document, tag, pseudonym)
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


def check_key_location(key_path: Path, output_dir: Path) -> None:
    from ..fsutil import ensure_private_location

    ensure_private_location(key_path, [output_dir], "pseudonym key")
