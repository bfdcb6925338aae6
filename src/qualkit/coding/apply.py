"""Apply a codebook's rules to documents: coded segments, and merging with a reviewed file.

``code_documents`` runs the spaCy pipeline once per document (``nlp.pipe``),
cuts each speech turn into units (sentences, the turn, or paragraphs) and
returns one :class:`~qualkit.segments.CodedSegment` per (unit, code) whose
rules match: coder ``auto``, status ``suggested``, offsets into the document
text. ``merge_with_previous`` combines those suggestions with an earlier,
possibly reviewed, segments file without losing any human decision.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Iterable

from ..choices import Unit, values
from ..documents import Document, Turn
from ..progress import ProgressFn
from .segments import CodedSegment

UNITS = values(Unit)

_BLANK_LINE_RE = re.compile(r"\n[ \t\r]*\n")


@dataclass(frozen=True)
class Unit:
    """One codable stretch of a speech turn."""

    kind: str  # sentence | turn | paragraph
    segment: str  # id within the document: "<turn>" / "<turn>-<sentence>" / "<turn>-p<paragraph>"
    start: int
    end: int
    turn: Turn
    tok_start: int = 0
    tok_end: int = 0


class CodedRows(list):
    """The list of CodedSegment rows ``code_documents`` returns.

    It also remembers, per coded document, the text and the sentence spans, so
    :func:`merge_with_previous` can relocate earlier decisions in changed
    transcripts without reading the files again.
    """

    def __init__(self, rows: Iterable[CodedSegment] = ()):
        super().__init__(rows)
        self.texts: dict[str, str] = {}
        self.spans: dict[str, list[tuple[int, int]]] = {}


# --------------------------------------------------------------------------- text prepared for spaCy


def parse_text(document: Document) -> str:
    """The document text with speaker labels and metadata lines blanked out.

    Same length as ``document.text`` (so offsets are unchanged): labels
    (``Interviewer:``, ``<v Lan>``) and metadata turns (``Note:``, dates) become
    spaces, newlines are kept, so they neither confuse the parser nor match rules.
    """
    chars = list(document.text)

    def blank(a: int, b: int) -> None:
        for i in range(max(0, a), min(b, len(chars))):
            if chars[i] not in "\n\r":
                chars[i] = " "

    for turn in document.turns:
        if turn.role == "metadata":
            blank(turn.start, turn.end)
        elif turn.text_start > turn.start:
            blank(turn.start, turn.text_start)
    return "".join(chars)


def _make_doc(nlp, document: Document):
    text = parse_text(document)
    if len(text) >= nlp.max_length:
        nlp.max_length = len(text) + 1
    doc = nlp.make_doc(text)
    if len(doc) == 0:
        return doc
    starts = [t.idx for t in doc]
    for turn in document.turns:
        if turn.role == "metadata":
            continue
        i = bisect_left(starts, turn.text_start)
        while i < len(doc) and doc[i].is_space:
            i += 1
        if i < len(doc) and doc[i].idx < turn.end:
            doc[i].is_sent_start = True  # a turn always starts a sentence
    return doc


def parse_documents(documents: list[Document], nlp, *, batch_size: int = 8):
    """Yield (document, spaCy Doc): one pipeline pass per document."""
    docs = (_make_doc(nlp, d) for d in documents)
    yield from zip(documents, nlp.pipe(docs, batch_size=batch_size))


# --------------------------------------------------------------------------- units


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _token_range(tok_starts: list[int], tok_ends: list[int], a: int, b: int) -> tuple[int, int]:
    """Tokens overlapping characters [a, b)."""
    ts = bisect_right(tok_ends, a)
    te = bisect_left(tok_starts, b)
    return ts, te


def document_units(document: Document, doc, kind: str) -> list[Unit]:
    """Units of *kind* in the speech turns of *document* (spaCy *doc* for sentences)."""
    text = doc.text
    tok_starts = [t.idx for t in doc]
    tok_ends = [t.idx + len(t.text) for t in doc]
    units: list[Unit] = []
    speech = [t for t in document.turns if t.role != "metadata"]
    if kind == "sentence":
        sents = [(s.start_char, s.end_char) for s in doc.sents]
        sent_starts = [s[0] for s in sents]
    for turn in speech:
        a0, b0 = _trim(text, turn.text_start, turn.end)
        if a0 >= b0:
            continue
        tno = turn.index + 1
        pieces: list[tuple[str, int, int]] = []
        if kind == "turn":
            pieces.append((str(tno), a0, b0))
        elif kind == "paragraph":
            if document.format in ("docx", "vtt", "srt") and document.blocks:
                bounds = [(max(b.start, a0), min(b.end, b0)) for b in document.blocks if b.end > a0 and b.start < b0]
            else:
                bounds, pos = [], a0
                for m in _BLANK_LINE_RE.finditer(text, a0, b0):
                    bounds.append((pos, m.start()))
                    pos = m.end()
                bounds.append((pos, b0))
            k = 0
            for a, b in bounds:
                a, b = _trim(text, a, b)
                if a < b:
                    k += 1
                    pieces.append((f"{tno}-p{k}", a, b))
        else:
            i = max(0, bisect_right(sent_starts, a0) - 1)
            k = 0
            while i < len(sents) and sents[i][0] < b0:
                a, b = _trim(text, max(sents[i][0], a0), min(sents[i][1], b0))
                i += 1
                if a < b and any(ch.isalnum() for ch in text[a:b]):
                    k += 1
                    pieces.append((f"{tno}-{k}", a, b))
        for seg, a, b in pieces:
            ts, te = _token_range(tok_starts, tok_ends, a, b)
            units.append(Unit(kind, seg, a, b, turn, ts, te))
    return units


# --------------------------------------------------------------------------- coding


#: an answer of at most this many words is read with the exchange before its question too
SHORT_ANSWER_WORDS = 8


@dataclass(frozen=True)
class TurnContext:
    """Token ranges a ``turn`` / ``question+answer`` rule looks at for one speech turn."""

    turn: tuple[int, int]
    question: tuple[int, int] | None  # the interviewer's turn just before
    earlier: tuple[int, int] | None  # for a short answer: the exchange before the question
    answer_negative: bool  # the turn opens with a denial ("No.", "Never.")


def turn_contexts(document: Document, doc) -> dict[int, TurnContext]:
    """Per speech turn (by index): its token range, the question before it, and for short
    answers the earlier exchange; used by rules of scope ``turn`` and ``question+answer``."""
    from .rules.evaluate import answer_is_negative

    text = doc.text
    tok_starts = [t.idx for t in doc]
    tok_ends = [t.idx + len(t.text) for t in doc]
    speech = [t for t in document.turns if t.role != "metadata"]
    ranges: list[tuple[int, int] | None] = []
    for t in speech:
        a, b = _trim(text, t.text_start, t.end)
        ranges.append(_token_range(tok_starts, tok_ends, a, b) if a < b else None)
    out: dict[int, TurnContext] = {}
    for k, t in enumerate(speech):
        rng = ranges[k]
        if rng is None:
            continue
        question = ranges[k - 1] if k >= 1 and speech[k - 1].role == "interviewer" else None
        earlier = None
        if question is not None and k >= 3:
            words = sum(1 for i in range(*rng) if not (doc[i].is_space or doc[i].is_punct))
            before = [r for r in ranges[k - 3 : k - 1] if r is not None]
            if words <= SHORT_ANSWER_WORDS and before:
                earlier = (before[0][0], before[-1][1])
        out[t.index] = TurnContext(rng, question, earlier, answer_is_negative(doc, *rng))
    return out


FIRST_PERSON_SINGULAR = frozenset({"i", "me", "my", "mine", "myself"})


def turn_perspectives(document: Document, doc) -> dict[int, frozenset[str]]:
    """Per speech turn (by index): the perspectives a ``perspective:`` rule accepts there.

    ``own``: the speaker tells their own story (first-person singular words are at
    least ``OWN_ACCOUNT_SHARE`` of the words this speaker says in the document; a
    speaker with fewer than ``OWN_ACCOUNT_MIN_WORDS`` words gets every perspective);
    ``general``: the speaker talks about others (below that share), or this turn
    does not say "I/me/my" at all; ``any`` always.
    """
    from .rules.model import OWN_ACCOUNT_MIN_WORDS, OWN_ACCOUNT_SHARE

    tok_starts = [t.idx for t in doc]
    tok_ends = [t.idx + len(t.text) for t in doc]
    per_turn: dict[int, tuple[str, int, int]] = {}
    totals: dict[str, list[int]] = {}
    for t in document.turns:
        if t.role == "metadata":
            continue
        ts, te = _token_range(tok_starts, tok_ends, t.text_start, t.end)
        words = first = 0
        for i in range(ts, te):
            tok = doc[i]
            if tok.is_alpha:
                words += 1
                if tok.lower_ in FIRST_PERSON_SINGULAR:
                    first += 1
        key = f"{t.role}|{(t.speaker or '').strip().lower()}"
        per_turn[t.index] = (key, first, words)
        acc = totals.setdefault(key, [0, 0])
        acc[0] += first
        acc[1] += words
    out: dict[int, frozenset[str]] = {}
    for index, (key, first, _words) in per_turn.items():
        f, w = totals[key]
        if w < OWN_ACCOUNT_MIN_WORDS:  # too little speech to tell whose story it is
            out[index] = frozenset({"any", "own", "general"})
            continue
        own = f / w >= OWN_ACCOUNT_SHARE
        found = {"any"}
        if own:
            found.add("own")
        if not own or first == 0:
            found.add("general")
        out[index] = frozenset(found)
    return out


def code_parsed(document: Document, doc, compiled, *, unit: str = "sentence") -> tuple[list[CodedSegment], list[Unit]]:
    """Code one already-parsed document. Returns (rows, sentence-or-default units)."""
    scan = compiled.scan(doc)
    kinds = {r.unit or unit for r in compiled.rules} or {unit}
    rows: list[tuple[int, int, int, CodedSegment]] = []
    rank = {r.code: i for i, r in enumerate(compiled.rules)}
    default_units: list[Unit] = []
    contexts = turn_contexts(document, doc) if compiled.wide_scope else {}
    perspectives = turn_perspectives(document, doc) if compiled.perspectives else {}
    every = frozenset({"any", "own", "general"})

    def emit(u: Unit, code: str) -> None:
        rows.append(
            (
                u.start,
                u.end,
                rank[code],
                CodedSegment(
                    document=document.id,
                    code=code,
                    case="",
                    segment=u.segment,
                    start=u.start,
                    end=u.end,
                    speaker=u.turn.speaker or "",
                    coder="auto",
                    status="suggested",
                    text=document.text[u.start : u.end],
                ),
            )
        )

    for kind in sorted(kinds):
        units = document_units(document, doc, kind)
        if kind == unit:
            default_units = units
        by_turn: dict[int, list[Unit]] = {}
        for u in units:
            if u.tok_end <= u.tok_start:
                continue
            by_turn.setdefault(u.turn.index, []).append(u)
            for code in compiled.codes_for(
                scan,
                u.tok_start,
                u.tok_end,
                unit=kind,
                role=u.turn.role,
                speaker=u.turn.speaker,
                default_unit=unit,
                perspectives=perspectives.get(u.turn.index, every),
            ):
                emit(u, code)
        for turn_index, turn_units in by_turn.items():
            ctx = contexts.get(turn_index)
            if ctx is None:
                continue
            turn = turn_units[0].turn
            found = compiled.context_codes(
                scan,
                ctx.turn,
                [(u.tok_start, u.tok_end) for u in turn_units],
                unit=kind,
                role=turn.role,
                speaker=turn.speaker,
                default_unit=unit,
                question=ctx.question,
                earlier=ctx.earlier,
                answer_negative=ctx.answer_negative,
                perspectives=perspectives.get(turn_index, every),
            )
            for code, where in found.items():
                for k in where:
                    emit(turn_units[k], code)
    if unit not in kinds:
        default_units = document_units(document, doc, unit)
    rows.sort(key=lambda r: (r[0], -r[1], r[2]))
    return [r[3] for r in rows], default_units


def code_documents(
    docs: Iterable[Document],
    codebook,
    *,
    unit: str | None = None,
    model: str | None = None,
    on_progress: ProgressFn | None = None,
    nlp=None,
    batch_size: int = 8,
    executor=None,
) -> CodedRows:
    """Code *docs* with *codebook*'s rules; one spaCy pass per document.

    *unit* (sentence | turn | paragraph) is the unit of codes whose rules (or
    theme, or the codebook's ``defaults:``) name none; None = the codebook's
    default, else sentence. *on_progress(document_id, done, total)* is called
    after each document. Returns :class:`CodedRows` (a list of CodedSegment).
    With a parallel *executor* (:mod:`qualkit.execution`) each document is coded by a worker
    that loads the pipeline once; the rows are the same, in the same order.
    """
    from ..errors import UsageError
    from .rules import compile_codebook

    documents = list(docs)
    if unit is None:
        unit = ((codebook.defaults or {}).get("unit") if isinstance(codebook.defaults, dict) else None) or "sentence"
    if unit not in UNITS:
        raise UsageError(f"unknown coding unit '{unit}'", fix="use sentence, turn or paragraph")
    if executor is not None and executor.workers > 1 and len(documents) > 1:
        return _code_on(executor, documents, codebook, unit, model, on_progress)
    if nlp is None:
        from ..nlp import load_pipeline

        nlp = load_pipeline(model, "full")
    compiled = compile_codebook(codebook, nlp)
    out = CodedRows()
    total = len(documents)
    for done, (document, doc) in enumerate(parse_documents(documents, nlp, batch_size=batch_size), start=1):
        rows, units = code_parsed(document, doc, compiled, unit=unit)
        out.extend(rows)
        out.texts[document.id] = document.text
        out.spans[document.id] = [(u.start, u.end) for u in units]
        if on_progress is not None:
            on_progress(document.id, done, total)
    return out


class _CodeSpec(tuple):
    """(codebook, model, unit, token): what every coding task needs."""


def _code_task(spec: _CodeSpec, document: Document) -> tuple[list[CodedSegment], list[tuple[int, int]]]:
    """Code one document in a worker: the pipeline and the compiled rules are built once per process."""
    from ..execution import worker_state
    from ..nlp import load_pipeline
    from .rules import compile_codebook

    codebook, model, unit, token = spec

    def build():
        nlp = load_pipeline(model, "full")
        return nlp, compile_codebook(codebook, nlp)

    nlp, compiled = worker_state(token, build)
    doc = nlp(_make_doc(nlp, document))
    rows, units = code_parsed(document, doc, compiled, unit=unit)
    return rows, [(u.start, u.end) for u in units]


def _code_on(executor, documents: list[Document], codebook, unit: str, model, on_progress) -> CodedRows:
    """:func:`code_documents` with one task per document on *executor*, rows put back in document order."""
    from ..errors import QualkitError
    from ..execution import in_order, token_of

    spec = _CodeSpec((codebook, model, unit, token_of("code", codebook, model, unit)))
    out = CodedRows()
    total = len(documents)
    outcomes = executor.run(_code_task, spec, enumerate(documents))
    for done, oc in enumerate(in_order(outcomes, range(total)), start=1):
        document = documents[oc.key]
        if not oc.ok:
            raise QualkitError(
                f"cannot code this transcript: {oc.failed}",
                file=document.path,
                fix="check the file, or code without --scheduler/--workers to see the error",
            )
        rows, spans = oc.value
        out.extend(rows)
        out.texts[document.id] = document.text
        out.spans[document.id] = spans
        if on_progress is not None:
            on_progress(document.id, done, total)
    return out


def check_examples(codebook, *, model: str | None = None, nlp=None) -> list[tuple[str, int]]:
    """Codes whose rules miss one of their own ``examples``: [(code path, example index)].

    Each example is coded as a respondent turn of a small transcript with the
    codebook's rules (all units), so a coder can use examples as tests.
    """
    from ..documents import Block, line_spans, split_turns

    entries = [
        (c.path, i, " ".join(str(ex).split()))
        for c in codebook.iter_codes()
        if c.rules is not None
        for i, ex in enumerate(c.examples)
    ]
    if not entries:
        return []
    parts, spans, pos = [], [], 0
    for _path, _i, ex in entries:
        line = f"R: {ex}\n"
        spans.append((pos + 3, pos + 3 + len(ex)))
        parts.append(line)
        pos += len(line)
    text = "".join(parts)
    lines = line_spans(text)
    doc = Document(
        id="examples",
        path=codebook.path or "codebook",
        text=text,
        format="txt",
        turns=split_turns(text, lines),
        blocks=[Block(s, e, k) for k, (s, e) in enumerate(lines)],
    )
    rows = code_documents([doc], codebook, model=model, nlp=nlp)
    found: set[tuple[int, str]] = set()
    starts = [s for s, _ in spans]
    for r in rows:
        k = bisect_right(starts, r.start) - 1
        if k >= 0 and r.end <= spans[k][1]:
            found.add((k, r.code))
    return [(path, i) for k, (path, i, _ex) in enumerate(entries) if (k, path) not in found]
