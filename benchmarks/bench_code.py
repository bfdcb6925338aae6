"""Speed of `qualkit code`: words per second on a large corpus, against the bare
spaCy pipeline on the same texts in the same run.

    python benchmarks/bench_code.py [--words 200000] [--codebook codebooks/csec-study.yaml]

The corpus is built from the dev set (tests/data/devset): its respondent turns,
shuffled and lightly varied (names, ages, places swapped), are laid out as
interview transcripts of ~5,000 words (header and Note: lines, Interviewer:
questions, R: answers) until --words is reached. Three timings, one process,
model loaded once before timing:

  bare spaCy    nlp.pipe over the transcript texts (the full pipeline, as coding needs it),
                timed before and after the coding run (the machine is shared) and averaged
  qualkit code  code_documents(): preparing texts, the single spaCy pass, units, rule matching
  breakdown     the same work timed in two parts: the spaCy pass, then rules + units

Figures are printed as words/second and as a ratio to bare spaCy.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

NAMES = ["Thao", "Mai", "Lien", "Hoa", "Lan", "Nga", "Huong", "Trang", "Linh", "Vy"]
PLACES = ["Ha Noi", "Nha Trang", "Chau Doc", "Lao Cai", "Saigon", "Mong Cai", "Can Tho", "Hai Phong"]
QUESTIONS = [
    "Can you tell me more about that?",
    "What happened then?",
    "How did you feel?",
    "And what about your family?",
    "Did anyone help you?",
    "How old were you at that time?",
]


def build_corpus(words: int, seed: int = 7, per_doc: int = 5000):
    import yaml

    from qualkit.documents import Block, Document, line_spans, split_turns

    items = []
    for name in ("csec-dev.yaml", "csec-heldout.yaml"):
        items += yaml.safe_load((ROOT / "tests" / "data" / "devset" / name).read_text(encoding="utf-8"))
    rnd = random.Random(seed)
    docs, total, k = [], 0, 0
    while total < words:
        k += 1
        lines = [
            f"Interview ID: B{k:03d}",
            f"Date: {rnd.randint(1, 28)}/{rnd.randint(1, 12)}/2011",
            f"Note: interview in {rnd.choice(PLACES)}, respondent tired at the end.",
        ]
        n = 0
        while n < per_doc and total + n < words:
            it = rnd.choice(items)
            text = it["text"]
            if rnd.random() < 0.5:
                text = text.replace("sixteen", str(rnd.randint(13, 17))).replace("Ha Noi", rnd.choice(PLACES))
                text = f"{rnd.choice(['Well, ', 'You know, ', 'Yes. ', ''])}{text} {rnd.choice(NAMES)} knows."
            q = it.get("ask") or rnd.choice(QUESTIONS)
            lines += [f"Interviewer: {q}", f"R: {text}"]
            n += len(q.split()) + len(text.split()) + 2
        text = "\n".join(lines) + "\n"
        ls = line_spans(text)
        docs.append(
            Document(
                id=f"b{k:03d}",
                path=Path(f"b{k:03d}.txt"),
                text=text,
                format="txt",
                turns=split_turns(text, ls),
                blocks=[Block(s, e, i) for i, (s, e) in enumerate(ls)],
            )
        )
        total += n
    return docs, sum(len(d.text.split()) for d in docs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=200_000)
    ap.add_argument("--codebook", default=str(ROOT / "codebooks" / "csec-study.yaml"))
    ap.add_argument("--model", default=None)
    args = ap.parse_args(argv)

    from qualkit.coding.apply import code_documents, code_parsed, parse_documents
    from qualkit.coding.codebook import load_codebook
    from qualkit.coding.rules import compile_codebook
    from qualkit.nlp import load_pipeline, model_info

    docs, n_words = build_corpus(args.words)
    nlp = load_pipeline(args.model, "full")
    cb = load_codebook(args.codebook)
    t = time.perf_counter()
    compiled = compile_codebook(cb, nlp)
    t_compile = time.perf_counter() - t
    list(nlp.pipe([d.text[:2000] for d in docs[:2]]))  # warm up

    def bare() -> float:
        t0 = time.perf_counter()
        for _ in nlp.pipe((d.text for d in docs), batch_size=8):
            pass
        return time.perf_counter() - t0

    t_bare1 = bare()
    t = time.perf_counter()
    rows = code_documents(docs, cb, nlp=nlp)
    t_code = time.perf_counter() - t
    t_bare2 = bare()
    t_bare = (t_bare1 + t_bare2) / 2  # before and after: the machine is shared, load varies

    # where the coding time goes: the spaCy pass on the prepared texts vs the rule engine
    t = time.perf_counter()
    parsed = list(parse_documents(docs, nlp))
    t_parse = time.perf_counter() - t
    t = time.perf_counter()
    n_rows = 0
    for document, doc in parsed:
        n_rows += len(code_parsed(document, doc, compiled, unit="sentence")[0])
    t_rules = time.perf_counter() - t

    info = model_info(nlp)
    print(
        f"corpus: {len(docs)} transcripts, {n_words:,} words; model {info['name']} {info['version']}; "
        f"codebook {cb.id} ({len(list(cb.iter_codes()))} codes, {len(compiled.terms.specs):,} words/phrases), "
        f"compiled in {t_compile:.2f} s"
    )
    print(
        f"bare spaCy, full pipeline:  {t_bare:7.1f} s  {n_words / t_bare:9,.0f} words/s  "
        f"(runs: {t_bare1:.1f} s, {t_bare2:.1f} s)"
    )
    print(
        f"qualkit code, end to end:   {t_code:7.1f} s  {n_words / t_code:9,.0f} words/s  "
        f"({t_bare / t_code:.2f} x the speed of bare spaCy)"
    )
    print(f"  of which the spaCy pass:  {t_parse:7.1f} s  (labels and metadata blanked, turns start sentences)")
    print(
        f"  of which rules + units:   {t_rules:7.1f} s  {n_words / t_rules:9,.0f} words/s  "
        f"({100 * t_rules / (t_parse + t_rules):.0f} % of coding time)"
    )
    print(f"coded segments: {len(rows):,} ({n_rows:,} in the breakdown run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
