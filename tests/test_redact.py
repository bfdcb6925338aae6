"""qualkit redact / audit / score: detection, key, log, review report, CLI, properties."""

from __future__ import annotations

import csv
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from qualkit.redact import RedactOptions, redact_corpus
from qualkit.redact.detectors import GazetteerDetector, RuleDetector, SpeakerDetector, contact_spans
from qualkit.redact.lexicon import gazetteer, phrase_key
from qualkit.redact.phrases import TokenView
from qualkit.redact.score import load_gold, score_spans
from qualkit.redact.spans import merge_spans
from qualkit.textnorm import fold

DATA = Path(__file__).parent / "data" / "redact"
CORPUS_FILES = sorted(p.name for p in DATA.iterdir() if p.suffix in (".txt", ".md", ".vtt"))


# --- the real format writers (qualkit.writers) ---------------------------------------------------------


@pytest.fixture
def writer(tmp_path):
    """The format writers the engine uses must work: a broken writer fails these tests, never hides behind a stand-in."""
    from qualkit.readers import read_document
    from qualkit.redact import engine

    probe = tmp_path / "_probe" / "p.txt"
    probe.parent.mkdir()
    probe.write_text("Hello Mai.\n", encoding="utf-8")
    engine._writer()(read_document(probe), [(6, 9, "X")], tmp_path / "_probe_out" / "p.txt", redact_text=lambda t: t)
    assert (tmp_path / "_probe_out" / "p.txt").read_text(encoding="utf-8") == "Hello X.\n"
    shutil.rmtree(tmp_path / "_probe")
    shutil.rmtree(tmp_path / "_probe_out")
    return True


@pytest.fixture
def corpus(tmp_path) -> Path:
    src = tmp_path / "transcripts"
    src.mkdir()
    for name in CORPUS_FILES:
        shutil.copy(DATA / name, src / name)
    return src


def _texts(folder: Path) -> dict[str, str]:
    from qualkit.readers import iter_inputs, read_document

    return {
        f.rel.as_posix(): read_document(f.path).text for f in iter_inputs([folder]) if f.rel.name != "redaction-log.csv"
    }


# --- folding, lexicons ------------------------------------------------------------------------------


def test_fold_keeps_offsets_and_strips_diacritics():
    s = "Nguyễn Thị Mai ở Hà Nội, ĐÀ NẴNG"
    assert fold(s) == "nguyen thi mai o ha noi, da nang"
    assert len(fold(s)) == len(s)
    assert phrase_key("Hà-Nội") == phrase_key("HA NOI") == "ha noi"


def test_gazetteer_has_pre_and_post_2025_units_and_spellings():
    g = gazetteer()
    # post-2025 (vietnam-provinces): a ward created in the 2025 reform; provinces
    assert "hong ha" in g.names and "lao cai" in g.names
    # pre-2025 (shipped list): districts that no longer exist as units
    assert "bat xat" in g.names and "dong da" in g.names and "chau doc" in g.names
    for alias in ("hanoi", "hcmc", "saigon", "ho chi minh city", "nha trang"):
        assert phrase_key(alias) in g.names, alias
    v = TokenView("From TP.HCM to Sài Gòn and HCMC, then Hà Nội and Hanoi.")
    found = {v.text[s.start : s.end] for s in GazetteerDetector().detect(v)}
    assert {"TP.HCM", "Sài Gòn", "HCMC", "Hà Nội", "Hanoi"} <= found


# --- detectors --------------------------------------------------------------------------------------


def _found(text: str) -> dict[str, str]:
    spans = merge_spans(RuleDetector().detect(text))
    return {text[s.start : s.end]: s.label for s in spans}


@pytest.mark.parametrize(
    "phone",
    [
        "0912 345 678",
        "0912345678",
        "091-234-5678",
        "+84 91 234 5678",
        "(024) 3825 1234",
        "024.3825.1234",
        "+84 296 3868 123",
        "+41 (0)69 979 80 58",
        "618-226-1460",
    ],
)
def test_phone_numbers(phone):
    text = f"Her number is {phone}, call her."
    assert any(text[s.start : s.end] == phone and s.label == "PHONE" for s in contact_spans(text)), phone


