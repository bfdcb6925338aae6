"""tools/example_outputs.py: the byte-identity check of the example study's outputs."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import example_outputs  # noqa: E402

sys.path.pop(0)


def _docx(path: Path, when: str, body: str) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("docProps/core.xml", f"<cp><dcterms:created x='1'>{when}</dcterms:created></cp>")
        z.writestr("word/document.xml", body)


def test_the_manifest_ignores_save_times_and_sees_every_other_change(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for study, when in ((a, "2025-01-01"), (b, "2026-02-02")):
        (study / "output").mkdir(parents=True)
        (study / "private" / "cache").mkdir(parents=True)
        _docx(study / "output" / "annex.docx", when, "<w:t>same</w:t>")
        (study / "output" / "segments.csv").write_text("a,b\n", encoding="utf-8")
        (study / "output" / ".segments.written").write_text(f"xlsx {when}\nrow k v\n", encoding="utf-8")
        (study / "private" / "cache" / "x.json").write_text(when, encoding="utf-8")
        (study / "private" / "run-state.json").write_text(when, encoding="utf-8")
    assert example_outputs.compare(example_outputs.manifest(a), example_outputs.manifest(b)) == []
    _docx(b / "output" / "annex.docx", "2026", "<w:t>changed</w:t>")
    (b / "output" / "tables.xlsx").write_bytes((b / "output" / "annex.docx").read_bytes())
    diff = example_outputs.compare(example_outputs.manifest(a), example_outputs.manifest(b))
    assert [d.split(":")[0] + ":" + d.split(":")[1] for d in diff] == [
        "output/annex.docx:word/document.xml",
        "output/tables.xlsx:docProps/core.xml",
        "output/tables.xlsx:word/document.xml",
    ]
    assert "(absent)" in diff[1]
