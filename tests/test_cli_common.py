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
