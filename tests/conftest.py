"""Shared fixtures: one spaCy pipeline per test session, a CLI runner, paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
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
