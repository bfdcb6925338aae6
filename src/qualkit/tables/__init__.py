"""Respondent frequency tables: the table spec, the counting, the rendering.

``spec`` reads ``tables.yaml`` (and inline annex tables) into :class:`TableSpec`;
``build`` counts distinct cases per code or attribute value into a
:class:`FrequencyTable`; ``render`` writes CSV, Markdown and the ``.xlsx``
workbook. The names below are the package's public face.
"""

from .build import (
    NO_RESPONSE,
    TOTAL,
    TOTAL_CASES,
    FrequencyTable,
    build_table,
    build_tables,
    natural_key,
    percent,
    share_sentence,
)
from .render import display_grid, render_csv, render_markdown, write_table_set, write_tables
from .spec import Filter, TableSpec, describe_filter, load_table_specs, normalize_filter, parse_where, select_specs

__all__ = [
    "TableSpec",
    "Filter",
    "FrequencyTable",
    "build_table",
    "build_tables",
    "load_table_specs",
    "select_specs",
    "render_markdown",
    "render_csv",
    "write_tables",
    "write_table_set",
    "share_sentence",
    "percent",
    "natural_key",
    "display_grid",
    "parse_where",
    "normalize_filter",
    "describe_filter",
    "NO_RESPONSE",
    "TOTAL_CASES",
    "TOTAL",
]
