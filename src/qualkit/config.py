"""The study project file (``qualkit.yaml``) and effective settings.

Every command reads the project file as defaults: command line > project file >
built-in defaults. :data:`SCHEMA` lists every setting once (default, kind, help);
:data:`LAYOUT` says where a study's files go when no setting names them
(``<private>/redaction-key.csv``, ``<output>/segments.csv``, ...): config,
:class:`qualkit.project.ProjectPaths`, the commands, the REFI exporter and the
annex spec all take those defaults from :meth:`Settings.location`.
:meth:`Settings.pick` resolves one value and says where it came from (``qualkit
config`` prints it); :func:`redact_options` turns settings into the redaction's
options. Paths in the project file are relative to the folder that holds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .choices import TABLE_FILE_FORMATS, Style, Unit, values
from .errors import ConfigError
from .yamlutil import YamlMap, line_of, load_yaml

if TYPE_CHECKING:
    from .redact import RedactOptions

PROJECT_FILE = "qualkit.yaml"


class Option(NamedTuple):
    """One setting of the project file: its default, how its value is checked, what it is."""

    default: Any
    kind: str  # path | name | flag | whole | choice | labels
    help: str
    choices: tuple[str, ...] = ()  # kind "choice": the allowed values
    what: str = ""  # kind "choice": the name of the value in messages ("redaction style")

    @property
    def is_path(self) -> bool:
        return self.kind == "path"


#: section -> key -> Option
SCHEMA: dict[str, dict[str, Option]] = {
    "": {
        "project": Option(None, "name", "study name"),
        "transcripts": Option("transcripts", "path", "folder of original transcripts (input)"),
        "output": Option("output", "path", "shareable output folder (redacted transcripts, segments, tables, annex)"),
        "private": Option("private", "path", "private folder (pseudonym key, review report); never inside output"),
        "model": Option(None, "name", "spaCy pipeline name (default: best installed English pipeline)"),
        "cases": Option("cases.csv", "path", "case attributes CSV"),
        "codebook": Option(None, "path", "codebook YAML"),
        "scheduler": Option(
            None, "name", "Dask scheduler for redact and code: tcp://HOST:8786, or local (default: none)"
        ),
    },
    "redact": {
        "style": Option(Style.PSEUDONYM.value, "choice", "replacement style", values(Style), "redaction style"),
        "names": Option(None, "path", "study-specific list of names/places to always redact"),
        "keep": Option(None, "path", "list of words never to replace"),
        "keep_countries": Option(True, "flag", "leave country names in place"),
        "key": Option(None, "path", "pseudonym key CSV"),
        "workers": Option(1, "whole", "worker processes"),
        "labels": Option(None, "labels", "labels to redact (default: all)"),
        "rename": Option(False, "flag", "give documents neutral ids (T001...) in the output; qualkit init sets true"),
    },
    "code": {
        # no default: the codebook's defaults decide (qualkit.coding.apply.code_documents), else sentence
        "unit": Option(None, "choice", "coding unit", values(Unit), "coding unit"),
        "segments": Option(None, "path", "coded segments CSV"),
        "xlsx": Option(True, "flag", "also write an .xlsx twin for review"),
    },
    "tables": {
        "spec": Option(None, "path", "table spec YAML"),
        "format": Option("xlsx", "choice", "tables file format", values(TABLE_FILE_FORMATS), "tables format"),
        "output": Option(None, "path", "tables file"),
    },
    "annex": {
        "spec": Option(None, "path", "annex spec YAML"),
        "template": Option(None, "path", "Word template (.docx) for styles"),
        "output": Option(None, "path", "annex file"),
    },
}

#: Where a study's files go unless a setting names them: name -> (folder setting, file name).
#: Names with a dot are settings (the default of that setting); ``{tables.format}`` in a
#: file name is that setting's value. Only with a project file (without one, the
#: commands ask for the path).
LAYOUT: dict[str, tuple[str, str]] = {
    "redact.key": ("private", "redaction-key.csv"),
    "code.segments": ("output", "segments.csv"),
    "tables.output": ("output", "tables.{tables.format}"),
    "annex.output": ("output", "annex.docx"),
    "redacted": ("output", "transcripts"),  # the redacted copies of the transcripts
    "review_report": ("private", "redaction-review.html"),
    "cache": ("private", "cache"),  # detection cache shared by 'redact' and 'run'
    "run_state": ("private", "run-state.json"),
}


def layout_name(name: str) -> str:
    """The file name part of a :data:`LAYOUT` entry (e.g. ``redaction-review.html``)."""
    return LAYOUT[name][1]


class Setting(NamedTuple):
    """A resolved setting: its value and where it came from."""

    value: Any
    source: str  # "command line" | "qualkit.yaml:LINE" | "default"


def _given(cli_value: Any) -> bool:
    return cli_value is not None and cli_value != () and cli_value != []


@dataclass
class Settings:
    """Project-file values; resolves each setting against what the command line gave."""

    project_file: Path | None = None
    raw: dict = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.project_file.parent if self.project_file else Path.cwd()

    def _from_file(self, dotted: str) -> tuple[Any, int | None] | None:
        section, _, key = dotted.rpartition(".")
        node = self.raw.get(section) if section else self.raw
        if not isinstance(node, dict) or key not in node or node[key] is None:
            return None
        return node[key], line_of(node, key)

    def line(self, dotted: str) -> int | None:
        """Line of *dotted* in the project file (None when the file does not set it)."""
        found = self._from_file(dotted)
        return found[1] if found else None

    def pick(self, cli_value: Any, dotted: str, default: Any = None) -> Setting:
        """command line > project file > *default* (or the schema's default), with its source.

        Pure: nothing is recorded. A choice from the command line (an enum member)
        comes back as its plain string value.
        """
        section, _, key = dotted.rpartition(".")
        spec = SCHEMA.get(section, {}).get(key)
        is_path = spec.is_path if spec else False
        if _given(cli_value):
            return Setting(cli_value.value if isinstance(cli_value, Enum) else cli_value, "command line")
        found = self._from_file(dotted)
        if found is not None:
            value, line = found
            if is_path and isinstance(value, str):
                value = (self.root / value).resolve() if not Path(value).is_absolute() else Path(value)
            assert self.project_file is not None
            return Setting(value, f"{self.project_file.name}:{line}")
        if default is None and spec is not None:
            default = spec.default
            if is_path and isinstance(default, str) and self.project_file is not None:
                default = self.root / default
        return Setting(default, "default")

    def value(self, cli_value: Any, dotted: str, default: Any = None) -> Any:
        """The value of :meth:`pick` alone."""
        return self.pick(cli_value, dotted, default).value

    def path(self, cli_value: Any, dotted: str, default: Any = None) -> Path | None:
        """:meth:`value` as a Path (None when unset)."""
        value = self.value(cli_value, dotted, default)
        return Path(value) if value not in (None, "") else None

    def default_path(self, name: str) -> Path | None:
        """Where :data:`LAYOUT` puts *name* in this project (None without a project file)."""
        if self.project_file is None:
            return None
        folder, file_name = LAYOUT[name]
        file_name = re.sub(r"\{([\w.]+)\}", lambda m: str(self.value(None, m.group(1))), file_name)
        base = self.path(None, folder)
        assert base is not None
        return base / file_name

    def location(self, cli_value: Any, dotted: str) -> Path | None:
        """command line > project file > the project's :data:`LAYOUT` default (None without a project)."""
        return self.path(cli_value, dotted) or self.default_path(dotted)

    def effective(self) -> dict[str, Setting]:
        """Every known setting with its value and source (for ``qualkit config``);
        path defaults that follow other settings are filled in as ``qualkit run`` uses them."""
        out: dict[str, Setting] = {}
        for section, keys in SCHEMA.items():
            for key in keys:
                dotted = f"{section}.{key}" if section else key
                setting = self.pick(None, dotted)
                if setting.value is None and dotted in LAYOUT and self.project_file is not None:
                    setting = Setting(self.default_path(dotted), "default")
                out[dotted] = setting
        return out


def redact_options(
    s: Settings,
    *,
    style: Any = None,
    model: str | None = None,
    names: Path | None = None,
    keep: Path | None = None,
    keep_countries: bool | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    rename: bool | None = None,
    skip_missing_lists: bool = False,
    **options: Any,
) -> RedactOptions:
    """The redaction's options from the command line (the arguments) over the settings.

    *skip_missing_lists*: a names or keep list the project file names but that does
    not exist is left out (``qualkit run``) instead of being an error (``qualkit redact``).
    Other *options* (``dry_run=True``, ...) are passed to :class:`RedactOptions` as given.
    """
    from .redact import RedactOptions

    names_file, keep_file = s.path(names, "redact.names"), s.path(keep, "redact.keep")
    if skip_missing_lists:
        names_file = names_file if names_file and names_file.is_file() else None
        keep_file = keep_file if keep_file and keep_file.is_file() else None
    return RedactOptions(
        style=s.value(style, "redact.style"),
        model=s.value(model, "model"),
        names_file=names_file,
        keep_file=keep_file,
        keep_countries=bool(s.value(keep_countries, "redact.keep_countries")),
        workers=int(s.value(workers, "redact.workers") or 1),
        scheduler=s.value(scheduler, "scheduler"),
        cache_dir=s.default_path("cache"),
        labels=s.value(None, "redact.labels"),
        rename=bool(s.value(rename, "redact.rename")),
        **options,
    )


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
    _check_values(raw, path)
    settings = Settings(project_file=path.resolve(), raw=raw)
    _check_places(settings)
    return settings


def _check_values(raw: Any, path: Path) -> None:
    """Known keys only; each value of the type its setting needs (a quoted "no" must not read as true)."""
    top = YamlMap(raw, path=path, where="the project file").check(set(SCHEMA[""]) | {s for s in SCHEMA if s})
    nodes = {"": top}
    for section in SCHEMA:
        if section:
            node = top.map(section, where=f"'{section}:'")
            if node is not None:
                nodes[section] = node.check(set(SCHEMA[section]))
    for section, node in nodes.items():
        for key, option in SCHEMA[section].items():
            _check_value(node, key, option)


def _check_value(node: YamlMap, key: str, option: Option) -> None:
    if option.kind == "path":
        node.name(key, "a path", fix=f"write one path (relative to {PROJECT_FILE}) after '{key}:'")
    elif option.kind == "name":
        node.name(key, "a name")
    elif option.kind == "flag":
        node.flag(key)
    elif option.kind == "whole":
        node.whole(key, minimum=1, example=2)
    elif option.kind == "choice":
        node.choice(key, option.choices, what=option.what)
    elif option.kind == "labels":
        from .redact.spans import LABELS

        labels = node.texts(key) if isinstance(node.get(key), list) else node.items(key, what="a list of labels")
        unknown = [v for v in labels or () if v not in LABELS]
        if unknown:
            raise node.fail(f"unknown label '{unknown[0]}' in '{key}:'", key, f"use labels from {', '.join(LABELS)}")


def _check_places(s: Settings) -> None:
    """Originals and private material never inside the shareable output folder (and the
    other overlaps of :mod:`qualkit.places`), whichever command reads this project file."""
    from .places import INPUT, PRIVATE, SHAREABLE, Place, check_places

    def line(dotted: str | None) -> int | None:
        found = s._from_file(dotted) if dotted else None
        return found[1] if found else None

    places = [
        Place(s.path(None, "transcripts"), "input folder", INPUT, "transcripts"),
        Place(s.path(None, "output"), "output folder", SHAREABLE, "output"),
        Place(s.path(None, "private"), "private folder", PRIVATE, "private"),
    ]
    for dotted, what in (("redact.key", "pseudonym key"), ("redact.names", "names list"), ("redact.keep", "keep list")):
        p = s.path(None, dotted)
        if p is not None:
            places.append(Place(p, what, PRIVATE, dotted))
    check_places(places, where=lambda a, b: (s.project_file, line(a.setting) or line(b.setting)))
