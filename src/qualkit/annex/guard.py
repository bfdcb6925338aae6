"""The leak check: a redaction key's originals searched in every text of the annex.

Case- and diacritic-insensitive (the redaction engine's folding), whole words;
hits are reported by where they are (document and offset, key line), never by
the identifier itself.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import InputError, LeakError
from ..textnorm import clean, fold_text

# =========================================================================== safety: key leaks


_WORD_RE = re.compile(r"\w+")


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_WORD_RE.findall(fold_text(text).text))


@dataclass
class KeyIdentifier:
    tokens: tuple[str, ...]
    label: str
    line: int | None = None  # line of the entry in the key file (to look it up there, privately)
    # A single word that is also an ordinary word ("Mỷ" folds to "my") is matched
    # the way redaction propagates it: only as written with its accents (exact),
    # or, without accents, only where capitalised.
    exact: str | None = None
    capitalised: bool = False


def _match_rule(original: str, toks: tuple[str, ...]) -> tuple[str | None, bool]:
    """(exact, capitalised) for a key original, as :func:`qualkit.redact.lexicon.is_common_word` decides."""
    if len(toks) != 1 or not toks[0].isalpha():
        return None, False
    from ..redact.lexicon import is_common_word
    from ..textnorm import has_diacritics

    if not is_common_word(toks[0]):
        return None, False
    if has_diacritics(original):
        return clean(original.strip()).text.lower(), False
    return None, True


def read_key_identifiers(path: str | Path) -> list[KeyIdentifier]:
    """The originals of a redaction key CSV (columns original,label,replacement,first_document).

    Read with the csv module; the key file is private and is never copied or quoted.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(
            "redaction key not found", file=path, fix="give --key PRIVATE/redaction-key.csv (written by qualkit redact)"
        ) from None
    except UnicodeDecodeError:
        raise InputError("redaction key is not UTF-8 text", file=path, fix="save it as UTF-8 CSV") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "original" not in fields:
        raise InputError(
            "redaction key has no 'original' column",
            file=path,
            line=1,
            fix="use the key written by qualkit redact (columns original,label,replacement,first_document)",
        )
    out: list[KeyIdentifier] = []
    for row in reader:
        line = reader.line_num
        row = {(k or "").strip().lower(): (v or "") for k, v in row.items() if k is not None}
        original = row.get("original", "").strip()
        if not original:
            continue
        toks = _tokens(original)
        if toks:
            exact, capitalised = _match_rule(original, toks)
            out.append(
                KeyIdentifier(
                    toks,
                    (row.get("label") or "").strip().upper() or "IDENTIFIER",
                    line,
                    exact=exact,
                    capitalised=capitalised,
                )
            )
    return out


@dataclass(frozen=True)
class LeakHit:
    source: str  # "document int01", "attribution of case v01", "codebook family.poor_family (examples)"
    offset: int  # character offset in the document text (or in that piece of text)
    label: str
    file: str | None = None
    key_line: int | None = None  # the entry's line in the (private) key file