@pytest.mark.parametrize(
    "text",
    [
        "We paid 15 000 000 VND in 2010-2011.",
        "On 12/03/2011 at 10:30 she was 16.",
        "The years 2008 2009 2010 were hard.",
        "It cost 1 500 000 dong.",
    ],
)
def test_amounts_dates_and_years_are_not_phones(text):
    assert not [s for s in contact_spans(text) if s.label == "PHONE"]


def test_contacts_handles_and_ids():
    text = (
        "Email lan.nguyen@gmail.com or see facebook.com/lan.xinh, zalo.me/0912345678, @lanxinh99. "
        "Facebook: Hoa Hong Den. My CCCD number is 001203004567."
    )
    got = _found(text)
    assert got["lan.nguyen@gmail.com"] == "EMAIL"
    assert got["facebook.com/lan.xinh"] == "URL"
    assert got["zalo.me/0912345678"] == "URL"
    assert got["@lanxinh99"] == "HANDLE"
    assert got["Hoa Hong Den"] == "HANDLE"
    assert got["001203004567"] == "ID"


def test_vietnamese_names_with_and_without_diacritics_titles_and_kinship():
    text = (
        "I met Nguyen Thi Mai and Trần Văn Hùng. Chị Lan and anh Tuấn came, then Mr. Phuc and Sister Hoa. Thao said no."
    )
    got = _found(text)
    for name in ("Nguyen Thi Mai", "Trần Văn Hùng", "Lan", "Tuấn", "Phuc", "Hoa", "Thao"):
        assert got.get(name) == "PERSON", name
    assert "Chị" not in "".join(got) and "Mr" not in "".join(got)  # titles stay in the text


def test_english_words_that_are_vietnamese_names_are_left_alone():
    got = _found("Long ago, May was a month. An old man can tan in the sun.")
    assert not [k for k, v in got.items() if v == "PERSON"]


def test_facilities_streets_and_numbered_units():
    text = (
        "She was sent to the Ba Vi 05/06 Centre, then to khách sạn Sao Mai on đường Lê Lợi, Phường 7, Quận 5, "
        "near Hoàn Kiếm Lake and the Mong Cai border gate. The Social Protection Centre helped."
    )
    got = _found(text)
    assert got["Ba Vi 05/06 Centre"] == "FACILITY"
    assert got["khách sạn Sao Mai"] == "FACILITY"
    for place in ("đường Lê Lợi", "Phường 7", "Quận 5", "Hoàn Kiếm Lake"):
        assert got.get(place) == "PLACE", place
    assert "Mong Cai border gate" in got
    assert not any("Social Protection" in k for k in got)  # a descriptive name is not an identifier


def test_speaker_labels_that_are_names():
    from qualkit.documents import split_turns

    text = "Moderator: hello\nLan: I am fine\nRespondent 2: yes\nHương: ok\nR: no\n"
    spans = SpeakerDetector().detect(TokenView(text), split_turns(text))
    assert sorted(text[s.start : s.end] for s in spans) == ["Hương", "Lan"]


# --- the Vietnamese test corpus: every person and place is caught ----------------------------------------


def test_vietnamese_corpus_every_person_and_place_caught(tmp_path, corpus):
    gold = load_gold(DATA / "vn-gold.jsonl")
    res = redact_corpus(
        [corpus], tmp_path / "out", tmp_path / "private" / "key.csv", RedactOptions(dry_run=True, collect_spans=True)
    )
    assert not res.errors
    texts = _texts(corpus)
    score = score_spans(gold, {k: v.spans for k, v in res.spans.items()}, texts)
    for label in ("PERSON", "PLACE", "FACILITY", "PHONE"):
        assert score.recall[label].total > 0
        assert score.recall[label].rate == 1.0, (label, [(g.file, g.start) for g in score.missed if g.label == label])
    assert not (tmp_path / "out").exists() and not (tmp_path / "private").exists()  # dry run wrote nothing


