"""Respondent frequency tables, counted the way a study report counts them.

Counting rules (docs/tables.md):

* cells count distinct **cases** (respondents), never segments: a case coded
  with the same code in five segments counts once;
* a case with several codes of the theme counts in each of their rows (the
  table is then *multi-response* and columns add up to more than N);
* segment rows with status ``rejected`` never count; ``suggested`` and
  ``accepted`` (or empty) rows count unless ``accepted_only`` is asked for;
* a theme's rows are its top-level codes in codebook order; a case coded with
  a sub-code (``violence.physical.by_customer``) counts for its parent row
  (``violence.physical``); ``subcodes=True`` adds indented sub-code rows;
* ``no_response`` = cases of the column with no code of the theme (theme
  tables) or an empty value (attribute tables); ``total_cases`` = cases in the
  column; the ``total`` column counts all cases of the table;
* percentages are shares of the column's ``total_cases`` with one decimal,
  rounded half up (12.25 -> 12.3, never banker's rounding);
* the denominators come from the cases file, after the ``where`` filters.

Bad input is an error naming what and where (the first few offenders), never a
silent zero: a segment whose case is not in the cases file, a code not in the
codebook, a missing column, a filter value no case has, an empty table base.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import CodebookError, InputError, UsageError
from .spec import (
    Filter,
    TableSpec,
    describe_filter,
    normalize_filter,
)

NO_RESPONSE = "no_response"
TOTAL_CASES = "total_cases"
TOTAL = "total"
NO_RESPONSE_LABEL = "No response"
TOTAL_CASES_LABEL = "Total"
PCT_SUFFIX = " %"
MAX_OFFENDERS = 5


# --------------------------------------------------------------------------- numbers


def percent(n: int, base: int, decimals: int = 1) -> float | None:
    """``n`` as a share of ``base`` in per cent, rounded half up to *decimals* (None when base is 0).

    Exact decimal arithmetic: ``percent(1, 16) == 6.3`` (6.25 rounds up),
    ``percent(1, 8) == 12.5``, ``percent(14, 32, 0) == 44``.
    """
    if not base:
        return None
    quantum = Decimal(1).scaleb(-decimals)
    value = (Decimal(int(n)) * 100 / Decimal(int(base))).quantize(quantum, rounding=ROUND_HALF_UP)
    return float(value)


def format_percent(value: float | None, decimals: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.{decimals}f}"


def share_sentence(n: int, base: int, noun: str = "children", *, decimals: int = 0) -> str:
    """The report's phrasing: ``share_sentence(14, 32) -> "14 of the 32 children (44 per cent)"``."""
    if base <= 0:
        raise ValueError("the base of a share must be positive")
    if not 0 <= n <= base:
        raise ValueError(f"{n} is not a share of {base}")
    pct = percent(n, base, decimals)
    shown = f"{pct:.{decimals}f}" if decimals else f"{int(pct)}"
    return f"{n} of the {base} {noun} ({shown} per cent)"


def print_label(text: str) -> str:
    """A value as a printed label: a raw value gets a capital first letter ("parent" -> "Parent")."""
    s = str(text)
    return s[:1].upper() + s[1:] if s[:1].islower() else s


_NUM = r"\d+(?:\.\d+)?"
_UNIT = r"(?:\s+(?P<unit>\S.*))?$"  # an optional trailing unit: "14 years", "10+ customers"
_RANGE_RE = re.compile(rf"^(?P<a>{_NUM})\s*(?:-|–|—|to)\s*(?P<b>{_NUM}){_UNIT}", re.I)
_PLUS_RE = re.compile(rf"^(?P<a>{_NUM})\s*(?:\+|or more\b|and (?:over|above|more)\b|plus\b){_UNIT}", re.I)
_UNDER_RE = re.compile(rf"^(?:<|under\b|less than\b|below\b|fewer than\b)\s*(?P<a>{_NUM}){_UNIT}", re.I)
_NUMBER_RE = re.compile(rf"^(?P<a>{_NUM}){_UNIT}")


