"""The annex spec (YAML): inputs, captions and sections, validated with file:line:fix errors."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import ConfigError
from ..yamlutil import LineDict, LineList, check_keys, line_of, load_yaml

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


def _str(value, *, path, line, what: str, allow_empty: bool = True) -> str:
    if value is None:
        if allow_empty:
            return ""
        raise _err(f"'{what}' is empty", path, line, f"write {what}: <text>")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _err(f"'{what}' must be text", path, line, f"write {what}: <text> (quote it if it has a colon)")
    return str(value).strip()


def _bool(value, *, path, line, what: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _err(f"'{what}' must be true or false", path, line, f"write {what}: true or {what}: false")
    return value


def _int(value, *, path, line, what: str, default: int | None, minimum: int = 0) -> int | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _err(
            f"'{what}' must be a whole number of at least {minimum}", path, line, f"write {what}: {max(minimum, 1)}"
        )
    return value


def _str_list(value, *, path, line, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value).strip()]
    if not isinstance(value, list):
        raise _err(f"'{what}' must be a list", path, line, f"write {what}: [..., ...] or one '- item' per line")
    out = []
    for i, v in enumerate(value):
        item_line = value.lines[i] if isinstance(value, LineList) and i < len(value.lines) else line
        if v is None or isinstance(v, (dict, list)) or isinstance(v, bool):
            raise _err(f"item {i + 1} of '{what}' must be text", path, item_line, "write each item as plain text")
        out.append(str(v).strip())
    return out


def _path(value, *, base: Path, path, line, what: str) -> Path | None:
    text = _str(value, path=path, line=line, what=what)
    if not text:
        return None
    p = Path(text).expanduser()
    return p if p.is_absolute() else (base / p)


def _check_template(template: str, *, path, line, what: str, extra: Iterable[str] = ()) -> list[str]:
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


def _chart(value, *, path, line) -> ChartOptions | None:
    if value is None or value is False:
        return None
    if value is True:
        return ChartOptions()
    if not isinstance(value, dict):
        raise _err(
            "'chart' must be true, false or a mapping",
            path,
            line,
            "write chart: true, or chart: {values: percent, no_response: false}",
        )
    check_keys(value, CHART_KEYS, path=path, where="'chart'")
    values = _str(value.get("values"), path=path, line=line_of(value, "values"), what="values") or "auto"
    if values not in ("auto", "count", "percent"):
        raise _err(
            f"unknown chart values '{values}'", path, line_of(value, "values"), "use values: count, percent or auto"
        )
    width = value.get("width_cm", 15.5)
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 4 <= width <= 26:
        raise _err("'width_cm' must be a number from 4 to 26", path, line_of(value, "width_cm"), "write width_cm: 15")
    total = value.get("total")
    return ChartOptions(
        values=values,
        no_response=_bool(
            value.get("no_response"), path=path, line=line_of(value, "no_response"), what="no_response", default=False
        ),
        total=None
        if total is None
        else _bool(total, path=path, line=line_of(value, "total"), what="total", default=False),
        columns=_str_list(value.get("columns"), path=path, line=line_of(value, "columns"), what="columns") or None,
        title=_str(value.get("title"), path=path, line=line_of(value, "title"), what="title") or None,
        width_cm=float(width),
    )


def _cells(value, *, path, line) -> str | None:
    cells = _str(value, path=path, line=line, what="cells") or None
    if cells not in (None, "count", "n_pct"):
        raise _err(f"unknown cells '{cells}'", path, line, 'use cells: count (numbers) or cells: n_pct ("n (x%)")')
    return cells


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


def _inline_table(raw: LineDict, path: Path):
    from ..tables.spec import parse_table_specs

    lst = LineList([raw])
    lst.line = line_of(raw)
    lst.lines = [line_of(raw)]
    return parse_table_specs(lst, path)[0]


def _parse_section(
    raw, *, path: Path, index: int, table_specs: list | None, tables_path: Path | None, include_suggested: bool
) -> Section:
    where = f"section {index + 1}"
    if not isinstance(raw, dict):
        raise _err(
            f"{where} must be a mapping",
            path,
            line_of(raw),
            "start it with '- type: tables' (or codebook, quotes, ...)",
        )
    stype = raw.get("type")
    if stype not in SECTION_TYPES:
        shown = f"'{stype}'" if stype is not None else "no type"
        raise _err(
            f"{where} has {shown}",
            path,
            line_of(raw, "type") if "type" in raw else line_of(raw),
            "give 'type:' one of " + ", ".join(SECTION_TYPES),
        )
    check_keys(raw, SECTION_KEYS[stype], path=path, where=f"{where} ({stype})")
    ln = lambda k: line_of(raw, k)  # noqa: E731
    sec = Section(
        type=stype,
        heading=_str(raw.get("heading"), path=path, line=ln("heading"), what="heading"),
        intro=_str_list(raw.get("intro"), path=path, line=ln("intro"), what="intro"),
        new_page=_bool(raw.get("new_page"), path=path, line=ln("new_page"), what="new_page", default=None),
        landscape=_bool(
            raw.get("landscape"), path=path, line=ln("landscape"), what="landscape", default=stype == "codebook"
        ),
        line=line_of(raw),
        lines=dict(getattr(raw, "lines", {}) or {}),
    )
    if stype == "tables":
        default_chart = _chart(raw.get("chart"), path=path, line=ln("chart"))
        default_cells = _cells(raw.get("cells"), path=path, line=ln("cells"))
        items = raw.get("tables")
        if not isinstance(items, list) or not items:
            raise _err(
                f"{where} (tables) needs a 'tables' list",
                path,
                ln("tables") if "tables" in raw else sec.line,
                'list table ids or numbers from the table spec (tables: [t23, "24"]) or inline tables',
            )
        for i, item in enumerate(items):
            item_line = items.lines[i] if isinstance(items, LineList) else sec.line
            sec.tables.append(
                _table_item(
                    item,
                    path=path,
                    line=item_line,
                    table_specs=table_specs,
                    tables_path=tables_path,
                    default_chart=default_chart,
                    default_cells=default_cells,
                )
            )
    elif stype == "respondents":
        if not raw.get("rows"):
            raise _err(
                f"{where} (respondents) has no 'rows'",
                path,
                sec.line,
                "give rows: <cases column> (e.g. province) and optionally columns: <cases column>",
            )
        inline = _sub_mapping(
            raw,
            [
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
            ],
            {"rows": "attribute", "columns": "by"},
        )
        inline["id"] = "respondents" if index == 0 else f"respondents{index + 1}"
        inline.lines["id"] = sec.line
        inline.setdefault("unit", "respondents")
        if "title" not in inline:
            inline["title"] = (
                "Respondents by "
                + str(raw["rows"]).replace("_", " ")
                + (" and " + str(raw["columns"]).replace("_", " ") if raw.get("columns") else "")
            )
        spec = _inline_table(inline, path)
        sec.tables.append(
            TableItem(
                spec=spec, chart=_chart(raw.get("chart"), path=path, line=ln("chart")), cells=spec.cells, line=sec.line
            )
        )
    elif stype == "codebook":
        sec.themes = _str_list(raw.get("themes"), path=path, line=ln("themes"), what="themes") or None
        sec.max_examples = _int(
            raw.get("max_examples"), path=path, line=ln("max_examples"), what="max_examples", default=None
        )
    elif stype == "quotes":
        sec.codes = _str_list(raw.get("codes"), path=path, line=ln("codes"), what="codes")
        if not sec.codes:
            raise _err(
                f"{where} (quotes) has no 'codes'",
                path,
                sec.line,
                "list the codes to quote: codes: [family.poor_family, recruitment] (a theme id takes all its codes)",
            )
        sec.max_per_code = _int(
            raw.get("max_per_code"), path=path, line=ln("max_per_code"), what="max_per_code", default=3, minimum=1
        )
        sec.per_case = _int(raw.get("per_case"), path=path, line=ln("per_case"), what="per_case", default=1, minimum=1)
        attribution = raw.get("attribution")
        sec.attribution = _str_list(attribution, path=path, line=ln("attribution"), what="attribution") or [
            DEFAULT_ATTRIBUTION
        ]
        for t in sec.attribution:
            _check_template(t, path=path, line=ln("attribution"), what="attribution")
        sec.missing = _missing(raw.get("missing"), path=path, line=ln("missing"))
        sec.include_suggested = _bool(
            raw.get("include_suggested"),
            path=path,
            line=ln("include_suggested"),
            what="include_suggested",
            default=include_suggested,
        )
        sec.min_chars = _int(raw.get("min_chars"), path=path, line=ln("min_chars"), what="min_chars", default=0)
        sec.max_chars = _int(
            raw.get("max_chars"), path=path, line=ln("max_chars"), what="max_chars", default=None, minimum=1
        )
        sec.respondents_only = _bool(
            raw.get("respondents_only"), path=path, line=ln("respondents_only"), what="respondents_only", default=True
        )
        sec.quote_marks = _bool(
            raw.get("quote_marks"), path=path, line=ln("quote_marks"), what="quote_marks", default=True
        )
    elif stype == "life_stories":
        stories = raw.get("stories")
        if not isinstance(stories, list) or not stories:
            raise _err(
                f"{where} (life_stories) needs a 'stories' list",
                path,
                ln("stories") if "stories" in raw else sec.line,
                "list stories as '- {document: int01, pseudonym: Mai}'",
            )
        for i, st in enumerate(stories):
            st_line = stories.lines[i] if isinstance(stories, LineList) else sec.line
            check_keys(st, STORY_KEYS, path=path, where=f"story {i + 1} of {where}", required=("document", "pseudonym"))
            sl = lambda k, st=st: line_of(st, k)  # noqa: E731
            story = Story(
                document=_str(st["document"], path=path, line=sl("document"), what="document"),
                pseudonym=_str(st["pseudonym"], path=path, line=sl("pseudonym"), what="pseudonym"),
                case=_str(st.get("case"), path=path, line=sl("case"), what="case") or None,
                heading=_str(st.get("heading"), path=path, line=sl("heading"), what="heading") or None,
                intro=_str_list(st.get("intro"), path=path, line=sl("intro"), what="intro"),
                line=st_line,
                speaker=_str(st.get("speaker"), path=path, line=sl("speaker"), what="speaker") or None,
            )
            if story.heading:
                _check_template(story.heading, path=path, line=sl("heading"), what="heading")
            sec.stories.append(story)
        sec.interviewer = _bool(
            raw.get("interviewer"), path=path, line=ln("interviewer"), what="interviewer", default=False
        )
        sec.story_heading = (
            _str(raw.get("story_heading"), path=path, line=ln("story_heading"), what="story_heading")
            or DEFAULT_STORY_HEADING
        )
        _check_template(sec.story_heading, path=path, line=ln("story_heading"), what="story_heading")
        sec.missing = _missing(raw.get("missing"), path=path, line=ln("missing"))
    elif stype == "text":
        sec.text = _str_list(raw.get("text"), path=path, line=ln("text"), what="text")
        if not sec.text and not sec.heading:
            raise _err(f"{where} (text) is empty", path, sec.line, "give it a heading and/or text: paragraphs")
    return sec


def _missing(value, *, path, line) -> str:
    if value is None:
        return "error"
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _err(
            "'missing' must be error, skip or a replacement text",
            path,
            line,
            'write missing: error (stop), missing: skip (leave the quote out) or missing: "unknown"',
        )
    return str(value)


def _table_item(item, *, path, line, table_specs, tables_path, default_chart, default_cells) -> TableItem:
    chart, cells = default_chart, default_cells
    if isinstance(item, dict) and "table" in item:
        check_keys(item, TABLE_REF_KEYS, path=path, where="a table reference")
        if "chart" in item:
            chart = _chart(item["chart"], path=path, line=line_of(item, "chart"))
        if "cells" in item:
            cells = _cells(item["cells"], path=path, line=line_of(item, "cells"))
        ref, line = item["table"], line_of(item, "table")
    elif isinstance(item, dict):  # an inline table spec (same keys as tables.yaml) plus chart
        if "chart" in item:
            chart = _chart(item["chart"], path=path, line=line_of(item, "chart"))
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
    """Validate a parsed annex spec (errors name file:line and the fix)."""
    path = Path(path) if path is not None else None
    base = path.parent if path is not None else Path.cwd()
    if raw is None:
        raise _err("annex spec is empty", path, None, "give it a 'sections:' list (see docs/annex.md)")
    check_keys(raw, TOP_KEYS, path=path, where="the annex spec", required=("sections",))
    ln = lambda k: line_of(raw, k)  # noqa: E731

    def p(key: str, project_key: str | None = None, layout: str | None = None) -> Path | None:
        """The spec's own *key* > the project's *project_key* > the project's *layout* default."""
        if key in raw and raw[key] is not None:
            return _path(raw[key], base=base, path=path, line=ln(key), what=key)
        if settings is None or settings.project_file is None:
            return None
        value = settings.path(None, project_key) if project_key else None
        return value or (settings.default_path(layout) if layout else None)

    spec = AnnexSpec(
        path=path,
        sections=[],
        title=_str(raw.get("title"), path=path, line=ln("title"), what="title"),
        subtitle=_str(raw.get("subtitle"), path=path, line=ln("subtitle"), what="subtitle"),
        author=_str(raw.get("author"), path=path, line=ln("author"), what="author"),
        segments=p("segments", "code.segments", "code.segments"),
        cases=p("cases", "cases"),
        codebook=p("codebook", "codebook"),
        tables=p("tables", "tables.spec"),
        transcripts=p("transcripts", None, "redacted"),
        table_caption=_str(raw.get("table_caption"), path=path, line=ln("table_caption"), what="table_caption")
        or DEFAULT_TABLE_CAPTION,
        figure_caption=_str(raw.get("figure_caption"), path=path, line=ln("figure_caption"), what="figure_caption")
        or DEFAULT_FIGURE_CAPTION,
        allow=_str_list(raw.get("allow"), path=path, line=ln("allow"), what="allow"),
        lines=dict(getattr(raw, "lines", {}) or {}),
    )
    for key in ("table_caption", "figure_caption"):
        names = _check_template(getattr(spec, key), path=path, line=ln(key), what=key)
        bad = [n for n in names if n not in ("number", "title")]
        if bad:
            raise _err(f"'{key}' has an unknown field '{{{bad[0]}}}'", path, ln(key), "use {number} and {title}")
    include_suggested = _bool(
        raw.get("include_suggested"), path=path, line=ln("include_suggested"), what="include_suggested", default=False
    )
    sections_raw = raw["sections"]
    if not isinstance(sections_raw, list) or not sections_raw:
        raise _err(
            "'sections' must be a non-empty list",
            path,
            ln("sections"),
            "list sections as '- type: tables' (or codebook, quotes, respondents, life_stories, text)",
        )
    table_specs = None
    needs_specs = any(
        isinstance(s, dict)
        and s.get("type") == "tables"
        and isinstance(s.get("tables"), list)
        and any(not isinstance(t, dict) or "table" in t for t in s["tables"])
        for s in sections_raw
    )
    if needs_specs and spec.tables is not None:
        from ..tables.spec import load_table_specs

        if not spec.tables.is_file():
            raise _err(
                "table spec not found",
                path,
                ln("tables") if "tables" in raw else None,
                f"check the path ({spec.tables}) or write the tables inline",
            )
        table_specs = load_table_specs(spec.tables)
    for i, s in enumerate(sections_raw):
        spec.sections.append(
            _parse_section(
                s,
                path=path,
                index=i,
                table_specs=table_specs,
                tables_path=spec.tables,
                include_suggested=include_suggested,
            )
        )
    _number_tables(spec)
    return spec


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
