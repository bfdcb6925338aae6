"""De-identify a corpus: detect, propagate study-wide, replace, write, log, review.

Two passes, streaming (the corpus is never held in memory):

1. *detect*: every document is read, the rule detectors run on its text and
   its chunks go through ONE ``nlp.pipe`` stream (tok2vec + ner). The spans
   found (offsets only) and the capitalised words of the study (to keep
   pseudonyms out of it) are kept; with ``workers > 1`` this pass runs in
   worker processes that each load the model once.
2. *write*: every document is read again; every original found anywhere in
   the study (and every original already in the key, and every ``--names``
   entry) is looked up in it, spans are merged, replacements come from the
   key, and the format writer writes the redacted copy.
"""

from __future__ import annotations

import bisect
import contextlib
import csv
import dataclasses
import hashlib
import json
import os
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from ..documents import Turn
from ..errors import InputError, QualkitError, SafetyError, UsageError
from ..execution import Executor, LazyExecutor, SerialExecutor, open_executor, token_of, worker_state
from ..fsutil import (
    StagedWrites,
    WriteError,
    atomic_open,
    atomic_write_text,
    file_sha256,
    make_private_paths,
    remove_stale_temps,
    same_file,
)
from ..places import INPUT, PRIVATE, SHAREABLE, Place, check_places
from ..progress import ProgressFn
from ..readers import InputFile, iter_inputs, read_document
from ..textnorm import Cleaned, clean, fold, has_diacritics
from .detectors import RuleDetector, ner_spans
from .docids import DocumentIds, ids_path_for
from .key import STYLES, RedactionKey
from .lexicon import phrase_key, tokens_of
from .phrases import NAME, Entry, PhraseIndex, TokenView, word_usage
from .spans import LABELS, Span, apply_keep, merge_spans, trim

if TYPE_CHECKING:
    from .report import ReviewReport

_TITLE_RE = re.compile(r"([^\W\d_]+\.?)[ \t]+(?=\w)")
#: Bump when detection changes, so cached detections are recomputed.
DETECTOR_VERSION = "4"
CHUNK_CHARS = 4000
#: a longer document is tokenised and searched segment by segment (split at line breaks), so
#: memory stays flat: the tokens of one segment are held at a time, never of the whole text
SEGMENT_CHARS = 200_000
LOG_NAME = "redaction-log.csv"
LOG_COLUMNS = ("document", "file", "start", "end", "label", "replacement", "detector", "out_start", "out_end")
ProgressCallback = ProgressFn  # the name redact has used


@dataclass
class RedactOptions:
    style: str = "pseudonym"
    model: str | None = None
    names_file: Path | None = None
    keep_file: Path | None = None
    keep_countries: bool = True
    workers: int = 1
    #: Dask scheduler address, or "local" for a cluster on this machine (None: --workers decides)
    scheduler: str | None = None
    dry_run: bool = False
    cache_dir: Path | None = None
    #: labels to replace (None = all of LABELS)
    labels: Sequence[str] | None = None
    #: run the spaCy NER (False: rules, lists and the key only)
    use_ner: bool = True
    #: keep every document's final spans in the result (for scoring)
    collect_spans: bool = False
    batch_size: int = 64
    #: read files that links inside an input folder point to outside it (default: refuse them)
    follow_links: bool = False
    #: give documents neutral ids (T001...) in the output; the mapping goes to *ids_file* (private)
    rename: bool = False
    #: the document id list (default: document-ids.csv beside the key)
    ids_file: Path | None = None

    def settings_hash(self) -> str:
        return hashlib.sha256(f"{DETECTOR_VERSION}|{CHUNK_CHARS}".encode()).hexdigest()[:16]


class Item(NamedTuple):
    """One replacement in a document: offsets into its text, label, new text and the detector."""

    start: int
    end: int
    label: str
    replacement: str
    detector: str


@dataclass
class DocSpans:
    """Final spans of one document (for scoring)."""

    path: Path
    rel: str
    text_len: int
    spans: list[Item]


