"""Inter-coder agreement between two coded-segment files.

For every code (and pooled over all codes) the units both coders saw are
compared as "code applied / not applied": percent agreement, Cohen's kappa and
Krippendorff's alpha (nominal), with the number of units.

Units
  ``segment`` level: the segments in either file, per document; segments that
  overlap by at least half of the shorter one are the same unit (two coders
  rarely cut a sentence identically), rows without offsets are matched by
  segment id, then by text. ``case`` level: the cases (``case`` column, else
  the document).
  Every row defines a unit, rejected rows included (the coder looked at it and
  said no); only rows that are not rejected apply a code.

Undefined statistics (e.g. both coders never used a code, or used it on every
unit: the expected agreement is 1) are returned as None — never a division by zero.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Hashable, Iterable, Sequence

from ..choices import AgreeLevel, values

LEVELS = values(AgreeLevel)


# --------------------------------------------------------------------------- statistics


def percent_agreement(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Share of units (0-1) on which the two coders gave the same value."""
    if len(a) != len(b):
        raise ValueError("both coders need a value for every unit")
    if not a:
        return None
    return sum(x == y for x, y in zip(a, b)) / len(a)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa for two coders (any number of categories); None when undefined."""
    if len(a) != len(b):
        raise ValueError("both coders need a value for every unit")
    n = len(a)
    if n == 0:
        return None
    po = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb.get(k, 0) for k in ca) / (n * n)
    if pe >= 1.0:  # both coders used one and the same value throughout
        return None
    return (po - pe) / (1.0 - pe)


def krippendorff_alpha_nominal(data: Sequence[Sequence[Hashable | None]]) -> float | None:
    """Krippendorff's alpha, nominal metric.

    *data* is a reliability matrix: one row per coder, one column per unit,
    None = missing. Units with fewer than two values are not pairable and are
    ignored (Krippendorff 2011, "Computing Krippendorff's alpha-reliability").
    Returns None when undefined (fewer than two pairable values, or a single
    value used throughout: no expected disagreement).
    """
    if not data:
        return None
    n_units = len(data[0])
    if any(len(row) != n_units for row in data):
        raise ValueError("every coder row needs one entry per unit")
    coincidence: Counter = Counter()
    for u in range(n_units):
        values = [row[u] for row in data if row[u] is not None]
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for c, nc in counts.items():
            for k, nk in counts.items():
                pairs = nc * (nk - 1) if c == k else nc * nk
                if pairs:
                    coincidence[(c, k)] += pairs / (m - 1)
    n_c: Counter = Counter()
    for (c, _k), v in coincidence.items():
        n_c[c] += v
    n = sum(n_c.values())
    if n <= 1:
        return None
    observed = sum(v for (c, k), v in coincidence.items() if c != k)
    expected = sum(n_c[c] * n_c[k] for c in n_c for k in n_c if c != k)
    if expected == 0:
        return None
    return 1.0 - (n - 1) * observed / expected


# --------------------------------------------------------------------------- units from segment files


def _int(v) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _units(a_df, b_df, level: str) -> tuple[list, list, list]:
    """Map every row of both files to a unit id; returns (unit ids, a unit-of-row, b unit-of-row)."""
    if level == "case":
        ua = list(a_df["case_id"])
        ub = list(b_df["case_id"])
        units = list(dict.fromkeys(ua + ub))
        return units, ua, ub
    rows = [("a", i, r) for i, r in enumerate(a_df.to_dict("records"))] + [
        ("b", i, r) for i, r in enumerate(b_df.to_dict("records"))
    ]
    parent = list(range(len(rows)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(x: int, y: int) -> None:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)

    by_doc: dict[str, list[int]] = {}
    keyed: dict[tuple, int] = {}
    spans: dict[int, tuple[int, int]] = {}
    for idx, (_who, _i, r) in enumerate(rows):
        s, e = _int(r.get("start")), _int(r.get("end"))
        if s is not None and e is not None:
            spans[idx] = (s, e)
            by_doc.setdefault(r["document"], []).append(idx)
        else:
            key = (
                (r["document"], "seg", r["segment"]) if r.get("segment") else (r["document"], "text", r.get("text", ""))
            )
            if key in keyed:
                union(idx, keyed[key])
            else:
                keyed[key] = idx
    for idxs in by_doc.values():
        active: list[int] = []
        for k in sorted(idxs, key=lambda k: spans[k]):
            s, e = spans[k]
            still = []
            for j in active:
                sj, ej = spans[j]
                if ej <= s:
                    continue
                still.append(j)
                inter = min(e, ej) - max(s, sj)
                if inter * 2 >= max(1, min(e - s, ej - sj)):
                    union(k, j)
            active = still + [k]
    roots = [find(i) for i in range(len(rows))]
    ua = [roots[i] for i, (who, _, _) in enumerate(rows) if who == "a"]
    ub = [roots[i] for i, (who, _, _) in enumerate(rows) if who == "b"]
    units = list(dict.fromkeys(roots))
    return units, ua, ub


# --------------------------------------------------------------------------- results


@dataclass
class CodeAgreement:
    code: str
    label: str
    units: int
    coder_a: int  # units coded by A
    coder_b: int
    both: int
    percent: float | None  # 0-100
    kappa: float | None
    alpha: float | None

    def as_row(self) -> dict:
        def r(x, d=3):
            return "" if x is None else round(x, d)

        return {
            "code": self.code,
            "label": self.label,
            "units": self.units,
            "coder_a": self.coder_a,
            "coder_b": self.coder_b,
            "both": self.both,
            "percent_agreement": r(self.percent, 1),
            "cohen_kappa": r(self.kappa),
            "krippendorff_alpha": r(self.alpha),
        }


CSV_COLUMNS = [
    "code",
    "label",
    "units",
    "coder_a",
    "coder_b",
    "both",
    "percent_agreement",
    "cohen_kappa",
    "krippendorff_alpha",
]


@dataclass
class AgreementResult:
    level: str
    units: int
    codes: list[CodeAgreement]
    overall: CodeAgreement
    unknown_codes: list[str] = field(default_factory=list)  # used in a file, not in the codebook

    def rows(self) -> list[dict]:
        return [c.as_row() for c in self.codes] + [self.overall.as_row()]


def _stats(code: str, label: str, a: list[int], b: list[int]) -> CodeAgreement:
    pct = percent_agreement(a, b)
    return CodeAgreement(
        code=code,
        label=label,
        units=len(a),
        coder_a=sum(a),
        coder_b=sum(b),
        both=sum(1 for x, y in zip(a, b) if x and y),
        percent=None if pct is None else pct * 100,
        kappa=cohen_kappa(a, b),
        alpha=krippendorff_alpha_nominal([a, b]),
    )


def agreement(
    a_df, b_df, *, level: str = "segment", codes: Iterable[str] | None = None, labels: dict[str, str] | None = None
) -> AgreementResult:
    """Agreement of two coded-segment DataFrames (from :func:`qualkit.segments.read_segments`).

    *codes*: the codes to report (e.g. a codebook's, so codes one coder never
    used are reported too); default: every code either coder used.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    labels = labels or {}
    units, ua, ub = _units(a_df, b_df, level)
    index = {u: i for i, u in enumerate(units)}
    applied_a: dict[str, set[int]] = {}
    applied_b: dict[str, set[int]] = {}
    for applied, df, umap in ((applied_a, a_df, ua), (applied_b, b_df, ub)):
        for (code, status), unit in zip(zip(df["code"], df["effective_status"]), umap):
            if status != "rejected":
                applied.setdefault(code, set()).add(index[unit])
    used = list(dict.fromkeys(list(applied_a) + list(applied_b)))
    if codes is None:
        code_list = used
        unknown: list[str] = []
    else:
        code_list = list(codes)
        unknown = [c for c in used if c not in set(code_list)]
        code_list += unknown
    n = len(units)
    per_code = []
    pooled_a: list[int] = []
    pooled_b: list[int] = []
    for code in code_list:
        sa, sb = applied_a.get(code, set()), applied_b.get(code, set())
        va = [1 if i in sa else 0 for i in range(n)]
        vb = [1 if i in sb else 0 for i in range(n)]
        pooled_a += va
        pooled_b += vb
        per_code.append(_stats(code, labels.get(code, ""), va, vb))
    overall = _stats("overall", "all codes pooled (unit x code decisions)", pooled_a, pooled_b)
    overall.units = n
    return AgreementResult(level=level, units=n, codes=per_code, overall=overall, unknown_codes=unknown)


def agreement_files(
    path_a: str | Path, path_b: str | Path, *, level: str = "segment", codebook=None
) -> AgreementResult:
    """Read two segment files (CSV/XLSX) and compute :func:`agreement`."""
    from .segments import read_segments

    a_df = read_segments(path_a)
    b_df = read_segments(path_b)
    codes = labels = None
    if codebook is not None:
        codes = codebook.code_paths
        labels = {c.path: c.label for c in codebook.iter_codes()}
    return agreement(a_df, b_df, level=level, codes=codes, labels=labels)


def write_agreement_csv(path: str | Path, result: AgreementResult) -> Path:
    import csv

    from ..fsutil import atomic_open

    path = Path(path)
    with atomic_open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for row in result.rows():
            w.writerow(row)
    return path
