"""Regenerate ``qualkit/data/redact_vn_legacy_units.tsv`` (developer tool, not used at run time).

The installed ``vietnam-provinces`` package (2025.x) describes Viet Nam's
administrative units *after* the July 2025 reform (34 provinces, ~3,300
wards/communes). Transcripts from earlier field work name the *pre-2025*
units: 63 provinces, ~700 districts and ~10,000 wards/communes/towns. Those come
from the MIT-licensed ``vietnamadminunits`` package (table ``admin_units_legacy``
of its ``data/dataset.db``). Rather than depend on it at run time (it pulls in
shapely, geopy and tqdm), this script extracts the names once into a small TSV
that qualkit ships:

    python tools/build_legacy_gazetteer.py path/to/vietnamadminunits/data/dataset.db

Columns: level (province | district | ward), unit type as written in Vietnamese
(Tỉnh, Thành phố, Quận, Huyện, Thị xã, Phường, Xã, Thị trấn), short name with
diacritics, and the short name of the province it belongs to.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "qualkit" / "data" / "redact_vn_legacy_units.tsv"


def build(db_path: str | Path, out: Path = OUT) -> int:
    con = sqlite3.connect(str(db_path))
    rows: set[tuple[str, str, str, str]] = set()
    query = (
        "SELECT province, provinceShort, district, districtShort, districtType, wardShort, wardType "
        "FROM admin_units_legacy"
    )
    for province, p_short, _district, d_short, d_type, w_short, w_type in con.execute(query):
        p_type = "Thành phố" if (province or "").startswith("Thành phố") else "Tỉnh"
        rows.add(("province", p_type, p_short, p_short))
        if d_short:
            rows.add(("district", d_type or "", d_short, p_short))
        if w_short:
            rows.add(("ward", w_type or "", w_short, p_short))
    order = {"province": 0, "district": 1, "ward": 2}
    lines = ["# level\ttype\tname\tprovince  (pre-2025 units; generated from vietnamadminunits 1.0.4, MIT licence)"]
    lines += ["\t".join(r) for r in sorted(rows, key=lambda r: (order[r[0]], r[3], r[2], r[1]))]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(rows)


if __name__ == "__main__":  # pragma: no cover - developer tool
    print(build(sys.argv[1]), "rows written to", OUT)