@dataclass
class RedactResult:
    #: documents redacted (relative paths, as in the key and the log)
    documents: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    errors: list[QualkitError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    by_label: Counter = field(default_factory=Counter)
    by_detector: Counter = field(default_factory=Counter)
    replacements: int = 0
    key_entries: int = 0
    key_added: int = 0
    key_path: Path | None = None
    log_path: Path | None = None
    report_path: Path | None = None
    model: str | None = None
    cached: int = 0
    spans: dict[str, DocSpans] = field(default_factory=dict)
    #: temporary files an interrupted earlier run had left, removed
    stale_temps: int = 0
    #: private files (key, backups, report, cache, names list) that were readable by others, made 0600
    tightened: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- study lists ----------------------------------------------------------------------------

_LABEL_PREFIX = {lab: lab for lab in LABELS} | {
    "LOCATION": "PLACE",
    "GPE": "PLACE",
    "NAME": "PERSON",
    "ORG": "FACILITY",
}


def _read_list(path: Path, what: str) -> list[tuple[int, str]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=path, fix="check the path") from None
    except OSError as exc:
        raise InputError(f"{what} cannot be read ({exc.strerror})", file=path, fix="check its permissions") from None
    from ..csvfiles import decode_list

    text = decode_list(raw, path, what)
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            out.append((i, line))
    return out


def load_names(path: Path | None, rules: RuleDetector) -> list[tuple[str, str, bool]]:
    """``--names`` entries as (text, label, label given). A line may start with ``PLACE:`` etc."""
    if path is None:
        return []
    out = []
    for _line, entry in _read_list(Path(path), "names list"):
        label = None
        head, sep, rest = entry.partition(":")
        if sep and head.strip().upper() in _LABEL_PREFIX and rest.strip():
            label, entry = _LABEL_PREFIX[head.strip().upper()], rest.strip()
        for part in split_aliases(entry):
            out.append((part, label or guess_label(part, rules), label is not None))
    return out


_ALIAS_WORDS = re.compile(
    r"^(?:(?:alias|aka|a\.k\.a\.?|biệt danh|tên gọi)\b|(?:nickname|nick|called|also)\s*:)[\s:.-]*", re.IGNORECASE
)


def split_aliases(entry: str) -> list[str]:
    """A names-list line as its entries: ``Lê Thị Hồng (alias "Bé"); Hồng Bé`` -> the full name and both
    aliases. Aliases follow ``;`` or ``|``, or stand in parentheses holding letters (``(028) 3823 4567``
    stays one phone number)."""
    parts: list[str] = []
    for piece in re.split(r"[;|]", entry):
        inner = [m.group(1) for m in re.finditer(r"\(([^()]*[^\W\d_][^()]*)\)", piece)]
        if inner:
            piece = re.sub(r"\(([^()]*[^\W\d_][^()]*)\)", " ", piece)
        for candidate in [piece, *(x for inn in inner for x in inn.split(","))]:
            candidate = _ALIAS_WORDS.sub("", candidate.strip())
            candidate = candidate.strip().strip("\"'“”‘’«»").strip()
            candidate = " ".join(candidate.split())
            if candidate and candidate not in parts:
                parts.append(candidate)
    return parts


#: words that start a Vietnamese place name even without their accents (for guessing a list entry's label)
_PLACE_WORDS = frozenset("xom thon ban ap lang buon phuong xa quan huyen tinh duong pho ngo hem cho cau khu to".split())
_FACILITY_WORDS = frozenset("khach nha quan trung clb karaoke hotel".split())


def guess_label(entry: str, rules: RuleDetector) -> str:
    toks = tokens_of(entry)
    if "@" in entry:
        return "EMAIL"
    if sum(c.isdigit() for c in entry) >= 7:
        return "PHONE"
    if "_" in entry or entry.startswith("@"):
        return "HANDLE"
    if toks and rules.gaz_index.get(tuple(toks)) is not None:
        return "PLACE"
    view = TokenView(entry)
    for sp in rules.facilities.detect(view):
        return sp.label
    if len(toks) > 1 and toks[0] in _PLACE_WORDS and toks[0] not in rules.lex.surnames:
        return "PLACE"
    return "PERSON"


def load_keep(path: Path | None) -> frozenset[str]:
    if path is None:
        return frozenset()
    return frozenset(phrase_key(e) for _l, e in _read_list(Path(path), "keep list") if phrase_key(e))


# --- the detector (one per process) -------------------------------------------------------------


class Detector:
    """Everything that finds spans in one document; loads the model lazily, once."""

    def __init__(
        self,
        opts: RedactOptions,
        names: list[tuple[str, str, bool]] | None = None,
        keep: frozenset[str] | None = None,
    ) -> None:
        self.opts = opts
        self.rules = RuleDetector()
        # a worker gets the lists the client read (it may not see the client's files)
        self.names = load_names(opts.names_file, self.rules) if names is None else names
        self.keep = load_keep(opts.keep_file) if keep is None else keep
        self.labels = frozenset(opts.labels) if opts.labels else frozenset(LABELS)
        self.names_index = PhraseIndex()
        for text, label, given in self.names:
            toks = tokens_of(text)
            if not toks:
                continue
            # a label written in the list decides; a guessed one gives way to the detectors'
            self.names_index.add(toks, Entry(label, "names-list" if given else "names-guess"))
            title = self.leading_title(text)
            if title and label == "PERSON" and len(toks) > 1:  # "anh Quang": also "Quang" on its own
                self.names_index.add(*_part_entry(tuple(toks[1:]), label, "names-part"))
            if label == "PERSON" and len(toks) > 1:
                for part in self.name_components(text, toks):
                    self.names_index.add(*_part_entry((part,), "PERSON", "names-part"))
        self._nlp = None

    # -- model -----------------------------------------------------------------------
    @property
    def nlp(self):
        if self._nlp is None:
            from ..nlp import load_pipeline

            self._nlp = load_pipeline(self.opts.model, "ner")
        return self._nlp

    def model_id(self) -> str:
        if not self.opts.use_ner:
            return "none"
        meta = getattr(self.nlp, "meta", {}) or {}
        return f"{meta.get('lang', '?')}_{meta.get('name', '?')}-{meta.get('version', '?')}"

    # -- helpers ---------------------------------------------------------------------
    def name_components(self, text: str, toks: list[str] | None = None) -> list[str]:
        """Parts of a multi-word person name that identify on their own: the given name of a
        Vietnamese name ("Ngô Minh Khoa" -> "Khoa", "Nguyễn Văn Sang" -> "Sang": found where it
        is used as a name, see :func:`~qualkit.redact.phrases.name_use`), the first and last
        names of others that are no ordinary words."""
        from .key import _looks_vietnamese

        lex = self.rules.lex
        toks = toks if toks is not None else tokens_of(text)
        vietnamese = _looks_vietnamese(text)
        if vietnamese:
            toks = toks[-1:]
        out = []
        for t in toks:
            if not t.isalpha() or len(t) < 3 and not has_diacritics(text):
                continue
            if (
                t in lex.surnames
                and not (vietnamese and t in lex.given)  # "Mai" of "Nguyễn Thị Mai" is her given name
                or t in lex.middles
                and t not in lex.given
                or t in lex.titles
                or t in lex.countries
                or not vietnamese
                and (t in lex.stop or t in lex.generic or t in lex.ambiguous or t in lex.common_words)
            ):
                continue
            if self.rules.gaz_index.get((t,)) is not None:
                continue
            out.append(t)
        return out

    def leading_title(self, text: str) -> int:
        """Length of a leading title or kinship term ("anh ", "Mr. ", "chị ") in a name, else 0."""
        m = _TITLE_RE.match(text)
        if not m:
            return 0
        word = m.group(1)
        lex = self.rules.lex
        low = word.lower().rstrip(".")
        if low in lex.titles_vi or (
            fold(low) in lex.titles
            and not has_diacritics(word)
            and fold(low) not in {"ba", "co", "chi", "cu"} | lex.surnames
        ):
            return m.end()
        return 0

    def finish(self, text: str, spans: Iterable[Span]) -> list[Span]:
        """Trim, merge, apply the keep list and the label filter."""
        merged = merge_spans(self._trimmed(text, spans))
        extra = self.rules.expand_lists(text, merged)
        if extra:  # list items lose their titles too ("Mr Long and Mrs Hoa")
            merged = merge_spans(merged + self._trimmed(text, extra))
        kept = apply_keep(text, merged, self.keep, self.opts.keep_countries)
        return [s for s in kept if s.label in self.labels]

    def _trimmed(self, text: str, spans: Iterable[Span]) -> list[Span]:
        """Spans without surrounding punctuation and, for names, a leading title ("Mr", "chị")."""
        out = []
        for sp in spans:
            if sp.label == "PERSON" and sp.detector not in ("ner", "title"):
                n = self.leading_title(text[sp.start : sp.end])
                if n and sp.start + n < sp.end:
                    sp = Span(sp.start + n, sp.end, sp.label, sp.detector)
            t = trim(text, sp)
            if t is not None:
                out.append(t)
        return out

    def rule_spans(self, text: str, turns=None, view: TokenView | None = None) -> list[Span]:
        view = view or TokenView(text)
        spans = self.rules.detect(text, view, turns)
        for i, k, entry in self.names_index.finditer(view):
            spans.append(Span(view.starts[i], view.ends[k - 1], entry.label, entry.source))
        return spans

    def ner_for_chunk(self, sdoc, offset: int) -> list[Span]:
        return ner_spans(sdoc, offset, self.rules.words)


def chunks(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, int]]:
    """Split *text* at line breaks into pieces of at most about *size* characters."""
    out: list[tuple[int, int]] = []
    n = len(text)
    start = 0
    while start < n:
        if n - start <= size:
            out.append((start, n))
            break
        cut = text.rfind("\n", start, start + size)
        if cut <= start:
            cut = text.rfind(". ", start, start + size)
            cut = cut + 1 if cut > start else text.rfind(" ", start, start + size)
            if cut <= start:
                cut = start + size
        out.append((start, cut))
        start = cut
    return out


