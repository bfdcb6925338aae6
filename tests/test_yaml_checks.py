"""One YAML checking layer (yamlutil.YamlMap): the project file, the codebook and the
table and annex specs refuse the same mistake with the same message and line."""

from __future__ import annotations

import pytest

from qualkit.annex.spec import load_annex_spec
from qualkit.coding.codebook import load_codebook
from qualkit.config import load_settings
from qualkit.errors import QualkitError
from qualkit.tables.spec import load_table_specs

CODEBOOK = """\
codebook: t
title: T
themes:
  - id: family
    label: Family
    codes:
      - id: poor
        label: Poor
        examples:
          - We had no rice.
          {item}
"""
TABLES = """\
tables:
  - id: t1
    attribute: sex
    notes:
      - From the interviews.
      {item}
"""
ANNEX = """\
sections:
  - type: text
    heading: About
    intro:
      - First.
      {item}
"""
PROJECT = """\
redact:
  labels:
    - PERSON
    {item}
"""


def _load(kind: str, tmp_path, text: str):
    if kind == "project":
        (tmp_path / "qualkit.yaml").write_text(text, encoding="utf-8")
        return load_settings(tmp_path)
    path = tmp_path / f"{kind}.yaml"
    path.write_text(text, encoding="utf-8")
    return {"codebook": load_codebook, "tables": load_table_specs, "annex": load_annex_spec}[kind](path)


@pytest.mark.parametrize(
    "kind,template,key,line",
    [
        ("codebook", CODEBOOK, "examples", 11),
        ("tables", TABLES, "notes", 6),
        ("annex", ANNEX, "intro", 6),
        ("project", PROJECT, "labels", 4),
    ],
)
@pytest.mark.parametrize("item,shown", [("- {place: Hanoi}", "a mapping"), ("- [a, b]", "a list"), ("- true", "True")])
def test_a_list_item_that_is_not_text_is_refused_everywhere_alike(tmp_path, kind, template, key, line, item, shown):
    _load(kind, tmp_path, template.replace("{item}", ""))  # the file loads without the odd item
    with pytest.raises(QualkitError) as exc:
        _load(kind, tmp_path, template.replace("{item}", item))
    assert exc.value.what.startswith(f"item 2 of '{key}'") and exc.value.what.endswith(f"must be text, not {shown}")
    assert exc.value.line == line and exc.value.fix == "write each item as plain text"


@pytest.mark.parametrize(
    "kind,text,line,what",
    [
        ("project", "code:\n  xlsx: 'no'\n", 2, "'xlsx' must be true or false, not 'no'"),
        (
            "tables",
            "tables:\n  - id: t\n    attribute: a\n    percent: 'no'\n",
            4,
            "'percent' must be true or false, not 'no'",
        ),
        (
            "annex",
            "sections:\n  - type: text\n    text: x\n    new_page: 'no'\n",
            4,
            "'new_page' must be true or false, not 'no'",
        ),
        (
            "codebook",
            "codebook: t\nthemes:\n  - id: f\n    label: F\n    multi_response: 'no'\n    codes: []\n",
            5,
            "'multi_response' of theme 'f' must be true or false, not 'no'",
        ),
    ],
)
def test_a_quoted_no_is_not_true_anywhere(tmp_path, kind, text, line, what):
    with pytest.raises(QualkitError) as exc:
        _load(kind, tmp_path, text)
    assert exc.value.what == what and exc.value.line == line
    assert "(no quotes)" in exc.value.fix
