"""qualkit init / run / config: the study project commands."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from .common import (
    FollowLinksOption,
    ProjectOption,
    SchedulerOption,
    WorkersOption,
    failed_files,
    out_console,
    say,
    say_failed,
    settings_for,
    stage_progress,
    warn,
)


def init(
    directory: Path = typer.Argument(..., help="Folder for the new study (created if missing)."),
    codebook: str = typer.Option(
        "csec-study",
        "--codebook",
        "-c",
        help="Shipped codebook to start from (csec-study, fsw-evaluation) or a path to a codebook YAML.",
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Rewrite scaffold files that already exist (never cases.csv, keep.txt or private/names.txt).",
    ),
) -> None:
    """Scaffold a study: qualkit.yaml, folders, cases.csv header, codebook, table and annex specs.

    Example: qualkit init my-study --codebook fsw-evaluation
    """
    from ..project import init_project

    result = init_project(directory, codebook=codebook, force=force)
    out_console.print(f"Created study in [bold]{escape(str(result.root))}[/]:")
    for p in result.created:
        say(f"  {p}")
    out_console.print("\nNext steps:")
    for i, step in enumerate(result.next_steps, 1):
        say(f"  {i}. {step}")


def run(
    directory: Optional[Path] = typer.Argument(None, help="Study folder (with qualkit.yaml); default: current folder."),
    stage: Optional[list[str]] = typer.Option(
        None, "--stage", "-s", help="Run only these stages (redact, code, tables, annex); repeatable."
    ),
    force: bool = typer.Option(False, "--force", help="Ignore the run state and redo every stage."),
    follow_links: bool = FollowLinksOption,
    workers: Optional[int] = WorkersOption,
    scheduler: Optional[str] = SchedulerOption,
) -> None:
    """Run redact -> code -> tables -> annex on a study, incrementally.

    Unchanged transcripts are not re-coded; a run that was stopped half-way
    resumes. Private material (key, review report) goes to private/, shareable
    output to output/.

    Example: qualkit run examples/csec-study
    """
    from ..project import STAGES, run_project

    settings = settings_for(directory)
    if settings.project_file is None:
        from ..errors import UsageError

        raise UsageError(
            "no qualkit.yaml here",
            file=directory or Path.cwd(),
            fix="give a study folder, or create one with 'qualkit init DIR'",
        )
    with stage_progress(width=8) as on_progress:
        summary = run_project(
            directory,
            stages=tuple(stage) if stage else STAGES,
            force=force,
            on_progress=on_progress,
            settings=settings,
            follow_links=follow_links,
            workers=workers,
            scheduler=scheduler,
        )
    for result in summary.stages:
        mark = "[green]✓[/]" if result.ran else "[dim]–[/]"
        out_console.print(f"{mark} {result.stage:<7} {escape(result.message)}")
    for err in summary.errors:
        warn(getattr(err, "message", str(err)))
    say_failed(failed_files(summary.errors), "processed")
    for message in summary.warnings:
        warn(message)
    if summary.written:
        out_console.print("\nShareable files written:")
        for p in summary.written:
            say(f"  {p}")
    if summary.private:
        out_console.print("\nPrivate files (hold originals: never share, keep out of output/):")
        for p in summary.private:
            say(f"  {p}")
    if summary.errors:
        raise typer.Exit(1)


_UNSET = {"redact.labels": "all labels", "annex.template": "the shipped annex template"}


def config(project: Optional[Path] = ProjectOption) -> None:
    """Show the effective settings and where each one comes from.

    Example: qualkit config --project examples/csec-study
    """
    from ..errors import ModelNotFoundError
    from ..nlp import resolve_model_name

    settings = settings_for(project)
    base = settings.project_file.parent.resolve() if settings.project_file else Path.cwd().resolve()
    table = Table(title=escape(f"Settings ({settings.project_file or 'no qualkit.yaml: built-in defaults'})"))
    table.add_column("setting", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("from", no_wrap=True)
    for key, setting in settings.effective().items():
        value = setting.value
        if isinstance(value, Path):  # shown relative to the project folder when inside it
            value = value.resolve().relative_to(base) if value.resolve().is_relative_to(base) else value
        text = "" if value is None else str(value)
        if key == "model" and value is None:
            try:
                text = f"{resolve_model_name(None)} (the installed pipeline qualkit picks)"
            except ModelNotFoundError as exc:
                text = f"none installed ({exc.fix})"
        elif key == "code.unit" and setting.source == "default":
            text = "the codebook's default, else sentence"
        elif value is None and key in _UNSET:
            text = _UNSET[key]
        table.add_row(escape(key), escape(text), escape(setting.source))
    out_console.print(table)
    if settings.project_file:
        out_console.print(escape(f"Paths are relative to {base}."), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("run")(run)
    app.command("config")(config)
