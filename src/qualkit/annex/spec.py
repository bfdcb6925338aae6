"""The annex spec (YAML): inputs, captions and sections, validated with file:line:fix errors."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import ConfigError
from ..tables.spec import CELLS
from ..yamlutil import LineDict, LineList, YamlMap, line_of, line_of_item, load_yaml

SECTION_TYPES = ("tables", "respondents", "codebook", "quotes", "life_stories", "text")

TOP_KEYS = frozenset(
    {
        "title",
        "subtitle",
        "author",
        "segments",
        "cases",
        "codebook",
        "tables",
        "transcripts",
        "table_caption",
        "figure_caption",
        "allow",
        "include_suggested",
        "sections",
    }
)
COMMON_KEYS = frozenset({"type", "heading", "intro", "new_page", "landscape"})
SECTION_KEYS = {
    "tables": COMMON_KEYS | {"tables", "chart", "cells"},
    "respondents": COMMON_KEYS
    | {
        "rows",
        "columns",
        "number",
        "title",
        "caption",
        "where",
        "labels",
        "headers",
        "order",
        "by_order",
        "cells",
        "percent",
        "unit",
        "notes",
        "row_header",
        "chart",
    },
    "codebook": COMMON_KEYS | {"themes", "max_examples"},
    "quotes": COMMON_KEYS
    | {
        "codes",
        "max_per_code",
        "per_case",
        "attribution",
        "missing",
        "include_suggested",
        "min_chars",
        "max_chars",
        "respondents_only",
        "quote_marks",
    },
    "life_stories": COMMON_KEYS | {"stories", "interviewer", "story_heading", "missing"},
    "text": COMMON_KEYS | {"text"},
}
TABLE_REF_KEYS = frozenset({"table", "chart", "cells"})
CHART_KEYS = frozenset({"values", "no_response", "total", "columns", "title", "width_cm"})
CHART_VALUES = ("auto", "count", "percent")
STORY_KEYS = frozenset({"document", "pseudonym", "case", "heading", "intro", "speaker"})

DEFAULT_TABLE_CAPTION = "Table {number}: {title}"
DEFAULT_FIGURE_CAPTION = "Figure {number}: {title}"
DEFAULT_ATTRIBUTION = "(Respondent {case})"
DEFAULT_STORY_HEADING = "{pseudonym}"
ATTRIBUTION_FIELDS = frozenset({"case", "document", "code", "code_label", "theme_label", "pseudonym"})

# =========================================================================== the spec


@dataclass
class ChartOptions:
    values: str = "auto"  # auto | count | percent
    no_response: bool = False
    total: bool | None = None
    columns: list[str] | None = None
    title: str | None = None
    width_cm: float = 15.5


@dataclass
class TableItem:
    spec: Any  # qualkit.tables.TableSpec
    chart: ChartOptions | None = None
    cells: str | None = None
    line: int | None = None


@dataclass
class Story:
    document: str
    pseudonym: str
    case: str | None = None
    heading: str | None = None
    intro: list[str] = field(default_factory=list)
    line: int | None = None
    speaker: str | None = None  # the respondent's label in the transcript (default: who speaks most)


@dataclass
class Section:
    type: str
    heading: str = ""
    intro: list[str] = field(default_factory=list)
    new_page: bool | None = None  # None: a new page for every section but the first
    landscape: bool = False
    line: int | None = None
    lines: dict = field(default_factory=dict)
    # tables / respondents
    tables: list[TableItem] = field(default_factory=list)
    # codebook
    themes: list[str] | None = None
    max_examples: int | None = None
    # quotes
    codes: list[str] = field(default_factory=list)
    max_per_code: int = 3
    per_case: int = 1
    attribution: list[str] = field(default_factory=lambda: [DEFAULT_ATTRIBUTION])
    missing: str = "error"  # error | skip | <replacement text>
    include_suggested: bool = False
    min_chars: int = 0
    max_chars: int | None = None
    respondents_only: bool = True
    quote_marks: bool = True
    # life stories
    stories: list[Story] = field(default_factory=list)
    interviewer: bool = False
    story_heading: str = DEFAULT_STORY_HEADING
    # text
    text: list[str] = field(default_factory=list)


@dataclass
class AnnexSpec:
    path: Path | None
    sections: list[Section]
    title: str = ""
    subtitle: str = ""
    author: str = ""
    segments: Path | None = None
    cases: Path | None = None
    codebook: Path | None = None
    tables: Path | None = None
    transcripts: Path | None = None
    table_caption: str = DEFAULT_TABLE_CAPTION
    figure_caption: str = DEFAULT_FIGURE_CAPTION
    allow: list[str] = field(default_factory=list)
    lines: dict = field(default_factory=dict)

    def line(self, key: str) -> int | None:
        return self.lines.get(key)


def _err(what: str, path, line, fix: str) -> ConfigError:
    return ConfigError(what, file=path, line=line, fix=fix)


def _check_template(template: str, *, path, line, what: str) -> list[str]:
    """Field names of a ``{name}`` template; format specs and positional fields are errors."""
    names = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise _err(
            f"'{what}' is not a valid template ({exc})",
            path,
            line,
            "write fields as {name}; double the braces ({{ }}) for a literal brace",
        ) from None
    for _literal, name, spec, conv in parsed:
        if name is None:
            continue
        if not name or not re.match(r"^[A-Za-z_][\w ]*$", name) or spec or conv:
            raise _err(
                f"'{what}' has a field '{{{name}}}' that cannot be used",
                path,
                line,
                "write fields as {column_name} (a column of the cases file), without ':' or '!'",
            )
        names.append(name)
    return names


def _chart(node: YamlMap, key: str = "chart") -> ChartOptions | None:
    """``chart: true | false | {values: percent, ...}``."""
    value = node.get(key)
    if value is None or value is False:
        return None
    if value is True:
        return ChartOptions()
    if not isinstance(value, dict):
        raise node.fail(
            "'chart' must be true, false or a mapping",
            key,
            "write chart: true, or chart: {values: percent, no_response: false}",
        )
    chart = node.map(key, where="'chart'")
    assert chart is not None
    chart.check(CHART_KEYS)
    total = chart.get("total")
    return ChartOptions(
        values=chart.choice("values", CHART_VALUES, "auto", what="chart values"),
        no_response=chart.flag("no_response", False),
        total=None if total is None else chart.flag("total"),
        columns=chart.texts("columns") or None,
        title=chart.text("title") or None,
        width_cm=chart.number("width_cm", 15.5, low=4, high=26),
    )


def _cells(node: YamlMap, key: str = "cells") -> str | None:
    cells = node.text(key) or None
    if cells not in (None, *CELLS):
        raise node.fail(f"unknown cells '{cells}'", key, 'use cells: count (numbers) or cells: n_pct ("n (x%)")')
    return cells


def _missing(node: YamlMap) -> str:
    """``missing: error | skip | <replacement text>``."""
    value = node.get("missing")
    if value is None:
        return "error"
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise node.fail(
            "'missing' must be error, skip or a replacement text",
            "missing",
            'write missing: error (stop), missing: skip (leave the quote out) or missing: "unknown"',
        )
    return str(value)


def _sub_mapping(raw: LineDict, keys: Iterable[str], rename: dict[str, str] | None = None) -> LineDict:
    """A LineDict holding *keys* of *raw* (renamed), keeping their line numbers."""
    out = LineDict()
    out.line = line_of(raw)
    out.lines = {}
    rename = rename or {}
    for k in keys:
        if k in raw:
            nk = rename.get(k, k)
            out[nk] = raw[k]
            out.lines[nk] = raw.lines.get(k, raw.line) if isinstance(raw, LineDict) else None
    return out


def _inline_table(raw: LineDict, path: Path | None):
    from ..tables.spec import parse_table_specs

    lst = LineList([raw])
    lst.line = line_of(raw)
    lst.lines = [line_of(raw)]
    return parse_table_specs(lst, path)[0]


# --------------------------------------------------------------------------- sections


@dataclass
class _Context:
    """What a section parser needs besides the section's own mapping."""

    path: Path | None
    index: int
    table_specs: list | None
    tables_path: Path | None
    include_suggested: bool

    @property
    def where(self) -> str:
        return f"section {self.index + 1}"


