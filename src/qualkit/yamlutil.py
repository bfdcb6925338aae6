"""YAML loading that keeps line numbers, so errors can name file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

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


# --------------------------------------------------------------------------- typed getters


def _shown(value: Any) -> str:
    """A wrong value as a message may show it: short scalars as written, containers by kind."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class YamlMap:
    """A mapping read from a YAML file, with typed getters.

    Every getter returns the value in the type asked for (or the default when
    the key is absent or empty) and raises *error* naming the file, the line of
    the key and the fix when the value has another type. One layer for every
    YAML qualkit reads (project file, codebook, table and annex specs), so the
    same mistake gets the same message everywhere::

        node = YamlMap(raw, path=path, where="'redact:'").check(ALLOWED)
        workers = node.whole("workers", 1, minimum=1)

    *of* names the owner in value messages (``" of table 't1'"``).
    """

    def __init__(
        self,
        raw: Any,
        *,
        path: str | Path | None,
        where: str,
        error: type[QualkitError] = ConfigError,
        of: str = "",
    ) -> None:
        if not isinstance(raw, dict):
            raise error(
                f"{where} must be a mapping (key: value lines)",
                file=path,
                line=line_of(raw),
                fix="indent its keys under it",
            )
        self.raw = raw
        self.file = path
        self.where = where
        self.error = error
        self.of = of

    # -- plumbing
    def __contains__(self, key: str) -> bool:
        return key in self.raw

    def get(self, key: str, default: Any = None) -> Any:
        """The raw value (None and absent both give *default*)."""
        value = self.raw.get(key)
        return default if value is None else value

    def line(self, key: str | None = None) -> int | None:
        """Line of *key* (of the mapping itself when *key* is None or absent)."""
        return line_of(self.raw, key)

    def fail(self, what: str, key: str | None, fix: str) -> QualkitError:
        """The error to raise for *key* (its line), e.g. ``raise node.fail(...)``."""
        return self.error(what, file=self.file, line=self.line(key), fix=fix)

    def check(self, allowed: set[str] | frozenset[str], required: tuple[str, ...] = ()) -> YamlMap:
        """Unknown keys ("did you mean ...") and missing required keys are errors."""
        check_keys(self.raw, allowed, path=self.file, where=self.where, error=self.error, required=required)
        return self

    def _wrong(self, key: str, kind: str, value: Any, fix: str) -> QualkitError:
        return self.fail(f"'{key}'{self.of} must be {kind}, not {_shown(value)}", key, fix)

    # -- scalars
    def text(self, key: str, default: Any = "") -> Any:
        """Plain text (a number is read as text); stripped."""
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self._wrong(key, "text", value, f"write {key}: <text> (quote it if it has a colon)")
        return str(value).strip()

    def name(self, key: str, what: str = "a name", *, fix: str | None = None) -> str | None:
        """Non-empty text only (a path, a model name): None when absent."""
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self._wrong(key, what, value, fix or f"write one {what.removeprefix('a ')} after '{key}:'")
        return value

    def flag(self, key: str, default: Any = False) -> Any:
        """true or false (a quoted "no" is refused: it would read as true)."""
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value, f"write '{key}: true' or '{key}: false' (no quotes)")
        return value

    def whole(self, key: str, default: Any = None, *, minimum: int = 0, example: int | None = None) -> Any:
        """A whole number of at least *minimum*."""
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            shown = example if example is not None else max(minimum, 1)
            raise self._wrong(key, f"a whole number of at least {minimum}", value, f"write e.g. '{key}: {shown}'")
        return value

    def number(self, key: str, default: float, *, low: float, high: float) -> float:
        """A number from *low* to *high*."""
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise self._wrong(key, f"a number from {low:g} to {high:g}", value, f"write e.g. '{key}: {default:g}'")
        return float(value)

    def choice(self, key: str, choices: Iterable[Any], default: Any = None, *, what: str | None = None) -> Any:
        """One of *choices* (an enum of :mod:`qualkit.choices` or a tuple of words)."""
        words = [str(getattr(c, "value", c)) for c in choices]
        value = self.raw.get(key)
        if value is None:
            return default
        if value not in words:
            spoken = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
            raise self.fail(f"unknown {what or key} {_shown(value)}", key, f"use {spoken}")
        return value

    # -- containers
    def texts(self, key: str) -> list[str] | None:
        """A list of plain texts; one text is a list of one. None when absent."""
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return [str(value).strip()]
        if not isinstance(value, list):
            raise self._wrong(key, "a list", value, f"write {key}: [..., ...] or one '- item' per line")
        lines = value.lines if isinstance(value, LineList) else []
        out = []
        for i, item in enumerate(value):
            if item is None or isinstance(item, (dict, list, bool)):
                line = lines[i] if i < len(lines) else self.line(key)
                raise self.error(
                    f"item {i + 1} of '{key}'{self.of} must be text, not {_shown(item)}",
                    file=self.file,
                    line=line,
                    fix="write each item as plain text",
                )
            out.append(str(item).strip())
        return out

    def labels(self, key: str) -> dict[str, str]:
        """A mapping of texts (value -> label); empty when absent."""
        value = self.raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self._wrong(
                key, "a mapping", value, f"write {key}: {{value: Label, ...}} or one 'value: Label' per indented line"
            )
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                raise self.error(
                    f"'{k}' in '{key}'{self.of} must be text, not {_shown(v)}",
                    file=self.file,
                    line=line_of(value, k),
                    fix="write one 'value: Label' per line",
                )
        return {str(k): "" if v is None else str(v) for k, v in value.items()}

    def items(self, key: str, *, what: str = "a list", fix: str | None = None, non_empty: bool = False) -> list | None:
        """A YAML list as it is (items keep their lines in ``.lines``); None when absent."""
        value = self.raw.get(key)
        if value is None and not non_empty:
            return None
        if not isinstance(value, list) or (non_empty and not value):
            kind = f"a non-empty {what.removeprefix('a ')}" if non_empty else what
            raise self.fail(
                f"'{key}'{self.of} must be {kind}", key if key in self.raw else None, fix or f"write {key}: [...]"
            )
        return value

    def path(self, key: str, base: Path) -> Path | None:
        """A path relative to *base* (the YAML file's folder), ``~`` expanded; None when absent or empty."""
        text = self.text(key)
        if not text:
            return None
        p = Path(text).expanduser()
        return p if p.is_absolute() else base / p

    def map(self, key: str, *, where: str | None = None) -> YamlMap | None:
        """The mapping under *key* as a YamlMap (None when absent)."""
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(
                f"{where or repr(key)} must be a mapping (key: value lines)", key, "indent its keys under it"
            )
        return YamlMap(value, path=self.file, where=where or f"'{key}'", error=self.error, of=self.of)


def line_of_item(seq: Any, index: int, fallback: int | None = None) -> int | None:
    """Line of item *index* of a LineList (else *fallback*)."""
    lines = getattr(seq, "lines", None)
    if isinstance(lines, list) and index < len(lines):
        return lines[index]
    return fallback
