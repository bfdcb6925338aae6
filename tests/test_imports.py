"""Every module imports alone (no import cycles), the core never imports the CLI
toolkit (typer/rich), and nothing loads spaCy at import time.

One child interpreter checks every module: before each import it forgets every
``qualkit`` module (and, before a core module, typer, rich and click), so each
module is imported as if it were the first (an import cycle shows up whatever ran
before). spaCy is never
imported by anything, so its absence needs no reset. (It was one interpreter per
module: 70+ start-ups, a quarter of the suite's CPU time.)
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import qualkit

MODULES = sorted(m.name for m in pkgutil.walk_packages(qualkit.__path__, "qualkit."))

PROBE = """
import importlib, json, sys, traceback
out = {}
names = json.loads(sys.argv[1])
# the core first: typer/rich/click are then loaded only by a core module that should not (or the CLI)
for name in sorted(names, key=lambda n: (n.startswith("qualkit.cli"), n)):
    forget = ("qualkit",) if name.startswith("qualkit.cli") else ("qualkit", "typer", "rich", "click")
    for mod in [m for m in sys.modules if m.split(".")[0] in forget]:
        del sys.modules[mod]
    try:
        importlib.import_module(name)
        error = ""
    except BaseException:
        error = traceback.format_exc()[-800:]
    out[name] = {"error": error, **{k: k in sys.modules for k in ("typer", "rich", "spacy")}}
print(json.dumps(out))
"""


def test_every_module_imports_alone_and_core_is_free_of_cli_and_models():
    assert "qualkit.cli" in MODULES and "qualkit.documents" in MODULES
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(MODULES)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert sorted(results) == MODULES
    failures = {name: r["error"] for name, r in results.items() if r["error"]}
    assert not failures, failures
    for name, loaded in results.items():
        assert not loaded["spacy"], f"{name} imports spaCy at import time"
        if not name.startswith("qualkit.cli"):
            assert not loaded["typer"] and not loaded["rich"], f"core module {name} imports typer/rich"


def test_the_probe_sees_an_import_of_the_cli_toolkit():
    """The check can fail: a module that imports rich is reported (here: the CLI)."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(["qualkit.config", "qualkit.cli.common", "qualkit.errors"])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert results["qualkit.cli.common"]["rich"] and results["qualkit.cli.common"]["typer"]
    assert not results["qualkit.errors"]["rich"]  # forgotten again after the CLI module
