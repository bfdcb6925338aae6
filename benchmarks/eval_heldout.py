"""P/R/F1 of `qualkit code` on the blind held-out interviews (and on the realistic dev set).

    python benchmarks/eval_heldout.py --check                 # verify the frozen files, nothing else
    python benchmarks/eval_heldout.py [--set csec|fsw] [--learn 0.25,0.5,0.75,0.8] [--per-code]
    python benchmarks/eval_heldout.py --dev [--errors]         # tests/data/devset/realistic (tuning allowed)

The held-out sets (benchmarks/heldout/, format in its README.md) were written and
coded blind, from the codebooks' definitions only, and frozen with SHA256SUMS
before any rule was changed. This script refuses to run when a file does not
match its checksum, and it prints aggregates and per-code figures only: never a
line of those files, never a per-turn error list (``--errors`` works on the dev
set only). Do not change a rule or a model setting because of a held-out result.

How it measures. Each document becomes a transcript: a ``Note:`` line with the
setting (metadata, must never be coded), then every turn in order under an
``Interviewer:`` or ``Respondent:`` label, so the question precedes each answer.
The transcripts are coded exactly as ``qualkit code`` does; a code counts for a
respondent turn when any unit of the turn got it (turn level), and is compared
with the turn's gold ``codes``. Per code: TP/FP/FN, precision, recall, F1;
micro = pooled over all codes; macro = mean F1 over the codes that occur in the
gold of the set. Per theme the same, pooled over the theme's codes.

``--learn F,...``: the coders' decisions are simulated on a fraction F of the
documents (their gold codes as rows added by a human, one per turn and code,
every other turn of those documents a negative), the rest is coded with the
rules plus the model trained on them (``qualkit code --learn``), and only the
uncoded documents are scored. Each fraction is repeated over several seeded
document splits (5-fold by document for 0.8) and the counts are pooled.

recall@3: the share of gold (turn, code) pairs that appear among the
``candidates`` (top 3 codes of a unit, even below the threshold) of any unit of
the turn, or among its suggestions.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "benchmarks" / "heldout"
DEV_REALISTIC = ROOT / "tests" / "data" / "devset" / "realistic"
CODEBOOKS = {"csec": "csec-study.yaml", "fsw": "fsw-evaluation.yaml"}


class Refused(SystemExit):
    pass


# --------------------------------------------------------------------------- frozen files


def check_sums(root: Path = HELDOUT) -> list[str]:
    """Problems with the frozen files: changed, missing or unlisted (empty list = all intact)."""
    sums = root / "SHA256SUMS"
    if not sums.is_file():
        return [f"{sums} is missing"]
    problems = []
    listed = set()
    for line in sums.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, name = line.split(None, 1)
        name = name.strip().lstrip("*")
        path = (root / name).resolve()
        listed.add(path)
        if not path.is_file():
            problems.append(f"missing: {name}")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"changed: {name}")
    for path in sorted(root.rglob("*.yaml")):
        if path.resolve() not in listed:
            problems.append(f"not in SHA256SUMS: {path.relative_to(root)}")
    return problems


def require_intact() -> None:
    problems = check_sums()
    if problems:
        raise Refused(
            "Refusing to run: the held-out files do not match benchmarks/heldout/SHA256SUMS ("
            + "; ".join(problems[:5])
            + "). Restore them with git checkout benchmarks/heldout."
        )


# --------------------------------------------------------------------------- documents


@dataclass
class GoldTurn:
    document: str
    start: int  # character span of the turn's text in the built transcript
    end: int
    codes: frozenset[str]


@dataclass
class Built:
    document: object  # qualkit.documents.Document
    turns: list[GoldTurn]


def _clean(text) -> str:
    return " ".join(str(text or "").split())


def load_folder(folder: Path) -> list[dict]:
    import yaml

    docs = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
            raise Refused(f"{path.name}: not in the held-out format (document, setting, turns)")
        data.setdefault("document", path.stem)
        docs.append(data)
    return docs


def build(doc: dict) -> Built:
    """One transcript from a held-out document: Note: line, then Interviewer:/Respondent: turns."""
    from qualkit.documents import Block, Document, classify_label, line_spans, split_turns

    lines = []
    gold_at: list[tuple[int, int, frozenset[str]]] = []
    pos = 0
    setting = _clean(doc.get("setting"))
    if setting:
        lines.append(f"Note: {setting}")
        pos += len(lines[-1]) + 1
    for turn in doc["turns"]:
        text = _clean(turn.get("text"))
        if not text:
            continue
        speaker = str(turn.get("speaker") or "")
        interviewer = "codes" not in turn and classify_label(speaker) == "interviewer"
        label = "Interviewer: " if interviewer else "Respondent: "
        if not interviewer:
            gold_at.append((pos + len(label), pos + len(label) + len(text), frozenset(turn.get("codes") or ())))
        lines.append(label + text)
        pos += len(lines[-1]) + 1
    text = "\n".join(lines) + "\n"
    spans = line_spans(text)
    document = Document(
        id=str(doc["document"]),
        path=Path(f"{doc['document']}.txt"),
        text=text,
        format="txt",
        turns=split_turns(text, spans),
        blocks=[Block(s, e, i) for i, (s, e) in enumerate(spans)],
    )
    respondent = [t for t in document.turns if t.role == "respondent"]
    if len(respondent) != len(gold_at):
        raise Refused(f"{document.id}: the transcript does not split into its turns (format changed?)")
    return Built(document, [GoldTurn(document.id, s, e, g) for s, e, g in gold_at])


# --------------------------------------------------------------------------- scoring


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Score:
    codes: dict[str, Counts] = field(default_factory=dict)
    turns: int = 0
    turns_with_gold: int = 0
    gold_turns_without_prediction: int = 0
    stray: int = 0  # codes on interviewer or metadata lines
    at3_hit: int = 0
    at3_total: int = 0
    errors: list[tuple[str, str, list[str], list[str]]] = field(default_factory=list)  # dev set only

    def code(self, c: str) -> Counts:
        return self.codes.setdefault(c, Counts())

    def merge(self, other: Score) -> None:
        for c, k in other.codes.items():
            self.code(c).add(k)
        self.turns += other.turns
        self.turns_with_gold += other.turns_with_gold
        self.gold_turns_without_prediction += other.gold_turns_without_prediction
        self.stray += other.stray
        self.at3_hit += other.at3_hit
        self.at3_total += other.at3_total
        self.errors += other.errors

    @property
    def micro(self) -> Counts:
        total = Counts()
        for k in self.codes.values():
            total.add(k)
        return total

    @property
    def macro_f1(self) -> float:
        vals = [k.f1 for k in self.codes.values() if k.tp + k.fn]
        return sum(vals) / len(vals) if vals else 0.0

    @property
    def gold_codes(self) -> int:
        return sum(1 for k in self.codes.values() if k.tp + k.fn)

    def theme(self, theme: str) -> Counts:
        total = Counts()
        for c, k in self.codes.items():
            if c.split(".", 1)[0] == theme:
                total.add(k)
        return total


def score_rows(built: list[Built], rows, *, keep_errors: bool = False) -> Score:
    """Compare coded rows (CodedSegment-like: document, code, start, end, candidates) with the gold turns."""
    from bisect import bisect_right

    sc = Score()
    by_doc = {b.document.id: b for b in built}
    found: dict[tuple[str, int], set[str]] = {}
    cands: dict[tuple[str, int], set[str]] = {}
    for r in rows:
        b = by_doc.get(r.document)
        if b is None:
            continue
        starts = [t.start for t in b.turns]
        k = bisect_right(starts, r.start) - 1
        if k < 0 or r.end > b.turns[k].end:
            sc.stray += 1
            continue
        found.setdefault((r.document, k), set()).add(r.code)
        for c in _candidate_codes(getattr(r, "candidates", "")):
            cands.setdefault((r.document, k), set()).add(c)
    for b in built:
        for k, t in enumerate(b.turns):
            pred = found.get((b.document.id, k), set())
            sc.turns += 1
            if t.codes:
                sc.turns_with_gold += 1
                if not pred:
                    sc.gold_turns_without_prediction += 1
            for c in t.codes | pred:
                cnt = sc.code(c)
                if c in t.codes and c in pred:
                    cnt.tp += 1
                elif c in pred:
                    cnt.fp += 1
                else:
                    cnt.fn += 1
            surfaced = pred | cands.get((b.document.id, k), set())
            sc.at3_total += len(t.codes)
            sc.at3_hit += len(t.codes & surfaced)
            if keep_errors and pred != t.codes:
                text = b.document.text[t.start : t.end]
                sc.errors.append((f"{b.document.id}#{k + 1}", text, sorted(t.codes - pred), sorted(pred - t.codes)))
    return sc


def _candidate_codes(value) -> list[str]:
    """Codes named in a ``candidates`` cell ("code 0.83; code 0.41; ...")."""
    out = []
    for part in str(value or "").split(";"):
        part = part.strip()
        if part:
            out.append(part.split()[0])
    return out


# --------------------------------------------------------------------------- runs


def code_rules(built: list[Built], cb, nlp):
    from qualkit.coding.apply import code_documents

    return code_documents([b.document for b in built], cb, nlp=nlp)


def human_rows(built: list[Built]):
    """The gold codes of *built* as rows a coder added by hand (one per turn and code)."""
    from qualkit.coding.segments import CodedSegment

    rows = []
    for b in built:
        for k, t in enumerate(b.turns):
            for c in sorted(t.codes):
                rows.append(
                    CodedSegment(
                        document=b.document.id,
                        code=c,
                        segment=str(k + 1),
                        start=t.start,
                        end=t.end,
                        speaker="Respondent",
                        coder="coder1",
                        status="accepted",
                        text=b.document.text[t.start : t.end],
                    )
                )
    return rows


def code_learned(train: list[Built], test: list[Built], cb, nlp, workdir: Path):
    """Rules + the model trained on *train*'s gold (as human rows), applied to *test*."""
    from qualkit.coding.learn import LearnOptions, code_with_learning

    return code_with_learning(
        [b.document for b in test],
        cb,
        nlp=nlp,
        decisions=human_rows(train),
        train_documents=[b.document for b in train],
        options=LearnOptions(model_dir=workdir),
    )