# --- the CLI end to end -------------------------------------------------------------------------------------


def _run(cli, corpus, out, key, *extra):
    return cli("redact", corpus, "--output", out, "--key", key, *extra)


def test_cli_redact_writes_output_key_log_and_report(cli, writer, corpus, tmp_path):
    out, key = tmp_path / "out", tmp_path / "private" / "key.csv"
    names = tmp_path / "private" / "names.txt"
    names.parent.mkdir()
    names.write_text("Bich\nPLACE: Ban Phung\n", encoding="utf-8")
    r = _run(cli, corpus, out, key, "--names", names)
    assert r.exit_code == 0, r.stderr + r.stdout
    assert (out / "vn_interview_01.txt").is_file() and (out / "vn_fgd_03.md").is_file()
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    report = key.parent / "redaction-review.html"
    assert report.is_file() and stat.S_IMODE(os.stat(report).st_mode) == 0o600
    html = report.read_text(encoding="utf-8")
    assert '<mark class="PERSON"' in html and "Nguyễn Thị Hằng" in html  # private: shows originals
    rows = list(csv.DictReader(open(key, encoding="utf-8")))
    assert {"original", "label", "replacement", "first_document"} <= set(rows[0])
    originals = {r["original"] for r in rows}
    assert {"Nguyễn Thị Hằng", "Binh Trieu Centre", "0912 345 678"} & originals
    # the log: every replacement, never an original
    log = (out / "redaction-log.csv").read_text(encoding="utf-8")
    assert log.splitlines()[0] == "document,file,start,end,label,replacement,detector,out_start,out_end"
    for o in originals:
        assert not re.search(r"(?<!\w)" + re.escape(o) + r"(?!\w)", log), "an original leaked into the log"
    # the outputs hold no original
    red = (out / "vn_interview_01.txt").read_text(encoding="utf-8")
    for o in ("Nguyễn Thị Hằng", "Thao", "Lào Cai", "0912 345 678", "thao.pham99@gmail.com", "Bát Xát"):
        assert o not in red, o
    assert "Interviewer:" in red and "Respondent:" in red
    # inputs untouched
    assert (corpus / "vn_interview_01.txt").read_text(encoding="utf-8") == (DATA / "vn_interview_01.txt").read_text(
        encoding="utf-8"
    )


def test_log_offsets_point_at_replacements(cli, writer, corpus, tmp_path):
    out, key = tmp_path / "out", tmp_path / "k" / "key.csv"
    assert _run(cli, corpus, out, key, "--style", "tag").exit_code == 0
    red = (out / "vn_interview_02.txt").read_text(encoding="utf-8")
    orig = (corpus / "vn_interview_02.txt").read_text(encoding="utf-8")
    rows = [
        r
        for r in csv.DictReader(open(out / "redaction-log.csv", encoding="utf-8"))
        if r["file"] == "vn_interview_02.txt"
    ]
    assert rows
    for r in rows:
        assert red[int(r["out_start"]) : int(r["out_end"])] == r["replacement"]
        assert re.fullmatch(r"\[[A-Z]+ \d+\]", r["replacement"])
        assert int(r["end"]) <= len(orig)


def test_rerun_is_idempotent_and_pseudonyms_stay(cli, writer, corpus, tmp_path):
    out, key = tmp_path / "out", tmp_path / "private" / "key.csv"
    assert _run(cli, corpus, out, key).exit_code == 0
    first = _texts(out)
    key1 = key.read_text(encoding="utf-8")
    assert _run(cli, corpus, out, key).exit_code == 0
    assert _texts(out) == first
    assert key.read_text(encoding="utf-8") == key1
    # a new document later: old entries keep their replacements, the new one reuses known names
    (corpus / "later.txt").write_text(
        "Respondent: Thao and Nguyễn Thị Hằng met Ngo Thi Bup in Lào Cai.\n", encoding="utf-8"
    )
    assert _run(cli, corpus, out, key).exit_code == 0
    old = {r["original"]: r["replacement"] for r in csv.DictReader(io_lines(key1))}
    new = {r["original"]: r["replacement"] for r in csv.DictReader(open(key, encoding="utf-8"))}
    assert all(new[k] == v for k, v in old.items())
    assert "Ngo Thi Bup" in new and len(new) > len(old)
    later = (out / "later.txt").read_text(encoding="utf-8")
    assert old["Thao"] in later and old["Nguyễn Thị Hằng"] in later


