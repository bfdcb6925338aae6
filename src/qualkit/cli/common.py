"""Shared CLI pieces: error reporting, the Rich console, progress bars, options."""

from __future__ import annotations

import time
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from typer.core import TyperGroup

from ..choices import spoken
from ..config import Settings, load_settings
from ..errors import QualkitError, UsageError
from ..progress import ProgressFn

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)

# Reusable option definitions (each option defined once).
ProjectOption = typer.Option(
    None, "--project", "-p", help="Study folder or qualkit.yaml to read defaults from (default: ./qualkit.yaml)."
)


def choice_option(choices: type[StrEnum], default: Any, *flags: str, help: str, case_sensitive: bool = True) -> Any:
    """A Typer option whose value is one of *choices* (a :mod:`qualkit.choices` enum).

    The help shows ``[a|b|c]``; another value is qualkit's one-line usage error
    (``unknown unit 'page' — use --unit sentence, turn or paragraph``), not a usage
    screen. The command gets the plain string value (or *default*).
    """
    words = [c.value for c in choices]
    flag = max(flags, key=len)
    fix = f"use {flag} {words[0]} or {flag} {words[1]}" if len(words) == 2 else f"use {flag} {spoken(choices)}"

    def check(value: Optional[str]) -> Optional[str]:
        if value is None:
            return None
        given = str(value) if case_sensitive else str(value).lower()
        if given not in words:
            raise UsageError(f"unknown {flag.lstrip('-')} '{given}'", fix=fix)
        return given

    return typer.Option(default, *flags, help=help, metavar="[" + "|".join(words) + "]", callback=check)


FollowLinksOption = typer.Option(
    False,
    "--follow-links",
    help="Read the files that links inside an input folder point to outside it (default: refuse such links).",
)
ModelOption = typer.Option(
    None, "--model", "-m", help="spaCy pipeline (default: project file, else the best installed English pipeline)."
)

WorkersOption = typer.Option(
    None,
    "--workers",
    "-j",
    min=1,
    help="Worker processes on this machine (each loads the model once); with --scheduler local, the cluster's size.",
)
SchedulerOption = typer.Option(
    None,
    "--scheduler",
    help="Run on a Dask cluster: its scheduler address (tcp://HOST:8786), or 'local' for one on this machine. "
    "Needs the 'cluster' extra. Default: 'scheduler:' in qualkit.yaml, else none.",
)


class QualkitGroup(TyperGroup):
    """Click group that reports QualkitError as one line and exits with its code.

    Doing it here (not only in ``main``) means Typer's CliRunner sees the same
    behaviour as the console script.
    """

    def invoke(self, ctx):  # noqa: D401
        try:
            return super().invoke(ctx)
        except QualkitError as exc:
            report_error(exc)
            ctx.exit(exc.exit_code)
        except OSError as exc:  # a full disk, a read-only folder...: one line, never a traceback
            reason = exc.strerror or type(exc).__name__
            report_error(
                QualkitError(
                    f"cannot read or write a file ({reason})",
                    file=exc.filename,
                    fix="check free disk space and the folder's permissions, then run again",
                )
            )
            ctx.exit(1)


def run_app(app: typer.Typer, argv: list[str] | None = None) -> int:
    """Run *app* as the console script does; returns the exit code."""
    try:
        app(args=argv, prog_name="qualkit")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def report_error(exc: QualkitError) -> None:
    # the message holds paths and values the user typed: never read them as Rich markup
    err_console.print(f"[bold red]Error:[/] {escape(exc.message)}", markup=True, highlight=False)


#: seconds between two progress lines when stderr is not a terminal (a log file, a pipe, CI)
PROGRESS_SECONDS = 5.0


class LineProgress:
    """Progress as plain lines on stderr, one every :data:`PROGRESS_SECONDS` at most and one when a
    stage ends: for runs whose output is not a terminal, where no bar is drawn. A fractional *done*
    (a long document partly done) is shown as a percentage of that document."""

    def __init__(self, console: Console | None = None, every: float | None = None, clock=time.monotonic):
        self.console = console or err_console
        self.every = PROGRESS_SECONDS if every is None else every
        self.clock = clock
        self.start = clock()
        self.last = self.start
        self.ended: set[str] = set()

    def __call__(self, stage: str, done: float, total: int) -> None:
        now = self.clock()
        finished = total > 0 and done >= total
        if finished and stage in self.ended or not finished and now - self.last < self.every:
            return
        self.last = now
        whole = int(done)
        if finished:
            self.ended.add(stage)
            where = f"{total} of {total} document(s) done"
        elif done > whole:
            where = f"document {whole + 1} of {total}, {100 * (done - whole):.0f}% done"
        else:
            where = f"{whole} of {total} document(s) done"
            self.ended.discard(stage)
        self.console.print(f"{stage}: {where} ({now - self.start:.0f} s)", markup=False, highlight=False)


def say_failed(files, verb: str) -> None:
    """One closing line naming the files that could not be *verb* (their errors were printed above)."""
    names = [str(f) for f in files]
    if names:
        err_console.print(
            f"{len(names)} file(s) could not be {verb}: {', '.join(names)}", markup=False, highlight=False
        )


def failed_files(errors) -> list[str]:
    """The files named by *errors*, once each, in order."""
    return list(dict.fromkeys(e.file for e in errors if getattr(e, "file", None)))


def warn(message: str) -> None:
    err_console.print(f"[yellow]Warning:[/] {escape(message)}")


def warn_followed_links(inputs: Iterable[Path], follow: bool, *, all_files: bool = False) -> None:
    """With --follow-links, say which links to outside the input folders are read."""
    if not follow:
        return
    from ..readers import outside_links

    links = outside_links(inputs, all_files=all_files)
    if links:
        shown = ", ".join(str(p) for p in links[:5]) + (f" and {len(links) - 5} more" if len(links) > 5 else "")
        warn(f"--follow-links: reading {len(links)} link(s) that point outside the input folder: {shown}")


def info(message: str) -> None:
    err_console.print(message, markup=False)


def say(message: str) -> None:
    """Print a plain line on stdout (paths and values are never read as Rich markup)."""
    out_console.print(message, markup=False, highlight=False)


def settings_for(project: Optional[Path]) -> Settings:
    return load_settings(project)


@contextmanager
def stage_progress(labels: dict[str, str] | None = None, *, width: int | None = None) -> Iterator[ProgressFn]:
    """The CLI's one progress display; yields an ``on_progress(stage, done, total)``
    (:data:`qualkit.progress.ProgressFn`) to hand to the library.

    On a terminal: one Rich bar per stage (named by *labels*, else the stage
    itself; *width* pads the names). Otherwise (a log file, a pipe, CI): plain
    :class:`LineProgress` lines on stderr every few seconds and when a stage ends,
    so a long run is never silent.
    """
    labels = labels or {}
    if not err_console.is_terminal:
        yield LineProgress()  # lines name the stage as the library does ("detect: ...")
        return
    name = "{task.description}" if width is None else "{task.description:<" + str(width) + "}"
    columns = [TextColumn(name), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err_console, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def on_bars(stage: str, done: float, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(escape(labels.get(stage, stage)), total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield on_bars


@contextmanager
def busy(description: str) -> Iterator[None]:
    """Work that cannot be counted (loading a model): a moving bar on a terminal, nothing in a log."""
    with stage_progress() as on_progress:
        if err_console.is_terminal:
            on_progress(description, 0, 0)
        yield
