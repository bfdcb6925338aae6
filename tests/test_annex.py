"""`qualkit annex`: the .docx read back with python-docx — table values against the tables
command's CSV, captions, repeated header rows, charts, codebook contents, quotes and their
attributions, life stories, templates, spec errors."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from qualkit.annex import build_annex, load_annex_spec, render_annex
from qualkit.errors import ConfigError, InputError, SafetyError

ROOT = Path(__file__).resolve().parents[1]
PUB = ROOT / "examples" / "csec-study" / "published-tables"
CODEBOOK = ROOT / "codebooks" / "csec-study.yaml"


# --------------------------------------------------------------------------- helpers


def cell_texts(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def caption_paragraphs(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style is not None and p.style.name == "Caption"]


def paragraphs(document, style: str) -> list[str]:
    return [p.text for p in document.paragraphs if p.style is not None and p.style.name == style]


def table_after_caption(document, caption: str):
    """The first table that follows the paragraph whose text is *caption*."""
    body = document.element.body
    seen = False
    tables = {t._tbl: t for t in document.tables}
    for el in body.iterchildren():
        if el.tag == qn("w:p") and "".join(t.text or "" for t in el.iter(qn("w:t"))) == caption:
            seen = True
        elif seen and el.tag == qn("w:tbl"):
            return tables[el]
    raise AssertionError(f"no table after caption {caption!r}")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tables_csv(tmp_path_factory):
    """The tables command's CSV output for the published tables: {table id: {row: {column: value}}}."""
    from typer.testing import CliRunner

    from qualkit.cli import app

    out = tmp_path_factory.mktemp("tables") / "csv"
    res = CliRunner().invoke(
        app,
        [
            "tables",
            "--spec",
            str(PUB / "tables.yaml"),
            "--segments",
            str(PUB / "segments.csv"),
            "--cases",
            str(PUB / "cases.csv"),
            "--codebook",
            str(CODEBOOK),
            "--percent",
            "--format",
            "csv",
            "--output",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    return {
        p.stem: {r["row"]: r for r in csv.DictReader(io.StringIO(p.read_text(encoding="utf-8")))}
        for p in out.glob("*.csv")
    }


@pytest.fixture(scope="module")
def tables_annex(tmp_path_factory):
    """One annex with tables (count and n (x%) cells), a chart, a respondents crosstab and the codebook."""
    d = tmp_path_factory.mktemp("annex")
    spec = write(
        d / "annex.yaml",
        f"""
title: Annexes
segments: {PUB / "segments.csv"}
cases: {PUB / "cases.csv"}
codebook: {CODEBOOK}
tables: {PUB / "tables.yaml"}
sections:
  - type: respondents
    heading: Annex 1. Respondents
    rows: province
    columns: group
    title: Child victims by province and group
  - type: tables
    heading: Annex 2. Tables
    tables:
      - t2
      - {{table: "23", chart: true}}
      - {{table: t16, cells: count}}
  - type: codebook
    heading: Annex 3. Codebook
    themes: [family]
""",
    )
    out = d / "annex.docx"
    result = build_annex(spec, out)
    return result, docx.Document(str(out))


# --------------------------------------------------------------------------- tables


def _number(text: str, zeros: str = "–") -> tuple[int, int | None]:
    if text.strip() == zeros:
        return 0, None
    m = re.fullmatch(r"(\d+)(?: \((\d+)%\))?", text.strip())
    assert m, f"cell {text!r} is neither 'n' nor 'n (x%)' with a whole per cent"
    return int(m.group(1)), (int(m.group(2)) if m.group(2) else None)


def test_table_cells_equal_the_tables_csv(tables_annex, tables_csv):
    """Every printed cell against the tables command's CSV, with the print conventions: zeros
    print as "–", whole per cents (half up) and none for a column of fewer than 10 children,
    an all-zero no-response row left out."""
    from qualkit.tables.build import percent

    _result, d = tables_annex
    for tid, caption, cells in (
        ("t23", "Table 23: Child victims – family experiences", "n_pct"),
        ("t2", "Table 2: Child victims – CSEC type", "count"),
        ("t16", "Table 16: Child victims – customers per day", "count"),
    ):
        table = table_after_caption(d, caption)
        grid = cell_texts(table)
        expected = tables_csv[tid]
        number_cols = [c for c in next(iter(expected.values())) if c not in ("row", "label") and not c.endswith(" %")]
        rows = [
            r
            for r in expected
            if r != "no_response" or any(int(expected[r][c]) for c in number_cols)  # all-zero: not printed
        ]
        assert len(grid) == 1 + len(rows)  # header + every printed row of the CSV, total included
        base = {c: int(expected["total_cases"][c]) for c in number_cols}
        for i, row_id in enumerate(rows, start=1):
            assert grid[i][0].strip() == expected[row_id]["label"]
            for j, col in enumerate(number_cols, start=1):
                n, pct = _number(grid[i][j], zeros="–" if row_id != "total_cases" else "")
                assert n == int(expected[row_id][col]), (tid, row_id, col)
                if cells == "n_pct" and row_id != "total_cases" and n and base[col] >= 10:
                    assert pct == percent(n, base[col], 0), (tid, row_id, col)
                else:
                    assert pct is None
    # published figures, read from the Word table itself
    t23 = cell_texts(table_after_caption(d, "Table 23: Child victims – family experiences"))
    poor = next(r for r in t23 if r[0] == "Poor family")
    assert poor[1:5] == ["21 (66%)", "4 (29%)", "3", "28 (55%)"]
    assert next(r for r in t23 if r[0] == "Rejected after pregnancy")[2:4] == ["–", "–"]
    assert t23[0] == [
        "Family experiences",
        "Child prostitution",
        "Trafficked across a border",
        "Trafficked inside Viet Nam",
        "Total",
    ]


def test_captions_header_repeat_notes_and_chart(tables_annex):
    result, d = tables_annex
    caps = caption_paragraphs(d)
    assert caps == [
        "Table 1: Child victims by province and group",
        "Table 2: Child victims – CSEC type",
        "Table 23: Child victims – family experiences",
        "Figure 1: Child victims – family experiences",
        "Table 16: Child victims – customers per day",
    ]
    assert result.tables == 4 and result.figures == 1
    # every table's first row repeats on each page, and no row splits across pages
    for t in d.tables:
        trpr = t.rows[0]._tr.trPr
        assert trpr is not None and trpr.find(qn("w:tblHeader")) is not None
        assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in t.rows[1:])
    # the caption's number is a SEQ field that keeps the spec's number (Word's list of tables works)
    xml = d.element.body.xml
    assert "SEQ Table \\r 23" in xml and "SEQ Figure \\r 1" in xml
    notes = paragraphs(d, "Table Note")
    assert any(n.startswith("Base: 51 children (Child prostitution 32, Trafficked across a border 14") for n in notes)
    assert any(n.startswith("Multi-response:") for n in notes)
    assert "Family experiences the children described, by victim group." in paragraphs(d, "Table Description")
    # the chart is an embedded PNG, drawn in greys with hatches
    assert len(d.inline_shapes) == 1
    pngs = [p for p in d.part.package.parts if p.content_type == "image/png"]
    assert len(pngs) == 1 and pngs[0].blob[:8] == b"\x89PNG\r\n\x1a\n"


def test_respondents_crosstab(tables_annex):
    _r, d = tables_annex
    grid = cell_texts(table_after_caption(d, "Table 1: Child victims by province and group"))
    assert grid[0][0] == "Province" and grid[-1][0] == "Total" and grid[-1][-1] == "51"
    provinces = [r[0] for r in grid[1:-2]]
    assert provinces == sorted(provinces)  # natural order
    cases = list(csv.DictReader((PUB / "cases.csv").open(encoding="utf-8")))
    for row in grid[1:-2]:
        assert int(row[-1]) == sum(1 for c in cases if c["province"] == row[0])


def test_charts_are_grayscale_with_hatches(tables_annex):
    """Each series has its own grey and hatch; nothing relies on colour."""
    from PIL import Image

    _r, d = tables_annex
    png = next(p for p in d.part.package.parts if p.content_type == "image/png").blob
    img = Image.open(io.BytesIO(png)).convert("RGB")
    small = img.resize((img.width // 4, img.height // 4))
    colours = {c for _n, c in small.getcolors(maxcolors=1 << 24)}
    assert all(max(c) - min(c) <= 12 for c in colours)  # (near-)grey pixels only
    from qualkit.annex.charts import GREYS, HATCHES

    assert len(set(GREYS[:3])) == 3 and len(set(HATCHES[:3])) == 3


def test_chart_is_printable_and_carries_its_data(tables_annex):
    """300 dpi at the printed size, drawn at that size (so its 8-9 pt text stays 8-9 pt), and the
    data it draws in the picture's alternative text: only non-empty bars, each with its value."""
    from PIL import Image

    from qualkit.annex.charts import LABEL_PT, TEXT_PT, TICK_PT

    _r, d = tables_annex
    [shape] = d.inline_shapes
    png = next(p for p in d.part.package.parts if p.content_type == "image/png").blob
    img = Image.open(io.BytesIO(png))
    printed_in = shape.width / 914400
    assert img.width / printed_in >= 299.5
    assert abs(img.width / 300 - printed_in) < 0.02  # drawn at its printed width: no scaling
    assert min(LABEL_PT, TEXT_PT, TICK_PT) >= 8
    alt = shape._inline.docPr.get("descr")
    # a column of 5 children is too small for percentages: the chart draws counts
    assert alt.startswith("Bar chart: Child victims – family experiences (Number of children). ")
    # no empty slot: a group lists only the series it has, never a zero
    items = dict(part.split(": ", 1) for part in alt.split(". ", 1)[1].rstrip(".").split("; "))
    assert items["Poor family"] == "Child prostitution 21, Trafficked across a border 4, Trafficked inside Viet Nam 3"
    assert items["Rejected after pregnancy"] == "Child prostitution 2"
    assert not re.search(r"\b0\b", alt)


def test_chart_data_draws_only_non_empty_bars():
    from qualkit.annex.charts import ChartData, render_bar_chart

    data = ChartData(["a", "b", "c"], ["x", "y"], [[2, 0, 0], [1, 3, 0]], unit="count")
    assert data.bars() == [[(0, 2), (1, 1)], [(1, 3)], []]
    assert data.alt_text().endswith("a: x 2, y 1; b: y 3; c: 0.")
    assert render_bar_chart(data, width_cm=12)[:8] == b"\x89PNG\r\n\x1a\n"


def test_chart_font_follows_the_document():
    from matplotlib import font_manager

    from qualkit.annex.charts import FONT_ALTERNATIVES, chart_font

    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not installed & set(FONT_ALTERNATIVES["arial"]):
        pytest.skip("no Arial-compatible font installed")
    assert chart_font("Arial") in FONT_ALTERNATIVES["arial"]


def test_base_and_notes_follow_their_table_and_stay_with_it(tables_annex):
    """Right after each table comes its base line; the table's last row keeps with it (Word's
    keep-with-next), and a figure caption does not drag the next table along."""
    _r, d = tables_annex
    body = list(d.element.body.iterchildren())
    checked = 0
    for i, el in enumerate(body):
        if el.tag != qn("w:tbl") or i + 1 >= len(body):
            continue
        nxt = body[i + 1]
        text = "".join(t.text or "" for t in nxt.iter(qn("w:t")))
        if not text.startswith("Base:"):
            continue  # the codebook table is followed by its code count
        checked += 1
        last_row = el.findall(qn("w:tr"))[-1]
        for p in last_row.iter(qn("w:p")):
            keep = p.find(qn("w:pPr")).find(qn("w:keepNext"))
            assert keep is not None and keep.get(qn("w:val")) in (None, "1", "true")
    assert checked == 4
    fig_caption = next(p for p in d.paragraphs if p.text.startswith("Figure 1:"))
    assert fig_caption.paragraph_format.keep_with_next is False


def test_codebook_annex_contents(tables_annex):
    from qualkit.coding.codebook import load_codebook

    _r, d = tables_annex
    cb = load_codebook(CODEBOOK)
    theme = cb.theme("family")
    table = d.tables[-1]
    grid = cell_texts(table)
    assert grid[0] == ["Code", "Label", "Definition", "When to use", "When not to use", "Example"]
    assert grid[1][0].startswith(f"Theme: {theme.label} (family)")  # theme band row, merged across
    body = {r[0]: r for r in grid[2:]}
    assert len(body) == len(theme.codes)
    for code in theme.codes:
        row = body[code.id]
        assert row[1:5] == [code.label, code.definition, code.when_to_use, code.when_not_to_use]
        assert row[5] == "\n".join(f"“{e}”" for e in code.examples)
    # the codebook annex is a landscape section; page numbers continue (footer linked)
    last = d.sections[-1]
    assert last.page_width > last.page_height and last.footer.is_linked_to_previous


# --------------------------------------------------------------------------- quotes and stories

CASES = """case,category,age_now,province,interview_type
int01,girl victim of prostitution,16,Khanh Hoa,Interview
int02,girl victim of prostitution,,Ha Noi,Interview
fgd01,peer educators,,An Giang,Focus Group Discussion
"""

TRANSCRIPTS = {
    "int01.txt": (
        "Interview 01\nDate: 18/11/2010\n\n"
        "Interviewer: Tell me about your family. Were you poor?\n"
        "Respondent: We are very poor, we have no rice field.\n"
        "Interviewer: And school?\n"
        "Respondent: I stopped school to help my family.\n"
        "My mother sells vegetables at the market.\n"
    ),
    "int02.txt": (
        "Interviewer: How was home?\n"
        "Respondent: My father drank and beat my mother.\n"
        "Respondent: There was never enough rice at home.\n"
        "Respondent: We ate rice with salt.\n"
    ),
    "fgd01.txt": ("Moderator: Why do girls start?\nP1: Most girls come from poor families in the countryside.\n"),
}


def seg_rows(folder: Path) -> list[dict]:
    def at(doc, text, code, status="accepted", case=""):
        body = TRANSCRIPTS[doc + ".txt"]
        s = body.index(text)
        return {
            "document": doc,
            "code": code,
            "case": case,
            "segment": "",
            "start": s,
            "end": s + len(text),
            "speaker": "",
            "coder": "a",
            "status": status,
            "text": text,
        }

    return [
        at("int01", "We are very poor, we have no rice field.", "family.poor_family"),
        at("int01", "I stopped school to help my family.", "family.poor_family", status=""),  # empty = accepted
        at("int01", "Were you poor?", "family.poor_family"),  # interviewer speech: never a quote
        at("int02", "There was never enough rice at home.", "family.poor_family", status="suggested"),
        at("int02", "We ate rice with salt.", "family.poor_family", status="rejected"),
        at("int02", "My father drank and beat my mother.", "family.domestic_violence"),
        at("fgd01", "Most girls come from poor families in the countryside.", "family.poor_family"),
    ]


@pytest.fixture
def study(tmp_path) -> Path:
    write(tmp_path / "cases.csv", CASES)
    for name, text in TRANSCRIPTS.items():
        write(tmp_path / "output" / "transcripts" / name, text)
    with (tmp_path / "output" / "segments.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(
            fh, fieldnames=["document", "code", "case", "segment", "start", "end", "speaker", "coder", "status", "text"]
        )
        w.writeheader()
        w.writerows(seg_rows(tmp_path))
    return tmp_path


def quotes_spec(study: Path, extra: str = "", attribution: str | None = None) -> Path:
    attribution = attribution or (
        '["(Interview with {category}, now {age_now} years old, {province})", '
        '"({interview_type} with {category}, {province})"]'
    )
    return write(
        study / "annex.yaml",
        f"""
cases: cases.csv
segments: output/segments.csv
codebook: {CODEBOOK}
transcripts: output/transcripts
sections:
  - type: quotes
    heading: Quotes
    codes: [family.poor_family, family.domestic_violence]
    max_per_code: 5
    attribution: {attribution}
{extra}
""",
    )


def quote_pairs(d) -> list[tuple[str, str]]:
    ps = [p for p in d.paragraphs if p.style is not None and p.style.name in ("Quote", "Attribution")]
    return [(ps[i].text, ps[i + 1].text) for i in range(0, len(ps), 2)]


def test_quotes_accepted_only_with_attributions(study):
    result = render_annex(quotes_spec(study))
    d = result.document
    pairs = quote_pairs(d)
    assert pairs == [
        (
            "“Most girls come from poor families in the countryside.”",
            "(Focus Group Discussion with peer educators, An Giang)",
        ),  # fallback template: no age
        (
            "“We are very poor, we have no rice field.”",
            "(Interview with girl victim of prostitution, now 16 years old, Khanh Hoa)",
        ),
        ("“My father drank and beat my mother.”", "(Interview with girl victim of prostitution, Ha Noi)"),
    ]
    assert paragraphs(d, "Heading 2") == ["Poor family", "Domestic violence"]
    text = "\n".join(p.text for p in d.paragraphs)
    assert "nan" not in text.split() and "None" not in text
    assert "never enough rice" not in text  # suggested
    assert "rice with salt" not in text  # rejected
    assert "Were you poor" not in text  # interviewer speech
    assert "stopped school" not in text  # one quote per case unless per_case says more
    assert result.quotes == 3


def test_quotes_per_case_and_include_suggested(study):
    d = render_annex(quotes_spec(study, "    per_case: 2\n    include_suggested: true\n")).document
    texts = [q for q, _a in quote_pairs(d)]
    assert "“I stopped school to help my family.”" in texts
    assert "“There was never enough rice at home.”" in texts
    assert not any("rice with salt" in t for t in texts)  # rejected stays out even then
    # voices first: every case's first quote comes before any case's second quote
    assert texts.index("“I stopped school to help my family.”") > texts.index("“There was never enough rice at home.”")


def test_missing_attribute_is_an_error_or_a_fallback(study):
    spec = quotes_spec(study, attribution='"(Interview with {category}, now {age_now} years old, {province})"')
    with pytest.raises(InputError) as exc:
        render_annex(spec)
    msg = str(exc.value)
    assert "case 'fgd01' has no value for 'age_now'" in msg and "cases.csv:4" in msg
    spec = quotes_spec(
        study,
        '    missing: "age unknown"\n',
        attribution='"(Interview with {category}, now {age_now} years old, {province})"',
    )
    pairs = quote_pairs(render_annex(spec).document)
    assert (
        "“My father drank and beat my mother.”",
        "(Interview with girl victim of prostitution, now age unknown years old, Ha Noi)",
    ) in pairs
    spec = quotes_spec(
        study, "    missing: skip\n", attribution='"(Interview with {category}, now {age_now} years old, {province})"'
    )
    assert [a for _q, a in quote_pairs(render_annex(spec).document)] == [
        "(Interview with girl victim of prostitution, now 16 years old, Khanh Hoa)"
    ]


def test_attribution_with_unknown_column_names_the_spec_line(study):
    spec = quotes_spec(study, attribution='"(Interview with {categroy})"')
    with pytest.raises(ConfigError) as exc:
        render_annex(spec)
    assert "{categroy}" in str(exc.value) and "did you mean {category}" in str(exc.value)
    assert f"{spec}:" in str(exc.value)


def test_quote_text_must_be_in_the_redacted_transcript(study):
    rows = list(csv.DictReader((study / "output" / "segments.csv").open(encoding="utf-8")))
    rows[0]["text"] = "We are very poor, Grandma Lan Nguyen has no rice field."  # coded on the original text
    with (study / "output" / "segments.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(SafetyError) as exc:
        render_annex(quotes_spec(study))
    msg = str(exc.value)
    assert "not in the redacted transcript" in msg and "segments.csv:2" in msg and "Lan" not in msg


def test_life_stories_under_pseudonyms(study):
    spec = write(
        study / "annex.yaml",
        """
cases: cases.csv
transcripts: output/transcripts
sections:
  - type: life_stories
    heading: Life stories
    stories:
      - {document: int01, pseudonym: Thuc, heading: "{pseudonym}, {age_now} years old"}
      - {document: int02, pseudonym: Hoa}
  - type: life_stories
    heading: With the questions
    interviewer: true
    stories:
      - {document: int01, pseudonym: Thuc}
""",
    )
    d = render_annex(spec).document
    assert paragraphs(d, "Heading 2") == ["Thuc, 16 years old", "Hoa", "Thuc"]
    story = paragraphs(d, "Story Text")
    assert story[:3] == [
        "We are very poor, we have no rice field.",
        "I stopped school to help my family.",
        "My mother sells vegetables at the market.",
    ]
    assert not any("Interview 01" in s or "18/11/2010" in s for s in story)  # header/metadata lines left out
    asked = paragraphs(d, "Interviewer Text")
    assert asked == ["Interviewer: Tell me about your family. Were you poor?", "Interviewer: And school?"]


# --------------------------------------------------------------------------- templates


def test_template_styles_page_setup_and_footer():
    from qualkit.annex import default_template

    t = docx.Document(str(default_template()))
    names = {s.name for s in t.styles}
    for needed in (
        "Heading 1",
        "Heading 2",
        "Caption",
        "Table Description",
        "Table Note",
        "Table Text",
        "Quote",
        "Attribution",
        "Story Text",
        "Interviewer Text",
        "Annex Table",
    ):
        assert needed in names
    sec = t.sections[0]
    assert round(sec.page_width.cm, 1) == 21.0 and round(sec.page_height.cm, 1) == 29.7
    assert round(sec.left_margin.cm, 1) == 2.5 and round(sec.top_margin.cm, 1) == 2.5
    footer_xml = sec.footer._element.xml
    assert " PAGE " in footer_xml and " NUMPAGES " in footer_xml


def test_generated_template_matches_the_packaged_copy():
    import importlib.util

    script = ROOT / "tools" / "make_annex_template.py"
    spec = importlib.util.spec_from_file_location("make_annex_template", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    data = mod.template_bytes()
    assert (ROOT / "src" / "qualkit" / "data" / "annex-template.docx").read_bytes() == data


def test_own_template_keeps_header_clears_body_and_falls_back(study, tmp_path):
    org = docx.Document()
    org.sections[0].header.paragraphs[0].text = "ACME Research – confidential draft"
    org.add_paragraph("Delete me: template placeholder")
    tpl = tmp_path / "acme.docx"
    org.save(str(tpl))
    result = render_annex(quotes_spec(study), template=tpl)
    d = result.document
    assert d.sections[0].header.paragraphs[0].text == "ACME Research – confidential draft"
    assert not any("placeholder" in p.text for p in d.paragraphs)
    assert "Attribution" in result.missing_styles  # python-docx's default template has no such style
    assert quote_pairs(d)[0][1].startswith("(Focus Group Discussion")
    # a .dotx (Word template) is accepted too
    dotx = tmp_path / "acme.dotx"
    with zipfile.ZipFile(tpl) as src, zipfile.ZipFile(dotx, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"document.main+xml", b"template.main+xml")
            dst.writestr(info, data)
    d2 = render_annex(quotes_spec(study), template=dotx).document
    assert d2.sections[0].header.paragraphs[0].text == "ACME Research – confidential draft"


# --------------------------------------------------------------------------- spec errors


@pytest.mark.parametrize(
    "body, line, words",
    [
        ("sections:\n  - type: tables\n    tabels: [t2]\n", 3, "did you mean 'tables'"),
        ("sections:\n  - type: pictures\n", 2, "give 'type:' one of"),
        ("tables: TABLES\nsections:\n  - type: tables\n    tables: [t99]\n", 4, "no table 't99'"),
        ("sections:\n  - type: quotes\n    codes: [family.poor_family]\n    max_per_code: many\n", 4, "whole number"),
        (
            "sections:\n  - type: tables\n    tables:\n      - {table: t2, chart: {values: colour}}\n",
            4,
            "unknown chart values",
        ),
        ("table_caption: 'Table {num}: {title}'\nsections:\n  - type: text\n    text: hi\n", 1, "unknown field"),
    ],
)
def test_spec_errors_name_file_line_and_fix(tmp_path, body, line, words):
    spec = write(tmp_path / "annex.yaml", body.replace("TABLES", str(PUB / "tables.yaml")))
    with pytest.raises(ConfigError) as exc:
        load_annex_spec(spec)
    msg = str(exc.value)
    assert f"annex.yaml:{line}" in msg and words in msg and " — " in msg


def test_inline_untitled_table_is_numbered_after_the_previous_one(tmp_path):
    spec = write(
        tmp_path / "annex.yaml",
        f"""
segments: {PUB / "segments.csv"}
cases: {PUB / "cases.csv"}
codebook: {CODEBOOK}
tables: {PUB / "tables.yaml"}
sections:
  - type: tables
    tables:
      - t24
      - {{id: drugs, theme: drug_use, by: sex, labels: {{female: Girls, male: Boys}}}}
""",
    )
    d = render_annex(spec).document
    assert caption_paragraphs(d) == ["Table 24: Child victims – immediate path into CSEC", "Table 25: Drug use by sex"]
    grid = cell_texts(table_after_caption(d, "Table 25: Drug use by sex"))
    assert grid[0] == ["Drug use", "Girls", "Boys", "Total"] and grid[-1][-1] == "51"
