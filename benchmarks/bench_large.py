"""Long documents: .docx against the same text as .txt, and peak memory against document size.

    python benchmarks/bench_large.py [--paragraphs 60000] [--sizes 4,16,48] [--ner-paragraphs 3000]

Measured in the same run, every figure as a ratio to a reference of that run:

* **docx / txt time**: ``redact_corpus`` end to end (read, detect, replace, write, read back)
  on one generated interview of --paragraphs paragraphs, once as .txt and once as .docx
  (one Word paragraph per line, bold speaker labels); best of --repeat, rules only (the
  format's own cost is largest there), then with the named-entity model on
  --ner-paragraphs paragraphs. Goal: at most 1.3.
* **peak memory / document size**: each size (MB of UTF-8 text, rules only) is redacted in a
  fresh process; its peak resident memory less that of the same process redacting a 2 KB
  file, divided by the document's size. Flat memory: the ratio does not grow with the size.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_redact import make_transcript  # noqa: E402


def make_text(paragraphs: int, seed: int = 7) -> str:
    """A generated interview of about *paragraphs* lines (names, places, phones, Vietnamese)."""
    rng = random.Random(seed)
    lines: list[str] = []
    while len(lines) < paragraphs:
        lines += make_transcript(rng, 1500).splitlines()
    return "\n".join(lines[:paragraphs]) + "\n"


def make_sized(mb: float, seed: int = 11) -> str:
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < mb * 1_000_000:
        t = make_transcript(rng, 5000)
        parts.append(t)
        size += len(t.encode("utf-8"))
    return "".join(parts)


def write_docx(text: str, path: Path) -> None:
    import docx

    d = docx.Document()
    for line in text.rstrip("\n").split("\n"):
        label, sep, rest = line.partition(": ")
        p = d.add_paragraph()
        if sep and len(label) < 30:
            p.add_run(label + ":").bold = True
            p.add_run(" " + rest)
        else:
            p.add_run(line)
    d.save(str(path))


def redact_time(path: Path, tmp: Path, use_ner: bool, repeat: int) -> float:
    from qualkit.redact import RedactOptions, redact_corpus

    best = float("inf")
    for r in range(repeat):
        out = tmp / f"out-{path.suffix[1:]}-{use_ner}-{r}"
        t = time.perf_counter()
        res = redact_corpus(
            [path], out, tmp / f"key-{path.suffix[1:]}-{use_ner}-{r}.csv", RedactOptions(use_ner=use_ner)
        )
        best = min(best, time.perf_counter() - t)
        assert res.ok, [e.message for e in res.errors]
    return best


_CHILD = """
import sys
from pathlib import Path
from qualkit.redact import RedactOptions, redact_corpus
src, out, key = map(Path, sys.argv[1:4])
res = redact_corpus([src], out, key, RedactOptions(use_ner=False))
assert res.ok, [e.message for e in res.errors]
# VmHWM (peak resident memory of this process image): ru_maxrss would carry the parent's over
print(next(int(x.split()[1]) * 1024 for x in open("/proc/self/status") if x.startswith("VmHWM")))
"""


def peak_rss(path: Path, tmp: Path) -> tuple[int, float]:
    t = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(tmp / f"mo-{path.stem}"), str(tmp / f"mk-{path.stem}.csv")],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(run.stdout.strip().splitlines()[-1]), time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paragraphs", type=int, default=60_000)
    ap.add_argument("--ner-paragraphs", type=int, default=3_000)
    ap.add_argument("--sizes", default="4,16,48", help="document sizes in MB for the memory scan")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        print("== .docx against the same text as .txt (redact_corpus, best of", args.repeat, ")")
        for paragraphs, use_ner in ((args.paragraphs, False), (args.ner_paragraphs, True)):
            if paragraphs <= 0:
                continue
            text = make_text(paragraphs)
            txt, dx = tmp / f"long{paragraphs}.txt", tmp / f"long{paragraphs}.docx"
            txt.write_text(text, encoding="utf-8")
            write_docx(text, dx)
            t_txt = redact_time(txt, tmp, use_ner, args.repeat)
            t_docx = redact_time(dx, tmp, use_ner, args.repeat)
            what = "rules + NER" if use_ner else "rules only"
            print(
                f"{paragraphs:>7} paragraphs, {len(text) / 1e6:5.1f} MB, {what:11}: txt {t_txt:6.2f} s, "
                f"docx {t_docx:6.2f} s, docx/txt = {t_docx / t_txt:.2f} (goal <= 1.3)"
            )
        print("== peak memory against document size (rules only, one fresh process each)")
        small = tmp / "small.txt"
        small.write_text(make_text(20), encoding="utf-8")
        base, _ = peak_rss(small, tmp)
        print(f"reference: {base / 2**20:.0f} MB peak for a {small.stat().st_size / 1e3:.0f} KB document")
        for mb in [float(x) for x in args.sizes.split(",") if x]:
            path = tmp / f"big{mb:g}.txt"
            path.write_text(make_sized(mb), encoding="utf-8")
            size = path.stat().st_size
            peak, secs = peak_rss(path, tmp)
            print(
                f"{size / 1e6:6.1f} MB document: peak {peak / 2**20:7.0f} MB, above reference {(peak - base) / 2**20:7.0f} MB "
                f"= {(peak - base) / size:5.1f} x the document, {secs:6.1f} s ({size / 1e6 / secs:.2f} MB/s)"
            )
            path.unlink()


if __name__ == "__main__":
    main()