def io_lines(text: str):
    import io

    return io.StringIO(text)


def test_same_original_same_replacement_across_documents_and_case(tmp_path, writer):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("Respondent: I met Nguyễn Thị Mai in Hà Nội.\n", encoding="utf-8")
    (src / "b.txt").write_text(
        "Respondent: NGUYEN THI MAI lives in Ha Noi; nguyen thi mai is kind.\n", encoding="utf-8"
    )
    res = redact_corpus([src], tmp_path / "out", tmp_path / "p" / "key.csv", RedactOptions(style="pseudonym"))
    assert not res.errors
    a = (tmp_path / "out" / "a.txt").read_text(encoding="utf-8")
    b = (tmp_path / "out" / "b.txt").read_text(encoding="utf-8")
    rows = list(csv.DictReader(open(tmp_path / "p" / "key.csv", encoding="utf-8")))
    mai = [r for r in rows if phrase_key(r["original"]) == "nguyen thi mai"]
    assert len(mai) == 1
    pseudo = mai[0]["replacement"]
    assert pseudo in a and b.count(pseudo) == 2
    assert "thi" in phrase_key(pseudo)  # the gender cue (Thị) is kept, the name is not
    assert "mai" not in phrase_key(pseudo).split()


def test_pseudonyms_never_occur_in_the_study(tmp_path, writer):
    src = tmp_path / "in"
    src.mkdir()
    pool_words = ["Lan", "Alice", "Linh", "Vân", "Mai", "Hạnh", "Nhung", "Quyên"]
    (src / "a.txt").write_text(
        "Respondent: " + ", ".join(pool_words) + " and Thao were friends. Thao left.\n", encoding="utf-8"
    )
    res = redact_corpus([src], tmp_path / "out", tmp_path / "p" / "key.csv", RedactOptions())
    assert not res.errors
    rows = list(csv.DictReader(open(tmp_path / "p" / "key.csv", encoding="utf-8")))
    study = {fold(w) for w in pool_words} | {"thao"}
    for r in rows:
        assert not (set(phrase_key(r["replacement"]).split()) & study), r["label"]


def test_key_inside_output_is_refused(cli, corpus, tmp_path):
    out = tmp_path / "out"
    r = _run(cli, corpus, out, out / "key.csv")
    assert r.exit_code != 0
    assert "inside the output folder" in r.stderr
    assert not (out / "key.csv").exists()


def test_output_inside_input_is_refused(cli, corpus):
    r = _run(cli, corpus, corpus / "redacted", corpus.parent / "key.csv")
    assert r.exit_code == 1 and "output folder is inside the input folder" in r.stderr


@pytest.mark.parametrize("what", ["missing", "empty folder"])
def test_nothing_to_redact_writes_nothing(cli, tmp_path, what):
    src = tmp_path / ("nothing.txt" if what == "missing" else "transcripts")
    if what == "empty folder":
        src.mkdir()
    out, key = tmp_path / "out", tmp_path / "private" / "key.csv"
    r = _run(cli, src, out, key)
    assert r.exit_code == 1
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and str(src.name) in errors[0]
    assert "nothing redacted" in r.stdout
    # no log, no key, no review report for a run that read nothing
    assert not out.exists() and not key.parent.exists()