def _parse_section(raw, ctx: _Context) -> Section:
    """One item of ``sections:``: the keys every section has, then its type's own parser."""
    if not isinstance(raw, dict):
        raise _err(
            f"{ctx.where} must be a mapping",
            ctx.path,
            line_of(raw),
            "start it with '- type: tables' (or codebook, quotes, ...)",
        )
    stype = raw.get("type")
    if stype not in SECTION_TYPES:
        shown = f"'{stype}'" if stype is not None else "no type"
        raise _err(
            f"{ctx.where} has {shown}",
            ctx.path,
            line_of(raw, "type") if "type" in raw else line_of(raw),
            "give 'type:' one of " + ", ".join(SECTION_TYPES),
        )
    node = YamlMap(raw, path=ctx.path, where=f"{ctx.where} ({stype})").check(SECTION_KEYS[stype])
    sec = Section(
        type=stype,
        heading=node.text("heading"),
        intro=node.texts("intro") or [],
        new_page=node.flag("new_page", None),
        landscape=node.flag("landscape", stype == "codebook"),
        line=node.line(),
        lines=dict(getattr(raw, "lines", {}) or {}),
    )
    _SECTION_PARSERS[stype](node, sec, ctx)
    return sec


def _tables_section(node: YamlMap, sec: Section, ctx: _Context) -> None:
    default_chart, default_cells = _chart(node), _cells(node)
    items = node.get("tables")
    if not isinstance(items, list) or not items:
        raise _err(
            f"{ctx.where} (tables) needs a 'tables' list",
            ctx.path,
            node.line("tables") if "tables" in node else sec.line,
            'list table ids or numbers from the table spec (tables: [t23, "24"]) or inline tables',
        )
    for i, item in enumerate(items):
        sec.tables.append(
            _table_item(
                item,
                path=ctx.path,
                line=line_of_item(items, i, sec.line),
                table_specs=ctx.table_specs,
                tables_path=ctx.tables_path,
                default_chart=default_chart,
                default_cells=default_cells,
            )
        )