def splits(n: int, fraction: float, seed: int, repeats: int) -> list[tuple[list[int], list[int]]]:
    """(train, test) index lists: 5-fold by document for 0.8, else *repeats* seeded random splits."""
    idx = list(range(n))
    if abs(fraction - 0.8) < 1e-9:
        rnd = random.Random(seed)
        rnd.shuffle(idx)
        folds = [idx[i::5] for i in range(5)]
        return [(sorted(set(idx) - set(f)), sorted(f)) for f in folds]
    out = []
    k = max(1, min(n - 1, round(fraction * n)))
    for r in range(repeats):
        rnd = random.Random(seed + r)
        order = idx[:]
        rnd.shuffle(order)
        out.append((sorted(order[:k]), sorted(order[k:])))
    return out


# --------------------------------------------------------------------------- report


def report(title: str, sc: Score, cb, *, per_code: bool) -> str:
    m = sc.micro
    lines = [
        f"## {title}",
        f"respondent turns {sc.turns} ({sc.turns_with_gold} with gold codes, "
        f"{sc.gold_turns_without_prediction} of them got no code); gold codes in use: {sc.gold_codes}",
        f"micro P/R/F1  {m.precision:.3f} / {m.recall:.3f} / {m.f1:.3f}   (TP {m.tp}, FP {m.fp}, FN {m.fn})",
        f"macro F1      {sc.macro_f1:.3f}   (mean over the {sc.gold_codes} codes in the gold)",
        f"recall@3      {sc.at3_hit / sc.at3_total if sc.at3_total else 0:.3f}   (gold codes among a turn's "
        "suggestions and candidates)",
        f"codes on interviewer or metadata lines (must be 0): {sc.stray}",
        "",
        f"{'theme':<16} {'gold':>5} {'found':>6} {'TP':>4} {'P':>6} {'R':>6} {'F1':>6}",
    ]
    for theme in cb.themes:
        c = sc.theme(theme.id)
        if c.tp + c.fp + c.fn:
            lines.append(
                f"{theme.id:<16} {c.tp + c.fn:>5} {c.tp + c.fp:>6} {c.tp:>4} "
                f"{c.precision:>6.2f} {c.recall:>6.2f} {c.f1:>6.2f}"
            )
    if per_code:
        lines += ["", f"{'code':<40} {'gold':>5} {'TP':>4} {'FP':>4} {'FN':>4} {'P':>6} {'R':>6} {'F1':>6}"]
        order = {p: i for i, p in enumerate(cb.code_paths)}
        for path in sorted(sc.codes, key=lambda p: (order.get(p, len(order)), p)):
            c = sc.codes[path]
            mark = "" if path in order else "  (not in the codebook)"
            lines.append(
                f"{path:<40} {c.tp + c.fn:>5} {c.tp:>4} {c.fp:>4} {c.fn:>4} "
                f"{c.precision:>6.2f} {c.recall:>6.2f} {c.f1:>6.2f}{mark}"
            )
    if sc.errors:
        lines += ["", "disagreements (turn: missed / extra):"]
        for tid, text, missed, extra in sc.errors:
            lines.append(f"  {tid}: -{missed} +{extra}  | {text[:140]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="verify the frozen files against SHA256SUMS and stop")
    ap.add_argument("--set", choices=sorted(CODEBOOKS), action="append", help="held-out set(s) (default: both)")
    ap.add_argument("--dev", action="store_true", help="the realistic dev set (tests/data/devset/realistic) instead")
    ap.add_argument("--codebook", default=None, help="codebook (default: the shipped one of the set)")
    ap.add_argument("--learn", default="", help="fractions of documents coded by humans, e.g. 0.25,0.5,0.75,0.8")
    ap.add_argument("--repeats", type=int, default=4, help="seeded splits per fraction (0.8 is 5-fold)")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--no-rules", action="store_true", help="skip the rules-only figures")
    ap.add_argument("--per-code", action="store_true")
    ap.add_argument("--errors", action="store_true", help="list the turns where rules and gold differ (--dev only)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))

    if args.check:
        problems = check_sums()
        print("\n".join(problems) if problems else "OK: every held-out file matches SHA256SUMS")
        return 1 if problems else 0
    if args.errors and not args.dev:
        raise Refused("--errors lists per-turn disagreements and is allowed on the dev set (--dev) only")
    if not args.dev:
        require_intact()

    import tempfile

    from qualkit.coding.codebook import load_codebook
    from qualkit.nlp import load_pipeline

    nlp = load_pipeline(None, "full")
    fractions = [float(f) for f in args.learn.split(",") if f.strip()]
    if args.dev:
        if not DEV_REALISTIC.is_dir():
            raise Refused(f"{DEV_REALISTIC} does not exist yet")
        groups = {}
        for sub in sorted(p for p in DEV_REALISTIC.iterdir() if p.is_dir()) or [DEV_REALISTIC]:
            name = "csec" if sub == DEV_REALISTIC else sub.name
            groups[f"dev-realistic/{name}"] = (sub, name if name in CODEBOOKS else "csec")
    else:
        groups = {f"held-out/{s}": (HELDOUT / s, s) for s in (args.set or sorted(CODEBOOKS))}
    for title, (folder, kind) in groups.items():
        cb = load_codebook(args.codebook or ROOT / "codebooks" / CODEBOOKS[kind])
        built = [build(d) for d in load_folder(folder)]
        if not built:
            continue
        print(f"# {title}: {len(built)} documents, codebook {cb.id} {cb.version}\n")
        if not args.no_rules:
            t = time.perf_counter()
            sc = score_rows(built, code_rules(built, cb, nlp), keep_errors=args.errors)
            print(report(f"rules only ({time.perf_counter() - t:.1f} s)", sc, cb, per_code=args.per_code))
            print()
        for fraction in fractions:
            total = Score()
            t = time.perf_counter()
            for tr, te in splits(len(built), fraction, args.seed, args.repeats):
                with tempfile.TemporaryDirectory() as tmp:
                    rows = code_learned([built[i] for i in tr], [built[i] for i in te], cb, nlp, Path(tmp))
                total.merge(score_rows([built[i] for i in te], rows, keep_errors=args.errors))
            print(
                report(
                    f"rules + learning, {fraction:.0%} of documents coded ({time.perf_counter() - t:.1f} s)",
                    total,
                    cb,
                    per_code=args.per_code,
                )
            )
            print()
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except Refused as exc:
        print(f"Error: {exc.code}", file=sys.stderr)
        raise SystemExit(2) from None
