"""Are the example study's outputs byte-identical with this code and with another revision's?

A restructuring must not change what qualkit writes. This script runs ``qualkit run`` on a
fresh copy of ``examples/csec-study`` twice: once with the code of a git revision (default
``HEAD``) and once with the working tree's code. Both runs read the same inputs (the working
tree's example, codebooks and shipped codebooks), so only the code differs. Every file under
``output/`` and ``private/`` is hashed (``.docx``/``.xlsx`` part by part, the creation and
modification times in ``docProps/core.xml`` left out, as is the twin's file hash in
``.segments.written``; caches and the run state skipped).

    python tools/example_outputs.py               # working tree vs HEAD
    python tools/example_outputs.py --against main
    python tools/example_outputs.py --manifest out.txt   # only write this tree's manifest

Prints the files that differ and exits 1 if any does; 0 when every output is identical.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDY = Path("examples") / "csec-study"
#: inputs copied from the working tree for both runs
INPUTS = (Path("examples"), Path("codebooks"), Path("src/qualkit/data/codebooks"))
#: files written by an earlier run of the example that a fresh run must not see
STALE = (
    "output",
    "private/redaction-key.csv",
    "private/cache",
    "private/run-state.json",
    "private/redaction-review.html",
)
_CORE_TIMES = re.compile(rb"<dcterms:(created|modified)[^<]*</dcterms:\w+>")


def manifest(study: Path) -> dict[str, str]:
    """``{file or file:part: sha256 prefix}`` of a run's outputs."""
    out: dict[str, str] = {}
    for p in sorted(list((study / "output").rglob("*")) + list((study / "private").rglob("*"))):
        if not p.is_file() or "cache" in p.parts or p.name == "run-state.json":
            continue
        rel = p.relative_to(study).as_posix()
        data = p.read_bytes()
        if p.suffix in (".xlsx", ".docx"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for name in sorted(z.namelist()):
                    part = z.read(name)
                    if name == "docProps/core.xml":
                        part = _CORE_TIMES.sub(b"", part)
                    out[f"{rel}:{name}"] = hashlib.sha256(part).hexdigest()[:16]
        else:
            if p.name.endswith(".written"):  # holds the .xlsx twin's file hash, which has the zip's times
                data = re.sub(rb"(?m)^xlsx \S+$", b"", data)
            out[rel] = hashlib.sha256(data).hexdigest()[:16]
    return out


def _copy_inputs(dest: Path) -> Path:
    for rel in INPUTS:
        src = ROOT / rel
        if src.is_symlink():  # codebooks/ may point into src/qualkit/data
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.readlink(src), dest / rel)
        elif src.is_dir():
            shutil.copytree(src, dest / rel, symlinks=True, dirs_exist_ok=True)
    study = dest / STUDY
    for rel in STALE:
        target = study / rel
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    return study


def run_example(src: Path, work: Path) -> dict[str, str]:
    """Run the example with the qualkit package under *src* (a ``src`` folder); its manifest."""
    study = _copy_inputs(work)
    env = dict(os.environ, PYTHONPATH=str(src), PYTHONHASHSEED="0")
    proc = subprocess.run(
        [sys.executable, "-c", "from qualkit.cli import main; main()", "run", str(STUDY)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"qualkit run failed with the code in {src}:\n{proc.stderr[-2000:]}")
    return manifest(study)


def _export(revision: str, dest: Path) -> Path:
    """The ``src`` folder of *revision* (git archive), under *dest*."""
    data = subprocess.run(["git", "archive", revision, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest / "src"


def compare(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Lines describing every file (or part) that differs, is new or is gone."""
    lines = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a != b:
            lines.append(f"{key}: {a or '(absent)'} -> {b or '(absent)'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", default="HEAD", help="git revision to compare with (default HEAD)")
    parser.add_argument("--manifest", type=Path, help="only write the working tree's manifest to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        after = run_example(ROOT / "src", tmp_path / "after")
        if args.manifest:
            args.manifest.write_text("".join(f"{k} {v}\n" for k, v in after.items()), encoding="utf-8")
            return 0
        before = run_example(_export(args.against, tmp_path / "code"), tmp_path / "before")
    diff = compare(before, after)
    for line in diff:
        print(line)
    print(f"{len(after)} outputs compared with {args.against}: " + ("identical" if not diff else f"{len(diff)} differ"))
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