#: keys of a respondents section that are table spec keys (rows/columns renamed attribute/by)
_RESPONDENT_TABLE_KEYS = (
    "rows",
    "columns",
    "number",
    "title",
    "caption",
    "where",
    "labels",
    "headers",
    "order",
    "by_order",
    "cells",
    "percent",
    "unit",
    "notes",
    "row_header",
)


def _respondents_section(node: YamlMap, sec: Section, ctx: _Context) -> None:
    raw = node.raw
    if not raw.get("rows"):
        raise _err(
            f"{ctx.where} (respondents) has no 'rows'",
            ctx.path,
            sec.line,
            "give rows: <cases column> (e.g. province) and optionally columns: <cases column>",
        )
    inline = _sub_mapping(raw, _RESPONDENT_TABLE_KEYS, {"rows": "attribute", "columns": "by"})
    inline["id"] = "respondents" if ctx.index == 0 else f"respondents{ctx.index + 1}"
    inline.lines["id"] = sec.line
    inline.setdefault("unit", "respondents")
    if "title" not in inline:
        inline["title"] = (
            "Respondents by "
            + str(raw["rows"]).replace("_", " ")
            + (" and " + str(raw["columns"]).replace("_", " ") if raw.get("columns") else "")
        )
    spec = _inline_table(inline, ctx.path)
    sec.tables.append(TableItem(spec=spec, chart=_chart(node), cells=spec.cells, line=sec.line))


def _codebook_section(node: YamlMap, sec: Section, ctx: _Context) -> None:
    sec.themes = node.texts("themes") or None
    sec.max_examples = node.whole("max_examples", None)


def _quotes_section(node: YamlMap, sec: Section, ctx: _Context) -> None:
    sec.codes = node.texts("codes") or []
    if not sec.codes:
        raise _err(
            f"{ctx.where} (quotes) has no 'codes'",
            ctx.path,
            sec.line,
            "list the codes to quote: codes: [family.poor_family, recruitment] (a theme id takes all its codes)",
        )
    sec.max_per_code = node.whole("max_per_code", 3, minimum=1)
    sec.per_case = node.whole("per_case", 1, minimum=1)
    sec.attribution = node.texts("attribution") or [DEFAULT_ATTRIBUTION]
    for template in sec.attribution:
        _check_template(template, path=ctx.path, line=node.line("attribution"), what="attribution")
    sec.missing = _missing(node)
    sec.include_suggested = node.flag("include_suggested", ctx.include_suggested)
    sec.min_chars = node.whole("min_chars", 0)
    sec.max_chars = node.whole("max_chars", None, minimum=1)
    sec.respondents_only = node.flag("respondents_only", True)
    sec.quote_marks = node.flag("quote_marks", True)


