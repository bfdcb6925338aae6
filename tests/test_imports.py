"""Every module imports alone (no import cycles), the core never imports the CLI
toolkit (typer/rich), and nothing loads spaCy at import time."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import qualkit

MODULES = sorted(m.name for m in pkgutil.walk_packages(qualkit.__path__, "qualkit."))

PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps({k: k in sys.modules for k in ("typer", "rich", "spacy")}))
"""


def _probe(name: str) -> tuple[str, int, str, str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, name], capture_output=True, text=True, timeout=120)
    return (
        name,
        proc.returncode,
        proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "",
        proc.stderr[-500:],
    )


def test_every_module_imports_alone_and_core_is_free_of_cli_and_models():
    assert "qualkit.cli" in MODULES and "qualkit.documents" in MODULES
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_probe, MODULES))
    failures = [(n, err) for n, rc, _, err in results if rc != 0]
    assert not failures, failures
    for name, _, out, _ in results:
        loaded = json.loads(out)
        assert not loaded["spacy"], f"{name} imports spaCy at import time"
        if not name.startswith("qualkit.cli"):
            assert not loaded["typer"] and not loaded["rich"], f"core module {name} imports typer/rich"