# --- pass 1 ---------------------------------------------------------------------------------------


@dataclass
class Pass1Doc:
    index: int
    path: Path
    rel: Path
    sha: str = ""
    spans: list[tuple[int, int, str, str]] = field(default_factory=list)
    error: QualkitError | None = None
    vocab: set[str] = field(default_factory=set)
    cached: bool = False
    #: (original text, label, detector) of each span: kept in memory only, for study-wide propagation
    originals: list[tuple[str, str, str]] = field(default_factory=list)
    #: NER spans a worker computed, for the client to put in the detection cache
    fresh: list[tuple[int, int, str, str]] | None = None


class _Cache:
    def __init__(self, folder: Path | None, model_id: str, settings: str) -> None:
        self.folder = Path(folder) if folder else None
        self.salt = f"{model_id}|{settings}"
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)
            os.chmod(self.folder, 0o700)

    def _file(self, sha: str) -> Path:
        assert self.folder is not None
        return self.folder / (hashlib.sha256(f"{sha}|{self.salt}".encode()).hexdigest()[:40] + ".json")

    def get(self, sha: str) -> list[tuple[int, int, str, str]] | None:
        if not self.folder:
            return None
        try:
            data = json.loads(self._file(sha).read_text(encoding="utf-8"))
            return [tuple(x) for x in data["ner"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, sha: str, spans: list[Span]) -> None:
        if not self.folder:
            return
        atomic_write_text(
            self._file(sha), json.dumps({"ner": [[s.start, s.end, s.label, s.detector] for s in spans]}), private=True
        )


def cleaned_turns(cl: Cleaned, turns: Sequence[Turn] | None) -> Sequence[Turn] | None:
    """A document's turns at the offsets of its cleaned text."""
    if cl.orig is None or not turns:
        return turns
    at = cl.to_clean
    return [
        dataclasses.replace(
            t,
            start=at(t.start),
            end=at(t.end),
            text_start=at(t.text_start),
            label_start=None if t.label_start is None else at(t.label_start),
            label_end=None if t.label_end is None else at(t.label_end),
        )
        for t in turns
    ]


def segments(text: str) -> list[tuple[int, int]]:
    """*text* in pieces of at most about :data:`SEGMENT_CHARS` characters, cut at line breaks."""
    return chunks(text, SEGMENT_CHARS) if len(text) > SEGMENT_CHARS else [(0, len(text))]


def segment_views(text: str) -> Iterator[tuple[int, TokenView]]:
    """(offset, tokens) of each segment of *text*, one at a time."""
    for a, b in segments(text):
        yield a, TokenView(text[a:b] if (a, b) != (0, len(text)) else text)


def _turns_in(turns: Sequence[Turn] | None, a: int, b: int) -> Sequence[Turn] | None:
    """The turns whose label lies in ``[a, b)``, at offsets of that segment."""
    if not turns or (a == 0 and all(t.label_start is None or t.label_start < b for t in turns)):
        return turns
    return [
        dataclasses.replace(
            t,
            start=max(t.start - a, 0),
            end=t.end - a,
            text_start=max(t.text_start - a, 0),
            label_start=t.label_start - a,
            label_end=None if t.label_end is None else t.label_end - a,
        )
        for t in turns
        if t.label_start is not None and a <= t.label_start < b
    ]


def _rule_spans_by_segment(
    det: Detector, text: str, turns: Sequence[Turn] | None, tick: Callable[[float], None]
) -> tuple[list[Span], set[str]]:
    """The rule detectors' spans of *text* and its capitalised words, segment by segment."""
    spans: list[Span] = []
    vocab: set[str] = set()
    parts = segments(text)
    for k, (a, b) in enumerate(parts, start=1):
        seg = text[a:b] if len(parts) > 1 else text
        view = TokenView(seg)
        found = det.rule_spans(seg, _turns_in(turns, a, b), view)
        spans += found if a == 0 else [Span(x.start + a, x.end + a, x.label, x.detector) for x in found]
        vocab |= _vocab(view)
        if len(parts) > 1:
            tick(k / len(parts) / 2)  # rules are about half the work of a long document
    return spans, vocab


def _vocab(view: TokenView) -> set[str]:
    return {f for f, c in zip(view.folded, view.caps) if c and f.isalpha()}


def _pass1_stream(
    det: Detector,
    files: Sequence[tuple[int, InputFile]],
    cache: _Cache,
    done: Callable[[Pass1Doc], None],
    tick: Callable[[float], None] = lambda part: None,
) -> None:
    """Detect in *files*; call *done* for each document, in any order, and *tick* with the part
    of a long document done so far."""
    pending: dict[int, tuple[Pass1Doc, str, list[Span], int]] = {}
    side: list[Pass1Doc] = []

    def flush_side() -> None:
        while side:
            done(side.pop(0))

    def feed() -> Iterator[tuple[str, tuple[int, int]]]:
        for idx, inp in files:
            rec = Pass1Doc(idx, inp.path, inp.rel)
            try:
                doc = read_document(inp.path, rel=inp.rel)
                rec.sha = file_sha256(inp.path)
            except QualkitError as exc:
                rec.error = exc
                side.append(rec)
                continue
            # detection reads the cleaned text (invisible and look-alike characters resolved);
            # spans stay in its offsets until pass 2 maps them back to the original
            cl = clean(doc.text)
            text = cl.text
            rules, rec.vocab = _rule_spans_by_segment(det, text, cleaned_turns(cl, doc.turns), tick)
            cached = cache.get(rec.sha) if det.opts.use_ner else []
            if cached is not None:
                rec.cached = bool(det.opts.use_ner)
                spans = rules + [Span(*c) for c in cached]
                rec.spans = [(s.start, s.end, s.label, s.detector) for s in det.finish(text, spans)]
                rec.originals = [(text[a:b], lab, d) for a, b, lab, d in rec.spans]
                side.append(rec)
                continue
            parts = chunks(text)
            pending[idx] = (rec, text, rules, len(parts))
            for a, b in parts:
                yield text[a:b], (idx, a)

    if not det.opts.use_ner:
        for _ in feed():
            pass
        flush_side()
        return
    ner_acc: dict[int, list[Span]] = {}
    for sdoc, (idx, offset) in det.nlp.pipe(feed(), as_tuples=True, batch_size=det.opts.batch_size):
        flush_side()
        ner_acc.setdefault(idx, []).extend(det.ner_for_chunk(sdoc, offset))
        rec, text, rules, left = pending[idx]
        left -= 1
        if left:
            pending[idx] = (rec, text, rules, left)
            if len(text) > SEGMENT_CHARS and left % 25 == 0:
                tick(1 - left * CHUNK_CHARS / len(text) / 2)
            continue
        del pending[idx]
        ner = ner_acc.pop(idx)
        cache.put(rec.sha, ner)
        rec.spans = [(s.start, s.end, s.label, s.detector) for s in det.finish(text, rules + ner)]
        rec.originals = [(text[a:b], lab, d) for a, b, lab, d in rec.spans]
        done(rec)
    flush_side()


# detection tasks (worker processes, cluster workers) -------------------------------------------
class DetectSpec(NamedTuple):
    """What every detection task needs: sent once per worker, the detector built once per process."""

    opts: RedactOptions  # without paths: the lists below are what the client read
    names: list[tuple[str, str, bool]]
    keep: frozenset[str]
    token: str


class DetectItem(NamedTuple):
    """One document to detect in: where it is (or its bytes), and the cached NER spans the client found."""

    index: int
    path: str
    rel: str
    sha: str
    cached: list[tuple[int, int, str, str]] | None
    data: bytes | None


class _TaskCache:
    """The detection cache as a worker sees it: what the client found in it, and what is new."""

    def __init__(self, cached: list[tuple[int, int, str, str]] | None) -> None:
        self.cached = cached
        self.fresh: list[tuple[int, int, str, str]] | None = None

    def get(self, sha: str) -> list[tuple[int, int, str, str]] | None:
        return self.cached

    def put(self, sha: str, spans: list[Span]) -> None:
        self.fresh = [(s.start, s.end, s.label, s.detector) for s in spans]


_TASK_LOCK = threading.Lock()  # one document at a time per process (spaCy is not thread-safe)


def detect_spec(det: Detector) -> DetectSpec:
    """The picklable description of *det* that detection tasks rebuild it from."""
    from dataclasses import replace

    opts = replace(det.opts, names_file=None, keep_file=None, cache_dir=None, scheduler=None, workers=1)
    return DetectSpec(opts, det.names, det.keep, token_of("detect", opts, det.names, sorted(det.keep)))


def _detect_task(spec: DetectSpec, item: DetectItem) -> Pass1Doc:
    """Pass 1 on one document, in a worker: its spans, originals and words (and NER spans to cache)."""
    with _TASK_LOCK:
        det = worker_state(spec.token, lambda: Detector(spec.opts, spec.names, spec.keep))
        cache = _TaskCache(item.cached)
        out: list[Pass1Doc] = []
        with _local_copy(item) as local:
            _pass1_stream(det, [(item.index, InputFile(local, Path(item.rel)))], cache, out.append)
    rec = out[0]
    rec.path = Path(item.path)
    if rec.error is not None and item.data is not None:  # name the client's file, not the worker's copy
        err = rec.error
        rec.error = type(err)(err.what, file=item.path, line=err.line, fix=err.fix)
    rec.fresh = cache.fresh
    return rec


@contextlib.contextmanager
def _local_copy(item: DetectItem) -> Iterator[Path]:
    """The document as a local file: its path, or the bytes the client sent in a private temp folder."""
    if item.data is None:
        yield Path(item.path)
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="qualkit-") as tmp:  # created 0700
        local = Path(tmp) / Path(item.rel).name
        fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(item.data)
        yield local


