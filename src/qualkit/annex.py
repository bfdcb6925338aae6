"""Word annexes a report author can hand to a publisher (``qualkit annex``).

An *annex spec* (YAML, format in docs/annex.md) names the inputs (coded
segments, cases, codebook, table spec, the folder of **redacted** transcripts)
and lists sections, each of one type:

``tables``        numbered frequency tables (from :mod:`qualkit.tables`) with
                  captions, repeated header rows, base-N / multi-response notes,
                  optional grayscale bar charts (:mod:`qualkit.charts`);
``codebook``      theme, code, label, definition, when to use, when not to use, examples;
``quotes``        up to K quotes per code from accepted segments, each followed
                  by an attribution built from case attributes with a template;
``respondents``   an attribute crosstab of the cases (the study's Table 1);
``life_stories``  chosen redacted transcripts under pseudonym headings;
``text``          free paragraphs.

Styles come from a Word template (``annex-template.docx`` shipped with
qualkit, or an organisation's own .docx/.dotx): it is opened as the base
document, its body is cleared, its styles, headers and footers are kept; a
style it lacks falls back to Word's built-in one or to direct formatting.

Safety: quotes and life stories must come from redacted text. The transcripts
folder must not be (or contain, or lie in) the original transcripts folder;
a quote is checked against the redacted transcript it came from. With the
redaction key, every piece of text is searched for the key's originals (case-
and diacritic-insensitive, whole words) and the annex is refused with the
document and offset of each hit, never the identifier itself.

Library use::

    from qualkit.annex import build_annex, render_annex, load_annex_spec
    build_annex("annex.yaml", "annex.docx", key="private/redaction-key.csv")   # -> Path
    result = render_annex(load_annex_spec("annex.yaml"))                       # in memory
    result.document.save(...)
"""

from __future__ import annotations

import copy
import csv
import io
import re
import string
import unicodedata
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import ConfigError, InputError, LeakError, QualkitError, SafetyError, UsageError
from .yamlutil import LineDict, LineList, check_keys, line_of, load_yaml

SECTION_TYPES = ("tables", "respondents", "codebook", "quotes", "life_stories", "text")