def natural_key(value: Any) -> tuple:
    """Sort key for attribute values: numbers as numbers, ranges by their bounds, text naturally.

    "9" < "10"; "1-2" < "3-4" < "10+"; "under 12" < "12"; "14 years" sorts as 14;
    "Grade 2" < "Grade 10"; numeric values come before text values.
    """
    s = str(value).strip()
    for regex, rank in ((_UNDER_RE, 0), (_NUMBER_RE, 1), (_RANGE_RE, 2), (_PLUS_RE, 3)):
        m = regex.match(s)
        if m:
            a = float(m.group("a"))
            b = float(m.group("b")) if rank == 2 else (math.inf if rank == 3 else a)
            return (0, a, rank, b, (m.group("unit") or "").casefold())
    chunks = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", s.casefold()) if p != "")
    return (1, chunks)


def _ordered(values: Iterable[str], order: Sequence[str] | None) -> list[str]:
    """Values in *order* first (as listed), then the rest in natural order."""
    values = list(dict.fromkeys(values))
    first = [v for v in (order or [])]
    rest = sorted((v for v in values if v not in set(first)), key=natural_key)
    return first + rest


# --------------------------------------------------------------------------- the table


@dataclass
class FrequencyTable:
    """A built table: the tidy ``frame`` (CSV layout of the formats contract) plus what renders it."""

    spec: TableSpec
    frame: Any  # pandas.DataFrame: row, label, <by values...>, total, [<value> %...]
    base: dict[str, int]  # column -> total_cases
    multi_response: bool
    columns: list[str]  # the by values, in column order (without "total")
    column_labels: dict[str, str]
    row_header: str
    depth: dict[str, int] = field(default_factory=dict)  # row id -> indent level (sub-code rows > 0)
    filters: list = field(default_factory=list)
    kind: str = "theme"  # "theme" | "attribute"
    warnings: list[str] = field(default_factory=list)

    @property
    def heading(self) -> str:
        """ "Table 23. Child victims – family experiences"; untitled tables: "Family experiences by group"."""
        if self.spec.title:
            return self.spec.heading
        title = self.row_header + (f" by {self.spec.headers.get(self.spec.by, self.spec.by)}" if self.spec.by else "")
        return f"Table {self.spec.number}. {title}" if self.spec.number else title

    @property
    def n(self) -> int:
        return self.base[TOTAL]

    @property
    def all_columns(self) -> list[str]:
        return self.columns + [TOTAL]

    @property
    def rows(self) -> list[str]:
        return list(self.frame["row"])

    def count(self, row: str, column: str = TOTAL) -> int:
        hit = self.frame.loc[self.frame["row"] == row, column]
        if hit.empty:
            raise KeyError(row)
        return int(hit.iloc[0])

    def pct(self, row: str, column: str = TOTAL) -> float | None:
        return percent(self.count(row, column), self.base[column])

    def label(self, row: str) -> str:
        hit = self.frame.loc[self.frame["row"] == row, "label"]
        return str(hit.iloc[0]) if not hit.empty else row

    def base_line(self) -> str:
        """ "Base: 8 child victims interviewed (Child prostitution 4, ...)." Printed under md/terminal/Word tables.

        The spec's ``unit`` says who is counted; only a table with the generic unit
        ("cases") spells out its filters, in words ("cases with group = prostitution")."""
        unit = self.spec.unit
        text = f"Base: {self.n} {unit}"
        if self.filters and unit == "cases":
            text += " with " + " and ".join(describe_filter(f, plain=True) for f in self.filters)
        if self.columns:
            parts = ", ".join(f"{print_label(self.column_labels[c])} {self.base[c]}" for c in self.columns)
            text += f" ({parts})"
        return text + "."

    def multi_response_note(self) -> str | None:
        if not self.multi_response:
            return None
        return (
            f"Multi-response: {self.spec.unit} can count in several rows, "
            f"so a column can add up to more than its total."
        )

    def to_csv(self, path: str | Path | None = None) -> str:
        from .render import render_csv

        text = render_csv(self)
        if path is not None:
            from ..fsutil import atomic_write_text

            atomic_write_text(path, text)
        return text


# --------------------------------------------------------------------------- inputs


