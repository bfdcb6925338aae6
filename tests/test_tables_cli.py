"""`qualkit tables` end to end: the published tables of the reference study, output formats, errors."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "csec-study" / "published-tables"
CODEBOOK = ROOT / "codebooks" / "csec-study.yaml"
SPEC = EXAMPLE / "tables.yaml"
SEGMENTS = EXAMPLE / "segments.csv"
CASES = EXAMPLE / "cases.csv"


@pytest.fixture
def codebook() -> Path:
    assert CODEBOOK.is_file(), "codebooks/csec-study.yaml must ship (it points at src/qualkit/data/codebooks)"
    return CODEBOOK


def read_table(text: str) -> dict[str, dict[str, str]]:
    """CSV text -> {row id: {column: value}}."""
    return {r["row"]: r for r in csv.DictReader(io.StringIO(text))}


def n(table, row, column="total") -> int:
    return int(table[row][column])


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Run the command once over the whole spec, csv into a folder; parse every table."""
    from typer.testing import CliRunner

    from qualkit.cli import app

    assert CODEBOOK.is_file(), "codebooks/csec-study.yaml must ship"
    out = tmp_path_factory.mktemp("published") / "tables"
    result = CliRunner().invoke(
        app,
        [
            "tables",
            "--spec",
            str(SPEC),
            "--segments",
            str(SEGMENTS),
            "--cases",
            str(CASES),
            "--codebook",
            str(CODEBOOK),
            "--format",
            "csv",
            "--output",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    files = sorted(p.name for p in out.iterdir())
    assert files == ["t16.csv", "t2.csv", "t20.csv", "t22.csv", "t23.csv", "t24.csv", "t9.csv"]
    return {p.stem: read_table(p.read_text(encoding="utf-8")) for p in out.iterdir()}


def test_table_2_victims_by_csec_type_and_setting(published):
    t = published["t2"]
    assert [n(t, g) for g in ("prostitution", "trafficked_border", "trafficked_internal")] == [32, 14, 5]
    assert n(t, "total_cases") == 51
    assert list(t) == ["prostitution", "trafficked_border", "trafficked_internal", "no_response", "total_cases"]
    assert list(t["total_cases"])[2:6] == ["currently engaged", "05/06 centre", "shelter", "total"]
    assert n(t, "trafficked_border", "shelter") == 14


def test_table_9_age_first_involved_girls_and_boys(published):
    t = published["t9"]
    assert n(t, "total_cases", "female") == 27 and n(t, "total_cases", "male") == 5
    assert n(t, "14", "female") == 6 and n(t, "14", "male") == 1
    ages = [r for r in t if r not in ("no_response", "total_cases")]
    assert ages == sorted(ages, key=int)  # numbers as numbers


def test_table_16_customers_per_day(published):
    t = published["t16"]
    assert {r: n(t, r) for r in ("1-2", "3-4", "5-6", "7-9", "10+")} == {
        "1-2": 4,
        "3-4": 4,
        "5-6": 11,
        "7-9": 4,
        "10+": 2,
    }
    assert list(t)[:5] == ["1-2", "3-4", "5-6", "7-9", "10+"]  # ranges in natural order
    assert t["5-6"]["total %"] == "34.4"


def test_table_20_pregnancy(published):
    t = published["t20"]
    assert n(t, "pregnancy.pregnant") == 17
    assert n(t, "pregnancy.none") == 18
    assert n(t, "no_response") == 10
    assert n(t, "total_cases") == 45


def test_table_22_education(published):
    t = published["t22"]
    grades = [r for r in t if r not in ("no_response", "total_cases")]
    assert grades == [f"Grade {g}" for g in range(2, 13)]
    assert n(t, "total_cases") == 51


def test_table_23_family_experiences_by_group(published):
    t = published["t23"]
    groups = ("prostitution", "trafficked_border", "trafficked_internal")
    assert [n(t, "family.poor_family", g) for g in groups] == [21, 4, 3]
    assert [n(t, "family.domestic_violence", g) for g in groups] == [11, 2, 1]
    assert [n(t, "total_cases", g) for g in groups] == [32, 14, 5]
    assert t["family.poor_family"]["prostitution %"] == "65.6"
    # multi-response: a column adds up to more than its cases
    rows = [r for r in t if r.startswith("family.")]
    assert sum(n(t, r, "prostitution") for r in rows) > 32


def test_table_24_immediate_path_by_group(published):
    t = published["t24"]
    groups = ("prostitution", "trafficked_border", "trafficked_internal")
    assert [n(t, "recruitment.friend_tricked", g) for g in groups] == [2, 3, 3]
    assert n(t, "recruitment.friend_asked", "prostitution") == 11
    assert n(t, "recruitment.help_family", "prostitution") == 8
    assert [n(t, "recruitment.needed_money", g) for g in groups[:2]] == [8, 1]


def test_the_example_exercises_duplicates_two_files_and_rejected_rows(codebook):
    """Rejected rows in the example are real traps: counting them would break published figures."""
    from qualkit.coding.segments import read_segments
    from qualkit.tables.build import build_table
    from qualkit.tables.spec import load_table_specs

    segs = read_segments(SEGMENTS)
    assert any((segs["case"] != "") & (segs["case"] != segs["document"]))  # a case with two interview files
    assert segs.groupby(["case_id", "code"]).size().max() >= 2  # the same code in several segments
    specs = {s.id: s for s in load_table_specs(SPEC)}
    wrong = segs.copy()
    wrong.loc[wrong["status"] == "rejected", "effective_status"] = "accepted"
    t23 = build_table(specs["t23"], wrong, CASES, codebook)
    assert t23.count("family.poor_family", "trafficked_border") == 5  # published: 4
    t20 = build_table(specs["t20"], wrong, CASES, codebook)
    assert t20.count("pregnancy.pregnant") == 18  # published: 17


def test_single_theme_table_to_stdout(cli, codebook):
    r = cli(
        "tables",
        "-s",
        SEGMENTS,
        "--cases",
        CASES,
        "-c",
        codebook,
        "--theme",
        "family",
        "--by",
        "group",
        "--where",
        "sex=female",
        "--format",
        "csv",
    )
    assert r.exit_code == 0, r.stderr
    t = read_table(r.stdout)
    assert n(t, "total_cases") == 46  # 27 + 14 + 5 girls
    assert n(t, "family.poor_family", "trafficked_border") == 4
    assert "prostitution %" not in t["total_cases"]


def test_attribute_crosstab_with_percent(cli):
    r = cli("tables", "--cases", CASES, "--attribute", "group", "--by", "sex", "--percent", "--format", "csv")
    assert r.exit_code == 0, r.stderr
    t = read_table(r.stdout)
    assert n(t, "prostitution", "male") == 5 and n(t, "prostitution", "female") == 27
    assert t["prostitution"]["total %"] == "62.7"  # 32 / 51


def test_markdown_and_terminal_rendering(cli, codebook):
    r = cli(
        "tables", "--spec", SPEC, "--table", "23", "-s", SEGMENTS, "--cases", CASES, "-c", codebook, "--format", "md"
    )
    assert r.exit_code == 0, r.stderr
    assert "**Table 23. Child victims – family experiences**" in r.stdout
    # print convention: whole per cents, none on the base of 5
    assert "| Poor family | 21 (66%) | 4 (29%) | 3 | 28 (55%) |" in r.stdout
    assert (
        "Base: 51 children (Child prostitution 32, Trafficked across a border 14, Trafficked inside Viet Nam 5)"
        in r.stdout
    )
    assert "Multi-response" in r.stdout
    r = cli("tables", "--spec", SPEC, "--table", "t9", "--cases", CASES, "-s", SEGMENTS, "-c", codebook)
    assert r.exit_code == 0, r.stderr
    assert "Table 9. Child victims – age when first involved in prostitution" in r.stdout
    assert "Girls" in r.stdout and "Base: 32 children" in r.stdout


def test_spec_set_to_xlsx(cli, codebook, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "tables.xlsx"
    r = cli("tables", "--spec", SPEC, "-s", SEGMENTS, "--cases", CASES, "-c", codebook, "-o", out)
    assert r.exit_code == 0, r.stderr
    wb = load_workbook(out)
    assert wb.sheetnames == ["Table 2", "Table 9", "Table 16", "Table 20", "Table 22", "Table 23", "Table 24"]


def test_project_file_supplies_defaults(cli, codebook, tmp_path):
    (tmp_path / "qualkit.yaml").write_text(
        f"project: t\ncases: {CASES}\ncodebook: {codebook}\ncode:\n  segments: {SEGMENTS}\ntables:\n  spec: {SPEC}\n",
        encoding="utf-8",
    )
    r = cli("tables", "--project", tmp_path, "--table", "20", "--format", "csv")
    assert r.exit_code == 0, r.stderr
    assert n(read_table(r.stdout), "pregnancy.pregnant") == 17


# --------------------------------------------------------------------------- errors


def _one_line_error(r, *parts):
    assert r.exit_code != 0
    err = r.stderr
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    for p in parts:
        assert p in err, err
    assert "Traceback" not in err


def test_error_by_column_missing(cli):
    r = cli("tables", "--cases", CASES, "--attribute", "group", "--by", "gender")
    _one_line_error(r, "'gender' is not in the cases file", "cases.csv")
    assert r.exit_code == 1


def test_error_text_is_never_read_as_rich_markup(cli):
    # values the user typed (a column, a path) are printed as they are: no crash on "[/x]", nothing eaten
    for name in ("[/x]", "[red]x"):
        r = cli("tables", "--cases", CASES, "--attribute", name)
        _one_line_error(r, f"'{name}' is not in the cases file")
        assert r.exit_code == 1


def test_error_empty_cases_file(cli, tmp_path):
    (tmp_path / "cases.csv").write_text("case,group\n", encoding="utf-8")
    _one_line_error(cli("tables", "--cases", tmp_path / "cases.csv", "--attribute", "group"), "cases file has no rows")
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    _one_line_error(cli("tables", "--cases", tmp_path / "empty.csv", "--attribute", "group"), "cases file is empty")


def test_error_segments_case_not_in_cases(cli, codebook, tmp_path):
    cases = tmp_path / "cases.csv"
    lines = CASES.read_text(encoding="utf-8").splitlines()
    cases.write_text("\n".join(ln for ln in lines if not ln.startswith(("v07,", "v33,"))) + "\n", encoding="utf-8")
    r = cli("tables", "-s", SEGMENTS, "--cases", cases, "-c", codebook, "--theme", "family")
    _one_line_error(r, "2 case(s) of the segments are not in the cases file", "'v07'", "'v33'", "segments.csv:")


def test_error_code_not_in_codebook(cli, codebook, tmp_path):
    segs = tmp_path / "segments.csv"
    text = SEGMENTS.read_text(encoding="utf-8").replace("family.poor_family", "family.poverty", 1)
    segs.write_text(text, encoding="utf-8")
    r = cli("tables", "-s", segs, "--cases", CASES, "-c", codebook, "--theme", "recruitment")
    _one_line_error(r, "not in codebook 'csec-study'", "'family.poverty'")


@pytest.mark.parametrize(
    "args,part",
    [
        (["--attribute", "group", "--theme", "family"], "not both"),
        ([], "nothing to count"),
        (["--attribute", "group", "--format", "xlsx"], "xlsx cannot be printed"),
        (["--attribute", "group", "--where", "group"], "cannot read the filter"),
    ],
)
def test_usage_errors(cli, args, part):
    r = cli("tables", "--cases", CASES, *args)
    _one_line_error(r, part)
    assert r.exit_code == 2