TOP_KEYS = frozenset({
    "title", "subtitle", "author", "segments", "cases", "codebook", "tables", "transcripts",
    "table_caption", "figure_caption", "allow", "include_suggested", "sections",
})
COMMON_KEYS = frozenset({"type", "heading", "intro", "new_page", "landscape"})
SECTION_KEYS = {
    "tables": COMMON_KEYS | {"tables", "chart", "cells"},
    "respondents": COMMON_KEYS | {"rows", "columns", "number", "title", "caption", "where", "labels", "headers",
                                  "order", "by_order", "cells", "percent", "unit", "notes", "row_header", "chart"},
    "codebook": COMMON_KEYS | {"themes", "max_examples"},
    "quotes": COMMON_KEYS | {"codes", "max_per_code", "per_case", "attribution", "missing", "include_suggested",
                             "min_chars", "max_chars", "respondents_only", "quote_marks"},
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
TEMPLATE_NAME = "annex-template.docx"

#: style name -> fallbacks tried in order when a template lacks it
STYLE_FALLBACKS = {
    "Title": ("Title", "Heading 1"),
    "Subtitle": ("Subtitle",),
    "Heading 1": ("Heading 1",),
    "Heading 2": ("Heading 2",),
    "Heading 3": ("Heading 3",),
    "Caption": ("Caption",),
    "Table Description": ("Caption",),
    "Table Text": ("No Spacing",),
    "Table Heading": ("Table Text", "No Spacing"),
    "Table Note": ("Footnote Text", "No Spacing"),
    "Quote": ("Quote", "Intense Quote"),
    "Attribution": ("Quote",),
    "Story Text": ("Body Text",),
    "Interviewer Text": ("Story Text", "Body Text"),
    "Annex Table": ("Table Grid",),
}

ProgressFn = Callable[[str, int, int], None]


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
        raise _err(f"'{what}' must be a whole number of at least {minimum}", path, line, f"write {what}: {max(minimum, 1)}")
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
        raise _err(f"'{what}' is not a valid template ({exc})", path, line,
                   "write fields as {name}; double the braces ({{ }}) for a literal brace") from None
    for _literal, name, spec, conv in parsed:
        if name is None:
            continue
        if not name or not re.match(r"^[A-Za-z_][\w ]*$", name) or spec or conv:
            raise _err(f"'{what}' has a field '{{{name}}}' that cannot be used", path, line,
                       "write fields as {column_name} (a column of the cases file), without ':' or '!'")
        names.append(name)
    return names


def _chart(value, *, path, line) -> ChartOptions | None:
    if value is None or value is False:
        return None
    if value is True:
        return ChartOptions()
    if not isinstance(value, dict):
        raise _err("'chart' must be true, false or a mapping", path, line,
                   "write chart: true, or chart: {values: percent, no_response: false}")
    check_keys(value, CHART_KEYS, path=path, where="'chart'")
    values = _str(value.get("values"), path=path, line=line_of(value, "values"), what="values") or "auto"
    if values not in ("auto", "count", "percent"):
        raise _err(f"unknown chart values '{values}'", path, line_of(value, "values"), "use values: count, percent or auto")
    width = value.get("width_cm", 15.5)
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 4 <= width <= 26:
        raise _err("'width_cm' must be a number from 4 to 26", path, line_of(value, "width_cm"), "write width_cm: 15")
    total = value.get("total")
    return ChartOptions(
        values=values,
        no_response=_bool(value.get("no_response"), path=path, line=line_of(value, "no_response"), what="no_response", default=False),
        total=None if total is None else _bool(total, path=path, line=line_of(value, "total"), what="total", default=False),
        columns=_str_list(value.get("columns"), path=path, line=line_of(value, "columns"), what="columns") or None,
        title=_str(value.get("title"), path=path, line=line_of(value, "title"), what="title") or None,
        width_cm=float(width),
    )


def _cells(value, *, path, line) -> str | None:
    cells = _str(value, path=path, line=line, what="cells") or None
    if cells not in (None, "count", "n_pct"):
        raise _err(f"unknown cells '{cells}'", path, line, "use cells: count (numbers) or cells: n_pct (\"n (x%)\")")
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
    from .tablespec import parse_table_specs

    lst = LineList([raw])
    lst.line = line_of(raw)
    lst.lines = [line_of(raw)]
    return parse_table_specs(lst, path)[0]


def _parse_section(raw, *, path: Path, index: int, table_specs: list | None, tables_path: Path | None,
                   include_suggested: bool) -> Section:
    where = f"section {index + 1}"
    if not isinstance(raw, dict):
        raise _err(f"{where} must be a mapping", path, line_of(raw), "start it with '- type: tables' (or codebook, quotes, ...)")
    stype = raw.get("type")
    if stype not in SECTION_TYPES:
        shown = f"'{stype}'" if stype is not None else "no type"
        raise _err(f"{where} has {shown}", path, line_of(raw, "type") if "type" in raw else line_of(raw),
                   "give 'type:' one of " + ", ".join(SECTION_TYPES))
    check_keys(raw, SECTION_KEYS[stype], path=path, where=f"{where} ({stype})")
    ln = lambda k: line_of(raw, k)  # noqa: E731
    sec = Section(
        type=stype,
        heading=_str(raw.get("heading"), path=path, line=ln("heading"), what="heading"),
        intro=_str_list(raw.get("intro"), path=path, line=ln("intro"), what="intro"),
        new_page=_bool(raw.get("new_page"), path=path, line=ln("new_page"), what="new_page", default=None),
        landscape=_bool(raw.get("landscape"), path=path, line=ln("landscape"), what="landscape", default=stype == "codebook"),
        line=line_of(raw),
        lines=dict(getattr(raw, "lines", {}) or {}),
    )
    if stype == "tables":
        default_chart = _chart(raw.get("chart"), path=path, line=ln("chart"))
        default_cells = _cells(raw.get("cells"), path=path, line=ln("cells"))
        items = raw.get("tables")
        if not isinstance(items, list) or not items:
            raise _err(f"{where} (tables) needs a 'tables' list", path, ln("tables") if "tables" in raw else sec.line,
                       "list table ids or numbers from the table spec (tables: [t23, \"24\"]) or inline tables")
        for i, item in enumerate(items):
            item_line = items.lines[i] if isinstance(items, LineList) else sec.line
            sec.tables.append(_table_item(item, path=path, line=item_line, table_specs=table_specs,
                                          tables_path=tables_path, default_chart=default_chart,
                                          default_cells=default_cells))
    elif stype == "respondents":
        if not raw.get("rows"):
            raise _err(f"{where} (respondents) has no 'rows'", path, sec.line,
                       "give rows: <cases column> (e.g. province) and optionally columns: <cases column>")
        inline = _sub_mapping(raw, ["rows", "columns", "number", "title", "caption", "where", "labels", "headers",
                                    "order", "by_order", "cells", "percent", "unit", "notes", "row_header"],
                              {"rows": "attribute", "columns": "by"})
        inline["id"] = "respondents" if index == 0 else f"respondents{index + 1}"
        inline.lines["id"] = sec.line
        inline.setdefault("unit", "respondents")
        if "title" not in inline:
            inline["title"] = "Respondents by " + str(raw["rows"]).replace("_", " ") + (
                " and " + str(raw["columns"]).replace("_", " ") if raw.get("columns") else "")
        spec = _inline_table(inline, path)
        sec.tables.append(TableItem(spec=spec, chart=_chart(raw.get("chart"), path=path, line=ln("chart")),
                                    cells=spec.cells, line=sec.line))
    elif stype == "codebook":
        sec.themes = _str_list(raw.get("themes"), path=path, line=ln("themes"), what="themes") or None
        sec.max_examples = _int(raw.get("max_examples"), path=path, line=ln("max_examples"), what="max_examples", default=None)
    elif stype == "quotes":
        sec.codes = _str_list(raw.get("codes"), path=path, line=ln("codes"), what="codes")
        if not sec.codes:
            raise _err(f"{where} (quotes) has no 'codes'", path, sec.line,
                       "list the codes to quote: codes: [family.poor_family, recruitment] (a theme id takes all its codes)")
        sec.max_per_code = _int(raw.get("max_per_code"), path=path, line=ln("max_per_code"), what="max_per_code", default=3, minimum=1)
        sec.per_case = _int(raw.get("per_case"), path=path, line=ln("per_case"), what="per_case", default=1, minimum=1)
        attribution = raw.get("attribution")
        sec.attribution = _str_list(attribution, path=path, line=ln("attribution"), what="attribution") or [DEFAULT_ATTRIBUTION]
        for t in sec.attribution:
            _check_template(t, path=path, line=ln("attribution"), what="attribution")
        sec.missing = _missing(raw.get("missing"), path=path, line=ln("missing"))
        sec.include_suggested = _bool(raw.get("include_suggested"), path=path, line=ln("include_suggested"),
                                      what="include_suggested", default=include_suggested)
        sec.min_chars = _int(raw.get("min_chars"), path=path, line=ln("min_chars"), what="min_chars", default=0)
        sec.max_chars = _int(raw.get("max_chars"), path=path, line=ln("max_chars"), what="max_chars", default=None, minimum=1)
        sec.respondents_only = _bool(raw.get("respondents_only"), path=path, line=ln("respondents_only"),
                                     what="respondents_only", default=True)
        sec.quote_marks = _bool(raw.get("quote_marks"), path=path, line=ln("quote_marks"), what="quote_marks", default=True)
    elif stype == "life_stories":
        stories = raw.get("stories")
        if not isinstance(stories, list) or not stories:
            raise _err(f"{where} (life_stories) needs a 'stories' list", path, ln("stories") if "stories" in raw else sec.line,
                       "list stories as '- {document: int01, pseudonym: Mai}'")
        for i, st in enumerate(stories):
            st_line = stories.lines[i] if isinstance(stories, LineList) else sec.line
            check_keys(st, STORY_KEYS, path=path, where=f"story {i + 1} of {where}", required=("document", "pseudonym"))
            sl = lambda k: line_of(st, k)  # noqa: E731
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
        sec.interviewer = _bool(raw.get("interviewer"), path=path, line=ln("interviewer"), what="interviewer", default=False)
        sec.story_heading = _str(raw.get("story_heading"), path=path, line=ln("story_heading"), what="story_heading") or DEFAULT_STORY_HEADING
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
        raise _err("'missing' must be error, skip or a replacement text", path, line,
                   "write missing: error (stop), missing: skip (leave the quote out) or missing: \"unknown\"")
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
        raise _err("a table reference must be a table id or number", path, line, "write e.g. - t23 or - \"23\"")
    ref = str(ref).strip()
    if table_specs is None:
        raise _err(f"table '{ref}' is referenced but the annex spec names no table spec", path, line,
                   "add 'tables: tables.yaml' at the top of the annex spec, or write the table inline")
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

    def p(key: str, project_key: str | None = None, default: Path | None = None) -> Path | None:
        if key in raw and raw[key] is not None:
            return _path(raw[key], base=base, path=path, line=ln(key), what=key)
        if settings is not None and getattr(settings, "project_file", None) is not None and project_key:
            value = settings.path(None, project_key)
            if value is not None:
                return value
        return default

    output_dir = None
    if settings is not None and getattr(settings, "project_file", None) is not None:
        output_dir = settings.path(None, "output")
    spec = AnnexSpec(
        path=path,
        sections=[],
        title=_str(raw.get("title"), path=path, line=ln("title"), what="title"),
        subtitle=_str(raw.get("subtitle"), path=path, line=ln("subtitle"), what="subtitle"),
        author=_str(raw.get("author"), path=path, line=ln("author"), what="author"),
        segments=p("segments", "code.segments", output_dir / "segments.csv" if output_dir else None),
        cases=p("cases", "cases"),
        codebook=p("codebook", "codebook"),
        tables=p("tables", "tables.spec"),
        transcripts=p("transcripts", None, output_dir / "transcripts" if output_dir else None),
        table_caption=_str(raw.get("table_caption"), path=path, line=ln("table_caption"), what="table_caption") or DEFAULT_TABLE_CAPTION,
        figure_caption=_str(raw.get("figure_caption"), path=path, line=ln("figure_caption"), what="figure_caption") or DEFAULT_FIGURE_CAPTION,
        allow=_str_list(raw.get("allow"), path=path, line=ln("allow"), what="allow"),
        lines=dict(getattr(raw, "lines", {}) or {}),
    )
    for key in ("table_caption", "figure_caption"):
        names = _check_template(getattr(spec, key), path=path, line=ln(key), what=key)
        bad = [n for n in names if n not in ("number", "title")]
        if bad:
            raise _err(f"'{key}' has an unknown field '{{{bad[0]}}}'", path, ln(key), "use {number} and {title}")
    include_suggested = _bool(raw.get("include_suggested"), path=path, line=ln("include_suggested"),
                              what="include_suggested", default=False)
    sections_raw = raw["sections"]
    if not isinstance(sections_raw, list) or not sections_raw:
        raise _err("'sections' must be a non-empty list", path, ln("sections"),
                   "list sections as '- type: tables' (or codebook, quotes, respondents, life_stories, text)")
    table_specs = None
    needs_specs = any(isinstance(s, dict) and s.get("type") == "tables" and isinstance(s.get("tables"), list)
                      and any(not isinstance(t, dict) or "table" in t for t in s["tables"]) for s in sections_raw)
    if needs_specs and spec.tables is not None:
        from .tablespec import load_table_specs

        if not spec.tables.is_file():
            raise _err("table spec not found", path, ln("tables") if "tables" in raw else None,
                       f"check the path ({spec.tables}) or write the tables inline")
        table_specs = load_table_specs(spec.tables)
    for i, s in enumerate(sections_raw):
        spec.sections.append(_parse_section(s, path=path, index=i, table_specs=table_specs, tables_path=spec.tables,
                                            include_suggested=include_suggested))
    _number_tables(spec)
    return spec


def _number_tables(spec: AnnexSpec) -> None:
    """Tables without a number continue from the highest whole number before them; duplicates are errors."""
    import dataclasses

    seen: dict[str, int | None] = {}
    highest = 0
    for sec in spec.sections:
        for i, item in enumerate(sec.tables):
            number = item.spec.number
            if number is None:
                highest += 1
                number = str(highest)
                item.spec = dataclasses.replace(item.spec, number=number)
            elif number.isdigit():
                highest = max(highest, int(number))
            if number in seen:
                raise _err(f"two tables are numbered {number} (first at line {seen[number]})", spec.path, item.line,
                           "give each table its own 'number:' in the table spec, or leave it out to number it automatically")
            seen[number] = item.line


def load_annex_spec(path: str | Path, *, settings=None) -> AnnexSpec:
    """Read an annex spec YAML (paths in it are relative to the file; *settings* fills project defaults)."""
    path = Path(path)
    raw = load_yaml(path, error=ConfigError, what="annex spec")
    return parse_annex_spec(raw, path, settings=settings)


# =========================================================================== safety: key leaks

def _fold_char_map(text: str) -> tuple[str, list[int] | None]:
    """Case- and diacritic-folded *text* and a map from folded offsets to original ones."""
    try:
        from .redact.fold import fold_text
    except ImportError:  # pragma: no cover - the redaction package is part of qualkit
        fold_text = None
    if fold_text is not None:
        ft = fold_text(text)
        return ft.text, ft.orig
    chars, orig = [], []
    for i, ch in enumerate(text):
        if unicodedata.combining(ch):
            continue
        base = unicodedata.normalize("NFD", ch)[0].lower()
        chars.append({"đ": "d"}.get(base, base))
        orig.append(i)
    return "".join(chars), orig


_WORD_RE = re.compile(r"\w+")


def _tokens(text: str) -> tuple[str, ...]:
    folded, _ = _fold_char_map(text)
    return tuple(_WORD_RE.findall(folded))


@dataclass
class KeyIdentifier:
    tokens: tuple[str, ...]
    label: str
    line: int | None = None  # line of the entry in the key file (to look it up there, privately)


def read_key_identifiers(path: str | Path) -> list[KeyIdentifier]:
    """The originals of a redaction key CSV (columns original,label,replacement,first_document).

    Read with the csv module; the key file is private and is never copied or quoted.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("redaction key not found", file=path, fix="give --key PRIVATE/redaction-key.csv (written by qualkit redact)") from None
    except UnicodeDecodeError:
        raise InputError("redaction key is not UTF-8 text", file=path, fix="save it as UTF-8 CSV") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "original" not in fields:
        raise InputError("redaction key has no 'original' column", file=path, line=1,
                         fix="use the key written by qualkit redact (columns original,label,replacement,first_document)")
    out: list[KeyIdentifier] = []
    for row in reader:
        line = reader.line_num
        row = {(k or "").strip().lower(): (v or "") for k, v in row.items() if k is not None}
        original = row.get("original", "").strip()
        if not original:
            continue
        toks = _tokens(original)
        if toks:
            out.append(KeyIdentifier(toks, (row.get("label") or "").strip().upper() or "IDENTIFIER", line))
    return out


@dataclass(frozen=True)
class LeakHit:
    source: str  # "document int01", "attribution of case v01", "codebook family.poor_family (examples)"
    offset: int  # character offset in the document text (or in that piece of text)
    label: str
    file: str | None = None
    key_line: int | None = None  # the entry's line in the (private) key file


class LeakGuard:
    """Finds a redaction key's originals in text: case- and diacritic-insensitive, whole words."""

    def __init__(self, identifiers: Iterable[KeyIdentifier] = (), allow: Iterable[str] = ()) -> None:
        allowed = {t for t in (_tokens(a) for a in allow) if t}
        self.allowed = allowed
        self.allowed_lengths = sorted({len(t) for t in allowed}, reverse=True)
        self.entries: dict[tuple[str, ...], tuple[str, int | None]] = {}
        for ident in identifiers:
            if ident.tokens and ident.tokens not in allowed:
                self.entries.setdefault(ident.tokens, (ident.label, ident.line))
        self.lengths = sorted({len(t) for t in self.entries}, reverse=True)
        self.hits: list[LeakHit] = []
        self.checked = 0

    @property
    def active(self) -> bool:
        return bool(self.entries)

    def find(self, text: str) -> list[tuple[int, int, tuple[str, int | None]]]:
        """(start, end, (label, key line)) of each identifier in *text* (original offsets)."""
        if not self.entries or not text:
            return []
        folded, orig = _fold_char_map(text)
        words = [(m.start(), m.end(), m.group()) for m in _WORD_RE.finditer(folded)]
        toks = [w[2] for w in words]
        # words inside an allowed phrase are not checked ("Khanh Hoa" allowed, "Hoa" alone still refused)
        masked = [False] * len(words)
        i = 0
        while self.allowed and i < len(words):
            for n in self.allowed_lengths:
                if i + n <= len(words) and tuple(toks[i:i + n]) in self.allowed:
                    for k in range(i, i + n):
                        masked[k] = True
                    i += n - 1
                    break
            i += 1
        out = []
        i = 0
        while i < len(words):
            for n in self.lengths:
                if any(masked[i:i + n]):
                    continue
                if i + n <= len(words) and tuple(toks[i:i + n]) in self.entries:
                    s, e = words[i][0], words[i + n - 1][1]
                    if orig is not None:
                        s, e = orig[s], (orig[e - 1] + 1 if e - 1 < len(orig) else len(text))
                    out.append((s, e, self.entries[tuple(toks[i:i + n])]))
                    i += n - 1
                    break
            i += 1
        return out

    def check(self, text: str, source: str, *, base: int = 0, file: str | None = None) -> None:
        """Record every identifier found in *text* (offsets shifted by *base*)."""
        self.checked += 1
        for s, _e, (label, key_line) in self.find(text):
            self.hits.append(LeakHit(source, base + s, label, file, key_line))

    def raise_if_leaks(self) -> None:
        """LeakError naming where each hit is (document/offset) and which key line it matched, never the text."""
        if not self.hits:
            return
        first = self.hits[0]
        shown = "; ".join(f"{h.source} at offset {h.offset} ({h.label}, key line {h.key_line})" for h in self.hits[:5])
        more = f" and {len(self.hits) - 5} more" if len(self.hits) > 5 else ""
        lines = sorted({h.key_line for h in self.hits if h.key_line is not None})
        entries = f" of {len(lines)} key entr{'y' if len(lines) == 1 else 'ies'} (key line{'' if len(lines) == 1 else 's'} " + \
            ", ".join(str(x) for x in lines[:12]) + (", ..." if len(lines) > 12 else "") + ")" if lines else ""
        raise LeakError(
            f"the annex would contain {len(self.hits)} identifier(s){entries} from the redaction key: "
            f"{shown}{more}; nothing was written",
            file=first.file,
            fix="redact those documents again (qualkit redact) and re-code them, or correct the text at those "
                "offsets; if a key entry is not an identifier (a redaction mistake) or is published on purpose "
                "(e.g. a province in attributions), delete it from the key or list it under 'allow:' in the annex spec")


# =========================================================================== docx helpers

def default_template() -> Path:
    """The template shipped with qualkit (src/qualkit/data/annex-template.docx)."""
    return Path(str(resources.files("qualkit") / "data" / TEMPLATE_NAME))


def _open_template(path: Path | None):
    """Open *path* (a .docx or .dotx) as the base document and clear its body."""
    import docx
    from docx.oxml.ns import qn

    path = Path(path) if path is not None else default_template()
    if not path.is_file():
        raise InputError("Word template not found", file=path, fix="give --template FILE.docx or leave it out to use qualkit's")
    try:
        data = path.read_bytes()
        if path.suffix.lower() in (".dotx", ".dotm") or b"template.main+xml" in _content_types(data):
            data = _template_as_document(data)
        doc = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"Word template cannot be opened ({type(exc).__name__})", file=path,
                         fix="give a .docx or .dotx saved by Word or LibreOffice") from None
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    return doc