def _read_inputs(segments, cases, codebook):
    """Accept DataFrames/Codebook objects or paths; remember file names for messages."""
    from ..cases import read_cases
    from ..coding.codebook import Codebook, load_codebook
    from ..coding.segments import read_segments

    if isinstance(cases, (str, Path)):
        path = Path(cases)
        cases = read_cases(path)
        cases.attrs["path"] = str(path)
    if cases is None:
        raise UsageError("a table needs the cases file (respondent attributes)", fix="give --cases CASES.csv")
    if isinstance(segments, (str, Path)):
        path = Path(segments)
        segments = read_segments(path)
        segments.attrs["path"] = str(path)
    if isinstance(codebook, (str, Path)):
        codebook = load_codebook(codebook)
    if codebook is not None and not isinstance(codebook, Codebook):
        raise UsageError("codebook must be a Codebook or a path to a codebook YAML")
    return segments, cases, codebook


def _cases_frame(cases):
    """Cases as a DataFrame of stripped strings ('' = missing), indexed by case id."""
    import pandas as pd

    if len(cases) == 0:
        raise InputError(
            "cases file has no rows",
            file=cases.attrs.get("path"),
            line=2,
            fix="add one row per respondent (column 'case' = document id)",
        )
    df = cases.copy()
    if "case" in df.columns:
        df.index = df["case"].astype(str).str.strip()
    else:
        df.index = df.index.astype(str)
    df = df.astype(object).where(pd.notna(df), "")
    df = df.apply(lambda s: s.map(lambda v: str(v).strip()))
    return df


