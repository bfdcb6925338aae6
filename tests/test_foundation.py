"""Foundation: safe writes, project settings, codebook validation, segments and cases I/O."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from qualkit.cases import read_cases
from qualkit.choices import Style
from qualkit.coding.codebook import load_codebook
from qualkit.coding.segments import CodedSegment, read_segments, write_segments
from qualkit.config import load_settings
from qualkit.errors import CodebookError, ConfigError, InputError, ModelNotFoundError, SafetyError
from qualkit.fsutil import atomic_open, atomic_write_text, ensure_private_location


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as fh:
            fh.write("half")
            raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_private_files_are_0600(tmp_path):
    target = tmp_path / "key.csv"
    atomic_write_text(target, "secret", private=True)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_private_material_refused_inside_output(tmp_path):
    with pytest.raises(SafetyError) as info:
        ensure_private_location(tmp_path / "out" / "key.csv", [tmp_path / "out"], "pseudonym key")
    assert "outside" in info.value.message
    ensure_private_location(tmp_path / "private" / "key.csv", [tmp_path / "out"], "pseudonym key")


def test_settings_precedence_and_sources(tmp_path):
    (tmp_path / "qualkit.yaml").write_text(
        "project: demo\nmodel: en_core_web_sm\nredact:\n  style: tag\n", encoding="utf-8"
    )
    s = load_settings(tmp_path)
    assert s.pick("category", "redact.style") == ("category", "command line")
    assert s.pick(None, "redact.style") == ("tag", "qualkit.yaml:4")
    assert s.pick(Style.CATEGORY, "redact.style").value == "category"  # a Typer choice comes back as text
    assert type(s.pick(Style.CATEGORY, "redact.style").value) is str
    # no coding unit set: None, so the codebook's defaults decide (else sentence)
    assert s.pick(None, "code.unit") == (None, "default")
    assert s.path(None, "transcripts") == tmp_path / "transcripts"
    # defaults that follow the project's folders, from one table (config.LAYOUT)
    assert s.location(None, "redact.key") == tmp_path / "private" / "redaction-key.csv"
    assert s.location(None, "tables.output") == tmp_path / "output" / "tables.xlsx"
    assert s.location(tmp_path / "k.csv", "redact.key") == tmp_path / "k.csv"
    assert s.default_path("redacted") == tmp_path / "output" / "transcripts"


def test_settings_pick_has_no_side_effects(tmp_path):
    (tmp_path / "qualkit.yaml").write_text("redact:\n  style: tag\n", encoding="utf-8")
    s = load_settings(tmp_path)
    before = repr(s)
    s.pick("category", "redact.style")
    s.value(None, "code.unit")
    s.effective()
    assert repr(s) == before
    assert s.effective()["redact.style"] == ("tag", "qualkit.yaml:2")


@pytest.mark.parametrize(
    "body,line,what",
    [
        ("project: x\nredcat:\n  style: tag\n", 2, "unknown key 'redcat'"),
        ("redact:\n  style: fancy\n", 2, "unknown redaction style"),
        ("redact:\n  style: [tag\n", 3, "not valid YAML"),
    ],
)
def test_bad_project_file_names_line_and_fix(tmp_path, body, line, what):
    (tmp_path / "qualkit.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    err = info.value
    assert what in err.message and err.line == line and err.fix


GOOD_CODEBOOK = """\
codebook: t
title: Test
themes:
  - id: violence
    label: Violence
    codes:
      - id: physical
        label: Physical violence
        codes:
          - id: by_customer
            label: By a customer
      - id: none
        label: No violence
