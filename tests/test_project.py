"""qualkit init / config / run: scaffold, settings precedence, the pipeline."""

from __future__ import annotations

import csv
import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from qualkit.config import load_settings
from qualkit.errors import SafetyError, UsageError
from qualkit.project import ProjectPaths, init_project, shipped_codebooks


def test_shipped_codebooks_are_packaged():
    books = shipped_codebooks()
    assert {"csec-study", "fsw-evaluation"} <= set(books)


def test_init_scaffolds_a_study(tmp_path, cli):
    study = tmp_path / "study"
    result = cli("init", study)
    assert result.exit_code == 0, result.stderr
    for rel in (
        "qualkit.yaml",
        "codebook.yaml",
        "cases.csv",
        "keep.txt",
        "private/names.txt",
        "tables.yaml",
        "annex.yaml",
        ".gitignore",
    ):
        assert (study / rel).is_file(), rel
    assert (study / "transcripts").is_dir() and (study / "output").is_dir()
    assert stat.S_IMODE(os.stat(study / "private").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(study / "private" / "names.txt").st_mode) == 0o600
    assert (study / "cases.csv").read_text(encoding="utf-8").startswith("case,category,interview_type,group")
    assert "Next steps" in result.stdout and "qualkit run" in result.stdout
    # the scaffold is a valid project: its settings load, and its codebook is the shipped one
    s = load_settings(study)
    paths = ProjectPaths.from_settings(s)
    assert paths.key.parent == (study / "private").resolve()
    assert not str(paths.key).startswith(str(paths.output))
    # a second init refuses to overwrite
    again = cli("init", study)
    assert again.exit_code == 2 and "already exists" in again.stderr and "--force" in again.stderr


def test_init_unknown_codebook_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="unknown codebook"):
        init_project(tmp_path / "s", codebook="nope")


def test_config_shows_values_and_sources(tmp_path, cli):
    init_project(tmp_path / "s")
    result = cli("config", "--project", tmp_path / "s")
    assert result.exit_code == 0
    lines = {ln.split("│")[1].strip(): ln for ln in result.stdout.splitlines() if ln.count("│") >= 3}
    assert "qualkit.yaml:" in lines["redact.style"] and "pseudonym" in lines["redact.style"]
    assert "default" in lines["redact.workers"]
    # nothing left blank: the model qualkit would load, paths inside the study shown relative to it
    from qualkit.nlp import resolve_model_name

    assert resolve_model_name(None) in lines["model"]
    assert "private/redaction-key.csv" in lines["redact.key"] and str(tmp_path) not in lines["redact.key"]
    assert "all labels" in lines["redact.labels"]
    assert f"Paths are relative to {(tmp_path / 's').resolve()}" in result.stdout


def test_bad_project_file_is_one_line_error(tmp_path, cli):
    (tmp_path / "qualkit.yaml").write_text("project: x\nredact:\n  stlye: tag\n", encoding="utf-8")
    result = cli("config", "--project", tmp_path)
    assert result.exit_code == 1
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1
    assert "unknown key 'stlye'" in err and "qualkit.yaml:3" in err and "did you mean 'style'" in err
    assert "Traceback" not in result.stdout + result.stderr


def test_private_folder_inside_output_is_refused(tmp_path):
    init_project(tmp_path / "s")
    pf = tmp_path / "s" / "qualkit.yaml"
    pf.write_text(
        pf.read_text(encoding="utf-8").replace("private: private/", "private: output/private/"), encoding="utf-8"
    )
    with pytest.raises(SafetyError, match="private folder is inside the output folder"):
        ProjectPaths.from_settings(load_settings(tmp_path / "s"))


# --------------------------------------------------------------------------- qualkit run, end to end

from conftest import make_small_study  # noqa: E402


def _small_study(tmp_path: Path, docs=("int04.txt", "int07.txt", "int03.docx", "fgd01.vtt")) -> Path:
    return make_small_study(tmp_path, docs)


def _names(study: Path) -> list[str]:
    return [
        ln.strip()
        for ln in (study / "private" / "names.txt").read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]


def _output_texts(folder: Path) -> dict[str, str]:
    """Every text in the shareable folder by file (and part): .docx/.xlsx XML parts with their
    markup removed, so a name split over runs or cells is still found."""
    import re

    texts = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.suffix in (".docx", ".xlsx"):
            with zipfile.ZipFile(p) as z:
                for n in z.namelist():
                    if n.endswith((".xml", ".rels")):
                        xml = z.read(n).decode("utf-8", "replace")
                        # paragraphs and cells end with a space, runs join up ("Ng" "uyen")
                        xml = re.sub(r"</(?:w:p|w:tc|w:tr|si|c|v|row)>", " ", xml)
                        texts[f"{rel}:{n}"] = re.sub(r"<[^>]+>", "", xml)
        elif p.is_file():
            texts[rel] = p.read_text(encoding="utf-8", errors="replace")
    return texts


