"""Redaction at scale: one process vs --workers N vs --scheduler local with N workers, same corpus, same run.

    python benchmarks/bench_scale.py [--docs 220] [--words 4600] [--workers 2] [--quick]

Generates interview transcripts (benchmarks/bench_redact.py's generator: English with Vietnamese
names, places, facilities and phone numbers), by default 220 x 4,600 = about 1,000,000 words, and
redacts them (``redact_corpus``, default settings, NER on, no detection cache) three times, each
in a fresh process:

* ``1 process``: the default;
* ``--workers N``: N local worker processes (``concurrent.futures``);
* ``--scheduler local``: a Dask LocalCluster of N worker processes started by the run.

Prints each wall time as a ratio to the one-process time measured in the same run (start-up of
pools and clusters included), whether the outputs (redacted files, log, key, review report) are
byte-identical to the one-process run, and the peak resident memory of the client and of each
worker process (sampled every 0.2 s with psutil). From the one-process run's own split (detection =
the parallel part, per document; the rest = the serial part: listing, study index, key, writing)
it projects the time for N workers: serial + start-up + detection / N. Last, the client's peak
memory with --scheduler local on a quarter of the corpus and on all of it (flat = the client does
not hold the corpus). --quick: 24 documents of 1,500 words, to try the script.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _child(args: argparse.Namespace) -> int:
    """One measured redaction in this (fresh) process; prints a JSON line."""
    import threading

    import psutil

    from qualkit.redact import RedactOptions, engine

    me = psutil.Process()
    peaks: dict[int, int] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for p in [me, *me.children(recursive=True)]:
                try:
                    peaks[p.pid] = max(peaks.get(p.pid, 0), p.memory_info().rss)
                except psutil.Error:
                    pass
            stop.wait(0.2)

    split: dict[str, float] = {}
    real_detect = engine._detect_all

    def timed_detect(*a, **k):
        t0 = time.perf_counter()
        try:
            return real_detect(*a, **k)
        finally:
            split["detect_s"] = time.perf_counter() - t0

    engine._detect_all = timed_detect
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    base = Path(args.out)
    opts = RedactOptions(workers=args.workers, scheduler=args.scheduler)
    t0 = time.perf_counter()
    result = engine.redact_corpus(
        [Path(args.corpus)], base / "out", base / "private" / "key.csv", opts, report_path=base / "private" / "r.html"
    )
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    workers = sorted((rss for pid, rss in peaks.items() if pid != me.pid), reverse=True)
    # the worker processes are the big children (a Dask nanny's own process is small, and spaCy is not in it)
    print(
        json.dumps(
            {
                "wall_s": wall,
                "detect_s": split.get("detect_s", 0.0),
                "documents": len(result.documents),
                "errors": len(result.errors),
                "replacements": result.replacements,
                "client_rss": peaks.get(me.pid, 0),
                "worker_rss": workers,
            }
        )
    )
    return 0


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _run(corpus: Path, out: Path, workers: int, scheduler: str | None) -> dict:
    cmd = [sys.executable, __file__, "--child", "--corpus", str(corpus), "--out", str(out), "--workers", str(workers)]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"the run {cmd[3:]} failed")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    r["digest"] = _digest(out / "out") + _digest(out / "private")
    return r


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=220)
    ap.add_argument("--words", type=int, default=4600, help="words per transcript")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="24 documents of 1,500 words")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--scheduler", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child(args)
    if args.quick:
        args.docs, args.words = 24, 1500
    sys.path.insert(0, str(HERE))
    import bench_redact

    n = args.workers
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        texts = bench_redact.build_corpus(tmp / "corpus", args.docs, args.words, presidio=False)
        words = sum(len(t.split()) for t in texts)
        quarter = tmp / "quarter"
        quarter.mkdir()
        for p in sorted((tmp / "corpus").iterdir())[: max(1, args.docs // 4)]:
            (quarter / p.name).write_bytes(p.read_bytes())
        del texts
        print(f"corpus: {args.docs} transcripts, {words:,} words; {n} workers on {_cpus()} cores", flush=True)
        runs = {}
        for label, w, sched in (
            ("1 process", 1, None),
            (f"--workers {n}", n, None),
            (f"--scheduler local ({n})", n, "local"),
        ):
            runs[label] = r = _run(tmp / "corpus", tmp / label.replace(" ", "_"), w, sched)
            print(f"  {label:<24} {r['wall_s']:8.1f} s", flush=True)
        ref = runs["1 process"]
        print("\nratio to one process (same run; start-up included), identical outputs, peak memory (RSS):")
        for label, r in runs.items():
            same = "identical" if r["digest"] == ref["digest"] else "DIFFERENT"
            workers = ", ".join(_mib(x) for x in r["worker_rss"][:n]) or "-"
            print(
                f"  {label:<24} speed-up {ref['wall_s'] / r['wall_s']:5.2f}x   {same:<9}  "
                f"client {_mib(r['client_rss'])}   workers {workers}"
            )
        best = max(ref["wall_s"] / r["wall_s"] for label, r in runs.items() if label != "1 process")
        print(f"  goal >= 1.7x with {n} workers: {'met' if best >= 1.7 else 'NOT met'} (best {best:.2f}x)")

        detect = ref["detect_s"]
        serial = ref["wall_s"] - detect
        per_doc = detect / max(1, ref["documents"])
        dask = runs[f"--scheduler local ({n})"]
        startup = max(0.0, dask["wall_s"] - serial - detect / n)
        print(
            f"\nprojection (from the one-process run: detection {detect:.1f} s = {per_doc:.2f} s per document, "
            f"serial part {serial:.1f} s; cluster overhead {startup:.1f} s as measured with {n} workers):"
        )
        for k in (1, 2, 4, 8, 16, 32, 64):
            t = serial + detect / k + (startup if k > 1 else 0.0)
            print(f"  {k:>3} workers: {t:8.1f} s   speed-up {ref['wall_s'] / t:5.2f}x")
        print(f"  limit (serial part + overhead): {ref['wall_s'] / (serial + startup):.1f}x")

        small = _run(quarter, tmp / "quarter_run", n, "local")
        print(
            f"\nclient peak memory with --scheduler local: {_mib(small['client_rss'])} for {args.docs // 4} transcripts, "
            f"{_mib(dask['client_rss'])} for {args.docs} (flat = the corpus is not held by the client)"
        )
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
