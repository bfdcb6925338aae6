"""Recall of `qualkit redact` on the presidio-research synthetic set (../shared/bench-data/presidio-synth).

    python benchmarks/eval_presidio.py [--keep-countries] [--limit N] [--misses N]

Each of the 1,500 sentences becomes one .txt document of a temporary study;
`redact_corpus` runs in dry-run mode (default settings, no writes) and its
spans are scored: a gold span is caught when none of its distinctive tokens is
left. "other words" = words outside every gold span; the share of them replaced
is the over-redaction figure. The benchmark marks country names as identifiers,
so by default the run uses keep_countries=False (the setting exists for this);
--keep-countries shows the default-settings figure (countries left in place).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = (
    Path(os.environ.get("QUALKIT_BENCH_DATA", ROOT.parent / "shared" / "bench-data"))
    / "presidio-synth"
    / "synth_dataset_v2.json"
)

GROUPS = {
    "PERSON": ("PERSON",),
    "locations (GPE + STREET_ADDRESS)": ("GPE", "STREET_ADDRESS"),
    "phones + emails": ("PHONE_NUMBER", "EMAIL_ADDRESS"),
}
TARGETS = {"PERSON": 0.95, "locations (GPE + STREET_ADDRESS)": 0.80, "phones + emails": 0.95}
MAX_OTHER = 0.05


def evaluate(keep_countries: bool = False, limit: int | None = None, model: str | None = None):
    from qualkit.redact import RedactOptions, redact_corpus
    from qualkit.redact.score import GoldSpan, score_spans

    items = json.loads(DATA.read_text(encoding="utf-8"))[:limit]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        texts, gold = {}, []
        for i, item in enumerate(items):
            name = f"s{i:04d}.txt"
            text = item["full_text"]
            (src / name).write_text(text, encoding="utf-8", newline="")
            texts[name] = text
            for sp in item["spans"]:
                gold.append(GoldSpan(name, sp["start_position"], sp["end_position"], sp["entity_type"]))
        opts = RedactOptions(dry_run=True, collect_spans=True, keep_countries=keep_countries, model=model)
        t0 = time.perf_counter()
        res = redact_corpus([src], Path(tmp) / "out", Path(tmp) / "private" / "key.csv", opts)
        elapsed = time.perf_counter() - t0
        texts = {k: v for k, v in texts.items() if k in res.spans}
        predicted = {k: d.spans for k, d in res.spans.items()}
        score = score_spans(gold, predicted, texts)
    return score, elapsed, len(items), texts, predicted


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep-countries", action="store_true", help="default settings: leave country names in place")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--model", default=None)
    ap.add_argument(
        "--misses", type=int, default=0, help="print N missed spans per group (PRIVATE data: synthetic here)"
    )
    args = ap.parse_args(argv)
    if not DATA.is_file():
        print(f"bench data not found: {DATA}", file=sys.stderr)
        return 0
    score, elapsed, n, texts, predicted = evaluate(args.keep_countries, args.limit, args.model)
    print(f"presidio-synth: {n} sentences, {elapsed:.1f} s, keep_countries={args.keep_countries}")
    print(f"{'label':36} {'spans':>6} {'caught':>6} {'recall':>7}")
    for lab, sc in sorted(score.recall.items()):
        print(f"{lab:36} {sc.total:6d} {sc.hit:6d} {sc.rate:7.3f}")
    print()
    ok = True
    for group, labels in GROUPS.items():
        r = score.group_recall(labels)
        status = "ok" if r >= TARGETS[group] else "BELOW TARGET"
        ok &= r >= TARGETS[group]
        print(f"{group:36} recall {r:.3f}  (target >= {TARGETS[group]:.2f}) {status}")
    print(
        f"{'other words replaced':36} {score.other_rate:.3%} of {score.other_words} "
        f"(target <= {MAX_OTHER:.0%}) {'ok' if score.other_rate <= MAX_OTHER else 'ABOVE TARGET'}"
    )
    ok &= score.other_rate <= MAX_OTHER
    print(
        "precision per predicted label:",
        ", ".join(f"{k} {v.rate:.3f} ({v.total})" for k, v in sorted(score.precision.items())),
    )
    if args.misses:
        shown = {}
        for g in score.missed:
            grp = next((k for k, v in GROUPS.items() if g.label in v), None)
            if grp and shown.get(grp, 0) < args.misses:
                shown[grp] = shown.get(grp, 0) + 1
                t = texts[g.file]
                print(f"MISS {g.label:15} {t[g.start : g.end]!r:40} in {t[max(0, g.start - 40) : g.end + 30]!r}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