# --- the corpus ---------------------------------------------------------------------------------------


def _writer():
    try:
        from ..writers import write_redacted
    except ImportError:
        raise QualkitError(
            "the format writers (qualkit.writers.write_redacted) are not installed",
            fix="install the complete qualkit package",
        ) from None
    return write_redacted


def check_locations(
    inputs: Sequence[Path],
    output_dir: Path,
    key_path: Path | None,
    report_path: Path | None = None,
    cache_dir: Path | None = None,
    lists: Sequence[tuple[Path | None, str]] = (),
    shareable: Sequence[Path] = (),
) -> None:
    """Refuse overlapping places (:func:`qualkit.places.check_places`: originals or private files in
    the output, the output in an input folder, ...) and a key or report that would overwrite an
    input transcript, the other private file or a study list. *shareable*: more shareable folders
    (a project's whole output folder)."""
    for path, what in ((key_path, "pseudonym key"), (report_path, "review report")):
        if path is None:
            continue
        for inp in inputs:
            if Path(inp).is_file() and same_file(path, inp):
                raise SafetyError(
                    f"the {what} would overwrite an input transcript",
                    file=path,
                    fix=f"write the {what} to a new file in a private folder",
                )
        for other, other_what in lists:
            if other is not None and same_file(path, other):
                raise SafetyError(
                    f"the {what} would overwrite the {other_what}",
                    file=path,
                    fix=f"write the {what} to a file of its own",
                )
    if key_path is not None and report_path is not None and same_file(key_path, report_path):
        raise SafetyError(
            "the review report would overwrite the pseudonym key",
            file=report_path,
            fix="write the review report to a file of its own",
        )
    places = [Place(Path(p), "input folder" if Path(p).is_dir() else "input file", INPUT) for p in inputs]
    places += [Place(Path(output_dir), "output folder", SHAREABLE)]
    places += [Place(Path(p), "output folder", SHAREABLE) for p in shareable]
    for path, what in ((key_path, "pseudonym key"), (report_path, "review report"), *lists):
        if path is not None:
            places.append(Place(Path(path), what, PRIVATE))
    if cache_dir is not None:
        places.append(Place(Path(cache_dir), "detection cache folder", PRIVATE))
    check_places(places)