def test_bad_files_reported_and_batch_goes_on(cli, writer, corpus, tmp_path):
    (corpus / "empty.txt").write_text("   \n", encoding="utf-8")
    (corpus / "notes.pdf").write_bytes(b"%PDF-1.4")
    out = tmp_path / "out"
    r = _run(cli, corpus, out, tmp_path / "k" / "key.csv")
    assert r.exit_code == 1
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 2
    assert any("empty.txt" in e and "empty" in e for e in errors)
    assert any("notes.pdf" in e and "unsupported" in e for e in errors)
    assert (out / "vn_interview_01.txt").is_file()  # the others were written


def test_dry_run_writes_only_the_private_report(cli, corpus, tmp_path):
    out, key = tmp_path / "out", tmp_path / "private" / "key.csv"
    r = _run(cli, corpus, out, key, "--dry-run")
    assert r.exit_code == 0, r.stderr
    assert "would replace" in r.stdout
    assert not out.exists() and not key.exists()
    assert (key.parent / "redaction-review.html").is_file()


def test_default_key_is_a_private_sibling_of_the_output(cli, writer, corpus, tmp_path):
    out = tmp_path / "shared-out"
    r = cli("redact", corpus, "--output", out, "--style", "category")
    assert r.exit_code == 0, r.stderr
    key = tmp_path / "shared-out-private" / "redaction-key.csv"
    assert key.is_file() and stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert "[PERSON]" in (out / "vn_interview_02.txt").read_text(encoding="utf-8")


def test_project_file_supplies_defaults(cli, writer, corpus, tmp_path):
    study = tmp_path / "study"
    (study / "private").mkdir(parents=True)
    (study / "private" / "names.txt").write_text("Bup\n", encoding="utf-8")
    (study / "qualkit.yaml").write_text(
        "project: t\ntranscripts: transcripts/\noutput: output/\nprivate: private/\n"
        "redact:\n  style: tag\n  names: private/names.txt\n",
        encoding="utf-8",
    )
    (corpus / "x.txt").write_text("Respondent: my friend bup came.\n", encoding="utf-8")
    r = cli("redact", corpus, "--project", study)
    assert r.exit_code == 0, r.stderr
    red = (study / "output" / "transcripts" / "x.txt").read_text(encoding="utf-8")
    assert "bup" not in red.lower() and re.search(r"\[PERSON \d+\]", red)
    assert (study / "private" / "redaction-key.csv").is_file()
    # the detection cache is the one 'qualkit run' uses (private/cache), so neither redoes the other's NER pass
    from qualkit.config import load_settings
    from qualkit.project import ProjectPaths

    (study / "transcripts").mkdir()
    assert list((study / "private" / "cache").glob("*.json"))
    assert ProjectPaths.from_settings(load_settings(study)).cache == study / "private" / "cache"


def test_keep_list_and_countries(tmp_path, writer):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(
        "Respondent: Lan went from Lao Cai to China, then to Vietnam and Nha Trang.\n", encoding="utf-8"
    )
    keep = tmp_path / "keep.txt"
    keep.write_text("# kept\nNha Trang\n", encoding="utf-8")
    redact_corpus([src], tmp_path / "out", tmp_path / "p" / "k.csv", RedactOptions(style="tag", keep_file=keep))
    red = (tmp_path / "out" / "a.txt").read_text(encoding="utf-8")
    assert "China" in red and "Vietnam" in red and "Nha Trang" in red
    assert "Lao Cai" not in red and "Lan" not in red
    redact_corpus([src], tmp_path / "out2", tmp_path / "p2" / "k.csv", RedactOptions(style="tag", keep_countries=False))
    red2 = (tmp_path / "out2" / "a.txt").read_text(encoding="utf-8")
    assert "China" not in red2 and "Vietnam" not in red2


def test_redact_text_for_strings_outside_the_body(tmp_path):
    """The callable handed to the writers replaces known originals the same way as the body."""
    from qualkit.redact import make_redactor

    opts = RedactOptions(style="tag")
    rep = make_redactor(None, opts, extra_originals=[("Nguyễn Thị Mai", "PERSON")])
    header = "Interview with NGUYEN THI MAI, tel. 0912 345 678, Bat Xat district"
    out = rep.redact_string(header, "a.txt")
    assert "MAI" not in out and "0912" not in out and "Bat Xat" not in out
    assert out.startswith("Interview with [PERSON 1]")
    assert rep.redact_string("Nguyễn Thị Mai", "a.txt") == "[PERSON 1]"