class LeakGuard:
    """Finds a redaction key's originals in text: case- and diacritic-insensitive, whole words."""

    def __init__(self, identifiers: Iterable[KeyIdentifier] = (), allow: Iterable[str] = ()) -> None:
        allowed = {t for t in (_tokens(a) for a in allow) if t}
        self.allowed = allowed
        self.allowed_lengths = sorted({len(t) for t in allowed}, reverse=True)
        self.entries: dict[tuple[str, ...], tuple[str, int | None]] = {}
        # tokens -> the accepted spellings of a one-word entry (None: any spelling)
        self.rules: dict[tuple[str, ...], list[tuple[str | None, bool]] | None] = {}
        for ident in identifiers:
            if ident.tokens and ident.tokens not in allowed:
                self.entries.setdefault(ident.tokens, (ident.label, ident.line))
                rule = (ident.exact, ident.capitalised)
                if rule == (None, False):
                    self.rules[ident.tokens] = None
                elif ident.tokens not in self.rules:
                    self.rules[ident.tokens] = [rule]
                else:
                    spellings = self.rules[ident.tokens]
                    if spellings is not None:
                        spellings.append(rule)
        self.lengths = sorted({len(t) for t in self.entries}, reverse=True)
        self.hits: list[LeakHit] = []
        self.checked = 0

    @property
    def active(self) -> bool:
        return bool(self.entries)

    def find(self, text: str) -> list[tuple[int, int, tuple[str, int | None]]]:
        """(start, end, (label, key line)) of each identifier in *text* (original offsets)."""
        if not self.entries or not text:
            return []
        ft = fold_text(text)  # redaction's cleaning and folding: invisible and look-alike characters too
        words = [(m.start(), m.end(), m.group()) for m in _WORD_RE.finditer(ft.text)]
        toks = [w[2] for w in words]
        # words inside an allowed phrase are not checked ("Khanh Hoa" allowed, "Hoa" alone still refused)
        masked = [False] * len(words)
        i = 0
        while self.allowed and i < len(words):
            for n in self.allowed_lengths:
                if i + n <= len(words) and tuple(toks[i : i + n]) in self.allowed:
                    for k in range(i, i + n):
                        masked[k] = True
                    i += n - 1
                    break
            i += 1
        out = []
        i = 0
        while i < len(words):
            for n in self.lengths:
                if any(masked[i : i + n]):
                    continue
                if i + n <= len(words) and tuple(toks[i : i + n]) in self.entries:
                    s, e = ft.span(words[i][0], words[i + n - 1][1], widen=False)
                    written = ft.cleaned.text[words[i][0] : words[i + n - 1][1]]
                    if not self._spelling_ok(tuple(toks[i : i + n]), written):
                        continue
                    out.append((s, e, self.entries[tuple(toks[i : i + n])]))
                    i += n - 1
                    break
            i += 1
        return out

    def _spelling_ok(self, tokens: tuple[str, ...], written: str) -> bool:
        rules = self.rules.get(tokens)
        if rules is None:
            return True
        as_written = written.lower()
        return any(
            (exact is not None and as_written == exact) or (capitalised and written[:1].isupper())
            for exact, capitalised in rules
        )

    def check(self, text: str, source: str, *, base: int = 0, file: str | None = None) -> None:
        """Record every identifier found in *text* (offsets shifted by *base*)."""
        self.checked += 1
        for s, _e, (label, key_line) in self.find(text):
            self.hits.append(LeakHit(source, base + s, label, file, key_line))

    def raise_if_leaks(self) -> None:
        """LeakError naming where each hit is (document/offset) and which key line it matched, never the text."""
        if not self.hits:
            return
        first = self.hits[0]
        shown = "; ".join(f"{h.source} at offset {h.offset} ({h.label}, key line {h.key_line})" for h in self.hits[:5])
        more = f" and {len(self.hits) - 5} more" if len(self.hits) > 5 else ""
        lines = sorted({h.key_line for h in self.hits if h.key_line is not None})
        entries = (
            f" of {len(lines)} key entr{'y' if len(lines) == 1 else 'ies'} (key line{'' if len(lines) == 1 else 's'} "
            + ", ".join(str(x) for x in lines[:12])
            + (", ..." if len(lines) > 12 else "")
            + ")"
            if lines
            else ""
        )
        raise LeakError(
            f"the annex would contain {len(self.hits)} identifier(s){entries} from the redaction key: "
            f"{shown}{more}; nothing was written",
            file=first.file,
            fix="redact those documents again (qualkit redact) and re-code them, or correct the text at those "
            "offsets; if a key entry is not an identifier (a redaction mistake) or is published on purpose "
            "(e.g. a province in attributions), delete it from the key or list it under 'allow:' in the annex spec",
        )