def _leaks(study: Path) -> list[tuple[str, str, str]]:
    """(label, first document, where) for each pseudonym-key original still in the shareable output.

    Case- and diacritic-folded, as a whole word, in every file and every .docx/.xlsx part.
    Two declared exceptions: an original the speakers also use as an ordinary word (it is in
    lower case in the original transcripts: "Mỷ" folds to "my", "Loan" is also a loan) is
    looked for as written (accents, capital); the provinces the annex spec allows (allow:)
    may appear in the tables and the annex, which count respondents by province.
    """
    import re

    from qualkit.readers import read_document
    from qualkit.textnorm import fold
    from qualkit.yamlutil import load_yaml

    originals = " ".join(read_document(p).text for p in sorted((study / "transcripts").iterdir()))
    ordinary = {fold(w) for w in re.findall(r"[^\W\d_]+", originals) if w.islower()}
    allowed = [str(a) for a in load_yaml(study / "annex.yaml").get("allow") or []]
    texts = {}
    for where, text in _output_texts(study / "output").items():
        if not where.startswith("transcripts/"):
            for a in allowed:
                text = re.sub(rf"(?<!\w){re.escape(a)}(?!\w)", " ", text, flags=re.IGNORECASE)
        folded = fold(text)
        if not where.startswith("transcripts/"):
            for a in allowed:
                folded = re.sub(rf"(?<!\w){re.escape(fold(a))}(?!\w)", " ", folded)
        texts[where] = (text, folded)
    with open(study / "private" / "redaction-key.csv", encoding="utf-8") as fh:
        key = list(csv.DictReader(fh))
    assert key
    found = []
    for row in key:
        original = row["original"]
        as_word = fold(original) in ordinary and " " not in original.strip()
        for where, (text, folded) in texts.items():
            hay, needle = (text, original) if as_word else (folded, fold(original))
            if re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", hay):
                found.append((row["label"], row["first_document"], where))
    return found


def test_run_end_to_end_incremental_and_private(example_run, cli):
    study, result = example_run.study, example_run.result
    out, priv = study / "output", study / "private"
    for rel in (
        "transcripts/int04.txt",
        "transcripts/int03.docx",
        "transcripts/fgd01.vtt",
        "segments.csv",
        "segments.xlsx",
        "tables.xlsx",
        "annex.docx",
    ):
        assert (out / rel).is_file(), rel
    assert (
        "annex.docx" in result.stdout
        and "Shareable files written" in result.stdout
        and "redaction-key.csv" in result.stdout
    )
    # private material only in private/, owner-only
    for rel in ("redaction-key.csv", "redaction-review.html"):
        assert (priv / rel).is_file()
        assert stat.S_IMODE(os.stat(priv / rel).st_mode) == 0o600
    assert not list(out.rglob("*key*")) and not list(out.rglob("*.html"))
    # inputs untouched
    assert {p.name: p.read_bytes() for p in (study / "transcripts").iterdir()} == example_run.originals
    # every original in the key is gone from every shareable file (docx/xlsx parts included);
    # the report names label, document and file, never the original
    assert _leaks(study) == []
    # segments point into the redacted text
    seg = list(csv.DictReader(open(out / "segments.csv", encoding="utf-8")))
    assert seg and {r["coder"] for r in seg} == {"auto"}
    from qualkit.readers import read_document

    doc = read_document(out / "transcripts" / "int04.txt")
    for r in [r for r in seg if r["document"] == "int04"][:10]:
        assert doc.text[int(r["start"]) : int(r["end"])] == r["text"]

    # second run: nothing changed, nothing re-coded, same key and segments
    seg_bytes = (out / "segments.csv").read_bytes()
    key_bytes = (priv / "redaction-key.csv").read_bytes()
    again = cli("run", study)
    assert again.exit_code == 0, again.stderr
    assert "unchanged" in again.stdout
    assert (out / "segments.csv").read_bytes() == seg_bytes
    assert (priv / "redaction-key.csv").read_bytes() == key_bytes


