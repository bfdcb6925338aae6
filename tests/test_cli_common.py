"""The CLI skin: allowed values as choices, one-line errors, user text never read as markup."""

from __future__ import annotations

import pytest

from qualkit.choices import AgreeLevel, Style, TableFormat, Unit


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["redact", "in", "-o", "out", "--style", "fancy"],
            "unknown style 'fancy' — use --style tag, pseudonym or category",
        ),
        (["code", "in", "--unit", "page"], "unknown unit 'page' — use --unit sentence, turn or paragraph"),
        (["agree", "a.csv", "b.csv", "--level", "word"], "unknown level 'word' — use --level segment or --level case"),
        (
            ["tables", "--attribute", "x", "--format", "PDF"],
            "unknown format 'pdf' — use --format csv, xlsx, md or terminal",
        ),
    ],
)
def test_a_value_outside_a_choice_is_a_one_line_usage_error(cli, args, message):
    r = cli(*args)
    assert r.exit_code == 2
    assert r.stderr.strip() == f"Error: {message}"


@pytest.mark.parametrize(
    "command,choices",
    [("redact", Style), ("code", Unit), ("agree", AgreeLevel), ("tables", TableFormat)],
)
def test_help_lists_the_choices_of_the_enum(command, choices):
    from typer.testing import CliRunner

    from qualkit.cli import app

    r = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "250"})
    assert r.exit_code == 0
    assert "[" + "|".join(c.value for c in choices) + "]" in r.stdout


def test_progress_is_shown_as_lines_when_stderr_is_not_a_terminal(capsys):
    """A run logged to a file is never silent: stage_progress falls back to plain lines."""
    from qualkit.cli.common import err_console, stage_progress

    assert not err_console.is_terminal
    with stage_progress({"code": "Coding"}) as on_progress:
        on_progress("code", 0, 2)
        on_progress("code", 2, 2)
    assert "code: 2 of 2 document(s) done" in capsys.readouterr().err


def test_user_text_with_square_brackets_is_printed_as_written(tmp_path, cli):
    """Paths and names are never read as Rich markup: '[i]nt01' must not print as 'nt01'."""
    root = tmp_path / "[i]study"
    r = cli("init", root)
    assert r.exit_code == 0, r.stderr
    assert f"Created study in {root}:" in r.stdout
    assert f"  {root / 'qualkit.yaml'}" in r.stdout.splitlines()
    assert f"qualkit run {root}" in r.stdout  # the next steps
    r = cli("config", "--project", root)
    assert r.exit_code == 0, r.stderr
    assert "[i]study" in r.stdout  # the project name (quoted in qualkit.yaml, so it loads)
    (root / "[b]codebook.yaml").write_bytes((root / "codebook.yaml").read_bytes())
    r = cli("codebook", "validate", root / "[b]codebook.yaml")
    assert r.exit_code == 0 and f"OK {root / '[b]codebook.yaml'}:" in r.stdout
    r = cli("tables", "--cases", root / "[c]ases.csv", "--attribute", "sex")
    assert r.exit_code != 0 and "[c]ases.csv" in r.stderr