def _content_types(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.read("[Content_Types].xml")
    except (zipfile.BadZipFile, KeyError):
        return b""


def _template_as_document(data: bytes) -> bytes:
    """A .dotx declares its main part as a template; python-docx opens only documents."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                payload = payload.replace(b"wordprocessingml.template.main+xml", b"wordprocessingml.document.main+xml")
                payload = payload.replace(b"ms-word.template.macroEnabledTemplate.main+xml",
                                          b"wordprocessingml.document.main+xml")
            dst.writestr(info, payload)
    return out.getvalue()


class Writer:
    """Appends styled content to a python-docx Document; every text passes the leak guard."""

    def __init__(self, doc, guard: LeakGuard) -> None:
        self.doc = doc
        self.guard = guard
        self.missing_styles: set[str] = set()
        self._style_cache: dict[tuple[str, int], Any] = {}
        self.tables = 0
        self.figures = 0
        self.quotes = 0
        self.stories = 0
        self.blocks = 0  # paragraphs/tables written (to know whether a page break is needed)

    # -- styles ----------------------------------------------------------------------------
    def style(self, name: str, kind: str = "paragraph"):
        from docx.enum.style import WD_STYLE_TYPE

        want = WD_STYLE_TYPE.TABLE if kind == "table" else WD_STYLE_TYPE.PARAGRAPH
        key = (name, int(want))
        if key in self._style_cache:
            return self._style_cache[key]
        found = None
        for candidate in (name,) + STYLE_FALLBACKS.get(name, ()):
            try:
                st = self.doc.styles[candidate]
            except KeyError:
                continue
            if st.type == want:
                found = st
                break
        if found is None or found.name != name:
            self.missing_styles.add(name)
        self._style_cache[key] = found
        return found

    def _direct_format(self, paragraph, name: str) -> None:
        """Direct formatting for a style the template lacks (so headings still look like headings)."""
        from docx.shared import Pt

        if self.style(name) is not None and self.style(name).name == name:
            return
        sizes = {"Title": 20, "Heading 1": 16, "Heading 2": 13, "Heading 3": 11, "Caption": 10}
        if name in sizes or name == "Table Heading":
            for r in paragraph.runs:
                r.bold = True
                if name in sizes:
                    r.font.size = Pt(sizes[name])
            paragraph.paragraph_format.keep_with_next = True
        elif name in ("Table Note", "Table Text", "Table Description"):
            for r in paragraph.runs:
                r.font.size = Pt(8.5 if name == "Table Note" else 9)
                if name == "Table Description":
                    r.italic = True
        elif name in ("Quote", "Interviewer Text"):
            for r in paragraph.runs:
                r.italic = True

    # -- text ------------------------------------------------------------------------------
    def paragraph(self, text: str, style: str = "Normal", *, source: str = "", base: int = 0, file: str | None = None,
                  bold: bool = False, italic: bool = False, container=None, check: bool = True):
        """Append a paragraph; *check=False* when the caller checked the text at its source offsets."""
        if check:
            self.guard.check(text, source, base=base, file=file)
        container = container if container is not None else self.doc
        p = container.add_paragraph()
        st = self.style(style)
        if st is not None:
            p.style = st
        if text:
            run = p.add_run(text)
            run.bold = bold or None
            run.italic = italic or None
        self._direct_format(p, style)
        self.blocks += 1
        return p

    def heading(self, text: str, level: int, *, source: str):
        p = self.paragraph(text, f"Heading {level}", source=source)
        p.paragraph_format.keep_with_next = True
        return p

    def page_break(self) -> None:
        from docx.enum.text import WD_BREAK

        if self.blocks == 0:
            return
        p = self.doc.add_paragraph()
        p.add_run().add_break(WD_BREAK.PAGE)

    def new_section(self, landscape: bool) -> None:
        """Start a new page section in portrait or landscape (footers stay linked: page numbers continue)."""
        from docx.enum.section import WD_ORIENT, WD_SECTION

        current = self.doc.sections[-1]
        is_landscape = current.orientation == WD_ORIENT.LANDSCAPE
        if is_landscape == landscape:
            self.page_break()
            return
        if self.blocks == 0:
            sec = current
        else:
            sec = self.doc.add_section(WD_SECTION.NEW_PAGE)
        w, h = sec.page_width, sec.page_height
        if (landscape and w < h) or (not landscape and w > h):
            sec.page_width, sec.page_height = h, w
        sec.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT

    @property
    def landscape(self) -> bool:
        sec = self.doc.sections[-1]
        return sec.page_width > sec.page_height

    @property
    def text_width(self):
        sec = self.doc.sections[-1]
        return sec.page_width - sec.left_margin - sec.right_margin

    def caption(self, fmt: str, kind: str, number: str, title: str, *, source: str):
        """A caption paragraph: "Table 23: title", the number as a SEQ field when it is a whole number."""
        text = fmt.replace("{number}", number).replace("{title}", title)
        self.guard.check(text, source)
        p = self.doc.add_paragraph()
        st = self.style("Caption")
        if st is not None:
            p.style = st
        before, sep, after = fmt.partition("{number}")
        if sep and number.isdigit():
            if before.replace("{title}", title):
                p.add_run(before.replace("{title}", title))
            _add_field(p, f"SEQ {kind} \\r {number} \\* ARABIC", number)
            if after.replace("{title}", title):
                p.add_run(after.replace("{title}", title))
        else:
            p.add_run(text)
        p.paragraph_format.keep_with_next = True
        self._direct_format(p, "Caption")
        self.blocks += 1
        return p

    # -- tables ----------------------------------------------------------------------------
    def table(self, headers: list[str], rows: list[list[str]], *, source: str, widths: list[float] | None = None,
              numeric: list[bool] | None = None, total_row: bool = False, bold_rows: Iterable[int] = (),
              band_rows: dict[int, str] | None = None, fraction: float = 1.0):
        """A table with a repeated header row; *widths* are shares of the table width, which is
        *fraction* of the text width."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml.ns import qn

        ncols = len(headers)
        for j, h in enumerate(headers):
            self.guard.check(h, f"{source} (column heading {j + 1})")
        for i, r in enumerate(rows):
            for j, c in enumerate(r):
                self.guard.check(c, f"{source} (row {i + 1}, column {j + 1})")
        for i, text in (band_rows or {}).items():
            self.guard.check(text, f"{source} (row {i + 1})")
        n_body = len(rows) + len(band_rows or {})
        table = self.doc.add_table(rows=1 + n_body, cols=ncols)
        st = self.style("Annex Table", "table")
        if st is not None:
            table.style = st
        else:
            _set_borders(table)
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        table.autofit = False
        _table_look(table, first_row=True, last_row=total_row)
        numeric = numeric or [False] * ncols
        total_w = int(self.text_width * max(0.3, min(1.0, fraction)))
        shares = widths or [1 / ncols] * ncols
        col_w = [int(total_w * s) for s in shares]
        tbl = table._tbl
        layout = tbl.tblPr.find(qn("w:tblLayout"))
        if layout is None:
            from docx.oxml import OxmlElement

            layout = OxmlElement("w:tblLayout")
            tbl.tblPr.append(layout)
        layout.set(qn("w:type"), "fixed")
        for j, col in enumerate(table.columns):
            col.width = col_w[j]
        head_style, text_style = self.style("Table Heading"), self.style("Table Text")

        def fill(cell, text, *, style, align=None, bold=False, width=None):
            p = cell.paragraphs[0]
            if style is not None:
                p.style = style
            if align is not None:
                p.alignment = align
            lines = str(text).split("\n")
            for k, line in enumerate(lines):
                if k:
                    p = cell.add_paragraph()
                    if style is not None:
                        p.style = style
                    if align is not None:
                        p.alignment = align
                run = p.add_run(line)
                if bold:
                    run.bold = True
                if style is None or style.name not in ("Table Text", "Table Heading"):
                    from docx.shared import Pt

                    run.font.size = Pt(9)
            if width is not None:
                cell.width = width

        header = table.rows[0]
        _repeat_header(header)
        for j, h in enumerate(headers):
            fill(header.cells[j], h, style=head_style, bold=True, width=col_w[j],
                 align=WD_ALIGN_PARAGRAPH.RIGHT if numeric[j] else WD_ALIGN_PARAGRAPH.LEFT)
        bold_rows = set(bold_rows)
        # no widow/orphan rows: the header stays with the first two rows, the last four rows stay
        # together (a table of up to six rows is kept whole); longer tables may break in between
        # and repeat their header row on the next page
        keep_rows = {i for i in range(n_body - 1) if i < 2 or i >= n_body - 4}
        r_index = 1
        data_i = 0
        band_rows = band_rows or {}
        for out_i in range(n_body):
            row = table.rows[r_index]
            _cant_split(row)
            if out_i in band_rows:
                merged = row.cells[0].merge(row.cells[-1])
                fill(merged, band_rows[out_i], style=head_style, bold=True)
                _shade(merged, "F2F2F2")
            else:
                values = rows[data_i]
                data_i += 1
                last = total_row and data_i == len(rows)
                for j, v in enumerate(values):
                    fill(row.cells[j], v, style=text_style, bold=last or (data_i - 1) in bold_rows, width=col_w[j],
                         align=WD_ALIGN_PARAGRAPH.RIGHT if numeric[j] else None)
            if out_i in keep_rows:
                for cell in row.cells:
                    for par in cell.paragraphs:
                        par.paragraph_format.keep_with_next = True
            r_index += 1
        for cell in header.cells:
            for par in cell.paragraphs:
                par.paragraph_format.keep_with_next = True
        self.blocks += 1
        return table

    def picture(self, png: bytes, width_cm: float):
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm

        width = min(Cm(width_cm), self.text_width)
        self.doc.add_picture(io.BytesIO(png), width=width)
        p = self.doc.paragraphs[-1]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.keep_with_next = True
        self.blocks += 1
        return p


def _add_field(paragraph, instruction: str, shown: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def run_with(child):
        r = OxmlElement("w:r")
        r.append(child)
        paragraph._p.append(r)

    for kind, payload in (("begin", None), ("instr", instruction), ("separate", None), ("text", shown), ("end", None)):
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {payload} "
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = payload
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        run_with(el)


def _repeat_header(row) -> None:
    """Mark *row* as a header row repeated at the top of each page (w:tblHeader)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)
    _cant_split(row)


def _cant_split(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    if trpr.find(qn("w:cantSplit")) is None:
        el = OxmlElement("w:cantSplit")
        el.set(qn("w:val"), "true")
        trpr.insert(0, el)


def _table_look(table, *, first_row: bool, last_row: bool) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tblpr = table._tbl.tblPr
    look = tblpr.find(qn("w:tblLook"))
    if look is None:
        look = OxmlElement("w:tblLook")
        tblpr.append(look)
    flags = {"firstRow": first_row, "lastRow": last_row, "firstColumn": False, "lastColumn": False,
             "noHBand": True, "noVBand": True}
    val = (0x20 if first_row else 0) | (0x40 if last_row else 0) | 0x200 | 0x400
    look.set(qn("w:val"), f"{val:04X}")
    for k, v in flags.items():
        look.set(qn(f"w:{k}"), "1" if v else "0")


def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _set_borders(table) -> None:
    """Plain single borders when the template has neither 'Annex Table' nor 'Table Grid'."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    table._tbl.tblPr.append(borders)


# =========================================================================== inputs

@dataclass
class Inputs:
    spec: AnnexSpec
    segments: Any = None  # DataFrame
    cases: Any = None  # DataFrame (strings, "" = missing), indexed by case id
    cases_path: Path | None = None
    codebook: Any = None
    documents: dict[str, Path] = field(default_factory=dict)  # redacted transcripts by id
    _docs: dict[str, Any] = field(default_factory=dict)
    _norm: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    unverified: set[str] = field(default_factory=set)  # quoted documents missing from the redacted folder

    def document(self, doc_id: str):
        from .readers import read_document

        if doc_id in self._docs:
            return self._docs[doc_id]
        path = self.documents.get(doc_id)
        if path is None:
            return None
        doc = read_document(path)
        self._docs[doc_id] = doc
        return doc

    def case_row(self, case_id: str) -> dict[str, str] | None:
        if self.cases is None or case_id not in self.cases.index:
            return None
        return {k: str(v) for k, v in self.cases.loc[case_id].items()}

    def case_line(self, case_id: str) -> int | None:
        if self.cases is None or case_id not in self.cases.index:
            return None
        return int(list(self.cases.index).index(case_id)) + 2


def _needs(spec: AnnexSpec) -> set[str]:
    need: set[str] = set()
    for sec in spec.sections:
        if sec.type in ("tables", "respondents"):
            need.add("cases")
            if any(it.spec.theme for it in sec.tables):
                need.add("segments")
        elif sec.type == "codebook":
            need.add("codebook")
        elif sec.type == "quotes":
            need.update({"segments", "cases"})
        elif sec.type == "life_stories":
            need.add("transcripts")
            if any("{" in (st.heading or sec.story_heading) for st in sec.stories):
                need.add("cases")
    return need


def check_transcripts_folder(folder: Path, originals: Path | None, *, spec_path=None, line=None) -> None:
    """Refuse the original transcripts (or a folder holding them) as the source of quotes and stories."""
    if originals is None:
        return
    from .fsutil import is_inside

    if is_inside(folder, originals) or is_inside(originals, folder):
        raise SafetyError(
            "the annex's transcripts folder is (or holds) the ORIGINAL transcripts of the project",
            file=spec_path, line=line,
            fix="give the folder of redacted transcripts written by 'qualkit redact' (e.g. output/transcripts)")


def _load_inputs(spec: AnnexSpec, *, originals: Path | None) -> Inputs:
    from .cases import read_cases
    from .codebook import load_codebook
    from .readers import iter_inputs
    from .segments import read_segments

    need = _needs(spec)
    inputs = Inputs(spec=spec)

    def required(attr: str, what: str, fix: str) -> Path:
        value = getattr(spec, attr)
        if value is None:
            raise ConfigError(f"the annex needs {what} but the spec names none", file=spec.path,
                              line=spec.line(attr), fix=fix)
        return value

    if "cases" in need:
        inputs.cases_path = required("cases", "the cases file", "add 'cases: cases.csv' at the top of the annex spec")
        cases = read_cases(inputs.cases_path)
        cases.attrs["path"] = str(inputs.cases_path)
        inputs.cases = cases
    if "segments" in need:
        path = required("segments", "the coded segments", "add 'segments: output/segments.csv' at the top of the annex spec")
        seg = read_segments(path)
        seg.attrs["path"] = str(path)
        inputs.segments = seg
    if spec.codebook is not None and (spec.codebook.is_file() or "codebook" in need):
        inputs.codebook = load_codebook(spec.codebook)
    elif "codebook" in need:
        required("codebook", "the codebook", "add 'codebook: codebook.yaml' at the top of the annex spec")
    quotes = any(s.type == "quotes" for s in spec.sections)
    if "transcripts" in need or (quotes and spec.transcripts is not None):
        folder = required("transcripts", "the folder of redacted transcripts",
                          "add 'transcripts: output/transcripts' (the redacted copies) at the top of the annex spec")
        check_transcripts_folder(folder, originals, spec_path=spec.path, line=spec.line("transcripts"))
        if not folder.is_dir():
            if "transcripts" in need or "transcripts" in spec.lines:
                raise InputError("redacted transcripts folder not found", file=folder,
                                 fix="run 'qualkit redact' first or correct 'transcripts:' in the annex spec")
        else:
            for inp in iter_inputs([folder]):
                doc_id = inp.path.stem
                if inp.path.name.startswith(".") or doc_id.endswith("redaction-log"):
                    continue
                if doc_id in inputs.documents and inputs.documents[doc_id] != inp.path:
                    inputs.documents.setdefault(f"!dup:{doc_id}", inp.path)
                inputs.documents.setdefault(doc_id, inp.path)
    if quotes and not inputs.documents:
        inputs.warnings.append("quotes were taken from the segments' text column without checking them against "
                               "the redacted transcripts (give 'transcripts:' in the annex spec)")
    return inputs


# =========================================================================== templates (attributions)

def _fields_of(template: str) -> list[str]:
    return [name for _l, name, _s, _c in string.Formatter().parse(template) if name]


def _fill(templates: list[str], values: dict[str, str], *, missing: str, case_id: str, inputs: Inputs,
          spec_line: int | None, what: str) -> str | None:
    """The first template whose fields all have a value; None = skip; error when none fits."""
    cols = set(inputs.cases.columns) if inputs.cases is not None else set()
    for t in templates:
        unknown = [f for f in _fields_of(t) if f not in values and f not in cols and f not in ATTRIBUTION_FIELDS]
        if unknown:
            import difflib

            close = difflib.get_close_matches(unknown[0], sorted(cols | ATTRIBUTION_FIELDS), n=1)
            raise ConfigError(f"{what} uses {{{unknown[0]}}}, which is not a column of the cases file",
                              file=inputs.spec.path, line=spec_line,
                              fix=(f"did you mean {{{close[0]}}}? " if close else "") + "columns are: " + ", ".join(sorted(cols)))
    for t in templates:
        names = _fields_of(t)
        if all(_present(values.get(n)) for n in names):
            return t.format(**{n: values[n] for n in names})
    if missing == "skip":
        return None
    if missing != "error":
        t = templates[0]
        return t.format(**{n: (values.get(n) if _present(values.get(n)) else missing) for n in _fields_of(t)})
    absent = [n for n in _fields_of(templates[-1]) if not _present(values.get(n))]
    raise InputError(f"case '{case_id}' has no value for '{absent[0]}', needed by the {what}",
                     file=inputs.cases_path, line=inputs.case_line(case_id),
                     fix=f"fill it in, add a shorter fallback template to the {what} list, or set 'missing: skip' or "
                         f"'missing: \"unknown\"' in the section (line {spec_line} of {inputs.spec.path})")


def _present(v) -> bool:
    if v is None:
        return False
    s = str(v).strip()
    return s not in ("", "nan", "NaN", "<NA>", "None")


def _case_values(inputs: Inputs, case_id: str) -> dict[str, str]:
    row = inputs.case_row(case_id) or {}
    return {k: ("" if not _present(v) else str(v).strip()) for k, v in row.items()}


# =========================================================================== sections

_TAG_RE = re.compile(r"</?[a-zA-Z][^<>]{0,40}>")
_WS_RE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _WS_RE.sub(" ", text).strip()


def _render_tables(w: Writer, sec: Section, inputs: Inputs, spec: AnnexSpec) -> None:
    from .charts import chart_data, render_bar_chart
    from .tables import TOTAL_CASES, build_table, display_grid, footer_lines

    for item in sec.tables:
        table = build_table(item.spec, inputs.segments if item.spec.theme else None, inputs.cases, inputs.codebook)
        for warning in table.warnings:
            inputs.warnings.append(f"table {item.spec.id}: {warning}")
        cells = item.cells or item.spec.effective_cells
        headers, body, _footer = display_grid(table, cells)
        title = item.spec.title or table.heading
        w.caption(spec.table_caption, "Table", str(item.spec.number), title, source=f"caption of table {item.spec.id}")
        if item.spec.caption:
            w.paragraph(item.spec.caption, "Table Description", source=f"caption of table {item.spec.id}")
        ncols = len(headers)
        shares, chars = column_needs(headers, body)
        fraction = chars * 0.21 / (w.text_width / 360000)  # ~0.21 cm per character at 9 pt; EMU -> cm
        w.table(headers, body, source=f"table {item.spec.id}", widths=shares, fraction=max(0.6, fraction),
                numeric=[False] + [True] * (ncols - 1), total_row=table.rows[-1] == TOTAL_CASES)
        lines = footer_lines(table)
        if cells != table.spec.effective_cells:
            pct_line = "Percentages: share of the column total, one decimal, rounded half up."
            lines = [x for x in lines if x != pct_line]
            if cells == "n_pct":
                lines.insert(2 if table.multi_response else 1, pct_line)
        for k, line in enumerate(lines):
            p = w.paragraph(line, "Table Note", source=f"notes of table {item.spec.id}")
            p.paragraph_format.keep_with_next = item.chart is not None or k < len(lines) - 1
        w.tables += 1
        if item.chart is not None:
            opts = item.chart
            unknown = [c for c in (opts.columns or []) if c not in table.columns]
            if unknown:
                raise ConfigError(f"chart of table {item.spec.id}: no column '{unknown[0]}'", file=spec.path,
                                  line=item.line, fix="columns are the table's 'by' values: " + ", ".join(table.columns))
            w.figures += 1
            ctitle = opts.title or title
            data = chart_data(table, values=opts.values, no_response=opts.no_response, total=opts.total,
                              columns=opts.columns, title=ctitle)
            for t in data.categories + data.series:
                w.guard.check(t, f"chart of table {item.spec.id}")
            w.paragraph("", "Normal", source="spacing")
            w.picture(render_bar_chart(data, width_cm=opts.width_cm), opts.width_cm)
            w.caption(spec.figure_caption, "Figure", str(w.figures), ctitle, source=f"chart of table {item.spec.id}")


def column_needs(headers: list[str], body: list[list[str]]) -> tuple[list[float], int]:
    """Column widths (shares) from the content, and the characters the table needs in all.

    The label column gets what its longest label needs (up to ~45 characters), a
    number column what its longest header word or cell needs."""
    def longest_word(text: str) -> int:
        return max((len(x) for x in str(text).split()), default=1)

    label = min(45, max([len(headers[0])] + [len(r[0]) for r in body] + [12]))
    need = [label]
    for j in range(1, len(headers)):
        head = max(longest_word(headers[j]), (len(headers[j]) + 2) // 3)
        cells = max([len(str(r[j])) for r in body] + [1])
        need.append(max(6, head, cells) + 2)
    total = sum(need)
    return [n / total for n in need], total


def _render_codebook(w: Writer, sec: Section, inputs: Inputs, spec: AnnexSpec) -> None:
    cb = inputs.codebook
    themes = cb.themes
    if sec.themes:
        known = {t.id: t for t in cb.themes}
        bad = [t for t in sec.themes if t not in known]
        if bad:
            raise ConfigError(f"codebook section: no theme '{bad[0]}' in codebook '{cb.id}'", file=spec.path,
                              line=sec.lines.get("themes", sec.line), fix="themes are: " + ", ".join(known))
        themes = [known[t] for t in sec.themes]
    if cb.title and not sec.intro:
        w.paragraph(f"Codebook: {cb.title}" + (f" (version {cb.version})" if cb.version else ""), "Normal",
                    source="codebook title", file=str(cb.path))
    headers = ["Code", "Label", "Definition", "When to use", "When not to use", "Example"]
    longest = max([len(c.path.split(".", 1)[1]) for c in _iter_codes(themes)] + [8])
    code_share = min(0.24, max(0.12, (longest + 2) * 0.19 / (w.text_width / 360000)))
    rest = (1 - code_share - 0.12) / 4
    rows: list[list[str]] = []
    bands: dict[int, str] = {}
    for theme in themes:
        band = f"Theme: {theme.label} ({theme.id})"
        if theme.description:
            band += f" — {theme.description}"
        bands[len(rows) + len(bands)] = band
        for code in theme.walk():
            rel = code.path.split(".", 1)[1]
            indent = "\u00a0\u00a0" * (code.depth - 1)
            examples = code.examples if sec.max_examples is None else code.examples[: sec.max_examples]
            rows.append([indent + rel, code.label, code.definition, code.when_to_use, code.when_not_to_use,
                         "\n".join(f"“{e}”" for e in examples)])
    w.table(headers, rows, source=f"codebook {cb.id}", widths=[code_share, 0.12, rest, rest, rest, rest],
            numeric=[False] * 6, total_row=False, band_rows=bands)
    w.paragraph(f"{sum(1 for _ in _iter_codes(themes))} codes in {len(themes)} theme(s).", "Table Note",
                source="codebook note")


def _iter_codes(themes):
    for t in themes:
        yield from t.walk()


def _expand_codes(sec: Section, inputs: Inputs, spec: AnnexSpec) -> list[str]:
    cb = inputs.codebook
    out: list[str] = []
    for c in sec.codes:
        if "." in c:
            if cb is not None and not cb.has_code(c):
                import difflib

                close = difflib.get_close_matches(c, cb.code_paths, n=1)
                raise ConfigError(f"quotes section: no code '{c}' in codebook '{cb.id}'", file=spec.path,
                                  line=sec.lines.get("codes", sec.line),
                                  fix=f"did you mean '{close[0]}'?" if close else "use theme.code ids from the codebook")
            out.append(c)
        else:
            if cb is not None:
                try:
                    theme = cb.theme(c)
                except KeyError:
                    raise ConfigError(f"quotes section: '{c}' is neither a code (theme.code) nor a theme of codebook "
                                      f"'{cb.id}'", file=spec.path, line=sec.lines.get("codes", sec.line),
                                      fix="themes are: " + ", ".join(t.id for t in cb.themes)) from None
                out += [code.path for code in theme.codes]
            else:
                found = sorted({x for x in inputs.segments["code"] if x.startswith(c + ".") and x.count(".") == 1})
                if not found:
                    raise ConfigError(f"quotes section: no segment is coded with a code of '{c}'", file=spec.path,
                                      line=sec.lines.get("codes", sec.line), fix="check the id, or give 'codebook:'")
                out += found
    return list(dict.fromkeys(out))


@dataclass
class Quote:
    code: str
    case: str
    document: str
    start: int | None
    text: str  # as printed (whitespace collapsed, subtitle tags removed)
    attribution: str
    row: int  # line in the segments file
    raw: str = ""  # the text at its source offsets (what the leak check reads)


def select_quotes(sec: Section, inputs: Inputs, spec: AnnexSpec) -> dict[str, list[Quote]]:
    """Up to ``max_per_code`` quotes per code: accepted segments (or suggested when asked), never rejected;
    at most ``per_case`` per case; respondent speech only; text checked against the redacted transcript."""
    seg = inputs.segments
    seg_path = seg.attrs.get("path")
    allowed = {"accepted", "suggested"} if sec.include_suggested else {"accepted"}
    codes = _expand_codes(sec, inputs, spec)
    out: dict[str, list[Quote]] = {}
    cb = inputs.codebook
    for code in codes:
        picked: list[Quote] = []
        per_case: dict[str, int] = {}
        seen_text: set[str] = set()
        rows = seg[(seg["code"] == code) | seg["code"].str.startswith(code + ".")]
        rows = rows[rows["effective_status"].isin(allowed)]
        if "start" in rows.columns:
            rows = rows.assign(_order=rows["start"].fillna(-1)).sort_values(["document", "_order"], kind="stable")
        candidates = []
        for idx, r in rows.iterrows():
            line = int(idx) + 2
            case_id = str(r["case_id"])
            if inputs.cases is not None and case_id not in inputs.cases.index:
                raise InputError(f"case '{case_id}' of a quoted segment is not in the cases file", file=seg_path, line=line,
                                 fix="add the respondent to the cases file or correct the segment's document/case")
            text, start, raw = _quote_text(r, inputs, seg_path, line, sec)
            if text is None:
                continue
            n = len(text)
            if n < sec.min_chars or (sec.max_chars is not None and n > sec.max_chars):
                continue
            candidates.append((case_id, text, start, str(r["document"]), line, raw))
        # first one quote per case in turn (variety of voices), then more up to per_case
        for rnd in range(sec.per_case):
            for case_id, text, start, document, line, raw in candidates:
                if len(picked) >= sec.max_per_code:
                    break
                key = _norm(text).casefold()
                if key in seen_text or per_case.get(case_id, 0) != rnd:
                    continue
                values = _case_values(inputs, case_id)
                values.update({"case": case_id, "document": document, "code": code,
                               "code_label": cb.label_of(code) if cb is not None else code,
                               "theme_label": _theme_label(cb, code)})
                attribution = _fill(sec.attribution, values, missing=sec.missing, case_id=case_id, inputs=inputs,
                                    spec_line=sec.lines.get("attribution", sec.line), what="attribution")
                if attribution is None:
                    continue
                seen_text.add(key)
                per_case[case_id] = per_case.get(case_id, 0) + 1
                picked.append(Quote(code, case_id, document, start, text, attribution, line, raw))
        out[code] = picked
    return out


def _theme_label(cb, code: str) -> str:
    if cb is None:
        return code.split(".", 1)[0]
    try:
        return cb.theme(code.split(".", 1)[0]).label
    except KeyError:
        return code.split(".", 1)[0]


def _quote_text(r, inputs: Inputs, seg_path, line: int, sec: Section) -> tuple[str | None, int | None, str]:
    """(printed text, offset in the document, raw text): taken from, or checked against, the redacted transcript."""
    doc_id = str(r["document"])
    given = str(r.get("text", "") or "")
    start = r.get("start")
    end = r.get("end")
    start = None if start is None or str(start) in ("", "<NA>", "nan") else int(start)
    end = None if end is None or str(end) in ("", "<NA>", "nan") else int(end)
    if not inputs.documents:
        return (_norm(given) or None), start, given
    if f"!dup:{doc_id}" in inputs.documents:
        raise InputError(f"document '{doc_id}' exists twice in the redacted transcripts folder (two formats)",
                         file=inputs.documents[doc_id], fix="keep one file per document id")
    doc = inputs.document(doc_id)
    if doc is None:  # not verifiable against redacted text: never printed
        inputs.unverified.add(doc_id)
        return None, None, ""
    if start is not None and end is not None and 0 <= start < end <= len(doc.text):
        sliced = doc.text[start:end]
        if not given or _norm(sliced) == _norm(given):
            text, at = sliced, start
        else:
            text, at = None, None
    else:
        text, at = None, None
    if text is None:
        if not given:
            return None, None, ""
        key = inputs._norm.get(doc_id)
        if key is None:
            key = inputs._norm[doc_id] = _norm(doc.text)
        if _norm(given) not in key:
            raise SafetyError(
                f"the text of a quoted segment (document '{doc_id}') is not in the redacted transcript",
                file=seg_path, line=line,
                fix="code the redacted transcripts (not the originals), or correct the row's text and offsets")
        text = given
        at = doc.text.find(given) if given in doc.text else None
    if sec.respondents_only and at is not None and doc.turns:
        turn = doc.turn_at(at)
        if turn is not None and turn.role != "respondent":
            return None, None, ""
    cleaned = _TAG_RE.sub("", text) if doc.format in ("vtt", "srt") else text
    return _norm(cleaned) or None, at, text


def _render_quotes(w: Writer, sec: Section, inputs: Inputs, spec: AnnexSpec) -> None:
    quotes = select_quotes(sec, inputs, spec)
    if inputs.unverified:
        n = len(inputs.unverified)
        inputs.warnings.append(f"quotes: segments of {n} document(s) not in the redacted transcripts folder "
                               f"{spec.transcripts} were left out (e.g. {sorted(inputs.unverified)[0]})")
    cb = inputs.codebook
    for code, items in quotes.items():
        label = cb.label_of(code) if cb is not None else code
        w.heading(f"{label}", 2, source=f"heading of quotes for {code}")
        if not items:
            w.paragraph("No accepted quote for this code.", "Table Note", source="quotes note")
            inputs.warnings.append(f"quotes: no accepted segment to quote for {code}")
            continue
        for q in items:
            shown = f"“{q.text}”" if sec.quote_marks else q.text
            src_file = str(inputs.documents[q.document]) if q.document in inputs.documents else str(inputs.segments.attrs.get("path"))
            where = f"quote from document {q.document}" if q.start is not None else \
                f"quote from document {q.document} (segments row {q.row}, offset in the quote)"
            before = len(w.guard.hits)
            w.guard.check(q.raw or q.text, where, base=q.start or 0, file=src_file)
            if len(w.guard.hits) == before:
                w.guard.check(q.text, where + " (as printed)", base=q.start or 0, file=src_file)
            p = w.paragraph(shown, "Quote", check=False)
            p.paragraph_format.keep_with_next = True
            w.paragraph(q.attribution, "Attribution", source=f"attribution of case {q.case}", file=str(inputs.cases_path))
            w.quotes += 1


def _render_stories(w: Writer, sec: Section, inputs: Inputs, spec: AnnexSpec) -> None:
    for i, st in enumerate(sec.stories):
        if f"!dup:{st.document}" in inputs.documents:
            raise InputError(f"document '{st.document}' exists twice in the redacted transcripts folder",
                             file=inputs.documents[st.document], fix="keep one file per document id")
        doc = inputs.document(st.document)
        if doc is None:
            raise InputError(f"life story '{st.document}' is not in the redacted transcripts folder", file=spec.path,
                             line=st.line, fix=f"redact it into {spec.transcripts} first, or correct 'document:'")
        case_id = st.case or st.document
        values = _case_values(inputs, case_id) if inputs.cases is not None else {}
        values.update({"case": case_id, "document": st.document, "pseudonym": st.pseudonym})
        template = st.heading or sec.story_heading
        heading = _fill([template], values, missing=sec.missing if sec.missing != "skip" else "error", case_id=case_id,
                        inputs=inputs, spec_line=st.line, what="story heading")
        if i:
            w.page_break()
        w.heading(heading or st.pseudonym, 2, source=f"heading of life story {st.document}")
        for para in st.intro:
            w.paragraph(para, "Table Description", source=f"introduction of life story {st.document}")
        spoken: dict[str | None, int] = {}
        for t in doc.turns:
            if t.role == "respondent":
                spoken[t.speaker] = spoken.get(t.speaker, 0) + (t.end - t.text_start)
        if st.speaker is not None:
            if st.speaker not in spoken:
                raise InputError(f"life story '{st.document}': no respondent turn has the label '{st.speaker}'",
                                 file=spec.path, line=st.line,
                                 fix="use the respondent's label as written in the redacted transcript, or leave "
                                     "'speaker:' out (the respondent who speaks most)")
            main = st.speaker
        else:
            main = max(spoken, key=lambda k: spoken[k]) if spoken else None
        others = sum(1 for t in doc.turns if t.role == "respondent" and t.speaker != main)
        if others:
            inputs.warnings.append(f"life story {st.document}: {others} turn(s) of other speakers left out "
                                   f"(choose with 'speaker:')")
        written = 0
        for turn in doc.turns:
            if turn.role == "metadata" or (turn.role == "interviewer" and not sec.interviewer):
                continue
            if turn.role == "respondent" and turn.speaker != main:
                continue
            body = doc.text[turn.text_start:turn.end]
            if doc.format in ("vtt", "srt"):
                body = _TAG_RE.sub("", body)
            parts = [x.strip() for x in body.replace("\r", "").split("\n") if x.strip()]
            if not parts:
                continue
            w.guard.check(doc.text[turn.text_start:turn.end], f"document {st.document}", base=turn.text_start,
                          file=str(doc.path))
            label = (turn.speaker or "Interviewer") if turn.role == "interviewer" else ""
            if label:
                w.guard.check(label, f"document {st.document}", base=turn.label_start or turn.start, file=str(doc.path))
            for k, part in enumerate(parts):
                text = f"{label}: {part}" if label and k == 0 else part
                if turn.role == "interviewer":
                    q = w.paragraph(text, "Interviewer Text", italic=True, check=False)
                    q.paragraph_format.keep_with_next = True  # a question never ends a page
                else:
                    w.paragraph(text, "Story Text", check=False)
                written += 1
        if not written:
            inputs.warnings.append(f"life story {st.document}: no respondent turn found (check the speaker labels)")
        w.stories += 1


def _render_text(w: Writer, sec: Section, inputs: Inputs, spec: AnnexSpec) -> None:
    for k, para in enumerate(sec.text):
        w.paragraph(para, "Normal", source=f"text of section line {sec.line}")


RENDERERS = {
    "tables": _render_tables,
    "respondents": _render_tables,
    "codebook": _render_codebook,
    "quotes": _render_quotes,
    "life_stories": _render_stories,
    "text": _render_text,
}


# =========================================================================== assembly

@dataclass
class AnnexResult:
    document: Any  # docx.Document, in memory
    output: Path | None = None
    tables: int = 0
    figures: int = 0
    quotes: int = 0
    stories: int = 0
    sections: int = 0
    key_entries: int = 0  # identifiers the leak check searched for (0 = no key given)
    texts_checked: int = 0
    warnings: list[str] = field(default_factory=list)
    missing_styles: list[str] = field(default_factory=list)

    def __fspath__(self) -> str:  # so Path(result) works where a path is expected
        if self.output is None:
            raise TypeError("the annex has not been written")
        return str(self.output)


def _originals_from_settings(settings) -> Path | None:
    if settings is None or getattr(settings, "project_file", None) is None:
        return None
    return settings.path(None, "transcripts")


def render_annex(spec: AnnexSpec | str | Path, *, template: str | Path | None = None, key: str | Path | None = None,
                 settings=None, original_transcripts: str | Path | None = None,
                 on_progress: ProgressFn | None = None) -> AnnexResult:
    """Build the annex in memory; refuse (LeakError) if any text holds an original from *key*."""
    if not isinstance(spec, AnnexSpec):
        spec = load_annex_spec(spec, settings=settings)
    originals = Path(original_transcripts) if original_transcripts is not None else _originals_from_settings(settings)
    identifiers = read_key_identifiers(key) if key is not None else []
    guard = LeakGuard(identifiers, allow=spec.allow)
    inputs = _load_inputs(spec, originals=originals)
    doc = _open_template(Path(template) if template is not None else None)
    w = Writer(doc, guard)
    progress = on_progress or (lambda *a: None)
    if spec.title:
        w.paragraph(spec.title, "Title", source="title")
    if spec.subtitle:
        w.paragraph(spec.subtitle, "Subtitle", source="subtitle")
    total = len(spec.sections)
    for n, sec in enumerate(spec.sections, start=1):
        progress(sec.type, n - 1, total)
        if sec.landscape or w.landscape:
            w.new_section(sec.landscape)
        elif sec.new_page if sec.new_page is not None else n > 1:
            w.page_break()
        if sec.heading:
            w.heading(sec.heading, 1, source=f"heading of section {n}")
        for para in sec.intro:
            w.paragraph(para, "Normal", source=f"introduction of section {n}")
        RENDERERS[sec.type](w, sec, inputs, spec)
    progress("done", total, total)
    if w.blocks == 0:
        raise ConfigError("the annex would be empty", file=spec.path, fix="add sections with content")
    # belt and braces: every run of text in the finished document, template headers/footers included
    _scan_document(doc, guard)
    guard.raise_if_leaks()
    cp = doc.core_properties
    cp.title = spec.title or "Annex"
    cp.author = spec.author
    cp.last_modified_by = ""
    cp.comments = ""
    cp.keywords = ""
    cp.subject = ""
    cp.revision = 1
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)
    cp.created = cp.modified = now
    return AnnexResult(document=doc, tables=w.tables, figures=w.figures, quotes=w.quotes, stories=w.stories,
                       sections=total, key_entries=len(guard.entries), texts_checked=guard.checked,
                       warnings=list(dict.fromkeys(inputs.warnings)),
                       missing_styles=sorted(w.missing_styles))


def _scan_document(doc, guard: LeakGuard) -> None:
    from docx.oxml.ns import qn

    if not guard.active or guard.hits:
        return
    parts = [("annex body", doc.element.body)]
    for s in doc.sections:
        for kind, hf in (("header", s.header), ("footer", s.footer), ("first-page header", s.first_page_header),
                         ("first-page footer", s.first_page_footer), ("even-page header", s.even_page_header),
                         ("even-page footer", s.even_page_footer)):
            if not hf.is_linked_to_previous:
                parts.append((f"template {kind}", hf._element))
    for name, el in parts:
        for i, p in enumerate(el.iter(qn("w:p")), start=1):
            text = "".join(t.text or "" for t in p.iter(qn("w:t")))
            guard.check(text, f"{name} paragraph {i}")


def write_annex(result: AnnexResult, output: str | Path) -> Path:
    """Save an annex atomically (a reader never sees a half-written file)."""
    from .fsutil import atomic_open

    output = Path(output)
    if output.suffix.lower() != ".docx":
        raise UsageError("the annex output must end in .docx", file=output, fix="give --output annex.docx")
    with atomic_open(output, "wb") as fh:
        result.document.save(fh)
    result.output = output
    return output


def build_annex(spec: AnnexSpec | str | Path, output: str | Path, *, template: str | Path | None = None,
                key: str | Path | None = None, settings=None, original_transcripts: str | Path | None = None,
                on_progress: ProgressFn | None = None) -> AnnexResult:
    """Render the annex of *spec* and write it to *output* (.docx); returns the result (``Path(result)`` = output)."""
    if Path(output).suffix.lower() != ".docx":
        raise UsageError("the annex output must end in .docx", file=output, fix="give --output annex.docx")
    result = render_annex(spec, template=template, key=key, settings=settings,
                          original_transcripts=original_transcripts, on_progress=on_progress)
    write_annex(result, output)
    return result