"""


def test_codebook_nested_paths(tmp_path):
    p = tmp_path / "cb.yaml"
    p.write_text(GOOD_CODEBOOK, encoding="utf-8")
    cb = load_codebook(p)
    assert cb.code_paths == ["violence.physical", "violence.physical.by_customer", "violence.none"]
    assert cb.label_of("violence.physical.by_customer") == "By a customer"


@pytest.mark.parametrize(
    "change,line,what",
    [
        (
            ("        label: No violence\n", "        label: No violence\n        colour: red\n"),
            14,
            "unknown key 'colour'",
        ),
        (("      - id: none\n", "      - id: physical\n"), 12, "duplicate code id 'violence.physical'"),
        (("      - id: none\n", "      - id: No-Violence\n"), 12, "is not valid"),
        (("        label: No violence\n", ""), 12, "has no 'label'"),
    ],
)
def test_codebook_errors_name_line_and_fix(tmp_path, change, line, what):
    p = tmp_path / "cb.yaml"
    p.write_text(GOOD_CODEBOOK.replace(*change), encoding="utf-8")
    with pytest.raises(CodebookError) as info:
        load_codebook(p)
    assert what in info.value.message
    assert info.value.line == line
    assert info.value.fix and str(p) in info.value.message


def test_segments_xlsx_keeps_text_that_looks_like_a_formula(tmp_path):
    p = tmp_path / "seg.csv"
    said = "=SUM(1,2) is what he wrote on the bill"
    write_segments(p, [CodedSegment("int01", "a.b", start=0, end=len(said), text=said)], xlsx=True)
    assert list(read_segments(p.with_suffix(".xlsx"))["text"]) == [said]


def test_segments_round_trip_and_validation(tmp_path):
    p = tmp_path / "seg.csv"
    write_segments(
        p,
        [
            CodedSegment("int01", "family.poor_family", start=0, end=10, text="We were poor"),
            CodedSegment("int02", "violence.physical", case="c2", status="rejected"),
        ],
        xlsx=True,
    )
    df = read_segments(p)
    assert list(df["case_id"]) == ["int01", "c2"]
    assert list(df["effective_status"]) == ["suggested", "rejected"]
    assert int(df["start"].iloc[0]) == 0
    xdf = read_segments(p.with_suffix(".xlsx"))
    assert list(xdf["code"]) == ["family.poor_family", "violence.physical"]
    bad = tmp_path / "bad.csv"
    bad.write_text("document,code,status\nint01,a.b,maybe\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_segments(bad)
    assert info.value.line == 2 and "unknown status" in info.value.message


def test_cases_validation(tmp_path):
    p = tmp_path / "cases.csv"
    p.write_text("case,sex,age\nc1,F,14\nc2,M,\n", encoding="utf-8")
    df = read_cases(p)
    assert list(df.index) == ["c1", "c2"] and df.loc["c1", "age"] == "14" and pd.isna(df.loc["c2", "age"])
    p.write_text("case,sex\nc1,F\nc1,M\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_cases(p)
    assert info.value.line == 3
    p.write_text("id,sex\nc1,F\n", encoding="utf-8")
    with pytest.raises(InputError, match="no 'case' column"):
        read_cases(p)


def test_model_errors_name_the_install_command():
    from qualkit.nlp import resolve_model_name

    with pytest.raises(ModelNotFoundError) as info:
        resolve_model_name("en_core_web_nonexistent")
    assert "pip install" in info.value.message
    assert resolve_model_name(None)  # something is installed in the test environment


def test_yaml_loader_is_libyaml_with_the_pure_python_lines_and_messages():
    """The fast (libyaml) loader gives the same values and line numbers as the pure-Python
    one, and a syntax error still reads (message and line) as the pure-Python parser words it."""
    import yaml

    from qualkit.errors import ConfigError
    from qualkit.yamlutil import _Loader, _PyLoader, loads_yaml

    assert yaml.__with_libyaml__ and _Loader is not _PyLoader

    def lines(o):
        if isinstance(o, dict):
            return ("map", o.line, [(k, o.lines[k], lines(v)) for k, v in o.items()])
        if isinstance(o, list):
            return ("seq", o.line, o.lines, [lines(v) for v in o])
        return o

    text = "a: 1\nb:\n  - x\n  - {c: [1, 2], d: &r yes}\n  -\n    e: *r\n\nf: |\n  text\ng: 'q'\n"
    fast = yaml.load(text, Loader=_Loader)  # noqa: S506
    slow = yaml.load(text, Loader=_PyLoader)  # noqa: S506
    assert lines(fast) == lines(slow) and fast["b"][2].line == 6
    for bad, problem, line in (
        ("a: b: c", "mapping values are not allowed here", 1),
        ("a: [1, 2", "expected ',' or ']', but got '<stream end>'", 1),
        ("a: 1\na: 2", "duplicate key 'a'", 2),
    ):
        with pytest.raises(ConfigError) as exc:
            loads_yaml(bad, path="x.yaml")
        assert problem in exc.value.message and exc.value.line == line
