"""Shared fixtures: one spaCy pipeline per test session, a CLI runner, one example
study run per session, paths."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EXAMPLE = ROOT / "examples" / "csec-study"
BENCH_DATA = Path(os.environ.get("QUALKIT_BENCH_DATA", SHARED / "bench-data"))


@pytest.fixture(scope="session")
def nlp_ner():
    from qualkit.nlp import load_pipeline

    return load_pipeline(None, "ner")


@pytest.fixture(scope="session")
def nlp_full():
    from qualkit.nlp import load_pipeline

    return load_pipeline(None, "full")


@pytest.fixture
def cli():
    """Run the qualkit CLI in-process: cli("redact", "in", "-o", "out") -> Result."""
    from typer.testing import CliRunner

    from qualkit.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


#: the REFI-QDA 1.5 schemas (Project.xsd, Codebook.xsd; MIT licence, www.qdasoftware.org), vendored
REFI_XSD = ROOT / "tests" / "data" / "refi-qda"


@pytest.fixture(scope="session")
def refi_xsd() -> Path:
    """Folder holding the REFI-QDA XSDs the exports are validated against (always present)."""
    return REFI_XSD


@pytest.fixture
def bench_data() -> Path:
    if not BENCH_DATA.is_dir():
        pytest.skip("../shared/bench-data is not present")
    return BENCH_DATA


def make_small_study(folder: Path, docs=("int04.txt", "int07.txt", "int03.docx", "fgd01.vtt")) -> Path:
    """A copy of the example study with a few of its transcripts (``folder/study``)."""
    study = folder / "study"
    (study / "transcripts").mkdir(parents=True)
    for name in docs:
        shutil.copy(EXAMPLE / "transcripts" / name, study / "transcripts" / name)
    ids = {Path(d).stem for d in docs}
    with open(EXAMPLE / "cases.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["case"] in ids]
    with open(study / "cases.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    (study / "private").mkdir()
    shutil.copy(EXAMPLE / "private" / "names.txt", study / "private" / "names.txt")
    for f in ("keep.txt", "tables.yaml", "annex.yaml"):
        shutil.copy(EXAMPLE / f, study / f)
    pf = (EXAMPLE / "qualkit.yaml").read_text(encoding="utf-8")
    pf = pf.replace("../../codebooks/csec-study.yaml", str(ROOT / "codebooks" / "csec-study.yaml"))
    (study / "qualkit.yaml").write_text(pf, encoding="utf-8")
    return study


@pytest.fixture(scope="session")
def example_run(tmp_path_factory):
    """One ``qualkit run`` of a small copy of the example study (.txt, .docx and .vtt
    transcripts), shared by the tests that only read its results: never change it
    (copy what you need to change). ``.study``, ``.result`` (the CLI result) and
    ``.originals`` (the transcripts' bytes before the run)."""
    from typer.testing import CliRunner

    from qualkit.cli import app

    study = make_small_study(tmp_path_factory.mktemp("example-run"))
    originals = {p.name: p.read_bytes() for p in (study / "transcripts").iterdir()}
    result = CliRunner().invoke(app, ["run", str(study)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr + result.stdout
    return SimpleNamespace(study=study, result=result, originals=originals)
