"""The study project file (``qualkit.yaml``) and effective settings.

Every command reads the project file as defaults: command line > project file >
built-in defaults. ``Settings.pick`` resolves one value and records where it
came from, which ``qualkit config`` prints. Paths in the project file are
relative to the folder that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .yamlutil import check_keys, line_of, load_yaml

PROJECT_FILE = "qualkit.yaml"

#: section -> key -> (default, is_path, help)
SCHEMA: dict[str, dict[str, tuple[Any, bool, str]]] = {
    "": {
        "project": (None, False, "study name"),
        "transcripts": ("transcripts", True, "folder of original transcripts (input)"),
        "output": ("output", True, "shareable output folder (redacted transcripts, segments, tables, annex)"),
        "private": ("private", True, "private folder (pseudonym key, review report); never inside output"),
        "model": (None, False, "spaCy pipeline name (default: best installed English pipeline)"),
        "cases": ("cases.csv", True, "case attributes CSV"),
        "codebook": (None, True, "codebook YAML"),
    },
    "redact": {
        "style": ("pseudonym", False, "replacement style: tag | pseudonym | category"),
        "names": (None, True, "study-specific list of names/places to always redact"),
        "keep": (None, True, "list of words never to replace"),
        "keep_countries": (True, False, "leave country names in place"),
        "key": (None, True, "pseudonym key CSV (default: <private>/redaction-key.csv)"),
        "workers": (1, False, "worker processes"),
        "labels": (None, False, "labels to redact (default: all)"),
    },
    "code": {
        "unit": ("sentence", False, "coding unit: sentence | turn | paragraph"),
        "segments": (None, True, "coded segments CSV (default: <output>/segments.csv)"),
        "xlsx": (True, False, "also write an .xlsx twin for review"),
    },
    "tables": {
        "spec": (None, True, "table spec YAML"),
        "format": ("xlsx", False, "csv | xlsx | md"),
        "output": (None, True, "tables file (default: <output>/tables.<format>)"),
    },
    "annex": {
        "spec": (None, True, "annex spec YAML"),
        "template": (None, True, "Word template (.docx) for styles"),
        "output": (None, True, "annex file (default: <output>/annex.docx)"),
    },
}


@dataclass
class Setting:
    value: Any
    source: str  # "command line" | "qualkit.yaml:LINE" | "default"


@dataclass
class Settings:
    """Project-file values plus what the command line gave."""

    project_file: Path | None = None
    raw: dict = field(default_factory=dict)
    resolved: dict[str, Setting] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.project_file.parent if self.project_file else Path.cwd()

    def _from_file(self, dotted: str) -> tuple[Any, int | None] | None:
        section, _, key = dotted.rpartition(".")
        node = self.raw.get(section) if section else self.raw
        if not isinstance(node, dict) or key not in node or node[key] is None:
            return None
        return node[key], line_of(node, key)

    def pick(self, cli_value: Any, dotted: str, default: Any = None) -> Any:
        """command line > project file > *default* (or the schema's default)."""
        section, _, key = dotted.rpartition(".")
        spec = SCHEMA.get(section, {}).get(key)
        is_path = spec[1] if spec else False
        if cli_value is not None and cli_value != () and cli_value != []:
            self.resolved[dotted] = Setting(cli_value, "command line")
            return cli_value
        found = self._from_file(dotted)
        if found is not None:
            value, line = found
            if is_path and isinstance(value, str):
                value = (self.root / value).resolve() if not Path(value).is_absolute() else Path(value)
            self.resolved[dotted] = Setting(value, f"{self.project_file.name}:{line}")
            return value
        if default is None and spec is not None:
            default = spec[0]
            if is_path and isinstance(default, str) and self.project_file is not None:
                default = self.root / default
        self.resolved[dotted] = Setting(default, "default")
        return default

    def path(self, cli_value: Any, dotted: str, default: Any = None) -> Path | None:
        value = self.pick(cli_value, dotted, default)
        return Path(value) if value not in (None, "") else None

    def effective(self) -> dict[str, Setting]:
        """Every known setting with its value and source (for ``qualkit config``)."""
        out: dict[str, Setting] = {}
        for section, keys in SCHEMA.items():
            for key in keys:
                dotted = f"{section}.{key}" if section else key
                if dotted in self.resolved:
                    out[dotted] = self.resolved[dotted]
                else:
                    saved = dict(self.resolved)
                    self.pick(None, dotted)
                    out[dotted] = self.resolved[dotted]
                    self.resolved = saved
        if self.project_file is not None:
            # defaults that follow other settings (as 'qualkit run' computes them)
            private, output = Path(out["private"].value), Path(out["output"].value)
            derived = {
                "redact.key": private / "redaction-key.csv",
                "code.segments": output / "segments.csv",
                "tables.output": output / f"tables.{out['tables.format'].value}",
                "annex.output": output / "annex.docx",
            }
            for dotted, value in derived.items():
                if out[dotted].value is None:
                    out[dotted] = Setting(value, "default")
        return out


def find_project_file(start: str | Path | None = None) -> Path | None:
    """``qualkit.yaml`` in *start* (a folder or the file itself) or the current folder."""
    if start is not None:
        p = Path(start)
        if p.is_file():
            return p
        if p.is_dir() and (p / PROJECT_FILE).is_file():
            return p / PROJECT_FILE
        if not p.exists():
            raise ConfigError(
                "project not found", file=p, fix="give a study folder or its qualkit.yaml (qualkit init DIR makes one)"
            )
        return None
    here = Path.cwd() / PROJECT_FILE
    return here if here.is_file() else None


def load_settings(project: str | Path | None = None) -> Settings:
    """Read and validate the project file (if any)."""
    path = find_project_file(project)
    if path is None:
        return Settings()
    raw = load_yaml(path, error=ConfigError, what="project file")
    if raw is None:
        raw = {}
    allowed = set(SCHEMA[""]) | {s for s in SCHEMA if s}
    check_keys(raw, allowed, path=path, where="the project file")
    for section in SCHEMA:
        if section and section in raw and raw[section] is not None:
            check_keys(raw[section], set(SCHEMA[section]), path=path, where=f"'{section}:'")
    style = (raw.get("redact") or {}).get("style")
    if style is not None and style not in ("tag", "pseudonym", "category"):
        raise ConfigError(
            f"unknown redaction style '{style}'",
            file=path,
            line=line_of(raw["redact"], "style"),
            fix="use tag, pseudonym or category",
        )
    unit = (raw.get("code") or {}).get("unit")
    if unit is not None and unit not in ("sentence", "turn", "paragraph"):
        raise ConfigError(
            f"unknown coding unit '{unit}'",
            file=path,
            line=line_of(raw["code"], "unit"),
            fix="use sentence, turn or paragraph",
        )
    _check_values(raw, path)
    settings = Settings(project_file=path.resolve(), raw=raw)
    _check_places(settings)
    return settings


_BOOLS = {"redact.keep_countries", "code.xlsx"}
_CHOICES = {"tables.format": ("csv", "xlsx", "md")}


def _check_values(raw: dict, path: Path) -> None:
    """Each value has the type its setting needs: a quoted "no" must not read as true."""
    for section, keys in SCHEMA.items():
        node = raw.get(section) if section else raw
        if not isinstance(node, dict):
            continue
        for key, (_default, is_path, _help) in keys.items():
            value = node.get(key)
            if value is None:
                continue
            dotted = f"{section}.{key}" if section else key
            where = {"file": path, "line": line_of(node, key)}
            if is_path or dotted in ("project", "model"):
                if not isinstance(value, str) or not value.strip():
                    what = "a path" if is_path else "a name"
                    raise ConfigError(
                        f"'{key}:' must be {what}, not {value!r}",
                        **where,
                        fix=f"write one {'path (relative to qualkit.yaml)' if is_path else 'name'} after '{key}:'",
                    )
            elif dotted in _BOOLS:
                if not isinstance(value, bool):
                    raise ConfigError(
                        f"'{key}:' must be true or false, not {value!r}",
                        **where,
                        fix=f"write '{key}: true' or '{key}: false' (no quotes)",
                    )
            elif dotted == "redact.workers":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ConfigError(
                        f"'workers:' must be a whole number of at least 1, not {value!r}",
                        **where,
                        fix="write e.g. 'workers: 2'",
                    )
            elif dotted in _CHOICES:
                if value not in _CHOICES[dotted]:
                    options = _CHOICES[dotted]
                    raise ConfigError(
                        f"unknown {dotted.replace('.', ' ')} {value!r}",
                        **where,
                        fix=f"use {', '.join(options[:-1])} or {options[-1]}",
                    )
            elif dotted == "redact.labels":
                from .redact.spans import LABELS

                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ConfigError(
                        f"'labels:' must be a list of labels, not {value!r}",
                        **where,
                        fix=f"write e.g. 'labels: [PERSON, PLACE]' (labels: {', '.join(LABELS)})",
                    )
                unknown = [v for v in value if v not in LABELS]
                if unknown:
                    raise ConfigError(
                        f"unknown label '{unknown[0]}' in 'labels:'",
                        **where,
                        fix=f"use labels from {', '.join(LABELS)}",
                    )


def _check_places(s: Settings) -> None:
    """Originals and private material never inside the shareable output folder,
    whichever command reads this project file."""
    from .errors import SafetyError
    from .fsutil import is_inside

    def line(dotted: str) -> int | None:
        found = s._from_file(dotted)
        return found[1] if found else None

    output, private, transcripts = s.path(None, "output"), s.path(None, "private"), s.path(None, "transcripts")
    where = {"file": s.project_file}
    if is_inside(transcripts, output):
        raise SafetyError(
            "the original transcripts folder is inside the output folder",
            **where,
            line=line("transcripts") or line("output"),
            fix="keep transcripts/ (originals) beside output/ (shareable), not in it",
        )
    if is_inside(output, transcripts):
        raise ConfigError(
            "the output folder is inside the transcripts folder",
            **where,
            line=line("output") or line("transcripts"),
            fix="put output/ beside transcripts/, not in it",
        )
    if is_inside(private, output) or is_inside(output, private):
        raise SafetyError(
            "the private folder and the output folder overlap",
            **where,
            line=line("private") or line("output"),
            fix="keep private/ (key, review report) apart from output/ (shareable)",
        )
    for dotted, what, fix in (
        ("redact.key", "pseudonym key", "point 'key:' to the private folder, e.g. private/redaction-key.csv"),
        ("redact.names", "list of real names", "keep it in the private folder, e.g. private/names.txt"),
    ):
        p = s.path(None, dotted)
        if p is not None and is_inside(p, output):
            raise SafetyError(f"the {what} would be inside the output folder", **where, line=line(dotted), fix=fix)
    s.resolved.clear()
