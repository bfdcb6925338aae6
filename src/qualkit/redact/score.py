"""Score redaction against hand-marked gold spans.

Gold spans are JSONL, one object a line: ``{"file": ..., "start": ..., "end": ..., "label": ...}``
(offsets into the document text as qualkit reads it). A gold span counts as
*caught* when none of its distinctive tokens is left in the output (stop words,
titles and words such as "Street" or "Apt." are not distinctive). A replaced span
counts as *correct* when it overlaps some gold span, whatever its label.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..errors import InputError
from ..textnorm import fold
from .lexicon import lexicon

_WORD = re.compile(r"\w+")
NON_DISTINCTIVE_EXTRA = frozenset(
    """apt apartment suite ste unit box po street st str road rd avenue ave lane ln drive dr close court ct
    place pl way boulevard blvd square sq district ward commune province city town village hamlet""".split()
)


@dataclass(frozen=True)
class GoldSpan:
    file: str
    start: int
    end: int
    label: str


def load_gold(path: Path) -> list[GoldSpan]:
    out: list[GoldSpan] = []
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise InputError("gold file not found", file=path, fix="check the path") from None
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            out.append(GoldSpan(str(obj["file"]), int(obj["start"]), int(obj["end"]), str(obj["label"]).upper()))
        except (ValueError, KeyError, TypeError):
            raise InputError(
                "not a gold span (JSON with file, start, end, label)",
                file=path,
                line=i,
                fix='write one object a line: {"file": "int01.txt", "start": 10, "end": 14, "label": "PERSON"}',
            ) from None
    return out


def distinctive_tokens(text: str, start: int, end: int) -> list[tuple[int, int]]:
    lex = lexicon()
    out = []
    for m in _WORD.finditer(text, start, end):
        w = fold(m.group())
        if w in lex.stop or w in lex.titles or w in NON_DISTINCTIVE_EXTRA:
            continue
        if len(w) == 1 and not w.isdigit():
            continue
        out.append((m.start(), m.end()))
    return out


@dataclass
class LabelScore:
    total: int = 0
    hit: int = 0

    @property
    def rate(self) -> float:
        return self.hit / self.total if self.total else float("nan")


@dataclass
class ScoreResult:
    recall: dict[str, LabelScore] = field(default_factory=lambda: defaultdict(LabelScore))
    precision: dict[str, LabelScore] = field(default_factory=lambda: defaultdict(LabelScore))
    other_words: int = 0
    other_replaced: int = 0
    missed: list[GoldSpan] = field(default_factory=list)

    @property
    def other_rate(self) -> float:
        return self.other_replaced / self.other_words if self.other_words else 0.0

    def group_recall(self, labels: Iterable[str]) -> float:
        tot = sum(self.recall[lab].total for lab in labels if lab in self.recall)
        hit = sum(self.recall[lab].hit for lab in labels if lab in self.recall)
        return hit / tot if tot else float("nan")

    def rows(self) -> list[tuple[str, str, int, int, float]]:
        rows = [("recall", lab, s.total, s.hit, s.rate) for lab, s in sorted(self.recall.items())]
        rows += [("precision", lab, s.total, s.hit, s.rate) for lab, s in sorted(self.precision.items())]
        return rows


def _covered(spans: Sequence[tuple[int, int]], a: int, b: int) -> bool:
    return any(s <= a and b <= e for s, e in spans)


def score_spans(
    gold: Iterable[GoldSpan],
    predicted: Mapping[str, Sequence[tuple]],
    texts: Mapping[str, str],
    *,
    skip_labels: Iterable[str] = (),
) -> ScoreResult:
    """*predicted*: file -> [(start, end, label, ...)]; *texts*: file -> original text."""
    res = ScoreResult()
    skip = {s.upper() for s in skip_labels}
    by_file: dict[str, list[GoldSpan]] = defaultdict(list)
    for g in gold:
        by_file[g.file].append(g)
    for file, text in texts.items():
        preds = sorted((p[0], p[1]) for p in predicted.get(file, ()))
        golds = by_file.get(file, [])
        for g in golds:
            if g.label in skip:
                continue
            toks = distinctive_tokens(text, g.start, g.end)
            sc = res.recall[g.label]
            sc.total += 1
            if all(_covered(preds, a, b) for a, b in toks):
                sc.hit += 1
            else:
                res.missed.append(g)
        for p in predicted.get(file, ()):
            sc = res.precision[p[2]]
            sc.total += 1
            if any(p[0] < g.end and g.start < p[1] for g in golds):
                sc.hit += 1
        for m in _WORD.finditer(text):
            a, b = m.span()
            if any(g.start < b and a < g.end for g in golds):
                continue
            res.other_words += 1
            if any(s < b and a < e for s, e in preds):
                res.other_replaced += 1
    return res
