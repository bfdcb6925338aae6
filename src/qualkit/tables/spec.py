"""Table specifications: what one frequency table counts and how it is printed.

A :class:`TableSpec` says *what* to count (the codes of a theme, or the values
of a case attribute), *in which columns* (``by``), *for which cases*
(``where`` filters) and how to present it (number, title, caption, notes,
percentages, value labels). ``load_table_specs`` reads a whole numbered set
from a ``tables.yaml`` file (format in docs/tables.md), reporting mistakes as
``ConfigError`` naming the file, the line and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import ConfigError, UsageError
from ..yamlutil import LineDict, YamlMap, line_of, line_of_item, load_yaml

#: A filter on case attributes: (column, operator, value). Operators: "==",
#: "!=", "in", "not in" (the last two take a tuple of values). An empty value
#: ("") stands for a missing value.
Filter = tuple[str, str, Any]

OPERATORS = ("==", "!=", "in", "not in")
CELLS = ("count", "n_pct")
NO_RESPONSE_ROW = ("auto", "always")

#: print defaults (md, terminal, Word): the reference report's convention
DEFAULT_ZEROS = "–"  # a zero cell prints as an en dash
DEFAULT_DECIMALS = 0  # "14 of the 32 children (44 per cent)"
DEFAULT_MIN_BASE = 10  # no percentages for a column of fewer cases

TABLE_KEYS = frozenset(
    {
        "id",
        "number",
        "title",
        "caption",
        "theme",
        "attribute",
        "by",
        "where",
        "percent",
        "cells",
        "notes",
        "labels",
        "headers",
        "order",
        "by_order",
        "subcodes",
        "row_header",
        "unit",
        "zeros",
        "decimals",
        "min_base",
        "no_response",
    }
)
FILE_KEYS = frozenset({"title", "description", "defaults", "labels", "headers", "tables"})
DEFAULT_KEYS = TABLE_KEYS - {"id", "number", "title", "caption", "theme", "attribute"}

_WHERE_RE = re.compile(r"^\s*(?P<col>[^=!<>]+?)\s*(?P<op>==|!=|=)\s*(?P<val>.*?)\s*$")
_ID_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def parse_where(text: str) -> Filter:
    """``"group=prostitution"``, ``"group == prostitution"``, ``"sex!=male"`` -> a Filter.

    ``COL=`` (nothing after the sign) selects cases where the value is missing.
    Values may be quoted. Raises UsageError for anything else.
    """
    m = _WHERE_RE.match(str(text))
    if not m or not m.group("col"):
        raise UsageError(
            f"cannot read the filter '{text}'",
            fix="write COLUMN=VALUE or COLUMN!=VALUE, e.g. --where group=prostitution",
        )
    op = "!=" if m.group("op") == "!=" else "=="
    val = m.group("val")
    if len(val) >= 2 and val[0] == val[-1] and val[0] in "'\"":
        val = val[1:-1]
    return (m.group("col").strip(), op, val)


def normalize_filter(item: Any) -> Filter:
    """Accept a Filter tuple/list or a ``"col=value"`` string; check the operator."""
    if isinstance(item, str):
        return parse_where(item)
    if isinstance(item, (tuple, list)) and len(item) == 3:
        col, op, val = item
        op = {"=": "==", "not_in": "not in"}.get(str(op).strip(), str(op).strip())
        if op not in OPERATORS:
            raise UsageError(f"unknown filter operator '{op}'", fix="use ==, !=, in or not in")
        if op in ("in", "not in"):
            val = tuple(
                "" if v is None else str(v).strip() for v in (val if isinstance(val, (list, tuple, set)) else [val])
            )
        else:
            val = "" if val is None else str(val).strip()
        return (str(col).strip(), op, val)
    raise UsageError(f"cannot read the filter {item!r}", fix="give (column, '==' or '!=', value) or 'column=value'")


def describe_filter(flt: Filter, *, plain: bool = False) -> str:
    """A filter in words for messages ("group is missing"); *plain*: for a base line ("no group")."""
    col, op, val = flt
    name = col.replace("_", " ") if plain else col
    if op in ("in", "not in"):
        shown = ", ".join(v or "(missing)" for v in val)
        return (
            f"{name} {'one of' if op == 'in' else 'none of'} {shown}"
            if plain
            else (f"{col} {'is one of' if op == 'in' else 'is none of'} {shown}")
        )
    if val == "":
        if plain:
            return f"no {name}" if op == "==" else f"a {name}"
        return f"{col} {'is missing' if op == '==' else 'is given'}"
    return f"{name} {'=' if op == '==' else '≠'} {val}"


@dataclass
class TableSpec:
    """One frequency table. Exactly one of ``theme`` and ``attribute`` is set.

    cells: "count" prints counts; "n_pct" prints "n (x%)" in md/terminal
    output. None (the default) means "n_pct" when ``percent`` is true, else
    "count". ``percent`` adds the ``<column> %`` columns to the CSV.
    """

    id: str
    number: str | None = None
    title: str = ""
    caption: str = ""
    theme: str | None = None
    attribute: str | None = None
    by: str | None = None
    where: list = field(default_factory=list)
    percent: bool = False
    cells: str | None = None
    notes: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # value -> label (rows and columns)
    headers: dict[str, str] = field(default_factory=dict)  # attribute/column name -> label
    order: list[str] | None = None  # attribute tables: row order (values not listed follow, natural order)
    by_order: list[str] | None = None  # column order of the by values
    subcodes: bool = False  # theme tables: show sub-code rows under their parent code
    row_header: str | None = None  # heading of the label column (default: theme label / attribute)
    unit: str = "cases"  # plural noun for the base line ("children", "respondents")
    # print options (md, terminal, Word annex; the CSV keeps every number)
    zeros: str = DEFAULT_ZEROS  # how a zero count prints: "–", "" (blank) or "0"
    decimals: int = DEFAULT_DECIMALS  # decimals of printed percentages: 0 or 1
    min_base: int = DEFAULT_MIN_BASE  # columns with fewer cases print counts without percentages
    no_response: str = "auto"  # "auto": the no-response row only when it is not all zero; "always"
    source: str | None = None  # spec file the table came from (for error messages)
    line: int | None = None
    lines: dict[str, int] = field(default_factory=dict)  # line of each key in the spec file

    def __post_init__(self) -> None:
        self.id = str(self.id).strip()
        if not self.id:
            raise UsageError("a table needs an id", file=self.source, line=self.line, fix="add 'id: t1'")
        if self.number is not None:
            self.number = str(self.number).strip() or None
        if bool(self.theme) == bool(self.attribute):
            raise UsageError(
                f"table '{self.id}' needs either a theme or an attribute (exactly one)",
                file=self.source,
                line=self.line,
                fix="give 'theme: family' for coded segments or 'attribute: age_first' for a case attribute",
            )
        if self.cells not in (None,) + CELLS:
            raise UsageError(
                f"table '{self.id}': unknown cells '{self.cells}'",
                file=self.source,
                line=self.lines.get("cells", self.line),
                fix="use cells: count or cells: n_pct",
            )
        if isinstance(self.where, (str, tuple)):
            self.where = [self.where]
        self.where = [normalize_filter(w) for w in (self.where or [])]
        self.notes = [str(n) for n in (self.notes or [])]
        self.labels = {str(k): str(v) for k, v in (self.labels or {}).items()}
        self.headers = {str(k): str(v) for k, v in (self.headers or {}).items()}
        if self.decimals not in (0, 1):
            raise UsageError(
                f"table '{self.id}': decimals must be 0 or 1",
                file=self.source,
                line=self.lines.get("decimals", self.line),
                fix="write decimals: 0 (44%) or decimals: 1 (43.8%)",
            )
        if isinstance(self.min_base, bool) or not isinstance(self.min_base, int) or self.min_base < 0:
            raise UsageError(
                f"table '{self.id}': min_base must be a whole number",
                file=self.source,
                line=self.lines.get("min_base", self.line),
                fix="write min_base: 10 (no percentages for smaller columns) or min_base: 0 (always)",
            )
        if self.no_response not in NO_RESPONSE_ROW:
            raise UsageError(
                f"table '{self.id}': unknown no_response '{self.no_response}'",
                file=self.source,
                line=self.lines.get("no_response", self.line),
                fix="write no_response: auto (left out when all zero) or no_response: always",
            )
        self.zeros = "" if self.zeros is None else str(self.zeros)
        if self.order is not None:
            self.order = [str(v).strip() for v in self.order]
        if self.by_order is not None:
            self.by_order = [str(v).strip() for v in self.by_order]

    @property
    def effective_cells(self) -> str:
        return self.cells or ("n_pct" if self.percent else "count")

    @property
    def heading(self) -> str:
        """ "Table 23. Child victims – family experiences" (or just the title)."""
        title = self.title or (f"{self.theme}" if self.theme else f"{self.attribute}")
        return f"Table {self.number}. {title}" if self.number else title

    def label(self, value: str) -> str:
        return self.labels.get(value, value)


# --------------------------------------------------------------------------- spec files


def _where_from_yaml(node: YamlMap, key: str = "where") -> list[Filter]:
    """where: {group: prostitution, sex: [female]}  or  where: ["group == prostitution", "sex != male"]."""
    value = node.get(key)
    out: list[Filter] = []
    if value is None:
        return out
    if isinstance(value, dict):
        for col, val in value.items():
            if isinstance(val, list):
                out.append((str(col), "in", tuple("" if v is None else str(v) for v in val)))
            else:
                out.append((str(col), "==", "" if val is None else str(val)))
        return out
    items = [value] if isinstance(value, str) else node.items(key, fix=f"write {key}: [..., ...]")
    for i, item in enumerate(items or ()):
        item_line = line_of_item(value, i, node.line(key))
        if not isinstance(item, str):
            raise ConfigError(
                "a 'where' item must be text like 'group == prostitution'",
                file=node.file,
                line=item_line,
                fix="write each filter as COLUMN == VALUE or COLUMN != VALUE",
            )
        try:
            out.append(parse_where(item))
        except UsageError as exc:
            raise ConfigError(exc.what, file=node.file, line=item_line, fix=exc.fix) from None
    return out


def _zeros(node: YamlMap) -> str:
    """The ``zeros`` text: short ("–", "" for blank, "0")."""
    value = node.text("zeros", DEFAULT_ZEROS)
    if len(value) > 3:
        raise node.fail("'zeros' must be a short text", "zeros", 'write zeros: "–", zeros: "" (blank) or zeros: "0"')
    return value


#: keys whose value is one text (a number is read as text)
_TEXT_KEYS = ("theme", "attribute", "by", "title", "caption", "row_header", "unit", "cells")


def _table_from_yaml(raw, *, path: Path | None, defaults: YamlMap, labels: dict, headers: dict) -> TableSpec:
    node = YamlMap(raw, path=path, where="a table").check(TABLE_KEYS, required=("id",))
    tid = str(raw["id"])
    if not _ID_RE.match(tid):
        raise node.fail(f"table id '{tid}' is not valid", "id", "use letters, digits, '_', '-' or '.' (e.g. t23)")

    def pick(key: str) -> YamlMap:
        """The node that gives *key*: the table's own, else the spec's defaults."""
        return node if key in raw else defaults

    texts = {key: pick(key).text(key, None) for key in _TEXT_KEYS}
    table_labels = {**labels, **defaults.labels("labels"), **node.labels("labels")}
    table_headers = {**headers, **defaults.labels("headers"), **node.labels("headers")}
    where = _where_from_yaml(defaults) + _where_from_yaml(node)
    number = pick("number").get("number")
    try:
        return TableSpec(
            id=tid,
            number=None if number is None else str(number),
            title=texts["title"] or "",
            caption=texts["caption"] or "",
            theme=texts["theme"],
            attribute=texts["attribute"],
            by=texts["by"] or None,
            where=where,
            percent=pick("percent").flag("percent", False),
            cells=texts["cells"],
            notes=pick("notes").texts("notes") or [],
            labels=table_labels,
            headers=table_headers,
            order=pick("order").texts("order"),
            by_order=pick("by_order").texts("by_order"),
            subcodes=pick("subcodes").flag("subcodes", False),
            row_header=texts["row_header"],
            unit=texts["unit"] or "cases",
            zeros=_zeros(pick("zeros")),
            decimals=pick("decimals").whole("decimals", DEFAULT_DECIMALS),
            min_base=pick("min_base").whole("min_base", DEFAULT_MIN_BASE),
            no_response=pick("no_response").choice("no_response", NO_RESPONSE_ROW, "auto"),
            source=str(path),
            line=line_of(raw),
            lines=dict(getattr(raw, "lines", {}) or {}),
        )
    except UsageError as exc:
        raise ConfigError(exc.what, file=path, line=exc.line or line_of(raw), fix=exc.fix) from None


def parse_table_specs(raw, path: str | Path | None) -> list[TableSpec]:
    """Validate a parsed table spec (a mapping with ``tables:``, or a bare list of tables)."""
    path = Path(path) if path is not None else None
    if raw is None:
        raise ConfigError(
            "table spec is empty", file=path, fix="start it with 'tables:' and a list of '- id: ...' items"
        )
    top = YamlMap(LineDict() if isinstance(raw, list) else raw, path=path, where="the table spec")
    if isinstance(raw, list):  # a bare list of tables is accepted too
        raw_tables = raw
    else:
        top.check(FILE_KEYS, required=("tables",))
        raw_tables = raw["tables"]
    if not isinstance(raw_tables, list) or not raw_tables:
        raise ConfigError(
            "'tables' must be a non-empty list",
            file=path,
            line=top.line("tables") if top.raw else None,
            fix="list tables as '- id: t1' items, each with a theme or an attribute",
        )
    defaults = top.map("defaults", where="'defaults'") if top.get("defaults") else None
    defaults = (defaults or YamlMap(LineDict(), path=path, where="'defaults'")).check(DEFAULT_KEYS)
    labels, headers = top.labels("labels"), top.labels("headers")
    specs: list[TableSpec] = []
    seen: dict[str, int | None] = {}
    for item in raw_tables:
        spec = _table_from_yaml(item, path=path, defaults=defaults, labels=labels, headers=headers)
        if spec.id in seen:
            raise ConfigError(
                f"duplicate table id '{spec.id}' (first at line {seen[spec.id]})",
                file=path,
                line=spec.line,
                fix="give each table a unique id",
            )
        seen[spec.id] = spec.line
        specs.append(spec)
    return specs


def load_table_specs(path: str | Path) -> list[TableSpec]:
    """Read a ``tables.yaml`` spec file into TableSpecs (errors name file:line and the fix)."""
    path = Path(path)
    raw = load_yaml(path, error=ConfigError, what="table spec")
    return parse_table_specs(raw, path)


def select_specs(specs: Iterable[TableSpec], wanted: Iterable[str] | None) -> list[TableSpec]:
    """Keep the tables whose id or number is in *wanted* (all when empty), in spec order."""
    specs = list(specs)
    wanted = [str(w) for w in (wanted or [])]
    if not wanted:
        return specs
    known = {s.id for s in specs} | {s.number for s in specs if s.number}
    missing = [w for w in wanted if w not in known]
    if missing:
        raise UsageError(
            f"no table {', '.join(repr(m) for m in missing)} in the spec",
            file=specs[0].source if specs else None,
            fix="use a table id or number from the spec: " + ", ".join(s.id for s in specs),
        )
    return [s for s in specs if s.id in wanted or (s.number and s.number in wanted)]
