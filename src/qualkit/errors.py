"""One exception hierarchy for everything qualkit reports to a user.

The core raises these; the CLI prints ``Error: <what> in <file>:<line> — <fix>``
on one line and exits 1 (bad data) or 2 (bad usage). Messages must never carry
the sensitive text itself: name the file and the offset or line instead.
"""

from __future__ import annotations

from pathlib import Path


class QualkitError(Exception):
    """Base class of every error qualkit reports to a user."""

    exit_code = 1

    def __init__(
        self,
        what: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        fix: str | None = None,
    ) -> None:
        self.what = what
        self.file = str(file) if file is not None else None
        self.line = line
        self.fix = fix
        super().__init__(self.message)

    def __reduce__(self):  # errors travel back from worker processes: keep file, line and fix
        return _rebuild, (type(self), self.what, self.file, self.line, self.fix)

    @property
    def where(self) -> str | None:
        if self.file is None:
            return None
        return f"{self.file}:{self.line}" if self.line else self.file

    @property
    def message(self) -> str:
        text = self.what
        if self.where:
            text += f" in {self.where}"
        if self.fix:
            text += f" — {self.fix}"
        return text

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


def _rebuild(cls: type, what: str, file: str | None, line: int | None, fix: str | None) -> QualkitError:
    return cls(what, file=file, line=line, fix=fix)


class UsageError(QualkitError):
    """The command was called wrongly (bad option combination, bad path)."""

    exit_code = 2


class InputError(QualkitError):
    """An input file cannot be read or has bad content."""


class ConfigError(InputError):
    """The project file (qualkit.yaml) or a spec file is malformed."""


class CodebookError(InputError):
    """The codebook YAML is malformed (unknown key, duplicate id, bad rule...)."""


class ModelNotFoundError(QualkitError):
    """No usable spaCy pipeline is installed."""


class SafetyError(QualkitError):
    """An operation would leak identifiers or put private material in a shareable place."""


class LeakError(SafetyError):
    """Redacted output still contains an identifier from the key."""