def _column_error(name: str, cases, what: str, spec: TableSpec, key: str):
    cols = [c for c in cases.columns if c != "case"]
    import difflib

    close = difflib.get_close_matches(name, cols, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    where_file = spec.source or cases.attrs.get("path")
    line = spec.lines.get(key, spec.line) if spec.source else 1
    return InputError(
        f"{what} column '{name}' is not in the cases file",
        file=where_file,
        line=line,
        fix=f"{hint}columns are: {', '.join(cols) or '(none)'}",
    )


def _apply_filters(cases, filters: list[Filter], spec: TableSpec):
    """Filter cases; a column or value no case has is an error (a typo would give a silent zero)."""
    mask = None
    for col, op, val in filters:
        if col not in cases.columns:
            raise _column_error(col, cases, "filter", spec, "where")
        series = cases[col]
        present = set(series)
        wanted = val if op in ("in", "not in") else (val,)
        # a typo in a value gives a silent zero; "is missing" / "is given" (an empty
        # value) is a question about the data, never a typo
        unknown = [v for v in wanted if v and v not in present]
        if unknown:
            shown = sorted((v for v in present if v), key=natural_key)[:12]
            raise InputError(
                f"no case has {col} = '{unknown[0] or '(missing)'}' (filter {describe_filter((col, op, val))})",
                file=spec.source or cases.attrs.get("path"),
                line=spec.lines.get("where", spec.line) if spec.source else None,
                fix=f"values of {col} are: {', '.join(shown) or '(all missing)'}",
            )
        hit = series.isin(wanted)
        m = hit if op in ("==", "in") else ~hit
        mask = m if mask is None else (mask & m)
    out = cases if mask is None else cases[mask]
    if len(out) == 0:
        raise InputError(
            "no case is left after the filters (" + "; ".join(describe_filter(f) for f in filters) + ")",
            file=spec.source or cases.attrs.get("path"),
            line=spec.lines.get("where", spec.line) if spec.source else None,
            fix="check the filter values against the cases file",
        )
    return out


def _offenders(rows, describe) -> str:
    shown = [describe(i, r) for i, r in rows[:MAX_OFFENDERS]]
    more = len(rows) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _check_segments(segments, cases, codebook, *, accepted_only: bool):
    """Counting rows of the segments; unknown cases/codes are errors with line numbers."""
    path = segments.attrs.get("path")
    seg = segments
    if "case_id" not in seg.columns:
        seg = seg.copy()
        case = seg["case"].astype(str).str.strip() if "case" in seg.columns else ""
        seg["case_id"] = (
            seg["document"].astype(str).str.strip()
            if "case" not in seg.columns
            else case.where(case != "", seg["document"].astype(str).str.strip())
        )
    if "effective_status" not in seg.columns:
        st = seg["status"].astype(str).str.strip().str.lower() if "status" in seg.columns else ""
        seg = seg.copy()
        seg["effective_status"] = st.replace("", "accepted") if "status" in seg.columns else "accepted"
    keep = seg["effective_status"] != "rejected"
    if accepted_only:
        keep &= seg["effective_status"] == "accepted"
    seg = seg[keep]
    known_cases = set(cases.index)
    bad_case = seg[~seg["case_id"].isin(known_cases)]
    if len(bad_case):
        rows = list(bad_case[["case_id"]].itertuples(index=True, name=None))
        firsts = list(dict.fromkeys(r[1] for r in rows))
        shown = ", ".join(f"'{c}'" for c in firsts[:MAX_OFFENDERS]) + (
            f" and {len(firsts) - MAX_OFFENDERS} more" if len(firsts) > MAX_OFFENDERS else ""
        )
        raise InputError(
            f"{len(firsts)} case(s) of the segments are not in the cases file: {shown} "
            f"(first at row {int(rows[0][0]) + 2})",
            file=path,
            line=int(rows[0][0]) + 2,
            fix="add a row for each respondent to the cases file (select with --where), "
            "or correct the document/case column of the segments",
        )
    if codebook is not None:
        known_codes = set(codebook.code_paths)
        bad_code = seg[~seg["code"].isin(known_codes)]
        if len(bad_code):
            rows = list(bad_code["code"].items())
            raise InputError(
                f"{bad_code['code'].nunique()} code(s) of the segments are not in codebook "
                f"'{codebook.id}': " + _offenders(rows, lambda i, c: f"'{c}' (row {int(i) + 2})"),
                file=path,
                line=int(rows[0][0]) + 2,
                fix=f"correct the code (theme.code, as in {codebook.path or 'the codebook'}), "
                "add it to the codebook, or set the row's status to rejected",
            )
    return seg


# --------------------------------------------------------------------------- building


def _columns_for(cases, spec: TableSpec) -> tuple[list[str], dict[str, str], Any]:
    """By values (column order), their labels and a Series case -> column."""
    if not spec.by:
        return [], {}, None
    if spec.by not in cases.columns:
        raise _column_error(spec.by, cases, "--by" if not spec.source else "'by'", spec, "by")
    series = cases[spec.by].map(lambda v: v if v != "" else NO_RESPONSE)
    observed = [v for v in series.unique()]
    order = list(spec.by_order or [])
    cols = _ordered([v for v in observed if v != NO_RESPONSE], order)
    if NO_RESPONSE in observed:
        cols.append(NO_RESPONSE)
    clash = [c for c in cols if c in ("row", "label", TOTAL) or c.endswith(PCT_SUFFIX)]
    if clash:
        raise InputError(
            f"value '{clash[0]}' of column '{spec.by}' clashes with a table column name",
            file=cases.attrs.get("path"),
            fix="rename the value in the cases file",
        )
    labels = {c: spec.labels.get(c, NO_RESPONSE_LABEL if c == NO_RESPONSE else c) for c in cols}
    return cols, labels, series


def _theme_rows(
    spec: TableSpec, codebook, seg
) -> tuple[list[tuple[str, str, int]], dict[str, list[str]], bool | None, str]:
    """Rows (id, label, depth), code -> rows it counts in, declared multi_response, theme label."""
    theme_id = spec.theme
    prefix = theme_id + "."
    if codebook is not None:
        try:
            theme = codebook.theme(theme_id)
        except KeyError:
            import difflib

            ids = [t.id for t in codebook.themes]
            close = difflib.get_close_matches(theme_id, ids, n=1)
            raise (InputError if spec.source else UsageError)(
                f"theme '{theme_id}' is not in codebook '{codebook.id}'",
                file=spec.source,
                line=spec.lines.get("theme", spec.line) if spec.source else None,
                fix=(f"did you mean '{close[0]}'? " if close else "") + "themes are: " + ", ".join(ids),
            ) from None
        rows: list[tuple[str, str, int]] = []
        targets: dict[str, list[str]] = {}
        for top in theme.codes:
            rows.append((top.path, top.label, 0))
            for code in top.walk():
                targets.setdefault(code.path, []).append(top.path)
            if spec.subcodes:
                for code in top.walk():
                    if code is top:
                        continue
                    rows.append((code.path, code.label, code.depth - 1))
                    for desc in code.walk():
                        targets.setdefault(desc.path, []).append(code.path)
        if not rows:
            raise CodebookError(
                f"theme '{theme_id}' has no codes", file=codebook.path, line=theme.line, fix="add codes to the theme"
            )
        return rows, targets, theme.multi_response, theme.label
    # no codebook: rows from the data (alphabetical top-level codes); labels are the ids
    codes = sorted({c for c in seg["code"] if c.startswith(prefix)})
    tops = sorted({".".join(c.split(".")[:2]) for c in codes}, key=natural_key)
    if not tops:
        raise InputError(
            f"no segment is coded with a code of theme '{theme_id}'",
            file=seg.attrs.get("path"),
            fix="check the theme id, or give --codebook so that all its codes are listed",
        )
    rows = [(t, t.split(".", 1)[1], 0) for t in tops]
    targets = {c: [".".join(c.split(".")[:2])] for c in codes}
    if spec.subcodes:
        subs = sorted({c for c in codes if c.count(".") > 1})
        for s in subs:
            rows.append((s, s.split(".")[-1], s.count(".") - 1))
            targets.setdefault(s, []).append(s)
        rows.sort(key=lambda r: (r[0].split(".")[:2], r[0].count(".") > 1, r[0]))
    return rows, targets, None, theme_id


def build_table(
    spec: TableSpec,
    segments=None,
    cases=None,
    codebook=None,
    *,
    where: Sequence[Filter | str] = (),
    accepted_only: bool = False,
) -> FrequencyTable:
    """Count *spec* over the cases (after ``spec.where`` + *where* filters).

    *segments*: DataFrame from :func:`qualkit.segments.read_segments` or a path
    (needed for theme tables); *cases*: DataFrame from
    :func:`qualkit.cases.read_cases` or a path; *codebook*: Codebook, a path or
    None (then theme rows come from the data, labelled by id).
    """
    import pandas as pd

    segments, cases, codebook = _read_inputs(segments, cases, codebook)
    cases_all = _cases_frame(cases)
    cases_all.attrs["path"] = cases.attrs.get("path")
    filters = list(spec.where) + [normalize_filter(w) for w in where]
    base_cases = _apply_filters(cases_all, filters, spec)
    columns, column_labels, col_of = _columns_for(base_cases, spec)
    warnings: list[str] = []

    if spec.theme:
        if segments is None:
            raise UsageError(
                f"table '{spec.id}' counts theme '{spec.theme}' and needs coded segments",
                file=spec.source,
                line=spec.line if spec.source else None,
                fix="give --segments SEGMENTS.csv (written by 'qualkit code')",
            )
        seg = _check_segments(segments, cases_all, codebook, accepted_only=accepted_only)
        seg.attrs["path"] = segments.attrs.get("path")
        rows, targets, declared, theme_label = _theme_rows(spec, codebook, seg)
        in_theme = seg[seg["code"].isin(set(targets)) | seg["code"].str.startswith(spec.theme + ".")]
        in_theme = in_theme[in_theme["case_id"].isin(set(base_cases.index))]
        members: dict[str, set[str]] = {r[0]: set() for r in rows}
        coded: set[str] = set()
        for case_id, code in zip(in_theme["case_id"], in_theme["code"]):
            coded.add(case_id)
            for row_id in targets.get(code, []):
                members[row_id].add(case_id)
        top_rows = [r[0] for r in rows if r[2] == 0]
        per_case: dict[str, int] = {}
        for r in top_rows:
            for c in members[r]:
                per_case[c] = per_case.get(c, 0) + 1
        observed_multi = any(v > 1 for v in per_case.values())
        if declared is False and observed_multi:
            k = sum(1 for v in per_case.values() if v > 1)
            warnings.append(
                f"theme '{spec.theme}' is single-response in the codebook but {k} case(s) have "
                f"several of its codes; they count in each row"
            )
        multi = bool(declared) or observed_multi
        row_specs = [(r[0], spec.labels.get(r[0], r[1]), r[2]) for r in rows]
        kind = "theme"
        row_header = spec.row_header or spec.headers.get(spec.theme) or theme_label
        missing_cases = set(base_cases.index) - coded

        def members_of(row_id):
            return members[row_id]
    else:
        attr = spec.attribute
        if attr not in base_cases.columns:
            raise _column_error(attr, base_cases, "attribute", spec, "attribute")
        values = base_cases[attr]
        row_values = _ordered([v for v in values.unique() if v != ""], spec.order)
        clash = [v for v in row_values if v in (NO_RESPONSE, TOTAL_CASES)]
        if clash:
            raise InputError(
                f"value '{clash[0]}' of column '{attr}' is a reserved row name",
                file=cases.attrs.get("path"),
                fix="rename the value in the cases file",
            )
        groups = {v: set(values.index[values == v]) for v in row_values}
        row_specs = [(v, spec.labels.get(v, v), 0) for v in row_values]
        missing_cases = set(values.index[values == ""])
        multi = False
        kind = "attribute"
        row_header = spec.row_header or spec.headers.get(attr) or attr.replace("_", " ").capitalize()

        def members_of(row_id):
            return groups[row_id]

    # column groups
    groups_by_col: dict[str, set[str]] = {}
    for c in columns:
        groups_by_col[c] = set(col_of.index[col_of == c])
    groups_by_col[TOTAL] = set(base_cases.index)
    all_cols = columns + [TOTAL]

    records = []
    for row_id, label, _depth in row_specs:
        mem = members_of(row_id)
        rec = {"row": row_id, "label": label}
        for c in all_cols:
            rec[c] = len(mem & groups_by_col[c])
        records.append(rec)
    nr = {"row": NO_RESPONSE, "label": spec.labels.get(NO_RESPONSE, NO_RESPONSE_LABEL)}
    tc = {"row": TOTAL_CASES, "label": spec.labels.get(TOTAL_CASES, TOTAL_CASES_LABEL)}
    for c in all_cols:
        nr[c] = len(missing_cases & groups_by_col[c])
        tc[c] = len(groups_by_col[c])
    records += [nr, tc]
    frame = pd.DataFrame.from_records(records, columns=["row", "label"] + all_cols)
    for c in all_cols:
        frame[c] = frame[c].astype("int64")
    base = {c: int(tc[c]) for c in all_cols}
    if spec.percent:
        for c in all_cols:
            frame[f"{c}{PCT_SUFFIX}"] = [percent(int(v), base[c]) for v in frame[c]]
            frame[f"{c}{PCT_SUFFIX}"] = frame[f"{c}{PCT_SUFFIX}"].astype("float64")
    depth = {r[0]: r[2] for r in row_specs}
    depth.update({NO_RESPONSE: 0, TOTAL_CASES: 0})
    column_labels = dict(column_labels)
    column_labels[TOTAL] = spec.labels.get(TOTAL, "Total")
    return FrequencyTable(
        spec=spec,
        frame=frame,
        base=base,
        multi_response=multi,
        columns=columns,
        column_labels=column_labels,
        row_header=row_header,
        depth=depth,
        filters=filters,
        kind=kind,
        warnings=warnings,
    )


def build_tables(
    specs: Iterable[TableSpec],
    segments=None,
    cases=None,
    codebook=None,
    *,
    where: Sequence[Filter | str] = (),
    accepted_only: bool = False,
    percent_all: bool = False,
) -> list[FrequencyTable]:
    """Build several tables, reading each input file once."""
    import dataclasses

    specs = list(specs)
    needs_segments = any(s.theme for s in specs)
    segments, cases, codebook = _read_inputs(segments if needs_segments else None, cases, codebook)
    out = []
    for spec in specs:
        if percent_all and not spec.percent:
            spec = dataclasses.replace(spec, percent=True)
        out.append(build_table(spec, segments, cases, codebook, where=where, accepted_only=accepted_only))
    return out
