"""Precision, recall and F1 of `qualkit code` on the hand-coded dev set.

    python benchmarks/eval_devset.py [--codebook codebooks/csec-study.yaml]
                                     [--set dev|heldout|all] [--per-code] [--errors]

The dev set (tests/data/devset/*.yaml) is a list of respondent turns with gold
codes. Each file is turned into transcripts (an ``Interviewer:`` question when
the item has one, then the turn under its own respondent label ``P1:``,
``P2:``... since every item comes from another respondent, plus a ``Note:``
metadata line that must never be coded), coded with the codebook's rules exactly as
``qualkit code`` does (default unit: sentence), and the codes found in each
turn are compared with the gold codes of the turn.

Per theme: TP/FP/FN summed over the theme's codes (micro), precision, recall,
F1; macro F1 = mean of the theme F1s. ``not_codes`` of an item are codes the
turn must not get (negated statements); any such code found is a violation.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "tests" / "data" / "devset"
SETS = {"dev": ["csec-dev.yaml"], "heldout": ["csec-heldout.yaml"], "all": ["csec-dev.yaml", "csec-heldout.yaml"]}


def load_items(names: list[str]) -> list[dict]:
    import yaml

    items: list[dict] = []
    for name in names:
        items.extend(yaml.safe_load((DEVSET / name).read_text(encoding="utf-8")))
    return items


def build_documents(items: list[dict], per_doc: int = 40):
    """Transcripts holding the items; returns [(Document, [(item, start, end)])]."""
    from qualkit.documents import Block, Document, line_spans, split_turns

    out = []
    for k in range(0, len(items), per_doc):
        chunk = items[k : k + per_doc]
        parts: list[str] = [f"Note: dev set part {k // per_doc + 1}; the respondent hit the table twice.\n"]
        pos = len(parts[0])
        where = []
        for it in chunk:
            if it.get("ask"):
                q = f"Interviewer: {it['ask']}\n"
                parts.append(q)
                pos += len(q)
            head = f"P{len(where) + 1}: "  # each item is another respondent (whose story it is)
            line = head + it["text"] + "\n"
            where.append((it, pos + len(head), pos + len(head) + len(it["text"])))
            parts.append(line)
            pos += len(line)
        text = "".join(parts)
        lines = line_spans(text)
        doc = Document(
            id=f"devset-{k // per_doc + 1}",
            path=Path(f"devset-{k // per_doc + 1}.txt"),
            text=text,
            format="txt",
            turns=split_turns(text, lines),
            blocks=[Block(s, e, i) for i, (s, e) in enumerate(lines)],
        )
        out.append((doc, where))
    return out


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else (1.0 if not self.fn else 0.0)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Result:
    themes: dict[str, Counts] = field(default_factory=dict)
    codes: dict[str, Counts] = field(default_factory=dict)
    violations: list[tuple[str, str]] = field(default_factory=list)  # (item id, code)
    errors: list[tuple[str, str, list[str], list[str]]] = field(default_factory=list)  # id, text, missed, extra
    interviewer_or_metadata_coded: int = 0
    items: int = 0

    @property
    def macro_f1(self) -> float:
        vals = [c.f1 for c in self.themes.values() if c.tp + c.fn > 0]
        return sum(vals) / len(vals) if vals else 0.0

    @property
    def micro(self) -> Counts:
        total = Counts()
        for c in self.themes.values():
            total.tp += c.tp
            total.fp += c.fp
            total.fn += c.fn
        return total


def predict(items: list[dict], codebook, *, nlp=None, unit: str | None = None) -> tuple[dict[str, set[str]], int]:
    """Codes found per item id, and the number of rows outside respondent turns."""
    from qualkit.coding.apply import code_documents

    built = build_documents(items)
    rows = code_documents([d for d, _ in built], codebook, unit=unit, nlp=nlp)
    found: dict[str, set[str]] = {it["id"]: set() for it in items}
    stray = 0
    spans = {d.id: where for d, where in built}
    for r in rows:
        hit = next((it for it, s, e in spans[r.document] if s <= r.start and r.end <= e), None)
        if hit is None:
            stray += 1
        else:
            found[hit["id"]].add(r.code)
    return found, stray


def evaluate(items: list[dict], codebook, *, nlp=None, unit: str | None = None) -> Result:
    found, stray = predict(items, codebook, nlp=nlp, unit=unit)
    res = Result(interviewer_or_metadata_coded=stray, items=len(items))
    for theme in codebook.themes:
        res.themes[theme.id] = Counts()
    for path in codebook.code_paths:
        res.codes[path] = Counts()
    for it in items:
        gold = set(it["codes"])
        pred = found[it["id"]]
        for code in gold | pred:
            theme = code.split(".", 1)[0]
            tc, cc = res.themes.setdefault(theme, Counts()), res.codes.setdefault(code, Counts())
            if code in gold and code in pred:
                tc.tp += 1
                cc.tp += 1
            elif code in pred:
                tc.fp += 1
                cc.fp += 1
            else:
                tc.fn += 1
                cc.fn += 1
        for code in it.get("not_codes", []) or []:
            if code in pred:
                res.violations.append((it["id"], code))
        if gold != pred:
            res.errors.append((it["id"], it["text"], sorted(gold - pred), sorted(pred - gold)))
    return res


def report(name: str, res: Result, codebook, *, per_code: bool, errors: bool) -> str:
    lines = [
        f"## {name}: {res.items} respondent turns",
        "",
        f"{'theme':<14} {'gold':>5} {'found':>6} {'TP':>4} {'P':>6} {'R':>6} {'F1':>6}",
    ]
    for theme in codebook.themes:
        c = res.themes[theme.id]
        lines.append(
            f"{theme.id:<14} {c.tp + c.fn:>5} {c.tp + c.fp:>6} {c.tp:>4} "
            f"{c.precision:>6.2f} {c.recall:>6.2f} {c.f1:>6.2f}"
        )
    m = res.micro
    lines += [
        "",
        f"macro F1 (mean over themes): {res.macro_f1:.3f}",
        f"micro P/R/F1: {m.precision:.3f} / {m.recall:.3f} / {m.f1:.3f}",
        f"negated/contrasted statements coded (must be 0): {len(res.violations)}"
        + (f" {res.violations}" if res.violations else ""),
        f"codes on interviewer or metadata lines (must be 0): {res.interviewer_or_metadata_coded}",
    ]
    if per_code:
        lines += ["", f"{'code':<36} {'gold':>5} {'TP':>4} {'FP':>4} {'FN':>4} {'F1':>6}"]
        for path, c in res.codes.items():
            if c.tp + c.fp + c.fn:
                lines.append(f"{path:<36} {c.tp + c.fn:>5} {c.tp:>4} {c.fp:>4} {c.fn:>4} {c.f1:>6.2f}")
    if errors:
        lines += ["", "disagreements (id: missed / extra):"]
        for iid, text, missed, extra in res.errors:
            lines.append(f"  {iid}: -{missed} +{extra}  | {text[:110]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--codebook", default=str(ROOT / "codebooks" / "csec-study.yaml"))
    ap.add_argument(
        "--set",
        choices=["dev", "heldout", "all", "both"],
        default="both",
        help="which portion (both = dev and held-out reported separately)",
    )
    ap.add_argument("--unit", choices=["sentence", "turn", "paragraph"], default=None)
    ap.add_argument("--per-code", action="store_true")
    ap.add_argument("--errors", action="store_true", help="list the turns where rules and gold differ")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from qualkit.coding.codebook import load_codebook
    from qualkit.nlp import load_pipeline

    cb = load_codebook(args.codebook)
    nlp = load_pipeline(None, "full")
    names = ["dev", "heldout"] if args.set == "both" else [args.set]
    for name in names:
        res = evaluate(load_items(SETS[name]), cb, nlp=nlp, unit=args.unit)
        print(report(name, res, cb, per_code=args.per_code, errors=args.errors))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