def _life_stories_section(node: YamlMap, sec: Section, ctx: _Context) -> None:
    stories = node.get("stories")
    if not isinstance(stories, list) or not stories:
        raise _err(
            f"{ctx.where} (life_stories) needs a 'stories' list",
            ctx.path,
            node.line("stories") if "stories" in node else sec.line,
            "list stories as '- {document: int01, pseudonym: Mai}'",
        )
    for i, raw_story in enumerate(stories):
        st = YamlMap(raw_story, path=ctx.path, where=f"story {i + 1} of {ctx.where}")
        st.check(STORY_KEYS, required=("document", "pseudonym"))
        story = Story(
            document=st.text("document"),
            pseudonym=st.text("pseudonym"),
            case=st.text("case") or None,
            heading=st.text("heading") or None,
            intro=st.texts("intro") or [],
            line=line_of_item(stories, i, sec.line),
            speaker=st.text("speaker") or None,
        )
        if story.heading:
            _check_template(story.heading, path=ctx.path, line=st.line("heading"), what="heading")
        sec.stories.append(story)
    sec.interviewer = node.flag("interviewer", False)
    sec.story_heading = node.text("story_heading") or DEFAULT_STORY_HEADING
    _check_template(sec.story_heading, path=ctx.path, line=node.line("story_heading"), what="story_heading")
    sec.missing = _missing(node)


def _text_section(node: YamlMap, sec: Section, ctx: _Context) -> None:
    sec.text = node.texts("text") or []
    if not sec.text and not sec.heading:
        raise _err(f"{ctx.where} (text) is empty", ctx.path, sec.line, "give it a heading and/or text: paragraphs")


#: section type -> the parser of its own keys (the common ones are read by _parse_section)
_SECTION_PARSERS: dict[str, Callable[[YamlMap, Section, _Context], None]] = {
    "tables": _tables_section,
    "respondents": _respondents_section,
    "codebook": _codebook_section,
    "quotes": _quotes_section,
    "life_stories": _life_stories_section,
    "text": _text_section,
}
assert set(_SECTION_PARSERS) == set(SECTION_TYPES)


def _table_item(item, *, path, line, table_specs, tables_path, default_chart, default_cells) -> TableItem:
    chart, cells = default_chart, default_cells
    if isinstance(item, dict) and "table" in item:
        ref_node = YamlMap(item, path=path, where="a table reference").check(TABLE_REF_KEYS)
        if "chart" in item:
            chart = _chart(ref_node)
        if "cells" in item:
            cells = _cells(ref_node)
        ref, line = item["table"], line_of(item, "table")
    elif isinstance(item, dict):  # an inline table spec (same keys as tables.yaml) plus chart
        if "chart" in item:
            chart = _chart(YamlMap(item, path=path, where="an inline table"))
        inline = _sub_mapping(item, [k for k in item if k != "chart"])
        spec = _inline_table(inline, path)
        return TableItem(spec=spec, chart=chart, cells=spec.cells or cells, line=line_of(item))
    else:
        ref = item
    if ref is None or isinstance(ref, (bool, list, dict)):
        raise _err("a table reference must be a table id or number", path, line, 'write e.g. - t23 or - "23"')
    ref = str(ref).strip()
    if table_specs is None:
        raise _err(
            f"table '{ref}' is referenced but the annex spec names no table spec",
            path,
            line,
            "add 'tables: tables.yaml' at the top of the annex spec, or write the table inline",
        )
    found = [s for s in table_specs if s.id == ref] or [s for s in table_specs if s.number == ref]
    if not found:
        ids = ", ".join(s.id + (f" ({s.number})" if s.number else "") for s in table_specs)
        raise _err(f"no table '{ref}' in {tables_path}", path, line, f"use a table id or number from it: {ids}")
    return TableItem(spec=found[0], chart=chart, cells=cells, line=line)