def test_the_leak_check_finds_an_original_left_in_a_docx_and_in_a_text(example_run, tmp_path):
    """_leaks can fail: a key original planted in a copy of the output is found, folded."""

    study = tmp_path / "study"
    shutil.copytree(example_run.study, study)
    with open(study / "private" / "redaction-key.csv", encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["label"] == "PERSON" and " " in r["original"])
    with (study / "output" / "segments.csv").open("a", encoding="utf-8") as fh:
        fh.write(row["original"].upper() + "\n")
    docx = study / "output" / "annex.docx"
    with zipfile.ZipFile(docx) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    first, rest = row["original"][:3], row["original"][3:]
    parts["word/footnotes.xml"] = f"<w:p><w:r><w:t>{first}</w:t></w:r><w:r><w:t>{rest}</w:t></w:r></w:p>".encode()
    with zipfile.ZipFile(docx, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    assert {w for _label, _doc, w in _leaks(study)} == {"segments.csv", "annex.docx:word/footnotes.xml"}


def test_run_keeps_review_decisions_and_recodes_only_changed(tmp_path, cli):
    study = _small_study(tmp_path, docs=("int04.txt", "int07.txt"))
    assert cli("run", study, "--stage", "redact", "--stage", "code").exit_code == 0
    segfile = study / "output" / "segments.csv"
    rows = list(csv.DictReader(open(segfile, encoding="utf-8")))
    fields = list(rows[0])
    target = next(i for i, r in enumerate(rows) if r["document"] == "int07")
    rows[target]["status"] = "rejected"
    rows[target]["coder"] = "lan"
    rows.append({**rows[target], "code": "causes.poverty", "status": "accepted", "coder": "lan"})
    with open(segfile, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    # change the other transcript only
    t = study / "transcripts" / "int04.txt"
    t.write_text(
        t.read_text(encoding="utf-8") + "\nRespondent: We were very poor, so I needed money.\n", encoding="utf-8"
    )
    result = cli("run", study, "--stage", "redact", "--stage", "code")
    assert result.exit_code == 0, result.stderr
    assert "1 of 2 transcript(s) coded" in result.stdout
    after = list(csv.DictReader(open(segfile, encoding="utf-8")))
    human = [r for r in after if r["coder"] == "lan"]
    assert sorted((r["code"], r["status"]) for r in human) == sorted(
        [(rows[target]["code"], "rejected"), ("causes.poverty", "accepted")]
    )
    assert any(r["document"] == "int04" and "needed money" in r["text"] for r in after)
    # no duplicated rows
    keys = [(r["document"], r["code"], r["start"], r["end"], r["coder"]) for r in after]
    assert len(keys) == len(set(keys))


def test_run_resumes_after_a_crash_without_partial_outputs(tmp_path, cli, monkeypatch):
    import qualkit.tables.render as tables_mod

    study = _small_study(tmp_path, docs=("int04.txt", "int07.txt"))
    real = tables_mod.write_table_set

    def crash(*a, **k):
        raise KeyboardInterrupt  # the run is killed while writing tables

    monkeypatch.setattr(tables_mod, "write_table_set", crash)
    killed = cli("run", study)  # Click turns the interrupt into "Aborted!"
    assert killed.exit_code != 0
    out = study / "output"
    assert (out / "segments.csv").is_file() and not (out / "tables.xlsx").exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    seg_bytes = (out / "segments.csv").read_bytes()
    monkeypatch.setattr(tables_mod, "write_table_set", real)
    result = cli("run", study)
    assert result.exit_code == 0, result.stderr
    assert (out / "tables.xlsx").is_file() and (out / "annex.docx").is_file()
    assert "unchanged" in result.stdout  # coding was not redone
    assert (out / "segments.csv").read_bytes() == seg_bytes


def test_init_generates_valid_specs_for_any_codebook(tmp_path):
    from qualkit.annex import load_annex_spec
    from qualkit.coding.codebook import load_codebook
    from qualkit.tables.spec import load_table_specs

    init_project(tmp_path / "s", codebook="fsw-evaluation")
    cb = load_codebook(tmp_path / "s" / "codebook.yaml")
    specs = load_table_specs(tmp_path / "s" / "tables.yaml")
    assert [sp.theme for sp in specs[1:]] == [t.id for t in cb.themes]
    assert specs[0].attribute == "category" and specs[0].by == "province"
    annex = load_annex_spec(tmp_path / "s" / "annex.yaml")
    assert [sec.type for sec in annex.sections] == ["respondents", "tables", "codebook", "quotes"]


def test_run_without_transcripts_says_what_to_do(tmp_path, cli):
    init_project(tmp_path / "s")
    result = cli("run", tmp_path / "s")
    assert result.exit_code == 1
    assert "no transcripts found" in result.stderr and "add .txt" in result.stderr
