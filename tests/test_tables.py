"""Counting rules of qualkit.tables on tiny hand-made data (library level)."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest

from qualkit.cases import read_cases
from qualkit.coding.codebook import load_codebook
from qualkit.coding.segments import read_segments
from qualkit.errors import ConfigError, InputError, QualkitError
from qualkit.tables.build import FrequencyTable, build_table, build_tables, natural_key, percent, share_sentence
from qualkit.tables.render import display_grid, render_csv, render_markdown, write_tables
from qualkit.tables.spec import TableSpec, load_table_specs, parse_where

CODEBOOK = """\
codebook: mini
title: Test codebook
themes:
  - id: family
    label: Family experiences
    multi_response: true
    codes:
      - id: poor_family
        label: Poor family
      - id: domestic_violence
        label: Domestic violence
        codes:
          - id: by_father
            label: By the father
          - id: by_stepfather
            label: By a step-father
            codes:
              - id: with_alcohol
                label: Drunk
      - id: normal_family
        label: Normal family
  - id: pregnancy
    label: Pregnancy
    multi_response: false
    codes:
      - id: pregnant
        label: Has been pregnant
      - id: none
        label: Never pregnant
"""

CASES = [
    # case, group, sex, age_first, customers
    ("c1", "prostitution", "female", "14", "5-6"),
    ("c2", "prostitution", "female", "15", "10+"),
    ("c3", "prostitution", "male", "14", ""),
    ("c4", "border", "female", "", "1-2"),
    ("c5", "border", "female", "13", "7-9"),
    ("c6", "", "female", "9", "3-4"),
]


def _write_csv(path: Path, header: list[str], rows: list[tuple]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def seg(document, code, status="", case=""):
    return (document, code, case, "", "", "", "R", "auto", status, "text")


SEG_HEADER = ["document", "code", "case", "segment", "start", "end", "speaker", "coder", "status", "text"]


@pytest.fixture
def data(tmp_path):
    cb = tmp_path / "codebook.yaml"
    cb.write_text(CODEBOOK, encoding="utf-8")
    cases = _write_csv(tmp_path / "cases.csv", ["case", "group", "sex", "age_first", "customers"], CASES)
    return tmp_path, load_codebook(cb), read_cases(cases)


def segments(tmp_path: Path, rows: list[tuple]):
    path = _write_csv(tmp_path / "segments.csv", SEG_HEADER, rows)
    df = read_segments(path)
    df.attrs["path"] = str(path)
    return df


def family(**kw) -> TableSpec:
    return TableSpec(id="fam", theme="family", **kw)


def col(table: FrequencyTable, column: str = "total") -> dict[str, int]:
    return dict(zip(table.frame["row"], table.frame[column]))


# --------------------------------------------------------------------------- counting rules


def test_a_case_counts_once_however_many_segments(data):
    tmp, cb, cases = data
    segs = segments(tmp, [seg("c1", "family.poor_family")] * 5 + [seg("c2", "family.poor_family")])
    t = build_table(family(), segs, cases, cb)
    assert col(t)["family.poor_family"] == 2
    assert col(t)["total_cases"] == 6
    assert col(t)["no_response"] == 4
    assert t.multi_response is True  # declared in the codebook


def test_a_case_with_several_codes_counts_in_each_row(data):
    tmp, cb, cases = data
    segs = segments(
        tmp,
        [
            seg("c1", "family.poor_family"),
            seg("c1", "family.domestic_violence"),
            seg("c2", "pregnancy.pregnant"),
            seg("c3", "pregnancy.none"),
        ],
    )
    t = build_table(family(), segs, cases, cb)
    counts = col(t)
    assert counts["family.poor_family"] == 1 and counts["family.domestic_violence"] == 1
    assert counts["family.normal_family"] == 0  # codebook rows are listed even when empty
    assert counts["no_response"] == 5  # c2 and c3 have codes, but not of this theme
    assert list(t.frame["row"]) == [
        "family.poor_family",
        "family.domestic_violence",
        "family.normal_family",
        "no_response",
        "total_cases",
    ]
    assert list(t.frame["label"])[:2] == ["Poor family", "Domestic violence"]


def test_observed_multi_response_on_a_theme_without_declaration(data):
    tmp, cb, cases = data
    cb.theme("pregnancy").multi_response = None
    segs = segments(tmp, [seg("c1", "pregnancy.pregnant"), seg("c2", "pregnancy.none")])
    assert build_table(TableSpec(id="p", theme="pregnancy"), segs, cases, cb).multi_response is False
    segs = segments(tmp, [seg("c1", "pregnancy.pregnant"), seg("c1", "pregnancy.none")])
    t = build_table(TableSpec(id="p", theme="pregnancy"), segs, cases, cb)
    assert t.multi_response is True
    assert t.warnings == []


def test_single_response_theme_with_several_codes_warns(data):
    tmp, cb, cases = data
    segs = segments(tmp, [seg("c1", "pregnancy.pregnant"), seg("c1", "pregnancy.none")])
    t = build_table(TableSpec(id="p", theme="pregnancy"), segs, cases, cb)
    assert t.multi_response is True
    assert t.warnings and "single-response" in t.warnings[0] and "1 case(s)" in t.warnings[0]


def test_rejected_rows_never_count(data):
    tmp, cb, cases = data
    segs = segments(
        tmp,
        [
            seg("c1", "family.poor_family", "rejected"),
            seg("c2", "family.poor_family", "accepted"),
            seg("c2", "family.normal_family", "REJECTED"),
            seg("c3", "family.domestic_violence", "suggested"),
            seg("c4", "family.poor_family", ""),
        ],
    )
    counts = col(build_table(family(), segs, cases, cb))
    assert counts["family.poor_family"] == 2  # c2 accepted, c4 empty status = accepted
    assert counts["family.normal_family"] == 0
    assert counts["family.domestic_violence"] == 1  # suggested counts by default
    assert counts["no_response"] == 3  # c1 (only a rejected row), c5, c6
    only = col(build_table(family(), segs, cases, cb, accepted_only=True))
    assert only["family.domestic_violence"] == 0 and only["no_response"] == 4


def test_rejected_row_with_unknown_code_or_case_is_ignored(data):
    tmp, cb, cases = data
    segs = segments(tmp, [seg("c1", "family.poor_family"), seg("zz", "family.typo", "rejected")])
    assert col(build_table(family(), segs, cases, cb))["family.poor_family"] == 1


def test_case_column_overrides_document(data):
    tmp, cb, cases = data
    segs = segments(tmp, [seg("c1-part2", "family.poor_family", case="c1"), seg("c1", "family.poor_family")])
    assert col(build_table(family(), segs, cases, cb))["family.poor_family"] == 1


def test_by_columns_and_total(data):
    tmp, cb, cases = data
    segs = segments(
        tmp,
        [
            seg("c1", "family.poor_family"),
            seg("c4", "family.poor_family"),
            seg("c5", "family.normal_family"),
            seg("c6", "family.poor_family"),
        ],
    )
    t = build_table(family(by="group", percent=True), segs, cases, cb)
    # natural order of values; cases without a value get their own column
    assert t.columns == ["border", "prostitution", "no_response"]
    assert list(t.frame.columns) == [
        "row",
        "label",
        "border",
        "prostitution",
        "no_response",
        "total",
        "border %",
        "prostitution %",
        "no_response %",
        "total %",
    ]
    assert col(t, "prostitution")["family.poor_family"] == 1
    assert col(t, "border")["family.poor_family"] == 1
    assert col(t, "no_response")["family.poor_family"] == 1
    assert col(t, "total")["family.poor_family"] == 3
    assert t.base == {"border": 2, "prostitution": 3, "no_response": 1, "total": 6}
    assert col(t, "prostitution")["no_response"] == 2
    assert col(t, "prostitution %")["family.poor_family"] == 33.3
    assert col(t, "total %")["total_cases"] == 100.0


def test_subcodes_count_for_their_parent(data):
    tmp, cb, cases = data
    segs = segments(
        tmp,
        [
            seg("c1", "family.domestic_violence.by_father"),
            seg("c2", "family.domestic_violence.by_stepfather.with_alcohol"),
            seg("c3", "family.domestic_violence"),
        ],
    )
    t = build_table(family(), segs, cases, cb)
    assert col(t)["family.domestic_violence"] == 3
    assert "family.domestic_violence.by_father" not in col(t)
    t = build_table(family(subcodes=True), segs, cases, cb)
    counts = col(t)
    assert counts["family.domestic_violence"] == 3
    assert counts["family.domestic_violence.by_father"] == 1
    assert counts["family.domestic_violence.by_stepfather"] == 1
    assert counts["family.domestic_violence.by_stepfather.with_alcohol"] == 1
    assert t.rows.index("family.domestic_violence.by_father") == t.rows.index("family.domestic_violence") + 1
    assert t.depth["family.domestic_violence.by_stepfather.with_alcohol"] == 2
    assert t.multi_response is True
    # sub-code rows are nested under their parent, not extra responses
    _, body, _ = display_grid(t)
    assert body[2][0].startswith("\u00a0\u00a0By the father")


def test_where_filters_equal_not_equal_and_missing(data):
    tmp, cb, cases = data
    segs = segments(tmp, [seg(c, "family.poor_family") for c in ("c1", "c2", "c3", "c4")])
    t = build_table(family(where=[("group", "==", "prostitution")]), segs, cases, cb)
    assert col(t)["total_cases"] == 3 and col(t)["family.poor_family"] == 3
    t = build_table(family(where=["group=prostitution", "sex!=male"]), segs, cases, cb)
    assert col(t)["total_cases"] == 2
    t = build_table(family(where=["group!=prostitution"]), segs, cases, cb)
    assert col(t)["total_cases"] == 3  # c4, c5 and c6 (missing group is "not prostitution")
    t = build_table(family(where=["group="]), segs, cases, cb)
    assert col(t)["total_cases"] == 1  # c6: missing value
    t = build_table(family(where=[("group", "in", ["border", ""])]), segs, cases, cb)
    assert col(t)["total_cases"] == 3
    t = build_table(family(), segs, cases, cb, where=["sex=male"])  # extra filters from the caller
    assert col(t)["total_cases"] == 1 and col(t)["family.poor_family"] == 1
    assert "sex = male" in t.base_line()


def test_filter_mistakes_are_errors_not_zeros(data):
    tmp, cb, cases = data
    segs = segments(tmp, [seg("c1", "family.poor_family")])
    with pytest.raises(InputError, match="no case has group = 'prostiution'") as exc:
        build_table(family(where=["group=prostiution"]), segs, cases, cb)
    assert "prostitution" in exc.value.fix
    with pytest.raises(InputError, match="filter column 'grup'") as exc:
        build_table(family(where=["grup=border"]), segs, cases, cb)
    assert "did you mean 'group'" in exc.value.fix
    with pytest.raises(InputError, match="no case is left"):
        build_table(family(where=["group=border", "sex=male"]), segs, cases, cb)
    with pytest.raises(QualkitError, match="cannot read the filter"):
        parse_where("group")


def test_missing_attribute_values_are_no_response(data):
    tmp, cb, cases = data
    t = build_table(TableSpec(id="a", attribute="age_first", by="sex"), None, cases, None)
    assert list(t.frame["row"]) == ["9", "13", "14", "15", "no_response", "total_cases"]
    assert col(t, "female") == {"9": 1, "13": 1, "14": 1, "15": 1, "no_response": 1, "total_cases": 5}
    assert col(t, "male")["14"] == 1
    assert t.multi_response is False
    assert t.kind == "attribute"


def test_attribute_natural_order_ranges_and_explicit_order(data):
    tmp, cb, cases = data
    t = build_table(TableSpec(id="a", attribute="customers"), None, cases, None)
    assert list(t.frame["row"]) == ["1-2", "3-4", "5-6", "7-9", "10+", "no_response", "total_cases"]
    t = build_table(TableSpec(id="a", attribute="customers", order=["10+", "0"]), None, cases, None)
    assert list(t.frame["row"])[:2] == ["10+", "0"]  # listed values first, even with no case
    assert col(t)["0"] == 0


def test_attribute_crosstab(data):
    tmp, cb, cases = data
    t = build_table(TableSpec(id="x", attribute="group", by="sex", labels={"female": "Girls"}), None, cases, None)
    assert col(t, "female") == {"border": 2, "prostitution": 2, "no_response": 1, "total_cases": 5}
    assert col(t, "male") == {"border": 0, "prostitution": 1, "no_response": 0, "total_cases": 1}
    assert t.column_labels["female"] == "Girls"


def test_natural_key_orders():
    vals = ["10+", "Grade 10", "1-2", "Grade 2", "9", "under 5", "5-6", "Grade 12", "14 years"]
    assert sorted(vals, key=natural_key) == [
        "1-2",
        "under 5",
        "5-6",
        "9",
        "10+",
        "14 years",
        "Grade 2",
        "Grade 10",
        "Grade 12",
    ]


# --------------------------------------------------------------------------- bad input


def test_segment_case_not_in_cases_names_offenders(data):
    tmp, cb, cases = data
    rows = [seg("c1", "family.poor_family")] + [seg(f"x{i}", "family.poor_family") for i in range(7)]
    with pytest.raises(InputError) as exc:
        build_table(family(), segments(tmp, rows), cases, cb)
    msg = exc.value.message
    assert "7 case(s) of the segments are not in the cases file" in msg
    assert "'x0'" in msg and "'x4'" in msg and "'x5'" not in msg and "2 more" in msg
    assert exc.value.line == 3  # header is line 1, c1 line 2, x0 line 3


def test_code_not_in_codebook(data):
    tmp, cb, cases = data
    segs = segments(tmp, [seg("c1", "family.poor_family"), seg("c2", "family.poverty"), seg("c3", "health.hiv")])
    with pytest.raises(InputError) as exc:
        build_table(family(), segs, cases, cb)
    assert "'family.poverty' (row 3)" in exc.value.message and "'health.hiv' (row 4)" in exc.value.message
    assert exc.value.line == 3


def test_by_column_missing_and_theme_missing(data):
    tmp, cb, cases = data
    segs = segments(tmp, [seg("c1", "family.poor_family")])
    with pytest.raises(InputError, match="column 'gruop' is not in the cases file"):
        build_table(family(by="gruop"), segs, cases, cb)
    with pytest.raises(QualkitError, match="theme 'famly' is not in codebook 'mini'"):
        build_table(TableSpec(id="t", theme="famly"), segs, cases, cb)
    with pytest.raises(QualkitError, match="needs coded segments"):
        build_table(family(), None, cases, cb)
    with pytest.raises(InputError, match="attribute column 'agefirst'"):
        build_table(TableSpec(id="a", attribute="agefirst"), None, cases, None)


def test_empty_cases_is_an_error(tmp_path):
    (tmp_path / "cases.csv").write_text("case,group\n", encoding="utf-8")
    with pytest.raises(InputError, match="no rows"):
        build_table(TableSpec(id="a", attribute="group"), None, tmp_path / "cases.csv", None)


def test_without_codebook_rows_come_from_the_data(data):
    tmp, cb, cases = data
    segs = segments(tmp, [seg("c1", "family.poor_family"), seg("c2", "family.domestic_violence.by_father")])
    t = build_table(family(), segs, cases, None)
    assert col(t) == {"family.domestic_violence": 1, "family.poor_family": 1, "no_response": 4, "total_cases": 6}


# --------------------------------------------------------------------------- percentages


def test_percent_rounds_half_up_on_one_decimal():
    assert percent(1, 16) == 6.3  # 6.25: banker's rounding would give 6.2
    assert percent(3, 16) == 18.8  # 18.75
    assert percent(1, 8) == 12.5
    assert percent(2, 3) == 66.7
    assert percent(1, 3) == 33.3
    assert percent(0, 5) == 0.0
    assert percent(1, 0) is None
    assert percent(1, 40, 0) == 3  # 2.5 -> 3
    assert percent(14, 32, 0) == 44


def test_share_sentence():
    assert share_sentence(14, 32) == "14 of the 32 children (44 per cent)"
    assert share_sentence(1, 8, "respondents", decimals=1) == "1 of the 8 respondents (12.5 per cent)"
    with pytest.raises(ValueError):
        share_sentence(3, 2)


def test_csv_percent_columns_have_one_decimal(tmp_path):
    rows = [(f"k{i}", "a" if i < 1 else "b") for i in range(16)]
    cases = _write_csv(tmp_path / "cases.csv", ["case", "grp"], rows)
    t = build_table(TableSpec(id="g", attribute="grp", percent=True), None, cases, None)
    lines = render_csv(t).splitlines()
    assert lines[0] == "row,label,total,total %"
    assert lines[1] == "a,a,1,6.3"
    assert lines[2] == "b,b,15,93.8"
    assert lines[3] == "no_response,No response,0,0.0"
    assert lines[4] == "total_cases,Total,16,100.0"


# --------------------------------------------------------------------------- rendering and specs


def test_markdown_has_n_pct_cells_base_line_and_multi_response_note(data):
    tmp, cb, cases = data
    segs = segments(
        tmp, [seg("c1", "family.poor_family"), seg("c1", "family.normal_family"), seg("c4", "family.poor_family")]
    )
    spec = family(
        by="group",
        percent=True,
        title="Family",
        number="23",
        notes=["Fictional data."],
        unit="children",
        labels={"border": "Across a border"},
    )
    md = render_markdown(build_table(spec, segs, cases, cb))
    assert md.startswith("**Table 23. Family**")
    # print defaults: raw values capitalised, zeros as "–", no percentages on bases under 10
    assert "| Family experiences | Across a border | Prostitution | No response | Total |" in md
    assert "| Poor family | 1 | 1 | – | 2 |" in md
    assert "| **Total** | **2** | **3** | **1** | **6** |" in md
    assert "Base: 6 children (Across a border 2, Prostitution 3, No response 1)" in md
    assert "Percentages are not shown for a base of fewer than 10 children." in md
    assert "– = none." in md
    assert "Multi-response" in md
    assert "Note: Fictional data." in md
    shown = render_markdown(build_table(dataclasses.replace(spec, min_base=0, zeros="0", decimals=1), segs, cases, cb))
    assert "| Poor family | 1 (50.0%) | 1 (33.3%) | 0 | 2 (33.3%) |" in shown
    assert "(one decimal, rounded half up)" in shown and "= none" not in shown
    whole = render_markdown(build_table(dataclasses.replace(spec, min_base=2, zeros=""), segs, cases, cb))
    assert "| Poor family | 1 (50%) | 1 (33%) |  | 2 (33%) |" in whole  # base 1 < 2: counts only
    assert "Percentages are not shown for columns of fewer than 2 children." in whole
    counts_only = render_markdown(build_table(family(), segs, cases, cb))
    assert "| Poor family | 2 |" in counts_only


def test_all_zero_no_response_row_is_left_out_of_print_but_not_the_csv(data):
    tmp, cb, cases = data
    segs = segments(tmp, [seg(c, "family.poor_family") for c in ("c1", "c2", "c3", "c4", "c5", "c6")])
    table = build_table(family(), segs, cases, cb)
    assert "no_response" in table.rows and table.count("no_response") == 0
    assert "No response" not in render_markdown(table)
    assert "no_response,No response,0" in render_csv(table)
    always = build_table(family(no_response="always"), segs, cases, cb)
    assert "| No response | – |" in render_markdown(always)


def test_base_line_names_filters_in_words_only_for_the_generic_unit(data):
    _tmp, _cb, cases = data
    generic = build_table(TableSpec(id="a", attribute="sex", where=["group != "]), None, cases, None)
    assert generic.base_line().startswith("Base: 5 cases with a group")
    assert "is given" not in generic.base_line()
    named = build_table(
        TableSpec(id="a", attribute="sex", where=["group != "], unit="child victims interviewed"), None, cases, None
    )
    assert named.base_line() == "Base: 5 child victims interviewed."


def test_spec_file_loads_defaults_labels_and_filters(tmp_path):
    p = tmp_path / "tables.yaml"
    p.write_text(
        """\
