"""The README documents every command and the two set-up commands; CI runs exactly the test command."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from qualkit.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _command_paths() -> list[str]:
    group = typer.main.get_command(app)
    out = []
    for name, cmd in group.commands.items():
        sub = getattr(cmd, "commands", None)
        if sub:
            out += [f"{name} {s}" for s in sub]
        else:
            out.append(name)
    return out


def test_every_command_is_in_the_readme():
    commands = _command_paths()
    assert {"run", "redact", "code", "tables", "annex", "export refi", "import refi"} <= set(commands)
    missing = [c for c in commands if f"qualkit {c}" not in README]
    assert not missing, f"commands not documented in README.md: {missing}"


def test_every_command_has_help_with_an_example():
    group = typer.main.get_command(app)
    for path in _command_paths():
        cmd = group
        for part in path.split():
            cmd = cmd.commands[part]
        assert cmd.help and "qualkit " in cmd.help, f"'qualkit {path} --help' shows no example"


def test_setup_commands_and_ci():
    assert "pip install . && qualkit run examples/csec-study" in README
    assert 'pip install ".[test]" && pytest' in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r'^pip install "\.\[test\]" && pytest$', ci, re.M)


def test_docs_links_exist():
    for link in re.findall(r"\]\((docs/[^)]+)\)", README):
        assert (ROOT / link).is_file(), link
