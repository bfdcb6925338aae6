"""Speed of `qualkit redact` against bare spaCy (tok2vec + ner) over the same texts, in one process.

    python benchmarks/bench_redact.py [--docs 200] [--words 1500] [--workers 2] [--memory]

The corpus: the 1,500 presidio-synth sentences (when ../shared/bench-data is
present) plus generated interview transcripts (English with Vietnamese names,
places, facilities and phone numbers), written as .txt files. Measured in the
same run, best of --repeat:

* bare spaCy: ``nlp.pipe(texts)`` with the pipeline qualkit loads (tok2vec + ner);
* qualkit: ``redact_corpus`` with default settings end to end (reading, both
  passes, key, log, writing the redacted copies) on the same texts.

Prints words/s of each and the ratio qualkit / bare (goal <= 1.25). With
--memory, the peak traced memory (tracemalloc) of a redaction of N/4 and of N
generated documents (each in a fresh process) shows whether memory stays flat
as the corpus grows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
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

GIVEN = "Mai Lan Thao Hung Lien Huong Tuan Linh Trang Nga Hoa Phuong Dung Khanh Binh Minh Ngoc Bich Hanh Quyen".split()
SURNAMES = "Nguyen Tran Le Pham Hoang Vu Dang Bui Do Ho Ngo Duong".split()
PLACES = [
    "Ha Noi",
    "Hà Nội",
    "Lao Cai",
    "An Giang",
    "Khanh Hoa",
    "Nha Trang",
    "Chau Doc",
    "HCMC",
    "Saigon",
    "Dong Da district",
    "Bat Xat",
    "Sa Pa town",
    "Long Xuyen",
    "Cam Ranh",
    "Hai Phong",
]
FACILITIES = [
    "Binh Trieu Centre",
    "Ba Vi 05/06 Centre",
    "Peace House Shelter",
    "Hoa Hong guesthouse",
    "Sao Mai hotel",
    "Hai Dang karaoke",
    "Tinh Bien border gate",
]
FILLER = (
    "I did not want to go but my family was poor and we had a lot of debt. My mother was sick and my "
    "father drank. I stopped school after grade seven because there was no money for the fees. "
    "A friend told me that there was good work in the city, in a restaurant, and that I could send "
    "money home every month. When we arrived the owner took our papers and said we owed her for the "
    "bus and the room. We worked every night and the customers were rough. Sometimes the police came "
    "and the owner paid them. I was afraid to call my family. "
).split()


def make_transcript(rng: random.Random, words: int) -> str:
    lines = ["Interview type: life-story interview", "Date: 12/03/2011"]
    n = 0
    turn = 0
    while n < words:
        turn += 1
        if turn % 2:
            q = rng.choice(
                [
                    "Can you tell me more about that?",
                    "Where did you go then?",
                    "Who helped you?",
                    "How old were you?",
                    "What happened next?",
                ]
            )
            lines.append(f"Interviewer: {q}")
            n += len(q.split())
            continue
        k = rng.randint(25, 70)
        start = rng.randrange(len(FILLER) - k)
        body = FILLER[start : start + k]
        inserts = [
            f"{rng.choice(SURNAMES)} Thi {rng.choice(GIVEN)}",
            f"chị {rng.choice(GIVEN)}",
            rng.choice(GIVEN),
            f"in {rng.choice(PLACES)}",
            f"at the {rng.choice(FACILITIES)}",
            f"on 09{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
        ]
        for ins in rng.sample(inserts, 3):
            body.insert(rng.randrange(len(body)), ins)
        text = " ".join(body)
        lines.append(f"Respondent: {text[0].upper()}{text[1:]}.")
        n += len(text.split())
    return "\n".join(lines) + "\n"


def build_corpus(folder: Path, docs: int, words: int, presidio: bool = True) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    texts = []
    rng = random.Random(42)
    for i in range(docs):
        t = make_transcript(rng, words)
        (folder / f"int{i:04d}.txt").write_text(t, encoding="utf-8")
        texts.append(t)
    if presidio and DATA.is_file():
        items = json.loads(DATA.read_text(encoding="utf-8"))
        # 15 files of 100 sentences each (sentences are separate paragraphs)
        for k in range(0, len(items), 100):
            t = "\n\n".join(x["full_text"] for x in items[k : k + 100]) + "\n"
            (folder / f"presidio{k // 100:02d}.txt").write_text(t, encoding="utf-8")
            texts.append(t)
    return texts


def _words(texts: list[str]) -> int:
    return sum(len(t.split()) for t in texts)


def bench(docs: int, words: int, repeat: int, workers: int) -> dict:
    from qualkit.nlp import load_pipeline
    from qualkit.redact import RedactOptions, redact_corpus

    nlp = load_pipeline(None, "ner")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        texts = build_corpus(tmp / "in", docs, words)
        n_words = _words(texts)
        list(nlp.pipe(texts[:5]))  # warm up
        from qualkit.redact.engine import chunks

        pieces = [t[a:b] for t in texts for a, b in chunks(t)]
        bare, bare_chunked, ours, ours_w = [], [], [], []
        for r in range(repeat):
            t0 = time.perf_counter()
            for _ in nlp.pipe(texts, batch_size=64):
                pass
            bare.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for _ in nlp.pipe(pieces, batch_size=64):
                pass
            bare_chunked.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            res = redact_corpus([tmp / "in"], tmp / f"out{r}", tmp / f"private{r}" / "key.csv", RedactOptions())
            ours.append(time.perf_counter() - t0)
            assert not res.errors, res.errors[:3]
            if workers > 1:
                t0 = time.perf_counter()
                redact_corpus(
                    [tmp / "in"], tmp / f"outw{r}", tmp / f"privatew{r}" / "key.csv", RedactOptions(workers=workers)
                )
                ours_w.append(time.perf_counter() - t0)
        out = {
            "documents": len(texts),
            "words": n_words,
            "bare_s": min(bare),
            "bare_chunked_s": min(bare_chunked),
            "qualkit_s": min(ours),
            "bare_wps": n_words / min(bare),
            "bare_chunked_wps": n_words / min(bare_chunked),
            "qualkit_wps": n_words / min(ours),
            # against the faster of the two baselines (whole documents, or the same pieces qualkit feeds)
            "ratio": min(ours) / min(min(bare), min(bare_chunked)),
            "replacements": res.replacements,
        }
        if ours_w:
            out.update(
                {"workers": workers, "qualkit_workers_s": min(ours_w), "qualkit_workers_wps": n_words / min(ours_w)}
            )
        return out


def _peak_child(docs: int, words: int) -> int:
    """Peak traced memory (bytes) of one redaction, in a fresh process, model already loaded."""
    code = (
        (
            "import sys, tempfile, tracemalloc; from pathlib import Path;"
            "sys.path.insert(0, %r); import bench_redact as b;"
            "from qualkit.redact import RedactOptions, redact_corpus;"
            "from qualkit.nlp import load_pipeline; load_pipeline(None, 'ner');"
            "d = Path(tempfile.mkdtemp()); b.build_corpus(d / 'in', %d, %d, presidio=False);"
            "redact_corpus([d / 'in'], d / 'warm', d / 'pw' / 'k.csv', RedactOptions());"
            "tracemalloc.start();"
            "redact_corpus([d / 'in'], d / 'out', d / 'p' / 'k.csv', RedactOptions());"
            "print(tracemalloc.get_traced_memory()[1])"
        )
        .replace("%r", repr(str(Path(__file__).parent)), 1)
        .replace("%d", str(docs), 1)
        .replace("%d", str(words), 1)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=150, help="generated transcripts")
    ap.add_argument("--words", type=int, default=1500, help="words per generated transcript")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1, help="also time --workers N")
    ap.add_argument(
        "--memory", action="store_true", help="peak traced memory of a redaction of N/4 and N generated documents"
    )
    args = ap.parse_args(argv)
    r = bench(args.docs, args.words, args.repeat, args.workers)
    print(f"corpus: {r['documents']} documents, {r['words']:,} words")
    print(f"bare spaCy tok2vec+ner : {r['bare_s']:7.2f} s  {r['bare_wps']:9,.0f} words/s  (whole documents)")
    print(
        f"bare spaCy, same pieces: {r['bare_chunked_s']:7.2f} s  {r['bare_chunked_wps']:9,.0f} words/s  (the <=4,000-character pieces qualkit feeds)"
    )
    print(
        f"qualkit redact (1 proc): {r['qualkit_s']:7.2f} s  {r['qualkit_wps']:9,.0f} words/s  ({r['replacements']} replacements)"
    )
    print(
        f"ratio qualkit / faster bare: {r['ratio']:.3f}   (goal <= 1.25) {'ok' if r['ratio'] <= 1.25 else 'ABOVE GOAL'}"
    )
    if "workers" in r:
        print(
            f"qualkit --workers {r['workers']}    : {r['qualkit_workers_s']:7.2f} s  {r['qualkit_workers_wps']:9,.0f} words/s"
        )
    if args.memory:
        small = _peak_child(args.docs // 4 or 1, args.words)
        large = _peak_child(args.docs, args.words)
        print(
            f"peak traced memory of a redaction: {small / 2**20:.1f} MiB for {args.docs // 4 or 1} docs, "
            f"{large / 2**20:.1f} MiB for {args.docs} docs (flat = documents are streamed)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