class Replacer:
    """Turns spans into replacement text from the key; also redacts arbitrary strings."""

    def __init__(self, det: Detector, key: RedactionKey, index: PhraseIndex) -> None:
        self.det = det
        self.key = key
        self.index = index
        self._memo: dict[tuple[str, str], str] = {}

    def spans_for(
        self, text: str, base: list[Span], view: TokenView | None = None, left: list[tuple[int, int]] | None = None
    ) -> list[Span]:
        """*base* spans of a (cleaned) text with every study identifier found in it, finished.
        *left* receives the occurrences of study identifiers left on purpose as ordinary words
        ("ngày mai" when Mai is a name; "My mother" at a sentence start when My is one)."""
        spans = list(base)
        skipped: list[tuple[int, int]] = []
        for a, v in [(0, view)] if view is not None else segment_views(text):
            words: list[int] | None = [] if left is not None else None
            for i, k, entry in self.index.finditer(v, words):
                spans.append(Span(v.starts[i] + a, v.ends[k - 1] + a, entry.label, entry.source))
            skipped += [(v.starts[i] + a, v.ends[i] + a) for i in words or ()]
        final = self.det.finish(text, spans)
        if left is not None and skipped:
            starts = [sp.start for sp in final]
            for a, b in skipped:
                k = bisect.bisect_right(starts, a) - 1
                if not (0 <= k and final[k].end > a or k + 1 < len(final) and final[k + 1].start < b):
                    left.append((a, b))  # not replaced as part of something else
        return final

    def items(self, cleaned: Cleaned, spans: list[Span], document: str) -> list[Item]:
        """The replacement of each span of the cleaned text, from the key (new originals are added
        to it as they read), at the offsets of the original text: the whole original span,
        invisible characters included."""
        out: list[Item] = []
        for s in spans:
            entry = self.key.assign(cleaned.text[s.start : s.end], s.label, document)
            a, b = cleaned.span(s.start, s.end)
            if out and a < out[-1].end:
                a = out[-1].end  # an invisible character between two spans goes with the first
            out.append(Item(a, b, entry.label, entry.replacement_for(self.key.style), s.detector))
        return out

    def document_items(
        self, text: str, base: Iterable[tuple], document: str
    ) -> tuple[list[Item], list[tuple[int, int]]]:
        """The replacements in a document's *text* given the spans pass 1 found (cleaned offsets),
        and the words left as ordinary words on purpose (original offsets, for the review report)."""
        cl = clean(text)
        left: list[tuple[int, int]] = []
        spans = self.spans_for(cl.text, [Span(*s) for s in base], None, left)
        return self.items(cl, spans, document), [cl.span(a, b, widen=False) for a, b in left]

    def redact_string(self, text: str, document: str) -> str:
        """Redact a string that is not part of the document body (headers, comments, properties...)."""
        if not text or not any(c.isalnum() for c in text):
            return text
        memo_key = (text, document)
        if memo_key in self._memo:
            return self._memo[memo_key]
        cl = clean(text)
        view = TokenView(cl.text)
        base = self.det.rule_spans(cl.text, None, view)
        if self.det.opts.use_ner and len(text) < 100_000:
            base += self.det.ner_for_chunk(self.det.nlp(cl.text), 0)
        spans = self.spans_for(cl.text, base, view)
        out = apply_items(text, self.items(cl, spans, document))
        if len(self._memo) < 10_000:
            self._memo[memo_key] = out
        return out


