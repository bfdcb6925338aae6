"""YAML loading that keeps line numbers, so errors can name file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, QualkitError


class LineDict(dict):
    """A dict that remembers the 1-based line of each key (``.lines``) and its own (``.line``)."""

    line: int = 0
    lines: dict


class LineList(list):
    line: int = 0
    lines: list


class _PyLoader(yaml.SafeLoader):
    """The pure-Python safe loader: the reference for messages and line numbers."""


#: libyaml's parser (PyYAML's wheels ship it): ~10x faster, same safe constructors and line marks.
#: It words syntax errors differently, so a text it refuses is re-read by :class:`_PyLoader`.
_Loader: type = type("_Loader", (yaml.CSafeLoader,), {}) if yaml.__with_libyaml__ else _PyLoader


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader, node):
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


for _cls in {_Loader, _PyLoader}:
    _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: str | Path, *, error: type[QualkitError] = ConfigError, what: str = "YAML file") -> Any:
    """Parse *path*; syntax errors become *error* with file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(f"{what} not found", file=path, fix="check the path") from None
    except UnicodeDecodeError:
        raise error(f"{what} is not UTF-8 text", file=path, fix="re-save it as UTF-8") from None
    return loads_yaml(text, path=path, error=error, what=what)


def loads_yaml(
    text: str, *, path: str | Path | None = None, error: type[QualkitError] = ConfigError, what: str = "YAML file"
) -> Any:
    if _Loader is not _PyLoader:
        try:
            return yaml.load(text, Loader=_Loader)  # noqa: S506 - a CSafeLoader subclass
        except yaml.YAMLError:
            pass  # re-read below for the pure-Python parser's message and line
    try:
        return yaml.load(text, Loader=_PyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = (exc.problem or exc.context or "syntax error").strip()
        raise error(
            f"{what} is not valid YAML ({problem})",
            file=path,
            line=line,
            fix="fix the indentation or quoting on that line",
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - defensive
        raise error(f"{what} is not valid YAML ({exc})", file=path, fix="check the file") from None


def line_of(mapping: Any, key: Any = None) -> int | None:
    """Line of *key* in a LineDict (or of the mapping itself)."""
    if key is not None and isinstance(mapping, LineDict):
        return mapping.lines.get(key, mapping.line)
    return getattr(mapping, "line", None)


def check_keys(
    mapping: Any,
    allowed: set[str] | frozenset[str],
    *,
    path,
    where: str,
    error: type[QualkitError] = ConfigError,
    required: tuple[str, ...] = (),
) -> None:
    """Unknown keys and missing required keys are errors naming file and line."""
    if not isinstance(mapping, dict):
        raise error(
            f"{where} must be a mapping (key: value lines)",
            file=path,
            line=line_of(mapping),
            fix="indent its keys under it",
        )
    for key in mapping:
        if key not in allowed:
            import difflib

            close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(sorted(allowed))}"
            raise error(f"unknown key '{key}' in {where}", file=path, line=line_of(mapping, key), fix=hint)
    for key in required:
        if key not in mapping or mapping[key] in (None, ""):
            raise error(f"{where} has no '{key}'", file=path, line=line_of(mapping), fix=f"add '{key}: ...' to it")
