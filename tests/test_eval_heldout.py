"""The held-out benchmark refuses to run on changed frozen files and builds transcripts turn by turn."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module():
    name = "qualkit_eval_heldout"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "eval_heldout.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _frozen(tmp_path: Path) -> Path:
    (tmp_path / "csec").mkdir()
    doc = tmp_path / "csec" / "x01.yaml"
    doc.write_text(
        "document: x01\nsetting: a test\nturns:\n"
        "  - speaker: Interviewer\n    text: Who took you there?\n"
        "  - speaker: Respondent\n    text: The woman from my village.\n    codes: [perpetrator.trafficker_broker]\n",
        encoding="utf-8",
    )
    digest = hashlib.sha256(doc.read_bytes()).hexdigest()
    (tmp_path / "SHA256SUMS").write_text(f"{digest}  ./csec/x01.yaml\n", encoding="utf-8")
    return doc


def test_intact_files_pass_and_changed_or_unlisted_files_are_named(tmp_path):
    ev = _module()
    doc = _frozen(tmp_path)
    assert ev.check_sums(tmp_path) == []
    doc.write_text(doc.read_text(encoding="utf-8").replace("village", "town"), encoding="utf-8")
    (tmp_path / "csec" / "x02.yaml").write_text("document: x02\nturns: []\n", encoding="utf-8")
    problems = ev.check_sums(tmp_path)
    assert problems == ["changed: ./csec/x01.yaml", "not in SHA256SUMS: csec/x02.yaml"]
    (tmp_path / "SHA256SUMS").unlink()
    assert "missing" in ev.check_sums(tmp_path)[0]


def test_the_real_frozen_files_are_intact():
    assert _module().check_sums() == []


def test_transcript_keeps_the_question_before_the_turn_and_scores_at_turn_level(tmp_path):
    ev = _module()
    _frozen(tmp_path)
    built = ev.build(ev.load_folder(tmp_path / "csec")[0])
    doc = built.document
    assert [t.role for t in doc.turns] == ["metadata", "interviewer", "respondent"]
    (gold,) = built.turns
    assert doc.text[gold.start : gold.end] == "The woman from my village."
    row = type(
        "Row",
        (),
        {
            "document": "x01",
            "code": "perpetrator.trafficker_broker",
            "start": gold.start,
            "end": gold.start + 9,
            "candidates": "",
        },
    )()
    stray = type("Row", (), {"document": "x01", "code": "causes.poverty", "start": 0, "end": 5, "candidates": ""})()
    sc = ev.score_rows([built], [row, stray])
    assert (sc.micro.tp, sc.micro.fp, sc.micro.fn, sc.stray) == (1, 0, 0, 1)


def test_errors_are_refused_on_the_held_out_set():
    with pytest.raises(SystemExit):
        _module().main(["--errors"])