labels: {prostitution: Child prostitution}
defaults:
  unit: children
  percent: true
tables:
  - id: t9
    number: 9
    title: Age first involved
    attribute: age_first
    by: sex
    where: ["group == prostitution", "sex != other"]
    labels: {female: Girls}
  - id: t23
    theme: family
    by: group
    where: {group: [prostitution, border]}
    percent: false
    cells: n_pct
""",
        encoding="utf-8",
    )
    t9, t23 = load_table_specs(p)
    assert t9.number == "9" and t9.heading == "Table 9. Age first involved"
    assert t9.where == [("group", "==", "prostitution"), ("sex", "!=", "other")]
    assert t9.labels == {"prostitution": "Child prostitution", "female": "Girls"}
    assert t9.percent is True and t9.unit == "children" and t9.effective_cells == "n_pct"
    assert t23.where == [("group", "in", ("prostitution", "border"))]
    assert t23.percent is False and t23.effective_cells == "n_pct"
    assert t9.source == str(p) and t9.line == 6 and t23.line == 13


@pytest.mark.parametrize(
    "body,line,what",
    [
        ("tables:\n  - id: a\n    theme: x\n    colour: red\n", 4, "unknown key 'colour'"),
        ("tables:\n  - id: a\n    theme: x\n    attribute: y\n", 2, "either a theme or an attribute"),
        ("tables:\n  - id: a\n    by: x\n", 2, "either a theme or an attribute"),
        ("tables:\n  - id: a\n    theme: x\n  - id: a\n    theme: y\n", 4, "duplicate table id 'a'"),
        ("tables:\n  - id: a\n    theme: x\n    where:\n      - group\n", 5, "cannot read the filter"),
        ("tables:\n  - id: a\n    theme: x\n    cells: pct\n", 4, "unknown cells 'pct'"),
        ("tables:\n  - id: a\n    theme: x\n    percent: yes please\n", 4, "'percent' must be true or false"),
        ("tables: []\n", 1, "non-empty list"),
        ("tables:\n  - id: a\n   theme: x\n", 3, "not valid YAML"),
    ],
)
def test_spec_errors_name_file_and_line(tmp_path, body, line, what):
    p = tmp_path / "tables.yaml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_table_specs(p)
    assert what in exc.value.message
    assert exc.value.file == str(p)
    assert exc.value.line == line
    assert exc.value.fix


def test_spec_errors_at_build_time_point_to_the_spec_line(data):
    tmp, cb, cases = data
    p = tmp / "tables.yaml"
    p.write_text("tables:\n  - id: a\n    attribute: group\n    by: gender\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        build_tables(load_table_specs(p), None, cases, None)
    assert exc.value.file == str(p) and exc.value.line == 4


def test_write_tables_xlsx_one_sheet_per_table_and_csv_folder(data):
    from openpyxl import load_workbook

    tmp, cb, cases = data
    segs = segments(tmp, [seg("c1", "family.poor_family")])
    tables = [
        build_table(family(number="23", title="Family", percent=True), segs, cases, cb),
        build_table(TableSpec(id="t9", number="9", attribute="age_first", by="sex"), None, cases, None),
    ]
    [xlsx] = write_tables(tables, tmp / "out" / "tables.xlsx", "xlsx")
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["Table 23", "Table 9"]
    ws = wb["Table 23"]
    assert ws["A1"].value == "Table 23. Family"
    values = [[c.value for c in r] for r in ws.iter_rows()]
    poor = next(r for r in values if r[0] == "Poor family")
    assert poor[1] == 1 and poor[2] == pytest.approx(16.7)
    assert poor[-1] == "family.poor_family"  # the machine key is the last column
    written = write_tables(tables, tmp / "out" / "csv", "csv")
    assert [p.name for p in written] == ["fam.csv", "t9.csv"]
    assert written[1].read_text(encoding="utf-8").splitlines()[0] == "row,label,female,male,total"


def test_xlsx_header_row_freeze_pane_widths_and_page_setup(data):
    """The styled row is the header row, the freeze pane sits right under it (and after the label
    column), headers have room for their longest word, and a sheet prints one page wide."""
    from openpyxl import load_workbook

    tmp, cb, cases = data
    segs = segments(tmp, [seg("c1", "family.poor_family")])
    spec = family(number="23", title="Family", caption="Family experiences.", percent=True, by="group")
    [xlsx] = write_tables([build_table(spec, segs, cases, cb)], tmp / "tables.xlsx", "xlsx")
    ws = load_workbook(xlsx)["Table 23"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Family experiences")
    hrow = header[0].row
    assert all(c.font.b and c.fill.fgColor.rgb.endswith("DDDDDD") for c in header)
    assert not any(c.font.b for c in ws[hrow - 1])  # the row above (blank) is plain
    assert ws.freeze_panes == f"B{hrow + 1}"
    heads = [c.value for c in header]
    assert heads[-1] == "key" and ws.cell(row=hrow + 1, column=len(heads)).value == "family.poor_family"
    for c in header[1:]:
        longest = max(len(w) for w in str(c.value).split())
        assert ws.column_dimensions[c.column_letter].width >= longest
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == f"${hrow}:${hrow}"
    pct = ws.cell(row=hrow + 1, column=heads.index("Prostitution (%)") + 1)
    assert pct.value == pytest.approx(33.3) and pct.number_format.startswith("0.0")
    zero = ws.cell(row=hrow + 1, column=heads.index("Border") + 1)
    assert zero.value == 0 and zero.number_format.endswith(';"–"')  # prints "–", stays a number


def test_is_given_filter_when_every_case_has_a_value():
    """`group != ` (is given) is valid even when no case lacks the value."""
    import pandas as pd

    from qualkit.tables.build import build_table
    from qualkit.tables.spec import TableSpec

    cases = pd.DataFrame({"case": ["a", "b"], "group": ["x", "y"], "sex": ["f", "m"]}).set_index("case", drop=False)
    table = build_table(TableSpec(id="t", attribute="sex", where=["group != "]), cases=cases)
    assert int(table.frame.set_index("row").loc["total_cases", "total"]) == 2