def parse_annex_spec(raw, path: str | Path | None, *, settings=None) -> AnnexSpec:
    """Validate a parsed annex spec (errors name file:line and the fix).

    Input paths not in the spec come from the project (*settings*): its
    settings, else the project's default places (``<output>/segments.csv``, the
    redacted transcripts).
    """
    path = Path(path) if path is not None else None
    base = path.parent if path is not None else Path.cwd()
    if raw is None:
        raise _err("annex spec is empty", path, None, "give it a 'sections:' list (see docs/annex.md)")
    top = YamlMap(raw, path=path, where="the annex spec").check(TOP_KEYS, required=("sections",))
    project = settings if settings is not None and getattr(settings, "project_file", None) is not None else None

    def p(key: str, project_key: str | None = None, layout: str | None = None) -> Path | None:
        """The spec's own *key* > the project's *project_key* > the project's *layout* default."""
        if top.get(key) is not None:
            return top.path(key, base)
        if project is None:
            return None
        value = project.path(None, project_key) if project_key else None
        return value or (project.default_path(layout) if layout else None)

    spec = AnnexSpec(
        path=path,
        sections=[],
        title=top.text("title"),
        subtitle=top.text("subtitle"),
        author=top.text("author"),
        segments=p("segments", "code.segments", "code.segments"),
        cases=p("cases", "cases"),
        codebook=p("codebook", "codebook"),
        tables=p("tables", "tables.spec"),
        transcripts=p("transcripts", None, "redacted"),
        table_caption=top.text("table_caption") or DEFAULT_TABLE_CAPTION,
        figure_caption=top.text("figure_caption") or DEFAULT_FIGURE_CAPTION,
        allow=top.texts("allow") or [],
        lines=dict(getattr(raw, "lines", {}) or {}),
    )
    for key in ("table_caption", "figure_caption"):
        names = _check_template(getattr(spec, key), path=path, line=top.line(key), what=key)
        bad = [n for n in names if n not in ("number", "title")]
        if bad:
            raise _err(f"'{key}' has an unknown field '{{{bad[0]}}}'", path, top.line(key), "use {number} and {title}")
    include_suggested = top.flag("include_suggested", False)
    sections_raw = raw["sections"]
    if not isinstance(sections_raw, list) or not sections_raw:
        raise _err(
            "'sections' must be a non-empty list",
            path,
            top.line("sections"),
            "list sections as '- type: tables' (or codebook, quotes, respondents, life_stories, text)",
        )
    table_specs = _referenced_table_specs(spec, sections_raw, top)
    for i, s in enumerate(sections_raw):
        ctx = _Context(path, i, table_specs, spec.tables, include_suggested)
        spec.sections.append(_parse_section(s, ctx))
    _number_tables(spec)
    return spec


def _referenced_table_specs(spec: AnnexSpec, sections_raw: list, top: YamlMap) -> list | None:
    """The table spec's tables, when a tables section refers to one by id or number."""
    needs_specs = any(
        isinstance(s, dict)
        and s.get("type") == "tables"
        and isinstance(s.get("tables"), list)
        and any(not isinstance(t, dict) or "table" in t for t in s["tables"])
        for s in sections_raw
    )
    if not needs_specs or spec.tables is None:
        return None
    from ..tables.spec import load_table_specs

    if not spec.tables.is_file():
        raise _err(
            "table spec not found",
            spec.path,
            top.line("tables") if "tables" in top else None,
            f"check the path ({spec.tables}) or write the tables inline",
        )
    return load_table_specs(spec.tables)


def _number_tables(spec: AnnexSpec) -> None:
    """Tables without a number continue from the highest whole number before them; duplicates are errors."""
    import dataclasses

    seen: dict[str, int | None] = {}
    highest = 0
    for sec in spec.sections:
        for item in sec.tables:
            number = item.spec.number
            if number is None:
                highest += 1
                number = str(highest)
                item.spec = dataclasses.replace(item.spec, number=number)
            elif number.isdigit():
                highest = max(highest, int(number))
            if number in seen:
                raise _err(
                    f"two tables are numbered {number} (first at line {seen[number]})",
                    spec.path,
                    item.line,
                    "give each table its own 'number:' in the table spec, or leave it out to number it automatically",
                )
            seen[number] = item.line


def load_annex_spec(path: str | Path, *, settings=None) -> AnnexSpec:
    """Read an annex spec YAML (paths in it are relative to the file; *settings* fills project defaults)."""
    path = Path(path)
    raw = load_yaml(path, error=ConfigError, what="annex spec")
    return parse_annex_spec(raw, path, settings=settings)
