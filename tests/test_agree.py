"""Agreement statistics against independent references, and qualkit agree."""

from __future__ import annotations

import csv
import random

import pytest

from qualkit.coding.agree import agreement, cohen_kappa, krippendorff_alpha_nominal, percent_agreement
from qualkit.coding.segments import CodedSegment, read_segments, write_segments

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four
# observers, twelve units, values 1-5, missing data; published nominal alpha = 0.743.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_alpha_reproduces_krippendorffs_published_example():
    assert round(krippendorff_alpha_nominal(KRIPPENDORFF_2011), 3) == 0.743


def test_kappa_reproduces_a_textbook_table():
    # 50 units: both yes 20, A yes/B no 5, A no/B yes 10, both no 15 -> po 0.7, pe 0.5, kappa 0.4
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert percent_agreement(a, b) == pytest.approx(0.7)
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def _random_pairs(seed: int, n: int, k: int, p_same: float):
    rnd = random.Random(seed)
    a = [rnd.randrange(k) for _ in range(n)]
    b = [x if rnd.random() < p_same else rnd.randrange(k) for x in a]
    return a, b


@pytest.mark.parametrize("seed,n,k,p", [(1, 40, 2, 0.8), (2, 200, 2, 0.6), (3, 75, 4, 0.7), (4, 12, 3, 0.9)])
def test_statistics_match_scikit_learn_and_krippendorff(seed, n, k, p):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    kd = pytest.importorskip("krippendorff")
    import numpy as np

    a, b = _random_pairs(seed, n, k, p)
    assert cohen_kappa(a, b) == pytest.approx(sklearn_metrics.cohen_kappa_score(a, b), abs=1e-9)
    ref = kd.alpha(reliability_data=np.array([a, b], dtype=float), level_of_measurement="nominal")
    assert krippendorff_alpha_nominal([a, b]) == pytest.approx(ref, abs=1e-9)


def test_missing_data_alpha_matches_krippendorff_package():
    kd = pytest.importorskip("krippendorff")
    import numpy as np

    data = np.array([[np.nan if v is None else v for v in row] for row in KRIPPENDORFF_2011], dtype=float)
    ref = kd.alpha(reliability_data=data, level_of_measurement="nominal")
    assert krippendorff_alpha_nominal(KRIPPENDORFF_2011) == pytest.approx(ref, abs=1e-12)


def test_undefined_cases_do_not_divide_by_zero():
    assert cohen_kappa([1, 1, 1], [1, 1, 1]) is None
    assert krippendorff_alpha_nominal([[0, 0, 0], [0, 0, 0]]) is None
    assert percent_agreement([0, 0], [0, 0]) == 1.0
    assert cohen_kappa([], []) is None and percent_agreement([], []) is None
    assert krippendorff_alpha_nominal([[1, None], [None, 2]]) is None  # nothing pairable


# --------------------------------------------------------------------------- from segment files


def _seg(doc, code, start, end, coder, status="accepted", case=""):
    return CodedSegment(
        document=doc,
        code=code,
        case=case,
        segment=f"{start}",
        start=start,
        end=end,
        speaker="R",
        coder=coder,
        status=status,
        text="x" * (end - start),
    )


def _files(tmp_path, a_rows, b_rows):
    write_segments(tmp_path / "a.csv", a_rows)
    write_segments(tmp_path / "b.csv", b_rows)
    return read_segments(tmp_path / "a.csv"), read_segments(tmp_path / "b.csv")


def test_segment_units_align_overlapping_spans_and_count_rejections(tmp_path):
    a = [
        _seg("d1", "v.physical", 0, 50, "lan"),
        _seg("d1", "v.emotional", 60, 90, "lan"),
        _seg("d2", "v.physical", 0, 30, "lan"),
    ]
    b = [
        _seg("d1", "v.physical", 2, 48, "minh"),  # same sentence, cut slightly differently
        _seg("d1", "v.emotional", 60, 90, "minh", status="rejected"),  # looked at it, said no
        _seg("d2", "v.emotional", 0, 30, "minh"),
    ]
    res = agreement(*_files(tmp_path, a, b))
    by = {c.code: c for c in res.codes}
    assert res.units == 3
    assert (by["v.physical"].coder_a, by["v.physical"].coder_b, by["v.physical"].both) == (2, 1, 1)
    assert by["v.emotional"].both == 0 and by["v.emotional"].coder_b == 1
    assert by["v.physical"].percent == pytest.approx(100 * 2 / 3)
    # pooled: 6 unit x code decisions, 3 agree
    assert res.overall.percent == pytest.approx(50.0)


def test_case_level_and_codes_nobody_used(tmp_path):
    a = [_seg("int01", "family.poor_family", 0, 10, "lan"), _seg("int02", "family.poor_family", 0, 10, "lan")]
    b = [_seg("int01", "family.poor_family", 40, 80, "minh"), _seg("int02", "family.orphaned", 0, 10, "minh")]
    res = agreement(
        *_files(tmp_path, a, b), level="case", codes=["family.poor_family", "family.orphaned", "family.homeless"]
    )
    by = {c.code: c for c in res.codes}
    assert res.units == 2
    assert by["family.poor_family"].percent == 50.0
    assert by["family.orphaned"].coder_a == 0 and by["family.orphaned"].kappa == 0.0  # one coder never used it
    homeless = by["family.homeless"]
    assert (homeless.percent, homeless.kappa, homeless.alpha) == (100.0, None, None)  # nobody used it: undefined


def test_all_agree(tmp_path):
    rows = [_seg("d1", "c.a", 0, 10, "x"), _seg("d1", "c.b", 20, 30, "x")]
    res = agreement(*_files(tmp_path, rows, rows))
    assert all(c.percent == 100.0 for c in res.codes)
    assert all(c.kappa == pytest.approx(1.0) and c.alpha == pytest.approx(1.0) for c in res.codes)
    assert res.overall.kappa == pytest.approx(1.0)


def test_cli_agree_table_and_csv(tmp_path, cli):
    cb = tmp_path / "cb.yaml"
    cb.write_text(
        "codebook: t\ntitle: t\nthemes:\n  - id: v\n    label: V\n    codes:\n"
        "      - id: physical\n        label: Physical\n      - id: emotional\n        label: Emotional\n",
        encoding="utf-8",
    )
    write_segments(
        tmp_path / "a.csv", [_seg("d1", "v.physical", 0, 50, "lan"), _seg("d1", "v.physical", 60, 80, "lan")]
    )
    write_segments(tmp_path / "b.csv", [_seg("d1", "v.physical", 0, 50, "minh"), _seg("d1", "v.other", 60, 80, "minh")])
    result = cli("agree", tmp_path / "a.csv", tmp_path / "b.csv", "--codebook", cb, "-o", tmp_path / "agree.csv")
    assert result.exit_code == 0, result.stderr
    assert "v.physical" in result.stdout and "n/a" in result.stdout
    assert "not in the codebook" in result.stderr
    with (tmp_path / "agree.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["code"] for r in rows] == ["v.physical", "v.emotional", "v.other", "overall"]
    assert rows[0]["label"] == "Physical" and rows[0]["units"] == "2" and rows[0]["percent_agreement"] == "50.0"
    assert rows[1]["cohen_kappa"] == "" and rows[1]["percent_agreement"] == "100.0"
    bad = cli("agree", tmp_path / "a.csv", tmp_path / "b.csv", "--level", "sentence")
    assert bad.exit_code == 2 and "unknown level" in bad.stderr
