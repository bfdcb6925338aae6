"""Where each kind of file may live: one overlap check, one message per overlap.

Three kinds of place: the *input* (original transcripts: read, never shared), the
*shareable* output folder, and *private* material (pseudonym key, review report,
detection cache, names list, private folder, exports of originals). Lists the
redaction reads (names, keep) count as private here: they must be neither shared
nor read as transcripts. The rules, checked by :func:`check_places`:

1. nothing input or private lies inside a shareable folder;
2. no shareable folder lies inside an input or private folder;
3. nothing else lies inside an input folder (every file there is read as a transcript).

``qualkit redact``, ``qualkit run`` and every command reading ``qualkit.yaml`` use it,
so the same overlap gets the same one-line message everywhere; only the place it
names (the path given, or the line of ``qualkit.yaml``) differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .errors import SafetyError
from .fsutil import is_inside

INPUT, SHAREABLE, PRIVATE = "input", "shareable", "private"


@dataclass(frozen=True)
class Place:
    """A path and what it is. *setting*: the qualkit.yaml key that set it (for file:line)."""

    path: Path
    what: str  # "input folder", "pseudonym key", ...
    kind: str  # INPUT | SHAREABLE | PRIVATE
    setting: str | None = None

    @property
    def is_folder(self) -> bool:
        return self.what.endswith("folder") or self.path.is_dir()


def check_places(places: Iterable[Place | None], *, where=None) -> None:
    """Raise :class:`SafetyError` for the first overlap (see module docs).

    *where(inner, outer)* returns the ``(file, line)`` to report, e.g. ``(qualkit.yaml, line
    of the setting)``; by default the path of the inner place itself is named.
    """
    items = [p for p in places if p is not None and p.path is not None]
    for a in items:
        for b in items:
            if a is b or a.kind == b.kind or not b.is_folder or not is_inside(a.path, b.path):
                continue
            if b.kind == SHAREABLE and a.kind != SHAREABLE:
                fix = f"keep the {a.what} outside {b.path}: everything in the output folder is meant to be shared"
            elif a.kind == SHAREABLE and b.kind != SHAREABLE:
                fix = f"put the output folder beside {b.path}, not in it"
            elif b.kind == INPUT:
                fix = f"keep the {a.what} outside {b.path}: every file there is read as a transcript"
            else:
                continue  # originals inside the private folder: allowed
            file, line = where(a, b) if where else (a.path, None)
            raise SafetyError(f"the {a.what} is inside the {b.what}", file=file, line=line, fix=fix)