_PATH_SEPARATORS = re.compile(r"[_\-./\\+]")


def path_words(rel: str) -> str:
    """A relative path as words (``Ban_Phung/Mai-2.txt`` -> ``Ban Phung Mai 2 txt``), same length."""
    return _PATH_SEPARATORS.sub(" ", rel)


def apply_items(text: str, items: Sequence[tuple]) -> str:
    parts = []
    pos = 0
    for s, e, _label, rep, *_ in items:
        parts.append(text[pos:s])
        parts.append(rep)
        pos = e
    parts.append(text[pos:])
    return "".join(parts)


MAX_PROPAGATED_TOKENS = 16  # longer than any name, address or facility name


def _propagation_entry(original: str, label: str, source: str) -> tuple[tuple[str, ...], Entry] | None:
    """How an identifier found once is looked for everywhere.

    Longer names match in any case. A single word matches where it is used as a name
    (:func:`~qualkit.redact.phrases.name_use`): a name that is no ordinary word wherever it is
    capitalised and in name positions in lower case ("mai's sister", "chị mai", text typed
    without capitals); a name that is also an ordinary word ("Sang", "My") only in name
    positions ("Mr Sang", "Ms My", inside a sentence) or as written with its accents ("Mỷ").
    """
    toks = tuple(tokens_of(original))
    if not toks or len(toks) > MAX_PROPAGATED_TOKENS:
        return None  # a very long "identifier" is a detection gone wrong: replaced where found, not sought everywhere
    if len(toks) == 1 and toks[0].isalpha():
        return _part_entry(toks, label, source, original)
    return toks, Entry(label, source)


def _part_entry(
    toks: tuple[str, ...], label: str, source: str, original: str | None = None
) -> tuple[tuple[str, ...], Entry]:
    """The look-up entry of a one-word identifier (matched where used as a name), or of a
    shorter part of a name (matched where every word is capitalised)."""
    if len(toks) > 1:
        return toks, Entry(label, source, title_case=True)
    usage = word_usage(toks[0])
    exact = None
    if original is not None and usage != NAME and has_diacritics(original):
        exact = clean(original).text.strip().lower()  # "Mỷ" as written is a name wherever it stands
    return toks, Entry(label, source, exact=exact, usage=usage)


def build_index(det: Detector, key: RedactionKey, found: dict[str, tuple[str, str]]) -> PhraseIndex:
    """Every identifier known to the study, for study-wide propagation: the key's and this run's
    originals, the given name of each multi-word person name ("Mai" of "Nguyễn Thị Mai", replaced
    on its own too), and the names list."""
    index = PhraseIndex()
    lex = det.rules.lex
    derived: dict[str, str] = {}

    def derive(original: str, label: str) -> None:
        if label == "PERSON":
            toks = tokens_of(original)
            if len(toks) > 1:
                for part in det.name_components(original, toks):
                    derived.setdefault(part, "PERSON")

    for k, e in key.entries.items():
        derive(e.original, e.label)
        if k in det.keep or (det.opts.keep_countries and k in lex.countries):
            continue
        got = _propagation_entry(e.original, e.label, "key")
        if got:
            index.add(*got)
    for k, (original, label) in found.items():
        derive(original, label)
        got = _propagation_entry(original, label, "propagation")
        if got and k not in det.keep:
            index.add(*got)
    for part, label in derived.items():
        if part not in det.keep and part not in lex.countries:
            index.add(*_part_entry((part,), label, "derived"))
    for phrase, entry in det.names_index.phrases.items():
        index.add(phrase, entry, replace=True)
    return index