def test_cache_skips_the_nlp_pass_for_unchanged_documents(tmp_path, writer, corpus):
    cache = tmp_path / "private" / "cache"
    opts = RedactOptions(style="tag", cache_dir=cache)
    r1 = redact_corpus([corpus], tmp_path / "o1", tmp_path / "private" / "k.csv", opts)
    assert r1.cached == 0 and not r1.errors
    files = list(cache.glob("*.json"))
    assert files and all(stat.S_IMODE(os.stat(f).st_mode) == 0o600 for f in files)
    r2 = redact_corpus([corpus], tmp_path / "o2", tmp_path / "private" / "k.csv", opts)
    assert r2.cached == len(CORPUS_FILES)
    assert _texts(tmp_path / "o1") == _texts(tmp_path / "o2")


def test_workers_give_the_same_result(tmp_path, writer, corpus):
    key1, key2 = tmp_path / "p1" / "k.csv", tmp_path / "p2" / "k.csv"
    redact_corpus([corpus], tmp_path / "o1", key1, RedactOptions(style="tag"))
    redact_corpus([corpus], tmp_path / "o2", key2, RedactOptions(style="tag", workers=2))
    assert _texts(tmp_path / "o1") == _texts(tmp_path / "o2")
    assert key1.read_text(encoding="utf-8") == key2.read_text(encoding="utf-8")


# --- audit ------------------------------------------------------------------------------------------------


def test_audit_passes_clean_output_and_flags_a_leak_without_printing_it(cli, writer, corpus, tmp_path):
    out, key = tmp_path / "out", tmp_path / "p" / "key.csv"
    assert _run(cli, corpus, out, key).exit_code == 0
    r = cli("audit", out, "--key", key)
    assert r.exit_code == 0, r.stdout
    assert "0 original(s) from the key" in r.stdout
    f = out / "vn_interview_02.txt"
    f.write_text(f.read_text(encoding="utf-8") + "\nNote: TRAN VAN HUNG called.\n", encoding="utf-8")
    r = cli("audit", out, "--key", key)
    assert r.exit_code == 1
    assert "LEAK vn_interview_02.txt:" in r.stdout and "PERSON (key)" in r.stdout
    assert "TRAN" not in r.stdout.upper().replace("TRANSCRIPT", "") and "Hung" not in r.stdout


def test_key_matcher_finds_originals_as_redaction_propagates_them(tmp_path):
    from qualkit.redact import KeyMatcher

    key = tmp_path / "key.csv"
    key.write_text(
        "original,label,replacement,first_document\n"
        "Nguyễn Thị Mai,PERSON,[PERSON 1],a.txt\nMỷ,PERSON,[PERSON 2],a.txt\n",
        encoding="utf-8",
    )
    text = "NGUYEN THI MAI came. My friend [PERSON 1] and Mỷ left."
    hits = KeyMatcher(key).find(text)
    assert [(text[h.start : h.end], h.label, h.key_line) for h in hits] == [
        ("NGUYEN THI MAI", "PERSON", 2),
        ("Mỷ", "PERSON", 3),
    ]


# --- scoring ------------------------------------------------------------------------------------------------


def test_score_command_reports_recall_per_label(cli, tmp_path):
    src = tmp_path / "sample"
    src.mkdir()
    (src / "s1.txt").write_text("Respondent: Mai lives in Lào Cai. Call 0912 345 678.\n", encoding="utf-8")
    text = (src / "s1.txt").read_text(encoding="utf-8")
    gold = tmp_path / "gold.jsonl"
    lines = []
    for surface, label in (("Mai", "PERSON"), ("Lào Cai", "PLACE"), ("0912 345 678", "PHONE")):
        s = text.index(surface)
        lines.append(f'{{"file": "s1.txt", "start": {s}, "end": {s + len(surface)}, "label": "{label}"}}')
    gold.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = cli("score", gold, "--input", src)
    assert r.exit_code == 0, r.stderr
    assert re.search(r"recall\s+│\s+PERSON\s+│\s+1\s+│\s+1\s+│\s+1\.000", r.stdout)
    assert "other words replaced" in r.stdout


