"""Re-scan redacted output for leaks: any original from the key, and fresh detector hits.

A leak is reported by document, offset and label only, never with the text.
Fresh hits (NER and the rule detectors run again on the output) that are made
of replacement words (pseudonyms, tags) or kept words are not leaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..documents import Turn
from ..errors import QualkitError
from ..progress import ProgressFn
from ..readers import iter_inputs, read_document
from ..textnorm import clean
from .engine import LOG_NAME, Detector, RedactOptions, build_index, chunks, cleaned_turns
from .key import RedactionKey
from .lexicon import tokens_of
from .phrases import TokenView

_REPLACEMENT_RE = re.compile(r"\[[A-Z]+(?: \d+)?\]")


@dataclass(frozen=True)
class Leak:
    document: str  # path relative to the audited folder
    start: int
    end: int
    label: str
    kind: str  # "key" (an original from the key) | "detector" (a fresh hit)
    detector: str = ""

    @property
    def line(self) -> str:
        return f"{self.document}:{self.start}-{self.end} {self.label} ({self.kind}{': ' + self.detector if self.detector else ''})"


@dataclass
class AuditResult:
    documents: int = 0
    leaks: list[Leak] = field(default_factory=list)
    errors: list[QualkitError] = field(default_factory=list)

    @property
    def key_leaks(self) -> list[Leak]:
        return [x for x in self.leaks if x.kind == "key"]

    @property
    def ok(self) -> bool:
        return not self.leaks


@dataclass(frozen=True)
class KeyHit:
    start: int
    end: int
    label: str
    key_line: int  # line of the entry in the key file


class KeyMatcher:
    """Finds the key's originals in any text exactly as redaction and audit do.

    Folded (case, diacritics), whole words; a single word only where capitalised; the given
    name of a full name in the key too, as redaction replaces it on its own;
    a single word that folds to a common English word ("Mỷ" -> "my") only as
    written with its accents. Tags (``[PERSON 3]``) are never hits. For other
    commands that must check text against the key (e.g. the annex guard).
    """

    def __init__(
        self,
        key_path: Path | None,
        *,
        keep_file: Path | None = None,
        keep_countries: bool = True,
        detector: Detector | None = None,
        key: RedactionKey | None = None,
    ) -> None:
        det = detector or Detector(RedactOptions(use_ner=False, keep_file=keep_file, keep_countries=keep_countries))
        if key is None:
            key = RedactionKey(key_path) if key_path is not None else RedactionKey(None)
        self.key = key
        self.index = build_index(det, self.key, {})
        self._lines = {tuple(tokens_of(e.original)): e.line for e in self.key.entries.values()}

    def find(self, text: str, view: TokenView | None = None) -> list[KeyHit]:
        """The key's originals in *text* (invisible and look-alike characters resolved, see
        :func:`qualkit.textnorm.clean`), at original offsets. *view*: tokens of *text* when
        it is already clean."""
        if view is None:
            cl = clean(text)
            return [
                KeyHit(*cl.span(h.start, h.end), h.label, h.key_line) for h in self.find(cl.text, TokenView(cl.text))
            ]
        masked = _masked(text)
        out = []
        for i, k, entry in self.index.finditer(view):
            s, e = view.starts[i], view.ends[k - 1]
            if any(a <= s and e <= b for a, b in masked):
                continue
            out.append(KeyHit(s, e, entry.label, self._lines.get(tuple(view.folded[i:k]), 0)))
        return out


def _masked(text: str) -> list[tuple[int, int]]:
    """Spans of replacement tags ([PERSON 3], [PLACE]) in *text*: never leaks."""
    return [(m.start(), m.end()) for m in _REPLACEMENT_RE.finditer(text)]


def audit_output(
    folder: Path,
    key_path: Path | None,
    *,
    model: str | None = None,
    use_ner: bool = True,
    keep_file: Path | None = None,
    keep_countries: bool = True,
    fresh: bool = True,
    on_progress: ProgressFn | None = None,
) -> AuditResult:
    """Audit every transcript under *folder* (the redaction log is skipped)."""
    folder = Path(folder)
    opts = RedactOptions(model=model, use_ner=use_ner, keep_file=keep_file, keep_countries=keep_countries)
    det = Detector(opts)
    key = RedactionKey(key_path) if key_path is not None else RedactionKey(None)
    matcher = KeyMatcher(key_path, detector=det, key=key)
    # words that replacements are made of: a fresh hit made only of them is a pseudonym, not a leak
    replacement_words: set[str] = set()
    for e in key.entries.values():
        replacement_words.update(tokens_of(e.pseudonym))
        replacement_words.update(tokens_of(e.tag))
    result = AuditResult()
    files = [f for f in iter_inputs([folder], all_files=False) if f.rel.name != LOG_NAME]
    progress = on_progress or (lambda *a: None)
    for n, inp in enumerate(files, start=1):
        try:
            doc = read_document(inp.path, rel=inp.rel)
        except QualkitError as exc:
            result.errors.append(exc)
            continue
        rel = inp.rel.as_posix()
        _audit_path(result, matcher, rel)
        texts: list[tuple[str, str, bool, Sequence[Turn] | None]] = [(rel, doc.text, True, doc.turns)]
        if inp.path.suffix.lower() == ".docx":
            from ..readers.docx import docx_other_texts

            # headers, footers, comments, tables, text boxes, properties, link targets: the writer
            # cleans them, so the audit checks them too (reported as file.docx#part:start-end)
            try:
                others = docx_other_texts(inp.path, doc.text)
            except QualkitError as exc:
                result.errors.append(exc)
                continue
            texts += [(f"{rel}#{part}", t, prose, None) for part, t, prose in others]
        for where, text, prose, turns in texts:
            _audit_text(result, det, matcher, replacement_words, where, text, turns, fresh and prose, use_ner)
        result.documents += 1
        progress("audit", n, len(files))
    return result


def _audit_path(result: AuditResult, matcher: KeyMatcher, rel: str) -> None:
    """A file or folder name holding an original: reported with the original masked by its tag."""
    from .engine import path_words
    from .lexicon import phrase_key

    words = path_words(rel)
    hits = matcher.find(words)
    if not hits:
        return
    parts, pos = [], 0
    for hit in hits:
        entry = matcher.key.get(phrase_key(words[hit.start : hit.end]))
        parts += [rel[pos : hit.start], entry.tag if entry is not None else f"[{hit.label}]"]
        pos = hit.end
    masked = "".join(parts) + rel[pos:]
    for hit in hits:
        result.leaks.append(Leak(masked, hit.start, hit.end, hit.label, "key", "file name"))


def _audit_text(
    result: AuditResult,
    det: Detector,
    matcher: KeyMatcher,
    replacement_words: set[str],
    where: str,
    text: str,
    turns,
    fresh: bool,
    use_ner: bool,
) -> None:
    # the text as redaction reads it (invisible and look-alike characters resolved); leaks are
    # reported at the offsets of the original
    cl = clean(text)
    text = cl.text
    view = TokenView(text)
    masked = _masked(text)
    key_hits = set()
    for hit in matcher.find(text, view):
        result.leaks.append(Leak(where, *cl.span(hit.start, hit.end), hit.label, "key"))
        key_hits.add((hit.start, hit.end))
    if not fresh:
        return
    spans = det.rule_spans(text, cleaned_turns(cl, turns), view)
    if use_ner:
        parts = chunks(text)
        for sdoc, (a, _b) in zip(det.nlp.pipe(text[a:b] for a, b in parts), parts):
            spans += det.ner_for_chunk(sdoc, a)
    for sp in det.finish(text, spans):
        if any(sp.start < b and a < sp.end for a, b in masked):
            continue
        words = tokens_of(text[sp.start : sp.end])
        if not words or all(w in replacement_words for w in words):
            continue
        if (sp.start, sp.end) in key_hits:
            continue
        start, end = cl.span(sp.start, sp.end)
        result.leaks.append(Leak(where, start, end, sp.label, "detector", sp.detector))
