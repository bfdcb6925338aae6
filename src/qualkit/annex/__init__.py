"""Word annexes a report author can hand to a publisher (``qualkit annex``).

An *annex spec* (YAML, format in docs/annex.md) names the inputs (coded
segments, cases, codebook, table spec, the folder of **redacted** transcripts)
and lists sections, each of one type:

``tables``        numbered frequency tables (from :mod:`qualkit.tables`) with
                  captions, repeated header rows, base-N / multi-response notes,
                  optional grayscale bar charts (:mod:`qualkit.annex.charts`);
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

from .build import AnnexResult, ProgressFn, build_annex, render_annex, write_annex
from .guard import KeyIdentifier, LeakGuard, LeakHit, read_key_identifiers
from .sections import check_transcripts_folder, column_needs, select_quotes
from .spec import AnnexSpec, ChartOptions, Section, Story, TableItem, load_annex_spec, parse_annex_spec
from .word import STYLE_FALLBACKS, TEMPLATE_NAME, default_template

__all__ = [
    "AnnexResult",
    "AnnexSpec",
    "ChartOptions",
    "KeyIdentifier",
    "LeakGuard",
    "LeakHit",
    "ProgressFn",
    "STYLE_FALLBACKS",
    "Section",
    "Story",
    "TEMPLATE_NAME",
    "TableItem",
    "build_annex",
    "check_transcripts_folder",
    "column_needs",
    "default_template",
    "load_annex_spec",
    "parse_annex_spec",
    "read_key_identifiers",
    "render_annex",
    "select_quotes",
    "write_annex",
]