def test_score_counts_a_span_caught_only_when_no_distinctive_token_is_left():
    from qualkit.redact.score import GoldSpan

    text = "She lives at 14 Crown Street near Ha Noi."
    s = text.index("14")
    gold = [GoldSpan("f", s, s + len("14 Crown Street"), "STREET_ADDRESS")]
    partial = score_spans(gold, {"f": [(s, s + 2, "PLACE")]}, {"f": text})
    assert partial.recall["STREET_ADDRESS"].hit == 0
    full = score_spans(gold, {"f": [(s, s + len("14 Crown"), "PLACE")]}, {"f": text})  # "Street" is not distinctive
    assert full.recall["STREET_ADDRESS"].hit == 1


# --- property: a name on the study list never survives -----------------------------------------------------

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:
    _ONSETS = [
        "",
        "b",
        "c",
        "ch",
        "d",
        "đ",
        "g",
        "gi",
        "h",
        "k",
        "kh",
        "l",
        "m",
        "n",
        "ng",
        "nh",
        "ph",
        "qu",
        "s",
        "t",
        "th",
        "tr",
        "v",
        "x",
    ]
    _VOWELS = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "oa", "uy", "ươ", "iê"]
    _TONES = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]
    _CODAS = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"]

    @st.composite
    def syllables(draw):
        import unicodedata

        syl = draw(st.sampled_from(_ONSETS)) + draw(st.sampled_from(_VOWELS))
        syl = unicodedata.normalize("NFC", syl[:-1] + syl[-1] + draw(st.sampled_from(_TONES)))
        return (syl + draw(st.sampled_from(_CODAS))).capitalize()

    names_st = st.lists(syllables(), min_size=1, max_size=3).map(" ".join).filter(lambda n: len(fold(n)) >= 3)

    def _variant(name: str, how: int) -> str:
        import unicodedata

        plain = (
            "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))
            .replace("đ", "d")
            .replace("Đ", "D")
        )
        return [name, name.upper(), name.lower(), plain, plain.upper()][how]

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        names=st.lists(names_st, min_size=1, max_size=3, unique_by=fold),
        hows=st.lists(st.integers(0, 4), min_size=3, max_size=3),
        style=st.sampled_from(["tag", "pseudonym", "category"]),
    )
    def test_names_on_the_list_never_survive(names, hows, style):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "in").mkdir()
            (tmp / "names.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
            for k, name in enumerate(names):
                v = [_variant(name, h) for h in hows]
                (tmp / "in" / f"d{k}.txt").write_text(
                    f"Interviewer: Who is {v[0]}?\nRespondent: {v[1]} lives near the market; "
                    f"my friend said {v[2]}, then left.\n",
                    encoding="utf-8",
                )
            res = redact_corpus(
                [tmp / "in"],
                tmp / "out",
                tmp / "p" / "k.csv",
                RedactOptions(style=style, names_file=tmp / "names.txt", use_ner=False),
            )
            assert not res.errors
            outs = sorted((tmp / "out").glob("*.txt"))
            assert len(outs) == len(names)
            for out in outs:
                words = " " + " ".join(re.findall(r"\w+", fold(out.read_text(encoding="utf-8")))) + " "
                for name in names:
                    assert f" {phrase_key(name)} " not in words, "a listed name survived"


# --- .docx round trip: body, header, footer, comments and properties are all cleaned --------------------


def test_docx_round_trip_cleans_everything(tmp_path, writer):
    docx = pytest.importorskip("docx")
    import zipfile

    src = tmp_path / "in"
    src.mkdir()
    d = docx.Document()
    d.core_properties.author = "Nguyen Thi Mai"
    d.core_properties.title = "Interview with Nguyen Thi Mai, Lao Cai"
    d.sections[0].header.paragraphs[0].text = "Transcript: Nguyen Thi Mai (Bat Xat)"
    d.sections[0].footer.paragraphs[0].text = "Call 0912 345 678"
    p = d.add_paragraph()
    p.add_run("Interviewer:").bold = True
    p.add_run(" Where do you live?")
    p = d.add_paragraph()
    p.add_run("Respondent:").bold = True
    run = p.add_run(" I am Nguyen Thi Mai and I live in Lao Cai, in Bat Xat district.")
    if hasattr(d, "add_comment"):
        d.add_comment([run], text="Check: Nguyen Thi Mai gave her phone 0912 345 678", author="Tran Van Hung")
    table = d.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Name"
    table.cell(0, 1).text = "Nguyen Thi Mai"
    d.save(src / "int.docx")
    out, key = tmp_path / "out", tmp_path / "p" / "key.csv"
    res = redact_corpus([src], out, key, RedactOptions(style="tag"))
    assert not res.errors, [e.message for e in res.errors]
    with zipfile.ZipFile(out / "int.docx") as z:
        xml = " ".join(z.read(n).decode("utf-8", "ignore") for n in z.namelist() if n.endswith(".xml"))
    for original in ("Nguyen Thi Mai", "Lao Cai", "Bat Xat", "0912 345 678", "Tran Van Hung"):
        assert original not in xml, original
    body = docx.Document(out / "int.docx")
    texts = [p.text for p in body.paragraphs]
    assert texts[0].startswith("Interviewer:") and texts[1].startswith("Respondent: I am [PERSON")
    assert body.paragraphs[1].runs[0].bold  # formatting kept


def test_a_name_that_folds_to_an_english_word_does_not_spread(tmp_path, writer):
    """'Mỷ' is a name; 'My' (English) must survive everywhere, and 'Men' is not the name Mến."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(
        "Interviewer: Mỷ, how old are you?\nMỷ: I am 16. My mother is sick. Men came at night.\n", encoding="utf-8"
    )
    (src / "b.txt").write_text("Respondent: My friend Thao said Mỷ was kind. My home is far.\n", encoding="utf-8")
    redact_corpus([src], tmp_path / "out", tmp_path / "p" / "k.csv", RedactOptions(style="tag"))
    a = (tmp_path / "out" / "a.txt").read_text(encoding="utf-8")
    b = (tmp_path / "out" / "b.txt").read_text(encoding="utf-8")
    assert "Mỷ" not in a + b
    assert "My mother" in a and "Men came" in a
    assert b.startswith("Respondent: My friend [PERSON") and "My home" in b


def test_a_spaced_dash_separates_a_name_from_a_place():
    from qualkit.redact import make_redactor

    rep = make_redactor(None, RedactOptions(style="tag"))
    out = rep.redact_string("Interviewer: Phạm Minh Châu – Hồ Chí Minh City", "x")
    assert out == "Interviewer: [PERSON 1] – [PLACE 1]"


def test_key_matcher_finds_originals_like_the_audit(tmp_path):
    from qualkit.redact import KeyMatcher

    key = tmp_path / "key.csv"
    key.write_text(
        "original,label,replacement,first_document\nMỷ,PERSON,[PERSON 1],a.txt\n"
        "Nguyễn Thị Mai,PERSON,[PERSON 2],a.txt\nLào Cai,PLACE,[PLACE 1],a.txt\n",
        encoding="utf-8",
    )
    m = KeyMatcher(key)
    text = "My friend Mỷ met NGUYEN THI MAI in Lao Cai; [PERSON 1] stayed."
    hits = [(text[h.start : h.end], h.label, h.key_line) for h in m.find(text)]
    assert hits == [("Mỷ", "PERSON", 2), ("NGUYEN THI MAI", "PERSON", 3), ("Lao Cai", "PLACE", 4)]
