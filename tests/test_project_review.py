"""Review of init / run / config as a new team uses them: the project file's
values are checked (type, place) with file:line, and run reports and tidies
what it owns."""

from __future__ import annotations

import pytest

from qualkit.config import load_settings
from qualkit.errors import ConfigError, SafetyError
from qualkit.project import init_project


def _study(tmp_path, replace: tuple[str, str] | None = None, append: str = ""):
    root = tmp_path / "s"
    init_project(root)
    pf = root / "qualkit.yaml"
    text = pf.read_text(encoding="utf-8")
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    pf.write_text(text + append, encoding="utf-8")
    return root


def _line(root, needle: str) -> int:
    lines = (root / "qualkit.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, ln in enumerate(lines, 1) if needle in ln)


@pytest.mark.parametrize(
    "old, new, needle, words",
    [
        ("  keep_countries: true", '  keep_countries: "no"', "keep_countries", "true or false"),
        ("  xlsx: true", '  xlsx: "false"', "xlsx:", "true or false"),
        ("  style: pseudonym", "  style: pseudonym\n  workers: many", "workers:", "whole number"),
        ("  style: pseudonym", "  style: pseudonym\n  workers: 0", "workers:", "whole number"),
        ("transcripts: transcripts/", "transcripts: 5", "transcripts: 5", "path"),
        ("cases: cases.csv", "cases: [a.csv, b.csv]", "cases:", "path"),
        ("  format: xlsx", "  format: pdf", "format: pdf", "csv, xlsx or md"),
        ("  style: pseudonym", "  style: pseudonym\n  labels: PERSON", "labels:", "list"),
        ("  style: pseudonym", "  style: pseudonym\n  labels: [PERSON, NAME]", "labels:", "PLACE"),
    ],
)
def test_wrong_type_in_project_file_is_one_line_error(tmp_path, cli, old, new, needle, words):
    root = _study(tmp_path, (old, new))
    with pytest.raises(ConfigError) as info:
        load_settings(root)
    assert info.value.line == _line(root, needle)
    assert words in info.value.message
    for command in (("config", "--project", root), ("run", root)):
        result = cli(*command)
        assert result.exit_code == 1, result.stdout
        err = result.stderr.strip()
        assert len(err.splitlines()) == 1 and f"qualkit.yaml:{_line(root, needle)}" in err
        assert "Traceback" not in result.stdout + result.stderr


def test_right_types_still_load(tmp_path):
    root = _study(tmp_path, ("  style: pseudonym", "  style: tag\n  workers: 2\n  labels: [PERSON, PLACE]"))
    s = load_settings(root)
    assert s.value(None, "redact.workers") == 2 and s.value(None, "redact.labels") == ["PERSON", "PLACE"]


@pytest.mark.parametrize(
    "old, new, needle",
    [
        # the pseudonym key (originals) inside the shareable folder
        ("redact:\n", "redact:\n  key: output/key.csv\n", "key: output"),
        # the original transcripts inside the shareable folder
        ("transcripts: transcripts/", "transcripts: output/originals/", "transcripts: output"),
        # the list of real names inside the shareable folder
        ("  names: private/names.txt", "  names: output/names.txt", "names: output"),
    ],
)
def test_private_material_inside_output_is_refused_when_the_file_loads(tmp_path, cli, old, new, needle):
    root = _study(tmp_path, (old, new))
    (root / "output" / "originals").mkdir()
    with pytest.raises(SafetyError) as info:
        load_settings(root)
    assert info.value.line == _line(root, needle)
    # every command refuses it, not only 'run' (qualkit redact -p would write the key there)
    result = cli("config", "--project", root)
    assert result.exit_code == 1
    assert f"qualkit.yaml:{_line(root, needle)}" in result.stderr and "output" in result.stderr
    assert not (root / "output" / "key.csv").exists()


# --------------------------------------------------------------------------- run: deleted and renamed transcripts

import csv  # noqa: E402

from test_project import _names, _small_study  # noqa: E402


def _seg_docs(study) -> set[str]:
    with open(study / "output" / "segments.csv", encoding="utf-8") as fh:
        return {r["document"] for r in csv.DictReader(fh)}


def test_run_drops_outputs_of_deleted_and_renamed_transcripts(tmp_path, cli):
    study = _small_study(tmp_path, docs=("int04.txt", "int07.txt"))
    red = study / "output" / "transcripts"
    assert cli("run", study, "--stage", "redact", "--stage", "code").exit_code == 0
    assert {p.name for p in red.iterdir()} >= {"int04.txt", "int07.txt"} and _seg_docs(study) == {"int04", "int07"}
    # a file qualkit did not write stays where it is
    (red / "notes-by-hand.txt").write_text("kept\n", encoding="utf-8")

    (study / "transcripts" / "int07.txt").unlink()
    result = cli("run", study, "--stage", "redact", "--stage", "code")
    assert result.exit_code == 0, result.stderr
    assert not (red / "int07.txt").exists(), "the redacted copy of a deleted transcript is still shared"
    assert _seg_docs(study) == {"int04"}
    assert "int07.txt" in result.stdout and "removed" in result.stdout
    assert (red / "notes-by-hand.txt").is_file()

    (study / "transcripts" / "int04.txt").rename(study / "transcripts" / "p01.txt")
    result = cli("run", study, "--stage", "redact", "--stage", "code")
    assert result.exit_code == 0, result.stderr
    assert not (red / "int04.txt").exists() and (red / "p01.txt").is_file()
    assert _seg_docs(study) == {"p01"}


def test_run_shows_the_warnings_of_its_stages(tmp_path, cli):
    study = _small_study(tmp_path, docs=("int04.txt", "int07.txt"))
    t = study / "transcripts" / "int07.txt"
    # saved by an old editor in a legacy encoding: redact reads it, and must say so
    text = t.read_text(encoding="utf-8-sig").replace("Respondent:", "Respondent: café", 1)
    t.write_bytes(text.encode("cp1252", errors="replace"))
    result = cli("run", study, "--stage", "redact", "--stage", "code")
    assert result.exit_code == 0, result.stderr
    assert "Warning:" in result.stderr and "not UTF-8" in result.stderr

    # a coder's decision whose transcript is then deleted is kept: run says so
    segfile = study / "output" / "segments.csv"
    with open(segfile, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        if r["document"] == "int04":
            r["status"], r["coder"] = "accepted", "lan"
            break
    with open(segfile, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    (study / "transcripts" / "int04.txt").unlink()
    result = cli("run", study, "--stage", "redact", "--stage", "code")
    assert result.exit_code == 0, result.stderr
    assert "Warning:" in result.stderr and "int04" in result.stderr and "segments.csv" in result.stderr


def test_run_honours_redact_labels_of_the_project_file(tmp_path, cli):
    study = _small_study(tmp_path, docs=("int04.txt",))
    pf = study / "qualkit.yaml"
    pf.write_text(
        pf.read_text(encoding="utf-8").replace("  style: pseudonym", "  style: tag\n  labels: [PHONE]"),
        encoding="utf-8",
    )
    assert cli("run", study, "--stage", "redact").exit_code == 0
    with open(study / "output" / "transcripts" / "redaction-log.csv", encoding="utf-8") as fh:
        labels = {r["label"] for r in csv.DictReader(fh)}
    assert labels <= {"PHONE"}


# --------------------------------------------------------------------------- init, then the printed next steps


@pytest.mark.parametrize("codebook", ["csec-study", "fsw-evaluation"])
def test_new_study_runs_end_to_end_with_its_own_transcripts(tmp_path, cli, codebook):
    """init's annex.yaml is a start for a new study, not the example's (whose
    life stories name int04/int07 and which quotes unreviewed suggestions), and
    the printed next steps, followed literally, end with an annex."""
    import shutil

    from conftest import EXAMPLE

    root = tmp_path / "my study"
    assert cli("init", root, "--codebook", codebook).exit_code == 0
    annex = (root / "annex.yaml").read_text(encoding="utf-8")
    assert "fictional" not in annex and "include_suggested: true" not in annex
    with open(EXAMPLE / "cases.csv", encoding="utf-8") as fh:
        example = {r["case"]: r for r in csv.DictReader(fh)}
    with open(root / "cases.csv", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    with open(root / "cases.csv", "a", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        for new, old in (("p01", "int04"), ("p02", "int03")):
            src = next((EXAMPLE / "transcripts").glob(f"{old}.*"))
            shutil.copy(src, root / "transcripts" / f"{new}{src.suffix}")
            w.writerow([new] + [example[old].get(k, "") for k in header[1:]])
    result = cli("run", root)
    assert result.exit_code == 0, result.stderr
    assert (root / "output" / "annex.docx").is_file() and (root / "output" / "tables.xlsx").is_file()


def test_config_shows_the_effective_default_paths(tmp_path):
    root = _study(tmp_path)
    eff = load_settings(root).effective()
    private, output = (root / "private").resolve(), (root / "output").resolve()
    assert eff["redact.key"].value == private / "redaction-key.csv" and eff["redact.key"].source == "default"
    assert eff["code.segments"].value == output / "segments.csv"
    assert eff["tables.output"].value == output / "tables.xlsx"
    assert eff["annex.output"].value == output / "annex.docx"


def test_init_force_never_overwrites_the_teams_data(tmp_path, cli):
    root = tmp_path / "s"
    init_project(root)
    filled = {
        "cases.csv": "case,category\np01,girl\n",
        "private/names.txt": "Thao\nNguyen Van Hung\n",
        "keep.txt": "Blue Dragon\n",
    }
    for rel, text in filled.items():
        (root / rel).write_text(text, encoding="utf-8")
    (root / "qualkit.yaml").write_text("project: broken\n", encoding="utf-8")
    result = cli("init", root, "--force")
    assert result.exit_code == 0, result.stderr
    for rel, text in filled.items():
        assert (root / rel).read_text(encoding="utf-8") == text, rel
    assert "transcripts:" in (root / "qualkit.yaml").read_text(encoding="utf-8")  # the scaffold is rewritten


@pytest.mark.parametrize("flag, name", [("--key", "k.csv"), ("--report", "review.html")])
def test_redact_in_a_project_refuses_private_files_anywhere_in_output(tmp_path, cli, flag, name):
    # the project's whole output/ is shareable, not only output/transcripts where the copies go
    study = _small_study(tmp_path, docs=("int04.txt",))
    target = study / "output" / name
    result = cli("redact", "-p", study, study / "transcripts", flag, target)
    assert result.exit_code == 1
    assert "inside the output folder" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not target.exists() and not (study / "output" / "transcripts").exists()


def test_audit_of_a_project_run_finds_nothing(tmp_path, cli, example_run):
    # the README's check: after 'qualkit run', audit with the project's key and keep list is clean
    import shutil

    study = tmp_path / "study"
    shutil.copytree(example_run.study, study)  # the shared run stays as it is
    result = cli("audit", study / "output" / "transcripts", "--project", study)
    assert result.exit_code == 0, result.stdout
    assert "0 original(s) from the key, 0 fresh detection(s)" in result.stdout
    # and it would fail on a leak: plant a listed name in a redacted copy
    leaked = study / "output" / "transcripts" / "int04.txt"
    name = next(n for n in _names(study) if ":" not in n)
    leaked.write_text(leaked.read_text(encoding="utf-8") + f"\nR: {name} said so.\n", encoding="utf-8")
    again = cli("audit", study / "output" / "transcripts", "--project", study)
    assert again.exit_code == 1 and "LEAK int04.txt" in again.stdout
    assert name not in again.stdout + again.stderr


def test_run_refuses_two_transcripts_with_the_same_document_id(tmp_path, cli):
    # a/int04.txt and b/int04.txt would share the id 'int04': their segments and counts would mix
    study = _small_study(tmp_path, docs=("int04.txt", "int07.txt"))
    for sub, name in (("a", "int04.txt"), ("b", "int07.txt")):
        (study / "transcripts" / sub).mkdir()
        (study / "transcripts" / name).rename(study / "transcripts" / sub / "int04.txt")
    result = cli("run", study)
    assert result.exit_code == 1
    err = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(err) == 1 and "document id 'int04'" in err[0]
    # it names the original transcripts to rename, not the redacted copies
    assert str(study / "transcripts" / "b" / "int04.txt") in err[0] and "output" not in err[0]
    assert not (study / "output" / "segments.csv").exists()
