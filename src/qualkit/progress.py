"""The one progress-callback type every long-running library function accepts.

``on_progress(stage, done, total)``: *stage* names what is being counted (a
redaction phase such as ``"detect"``, a ``qualkit run`` stage, ``"code"``,
``"export"``); *done* of *total* items are finished (*done* may be fractional
while one long item is under way). The library never draws anything: the CLI
turns these calls into bars or log lines (:func:`qualkit.cli.common.stage_progress`).
"""

from __future__ import annotations

from typing import Callable

#: on_progress(stage, done, total)
ProgressFn = Callable[[str, float, int], None]


def no_progress(stage: str, done: float, total: int) -> None:
    """A :data:`ProgressFn` that ignores every report."""