def redact_corpus(
    inputs: list[Path],
    output_dir: Path,
    key_path: Path,
    opts: RedactOptions | None = None,
    report_path: Path | None = None,
    on_progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> RedactResult:
    """Redact every transcript under *inputs* into *output_dir* (see module docs).

    Detection runs on *executor* (default: the one ``opts.workers`` / ``opts.scheduler`` ask for,
    closed at the end); the key, the log, the review report and the redacted copies are written
    here, in document order, so they are the same bytes whatever runs the detection.
    """
    opts = opts or RedactOptions()
    if opts.style not in STYLES:
        raise UsageError(f"unknown style '{opts.style}'", fix="use tag, pseudonym or category")
    output_dir = Path(output_dir)
    key_path = Path(key_path)
    lists = [(opts.names_file, "names list"), (opts.keep_file, "keep list")]
    if opts.rename:
        lists.append((opts.ids_file or ids_path_for(key_path), "document id list"))
    check_locations(inputs, output_dir, key_path, report_path, opts.cache_dir, lists=lists)
    progress = on_progress or (lambda stage, done, total: None)
    result = RedactResult(key_path=key_path, report_path=report_path)
    ids = DocumentIds(opts.ids_file or ids_path_for(key_path)) if opts.rename else None

    det = Detector(opts)
    key = RedactionKey(key_path, style=opts.style)
    model_id = det.model_id() if opts.use_ner else "none"
    result.model = model_id

    files = _list_inputs(inputs, result, follow_links=opts.follow_links)
    if not files:  # nothing to redact: write no log, key or report
        if not result.errors:
            result.errors.append(
                InputError(
                    "no transcripts found",
                    file=", ".join(str(p) for p in inputs) or None,
                    fix="give files or folders holding .txt, .md, .docx, .vtt or .srt",
                )
            )
        return result

    if not opts.dry_run:
        key_backups = key_path.parent / "key-backups"
        result.tightened = make_private_paths([key_path, key_backups, report_path, opts.cache_dir, opts.names_file])
    for folder, recursive in ((output_dir, True), (opts.cache_dir, True), (key_path.parent, False)):
        if folder is not None:
            result.stale_temps += len(remove_stale_temps(folder, recursive=recursive))
    if report_path is not None:
        result.stale_temps += len(remove_stale_temps(Path(report_path).parent, recursive=False))

    with contextlib.ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(open_executor(opts.workers, opts.scheduler))
        records, vocab = _detect_all(det, files, model_id, progress, executor)
    replacer = Replacer(det, key, _study_index(det, key, records, vocab))
    if ids is not None:  # neutral ids, stable across runs: saved with the key, before the outputs
        ids.assign(f.rel.as_posix() for _i, f in files)
    staged = StagedWrites()
    try:
        with staged.collecting():  # outputs, log and report wait as checked temporary files...
            named_paths = _write_all(replacer, records, output_dir, report_path, model_id, result, progress, ids=ids)
        if not result.documents:
            # no document could be redacted: the previous log, report and key stay as they were
            staged.abort()
            result.log_path = result.report_path = None
            return result
        if not opts.dry_run:
            key.save()  # ...until the key (and its backup) that they depend on is written
            if ids is not None:
                ids.save()
        staged.commit()
    except BaseException:
        staged.abort()
        raise
    if named_paths:
        # the output keeps the inputs' relative paths, and the log lists them: say so, never which name
        result.warnings.append(
            f"{named_paths} file or folder name(s) hold a name or place being redacted; the output folder and "
            f"{LOG_NAME} keep the input file names — rename those inputs (e.g. P01.txt) or use --rename "
            f"(redact.rename: true) and run again; "
            f"'qualkit audit' lists them with the name masked"
        )
    result.key_added = key.added
    result.key_entries = len(key)
    return result


def _list_inputs(
    inputs: Sequence[Path], result: RedactResult, *, follow_links: bool = False
) -> list[tuple[int, InputFile]]:
    """Every transcript under *inputs*, numbered; a folder that cannot be listed (or holds links to
    outside it, unless *follow_links*) goes to the errors."""
    files: list[tuple[int, InputFile]] = []
    for raw in inputs:
        try:
            for inp in iter_inputs([raw], all_files=True, follow_links=follow_links):
                files.append((len(files), inp))
        except QualkitError as exc:
            result.errors.append(exc)
    return files


def _detect_all(
    det: Detector,
    files: list[tuple[int, InputFile]],
    model_id: str,
    progress: ProgressCallback,
    executor: Executor | None = None,
) -> tuple[dict[int, Pass1Doc], set[str]]:
    """Pass 1 over *files* (one task per document on *executor*, or one stream in this process): the
    records by index and the study's capitalised words."""
    opts = det.opts
    total = len(files)
    records: dict[int, Pass1Doc] = {}
    vocab: set[str] = set()
    progress("detect", 0, total)

    def collect(rec: Pass1Doc) -> None:
        records[rec.index] = rec
        vocab.update(rec.vocab)
        rec.vocab = set()
        progress("detect", len(records), total)

    cache = _Cache(opts.cache_dir, model_id, opts.settings_hash())
    if isinstance(executor, LazyExecutor):
        executor = executor.real
    if executor is None or isinstance(executor, SerialExecutor) or len(files) < 2:
        _pass1_stream(det, files, cache, collect, lambda part: progress("detect", len(records) + part, total))
        return records, vocab
    spec = detect_spec(det)
    send = not executor.sees(files[0][1].path)
    paths = {i: f for i, f in files}
    for oc in executor.run(_detect_task, spec, _detect_items(files, cache, opts.use_ner, send)):
        if oc.ok:
            rec = oc.value
            if rec.fresh is not None:
                cache.put(rec.sha, [Span(*x) for x in rec.fresh])
                rec.fresh = None
        else:
            inp = paths[oc.key]
            rec = Pass1Doc(oc.key, inp.path, inp.rel)
            rec.error = QualkitError(
                f"cannot redact this transcript: {oc.failed}",
                file=inp.path,
                fix="check the file (open it, save it again as .txt or .docx); the other transcripts went on",
            )
        collect(rec)
    return records, vocab


def _detect_items(
    files: list[tuple[int, InputFile]], cache: _Cache, use_ner: bool, send: bool
) -> Iterator[tuple[int, DetectItem]]:
    """The detection task of each document, made as the executor asks for them: the client looks
    in the detection cache first (a hit spares the worker the NER), and reads the bytes only when
    the workers cannot see the file."""
    for i, inp in files:
        try:
            sha = file_sha256(inp.path)
            data = Path(inp.path).read_bytes() if send else None
        except OSError:
            sha, data = "", None  # the worker reports the unreadable file
        cached = cache.get(sha) if use_ner and sha else None
        yield i, DetectItem(i, str(inp.path), Path(inp.rel).as_posix(), sha, cached, data)


def _study_index(det: Detector, key: RedactionKey, records: dict[int, Pass1Doc], vocab: set[str]) -> PhraseIndex:
    """The study-wide index of originals; the study's words are handed to the key (to keep pseudonyms
    out of them) and then dropped, as are the records' originals."""
    found: dict[str, tuple[str, str]] = {}
    for idx in sorted(records):
        rec = records[idx]
        if rec.error is not None:
            continue
        for original, label, _detector in rec.originals:
            k = phrase_key(original)
            if not k:
                continue
            found.setdefault(k, (original, label))
        rec.originals = []
    # a pseudonym that is a real name of this study would re-identify or mislead: refuse it
    key.check_replacements([*found.values(), *((t, lab) for t, lab, _g in det.names)])
    key.avoid_words(vocab)
    for text_, _label, _given in det.names:
        key.avoid_words(tokens_of(text_))
    vocab.clear()  # the study vocabulary is only needed to choose pseudonyms
    return build_index(det, key, found)


@contextlib.contextmanager
def _review_report(path: Path | None, notes: list[str]) -> Iterator[ReviewReport | None]:
    """The review report, closed with *notes* on success and removed on any failure."""
    if path is None:
        yield None
        return
    from .report import ReviewReport

    report = ReviewReport(path)
    try:
        yield report
    except BaseException:
        report.abort()
        raise
    report.close(notes=notes)


@dataclass
class _Sink:
    """Where pass 2 puts one document's results."""

    replacer: Replacer
    output_dir: Path
    result: RedactResult
    write: Callable | None
    log: Any | None  # csv writer of the redaction log (None in a dry run)
    report: ReviewReport | None
    ids: DocumentIds | None = None  # neutral document ids (--rename)


def _write_all(
    replacer: Replacer,
    records: dict[int, Pass1Doc],
    output_dir: Path,
    report_path: Path | None,
    model_id: str,
    result: RedactResult,
    progress: ProgressCallback,
    *,
    ids: DocumentIds | None = None,
) -> int:
    """Pass 2: replace and write every document, the log and the review report; returns how many
    documents' paths hold an identifier."""
    opts = replacer.det.opts
    total = len(records)
    write = None if opts.dry_run else _writer()
    named_paths = 0
    with contextlib.ExitStack() as stack:
        report = stack.enter_context(_review_report(report_path, [f"model: {model_id}", f"style: {opts.style}"]))
        log = None
        if not opts.dry_run:
            output_dir.mkdir(parents=True, exist_ok=True)
            log_handle = stack.enter_context(atomic_open(output_dir / LOG_NAME, "w", newline=""))
            log = csv.writer(log_handle, lineterminator="\n")
            log.writerow(LOG_COLUMNS)
        sink = _Sink(replacer, output_dir, result, write, log, report, ids)
        progress("write", 0, total)
        for n, idx in enumerate(sorted(records), start=1):
            rec = records[idx]
            if rec.error is not None:
                result.errors.append(rec.error)
            else:
                try:
                    named_paths += _write_one(rec, sink)
                except WriteError:
                    raise  # a full disk or a read-only folder: stop, nothing is put in place
                except QualkitError as exc:
                    result.errors.append(exc)
                except OSError as exc:
                    result.errors.append(
                        InputError(
                            f"cannot write the redacted copy ({exc.strerror or type(exc).__name__})",
                            file=rec.path,
                            fix="check the output folder's permissions and free space",
                        )
                    )
                except Exception as exc:  # a writer bug must not stop the batch; never echo its text
                    result.errors.append(
                        QualkitError(
                            f"cannot write the redacted copy (internal error {type(exc).__name__})",
                            file=rec.path,
                            fix="report this as a qualkit bug; the other files went on",
                        )
                    )
            progress("write", n, total)
    if log is not None:
        result.log_path = output_dir / LOG_NAME
    return named_paths


def _write_one(rec: Pass1Doc, sink: _Sink) -> bool:
    """Replace and write one document; True when its path holds an identifier."""
    replacer, result = sink.replacer, sink.result
    doc = read_document(rec.path, rel=rec.rel)
    rel = rec.rel.as_posix()
    items, left = replacer.document_items(doc.text, rec.spans, rel)
    out_rel = sink.ids.neutral_path(rel) if sink.ids is not None else rec.rel
    if sink.write is not None and sink.log is not None:
        out_path = sink.output_dir / out_rel  # the writer refuses to overwrite its input
        sink.write(
            doc,
            [(it.start, it.end, it.replacement) for it in items],
            out_path,
            redact_text=lambda t, _rel=rel: replacer.redact_string(t, _rel),
        )
        result.written.append(out_path)
        shift = 0
        for it in items:
            s, e, rep = it.start, it.end, it.replacement
            sink.log.writerow(
                [out_rel.stem if sink.ids else doc.id, out_rel.as_posix(), s, e, it.label, rep, it.detector]
                + [s + shift, s + shift + len(rep)]
            )
            shift += len(rep) - (e - s)
    if sink.report is not None:
        sink.report.add(rel, doc.text, items, left)
    for it in items:
        result.by_label[it.label] += 1
        result.by_detector[it.detector] += 1
    result.replacements += len(items)
    result.documents.append(rel)
    named = sink.ids is None and next(iter(replacer.index.finditer(TokenView(path_words(rel)))), None) is not None
    result.cached += int(rec.cached)
    if replacer.det.opts.collect_spans:
        result.spans[rel] = DocSpans(rec.path, rel, len(doc.text), items)
    for w in doc.warnings:
        result.warnings.append(f"{rec.path}: {w}")
    return named


def make_redactor(
    key_path: Path | None, opts: RedactOptions | None = None, extra_originals: Iterable[tuple[str, str]] = ()
) -> Replacer:
    """A :class:`Replacer` over the key alone (for redacting loose strings outside a run)."""
    opts = opts or RedactOptions()
    det = Detector(opts)
    key = RedactionKey(key_path, style=opts.style)
    found = {phrase_key(o): (o, label) for o, label in extra_originals}
    return Replacer(det, key, build_index(det, key, found))
