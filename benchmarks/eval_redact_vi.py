"""Recall and over-redaction of `qualkit redact` on Vietnamese-context transcripts.

    python benchmarks/eval_redact_vi.py [--set dev|heldout|all] [--no-ner] [--misses]

* dev: ``tests/data/redact`` (``vn-gold.jsonl``), the set the rules may be tuned on;
* heldout: ``benchmarks/heldout/vi-redact`` (blind, frozen: ``gold.jsonl`` identifier
  spans and ``keep.jsonl`` ordinary words that look like names). Never tune on it:
  only aggregate figures are printed for it (``--misses`` lists dev misses only).

Each set is redacted as one study (dry run: nothing is written). Figures: recall per
label (a gold span is caught when none of its distinctive words is left), "other words
replaced" (words outside every gold span that were replaced: over-redaction) and, for
the held-out set, "keep words replaced" (look-alike ordinary words that should survive).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "dev": (ROOT / "tests" / "data" / "redact", "vn-gold.jsonl", None),
    "heldout": (ROOT / "benchmarks" / "heldout" / "vi-redact", "gold.jsonl", "keep.jsonl"),
}


def evaluate(folder: Path, gold_name: str, keep_name: str | None, use_ner: bool = True):
    """(ScoreResult, keep words total, keep words replaced) for one set."""
    from qualkit.readers import read_document
    from qualkit.redact import RedactOptions, redact_corpus
    from qualkit.redact.score import load_gold, score_spans

    gold = load_gold(folder / gold_name)
    keep = load_gold(folder / keep_name) if keep_name else []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for p in folder.iterdir():
            if p.is_file() and p.suffix != ".jsonl" and p.name != "README.md":
                shutil.copy(p, src / p.name)
        opts = RedactOptions(dry_run=True, collect_spans=True, use_ner=use_ner)
        res = redact_corpus([src], Path(tmp) / "out", Path(tmp) / "private" / "key.csv", opts)
        texts = {p.name: read_document(p, rel=Path(p.name)).text for p in src.iterdir()}
    predicted = {k: d.spans for k, d in res.spans.items()}
    score = score_spans(gold, predicted, texts)
    replaced = sum(1 for k in keep if any(s < k.end and k.start < e for s, e, *_ in predicted.get(k.file, ())))
    return score, len(keep), replaced


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=("dev", "heldout", "all"), default="all")
    ap.add_argument("--no-ner", action="store_true", help="rules, lists and the key only")
    ap.add_argument("--misses", action="store_true", help="list missed dev spans (file and offset)")
    args = ap.parse_args(argv)
    names = ["dev", "heldout"] if args.set == "all" else [args.set]
    for name in names:
        folder, gold_name, keep_name = SETS[name]
        if not (folder / gold_name).is_file():
            print(f"{name}: {folder / gold_name} not found", file=sys.stderr)
            continue
        score, keep_total, keep_replaced = evaluate(folder, gold_name, keep_name, use_ner=not args.no_ner)
        recall = ", ".join(f"{lab} {s.hit}/{s.total}" for lab, s in sorted(score.recall.items()))
        hit = sum(s.hit for s in score.recall.values())
        total = sum(s.total for s in score.recall.values())
        print(f"{name:8} recall {hit}/{total} = {hit / total:.3f}  ({recall})")
        print(f"{'':8} other words replaced {score.other_replaced}/{score.other_words} = {score.other_rate:.2%}")
        if keep_total:
            print(f"{'':8} keep words replaced {keep_replaced}/{keep_total} = {keep_replaced / keep_total:.2%}")
        if args.misses and name == "dev":
            for g in score.missed:
                print(f"{'':8} MISS {g.label} {g.file}:{g.start}-{g.end}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
