"""The ``qualkit`` command line: a thin Typer/Rich skin over the library.

Each command lives in its own module with a ``register(app)`` function; this
module collects them and turns :class:`~qualkit.errors.QualkitError` into a
one-line message and an exit code (1 bad data, 2 bad usage), never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer

from .. import __version__
from .common import QualkitGroup

# Command modules, in --help order. Each defines register(app).
COMMAND_MODULES = [
    "project",
    "redact",
    "tables",
    "refi",
    "code",
    "annex",
]

app = typer.Typer(
    name="qualkit",
    cls=QualkitGroup,
    help=(
        "De-identify, code, count and report sensitive qualitative interview data.\n\n"
        "Typical study: qualkit init mystudy; add transcripts and cases.csv; qualkit run mystudy."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qualkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """qualkit command line."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}").register(app)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    from .common import run_app

    sys.exit(run_app(app, argv))
