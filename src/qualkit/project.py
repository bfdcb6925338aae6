"""A study project: scaffold it (``init``) and run the whole pipeline (``run``).

``run_project`` runs redact -> code -> tables -> annex over a study folder,
keeping private material (key, review report, caches, run state) in the private
folder and shareable output in the output folder. It is incremental and
resumable: each stage records what it finished in ``<private>/run-state.json``
(written atomically after each stage); unchanged transcripts (by content hash)
are not re-coded, and every output file is written atomically, so a run killed
half-way leaves either the old or the new version of each file, never a
partial one, and the next run finishes the job.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .config import PROJECT_FILE, Settings, load_settings, redact_options
from .errors import InputError, QualkitError, UsageError
from .fsutil import atomic_write_text, file_sha256, is_inside, make_private_paths, private_note, remove_stale_temps
from .progress import ProgressFn

STAGES = ("redact", "code", "tables", "annex")


# --------------------------------------------------------------------------- shipped material


def shipped_codebooks() -> dict[str, Path]:
    """Codebooks shipped with qualkit: {name: path}."""
    folder = resources.files("qualkit") / "data" / "codebooks"
    out: dict[str, Path] = {}
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.name.endswith((".yaml", ".yml")):
                out[entry.name.rsplit(".", 1)[0]] = Path(str(entry))
    return dict(sorted(out.items()))


def shipped_file(name: str) -> Path:
    return Path(str(resources.files("qualkit") / "data" / name))


# --------------------------------------------------------------------------- paths of a project


@dataclass
class ProjectPaths:
    root: Path
    transcripts: Path
    output: Path
    private: Path
    cases: Path | None
    codebook: Path | None
    key: Path
    review_report: Path
    redacted: Path
    segments: Path
    table_spec: Path | None
    tables_out: Path
    annex_spec: Path | None
    annex_out: Path
    annex_template: Path | None
    names: Path | None
    keep: Path | None
    state: Path
    cache: Path
    #: read files that links in the transcripts folder point to outside it (``run --follow-links``)
    follow_links: bool = False

    @classmethod
    def from_settings(cls, s: Settings) -> ProjectPaths:
        if s.project_file is None:
            raise UsageError(
                "no qualkit.yaml found",
                fix="run in a study folder, give its path, or create one with 'qualkit init DIR'",
            )
        output = s.path(None, "output")
        private = s.path(None, "private")
        paths = cls(
            root=s.root,
            transcripts=s.path(None, "transcripts"),
            output=output,
            private=private,
            cases=s.path(None, "cases"),
            codebook=s.path(None, "codebook"),
            key=s.location(None, "redact.key"),
            review_report=s.default_path("review_report"),
            redacted=s.default_path("redacted"),
            segments=s.location(None, "code.segments"),
            table_spec=s.path(None, "tables.spec"),
            tables_out=s.location(None, "tables.output"),
            annex_spec=s.path(None, "annex.spec"),
            annex_out=s.location(None, "annex.output"),
            annex_template=s.path(None, "annex.template"),
            names=s.path(None, "redact.names"),
            keep=s.path(None, "redact.keep"),
            state=s.default_path("run_state"),
            cache=s.default_path("cache"),
        )
        paths.check(s)
        return paths

    def check(self, s: Settings) -> None:
        from .places import INPUT, PRIVATE, SHAREABLE, Place, check_places

        places = [
            Place(self.transcripts, "input folder", INPUT),
            Place(self.output, "output folder", SHAREABLE),
            Place(self.private, "private folder", PRIVATE),
            Place(self.key, "pseudonym key", PRIVATE),
            Place(self.review_report, "review report", PRIVATE),
            Place(self.names, "names list", PRIVATE) if self.names else None,
            Place(self.keep, "keep list", PRIVATE) if self.keep else None,
        ]
        check_places(places, where=lambda a, b: (s.project_file, None))
        if not self.transcripts.is_dir():
            raise InputError(
                "transcripts folder not found",
                file=self.transcripts,
                fix=f"create it and add transcripts, or set 'transcripts:' in {PROJECT_FILE}",
            )


# --------------------------------------------------------------------------- run state


def _load_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}  # a damaged state only costs a full re-run


def _save_state(path: Path, state: dict) -> None:
    atomic_write_text(path, json.dumps(state, indent=1, sort_keys=True), private=True)


def _settings_fingerprint(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, Path):
            h.update(file_sha256(p).encode() if p.is_file() else b"-")
        else:
            h.update(repr(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


@dataclass
class StageResult:
    stage: str
    ran: bool
    message: str
    written: list[Path] = field(default_factory=list)
    errors: list = field(default_factory=list)
    private: list[Path] = field(default_factory=list)  # written to the private folder
    warnings: list[str] = field(default_factory=list)


@dataclass
class RunSummary:
    stages: list[StageResult] = field(default_factory=list)
    #: warnings of the run itself (not of one stage)
    notes: list[str] = field(default_factory=list)

    @property
    def written(self) -> list[Path]:
        return [p for s in self.stages for p in s.written]

    @property
    def private(self) -> list[Path]:
        return [p for s in self.stages for p in s.private]

    @property
    def errors(self) -> list:
        return [e for s in self.stages for e in s.errors]

    @property
    def warnings(self) -> list[str]:
        return self.notes + [w for s in self.stages for w in s.warnings]


# --------------------------------------------------------------------------- init

PROJECT_TEMPLATE = """\
# qualkit study project. Every qualkit command run in this folder (or given
# --project {name}) reads its defaults here: command line > this file > built-in defaults.
# Paths are relative to this file. `qualkit config` shows the effective settings.
project: {name_value}

transcripts: transcripts/     # ORIGINAL transcripts (.txt .md .docx .vtt .srt): never shared
output: output/               # shareable: redacted transcripts, segments, tables, annex
private: private/             # PRIVATE: pseudonym key, review report, caches; never share, never inside output/
cases: cases.csv              # one row per respondent: case id + attributes
codebook: codebook.yaml       # themes and codes (copied from qualkit's {codebook} codebook)
# model: en_core_web_sm       # spaCy pipeline; default: the best installed English pipeline

redact:
  style: pseudonym            # tag ([PERSON 3]) | pseudonym (realistic names) | category ([PERSON])
  rename: true                # redacted transcripts get neutral ids (T001, T002...), as a file name can
                              # hold a name; which is which: private/document-ids.csv (cases.csv may use
                              # either: qualkit run reads file names there as their neutral ids)
  names: private/names.txt    # real names, aliases, villages of this study: always redacted
  keep: keep.txt              # words never replaced (organisations, terms)
  keep_countries: true        # leave country names (analysis needs them)

code:
  unit: sentence              # sentence | turn | paragraph
  xlsx: true                  # also write output/segments.xlsx for review

tables:
  spec: tables.yaml
  format: xlsx                # csv | xlsx | md

annex:
  spec: annex.yaml
"""

NAMES_TEMPLATE = """\
# Study-specific identifiers that must always be redacted, one per line:
# participants' real names and nicknames, aliases, villages, workplaces.
# Matched case- and diacritic-insensitively. This file is PRIVATE: keep it in private/.
"""

KEEP_TEMPLATE = """\
# Words and phrases never replaced by `qualkit redact`, one per line
# (organisations, programme names, terms that look like names).
Viet Nam
UNICEF
"""

CASES_HEADERS = {
    "csec-study": "case,category,interview_type,group,sex,age_now,age_first,province,setting,education,customers_per_day",
    "fsw-evaluation": "case,category,interview_type,sex,age,province,club_member,years_in_sex_work",
}
GENERIC_CASES_HEADER = "case,category,interview_type,sex,age,province"


def _generic_table_spec(cb) -> str:
    """A table spec for any codebook: respondents by province x category, then
    one table per theme by respondent category (edit it to suit the study)."""
    lines = [
        "# Tables counted over respondents (cases), not segments. Edit freely:",
        "# format in the qualkit README (tables) and `qualkit tables --help`.",
        f"title: {cb.title}",
        "defaults:",
        "  percent: true",
        "  cells: n_pct",
        "tables:",
        "  - id: t1",
        '    number: "1"',
        "    title: Respondents by category and province",
        "    attribute: category",
        "    by: province",
        "    cells: count",
    ]
    for n, theme in enumerate(cb.themes, start=2):
        lines += [
            f"  - id: t{n}",
            f'    number: "{n}"',
            f"    title: {_yaml_str(theme.label)}",
            f"    theme: {theme.id}",
            "    by: category",
        ]
    return "\n".join(lines) + "\n"


def _generic_annex_spec(cb) -> str:
    """An annex spec for any codebook: respondents, all tables, the codebook, quotes."""
    n_tables = len(cb.themes) + 1
    tables = ", ".join(f"t{i}" for i in range(2, n_tables + 1))
    quote_themes = ", ".join(t.id for t in cb.themes[:3])
    return f"""\
# Word annex (`qualkit run` writes output/annex.docx). Format: docs/annex.md.
title: Annexes
subtitle: {_yaml_str(cb.title)}
tables: tables.yaml
# Identifiers from the pseudonym key that may appear on purpose: the provinces
# of interview, named in the respondents table and the quote attributions.
# Every other key entry is refused. List YOUR study's provinces here, or
# remove them to keep provinces out (then drop province from the annex).
allow: [Khanh Hoa, Ha Noi, Ho Chi Minh City, Lao Cai, An Giang]
sections:
  - type: respondents
    heading: Annex 1. Respondents
    rows: category
    columns: province
    title: Respondents by category and province
  - type: tables
    heading: Annex 2. Tables
    tables: [{tables}]
  - type: codebook
    heading: Annex 3. Codebook
  - type: quotes
    heading: Annex 4. Quotes
    codes: [{quote_themes}]
    max_per_code: 2
    attribution:
      - "({{interview_type}} with {{category}}, {{province}})"
      - "(Respondent: {{category}})"
"""


def _yaml_str(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def _yaml_plain(text: str) -> str:
    """*text* as a YAML value: as it is when YAML reads it back unchanged, else quoted ('[i]st')."""
    import yaml

    try:
        if yaml.safe_load(f"k: {text}") == {"k": text}:
            return text
    except yaml.YAMLError:
        pass
    return _yaml_str(text)


@dataclass
class InitResult:
    root: Path
    created: list[Path]
    next_steps: list[str]


def init_project(root: str | Path, *, codebook: str = "csec-study", force: bool = False) -> InitResult:
    """Scaffold a study folder. Refuses to overwrite an existing project unless *force*;
    even then the files the team fills in (cases.csv, keep.txt, private/names.txt) are kept."""
    root = Path(root)
    project_file = root / PROJECT_FILE
    if project_file.exists() and not force:
        raise UsageError(
            "a study project already exists here",
            file=project_file,
            fix="use another folder, or --force to rewrite the scaffold files",
        )
    books = shipped_codebooks()
    if codebook in books:
        source, cb_name = books[codebook], codebook
    elif Path(codebook).is_file():
        source, cb_name = Path(codebook), Path(codebook).stem
    else:
        raise UsageError(
            f"unknown codebook '{codebook}'",
            fix=f"use one of {', '.join(books) or '(none shipped)'} or a path to a codebook YAML",
        )
    # validate before copying: a broken codebook must not start a study
    from .coding.codebook import load_codebook

    cb = load_codebook(source)  # raises CodebookError with file:line
    created: list[Path] = []

    def write(rel: str, text: str, *, private: bool = False, data: bool = False) -> None:
        # *data*: a file the team fills in (respondents, real names): --force never overwrites it
        path = root / rel
        if path.exists() and (data or not force):
            return
        atomic_write_text(path, text, private=private)
        created.append(path)

    for folder in ("transcripts", "output"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    priv = root / "private"
    priv.mkdir(parents=True, exist_ok=True)
    os.chmod(priv, 0o700)
    name = root.resolve().name
    write(PROJECT_FILE, PROJECT_TEMPLATE.format(name=name, name_value=_yaml_plain(name), codebook=cb_name))
    write("codebook.yaml", source.read_text(encoding="utf-8"))
    write("cases.csv", CASES_HEADERS.get(cb_name, GENERIC_CASES_HEADER) + "\n", data=True)
    write("keep.txt", KEEP_TEMPLATE, data=True)
    write("private/names.txt", NAMES_TEMPLATE, private=True, data=True)
    for spec, generate in (("tables.yaml", _generic_table_spec), ("annex.yaml", _generic_annex_spec)):
        curated = shipped_file(f"project/{cb_name}-{spec}")
        write(spec, curated.read_text(encoding="utf-8") if curated.is_file() else generate(cb))
    gitignore = "# never commit originals or private material\ntranscripts/\nprivate/\n"
    write(".gitignore", gitignore)
    steps = [
        f"put the original transcripts in {root / 'transcripts'}/ (.txt .md .docx .vtt .srt)",
        f"list participants' real names and aliases in {root / 'private' / 'names.txt'}",
        f"fill in {root / 'cases.csv'} (one row per respondent; case = file name without extension)",
        f"run: qualkit run {root}",
    ]
    return InitResult(root=root, created=created, next_steps=steps)


# --------------------------------------------------------------------------- run


def run_project(
    project: str | Path | None = None,
    *,
    stages: tuple[str, ...] = STAGES,
    force: bool = False,
    on_progress: ProgressFn | None = None,
    settings: Settings | None = None,
    follow_links: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
) -> RunSummary:
    """Run the study pipeline. *on_progress(stage, done, total)* reports progress.
    Links in the transcripts folder that point outside it are refused unless *follow_links*.

    *workers* / *scheduler* (else ``redact.workers`` / ``scheduler:`` in qualkit.yaml) say where
    redaction's detection and coding run (:mod:`qualkit.execution`); one pool or cluster serves
    both stages, started only when a stage has work for it."""
    s = settings or load_settings(project)
    paths = ProjectPaths.from_settings(s)
    paths.follow_links = follow_links
    for st in stages:
        if st not in STAGES:
            raise UsageError(f"unknown stage '{st}'", fix=f"use one of {', '.join(STAGES)}")
    paths.private.mkdir(parents=True, exist_ok=True)
    # everything holding originals: the private folder (key, backups, caches, names, run state,
    # report) and a key or names list kept elsewhere
    loose = make_private_paths([paths.private, paths.key, paths.names, paths.review_report])
    paths.output.mkdir(parents=True, exist_ok=True)
    stale = remove_stale_temps(paths.output) + remove_stale_temps(paths.private)
    state = {} if force else _load_state(paths.state)
    report = on_progress or (lambda stage, done, total: None)
    if "redact" in stages:
        from .readers import iter_inputs

        if next(iter(iter_inputs([paths.transcripts], follow_links=follow_links)), None) is None:
            raise InputError(
                "no transcripts found",
                file=paths.transcripts,
                fix="add .txt, .md, .docx, .vtt or .srt files (one per interview) and run again",
            )
    summary = RunSummary()
    if loose:
        summary.notes.append(private_note(loose))
    if stale:
        summary.notes.append(f"removed {len(stale)} temporary file(s) an interrupted earlier run had left")
    runners = {"redact": _stage_redact, "code": _stage_code, "tables": _stage_tables, "annex": _stage_annex}
    from .execution import LazyExecutor

    with LazyExecutor(int(s.value(workers, "redact.workers") or 1), s.value(scheduler, "scheduler")) as executor:
        for stage in STAGES:
            if stage not in stages:
                continue
            if stage in ("redact", "code"):
                result = runners[stage](s, paths, state, report, executor=executor)
            else:
                result = runners[stage](s, paths, state, report)
            summary.stages.append(result)
            _save_state(paths.state, state)
    return summary


def _stage_redact(s: Settings, paths: ProjectPaths, state: dict, report: ProgressFn, executor=None) -> StageResult:
    from .redact import redact_corpus

    opts = redact_options(s, skip_missing_lists=True, follow_links=paths.follow_links)
    result = redact_corpus(
        [paths.transcripts],
        paths.redacted,
        paths.key,
        opts,
        report_path=paths.review_report,
        on_progress=lambda phase, done, total: report("redact", done, total),
        executor=executor,
    )
    written = list(result.written) + ([Path(result.log_path)] if result.log_path else [])
    from .redact.docids import ids_path_for

    private = [p for p in (paths.key, ids_path_for(paths.key), paths.review_report) if p.is_file()]
    n = len(result.documents)
    previous = state.get("redact", {}).get("outputs", [])
    current = _current_inputs(paths)
    if opts.rename:  # the copies are named by neutral id
        from .redact.docids import DocumentIds

        ids = DocumentIds(ids_path_for(paths.key))
        current = {ids.neutral_path(rel).as_posix() for rel in current if rel in ids.ids}
    removed = _remove_stale_copies(paths, previous, current, result.written)
    # copies an earlier run wrote whose transcript is still there (e.g. unreadable this time) stay listed
    kept = {rel for rel in previous if rel in current and (paths.redacted / rel).is_file()}
    outputs = sorted({p.relative_to(paths.redacted).as_posix() for p in result.written} | kept)
    state["redact"] = {"documents": n, "outputs": outputs}
    message = f"{n} transcript(s) redacted into {paths.redacted}"
    if removed:
        message += (
            f"; removed the redacted copies of {len(removed)} transcript(s) no longer in {paths.transcripts}: "
            + ", ".join(removed)
        )
    warnings = list(result.warnings)
    if paths.follow_links:
        from .readers import outside_links

        links = outside_links([paths.transcripts], all_files=True)
        if links:
            warnings.append(f"--follow-links: read {len(links)} link(s) that point outside {paths.transcripts}")
    return StageResult("redact", True, message, written, list(result.errors), private, warnings)


def _current_inputs(paths: ProjectPaths) -> set[str]:
    from .readers import iter_inputs

    return {f.rel.as_posix() for f in iter_inputs([paths.transcripts], all_files=True, follow_links=paths.follow_links)}


def _remove_stale_copies(paths: ProjectPaths, previous: list[str], current: set[str], written: list[Path]) -> list[str]:
    """Delete the redacted copies an earlier run wrote of transcripts that were
    deleted or renamed since (not in *current*), so they are no longer shared, coded
    or counted. Only files qualkit itself wrote (listed in the run state) are touched."""
    done = {Path(p).resolve() for p in written}
    removed: list[str] = []
    for rel in previous:
        target = paths.redacted / rel
        if rel in current or target.resolve() in done or not is_inside(target, paths.redacted):
            continue
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        removed.append(rel)
    return removed


def _stage_code(s: Settings, paths: ProjectPaths, state: dict, report: ProgressFn, executor=None) -> StageResult:
    if paths.codebook is None or not paths.codebook.is_file():
        return StageResult("code", False, "skipped: no codebook (set 'codebook:' in qualkit.yaml)")
    from .coding.codebook import load_codebook
    from .coding.merge import check_unique_ids, reconcile_segments_file, update_segments_file
    from .readers import iter_inputs, read_document

    codebook = load_codebook(paths.codebook)
    unit = s.value(None, "code.unit")  # None: the codebook's defaults decide, else sentence
    fingerprint = _settings_fingerprint(paths.codebook, unit, s.value(None, "model"))
    prev_state = state.get("code", {})
    old_hashes: dict[str, str] = prev_state.get("documents", {}) if prev_state.get("fingerprint") == fingerprint else {}
    inputs = list(iter_inputs([paths.redacted])) if paths.redacted.is_dir() else []
    # fingerprint each document by its text as qualkit reads it (a re-written .docx
    # has new zip timestamps but the same text, and must not be re-coded)
    read, errors = [], []
    for f in inputs:
        try:
            read.append(read_document(f.path, rel=f.rel))
        except QualkitError as exc:  # one damaged file: said once, the others are coded
            errors.append(exc)
    check_unique_ids(read, root=paths.transcripts)  # a dict by id would silently drop one of two same-named transcripts
    docs = {d.id: d for d in read}
    hashes = {doc_id: hashlib.sha256(doc.text.encode("utf-8")).hexdigest() for doc_id, doc in docs.items()}
    for f in inputs:  # an unreadable document keeps its rows and its state: neither re-coded nor removed
        doc_id = f.path.stem
        if doc_id not in hashes and doc_id in old_hashes:
            hashes[doc_id] = old_hashes[doc_id]
    changed = [doc for doc_id, doc in docs.items() if old_hashes.get(doc_id) != hashes[doc_id]]
    if not paths.segments.is_file():
        changed = list(docs.values())
    removed = set(old_hashes) - set(hashes)
    if not changed and not removed:
        report("code", len(inputs), len(inputs))
        synced = reconcile_segments_file(paths.segments, xlsx=bool(s.value(None, "code.xlsx")), codebook=codebook)
        if synced is None:
            return StageResult("code", False, f"{len(inputs)} transcript(s) unchanged: segments kept", errors=errors)
        return StageResult(
            "code",
            True,
            f"{len(inputs)} transcript(s) unchanged; {synced.from_twin} review decision(s) from "
            f"{paths.segments.with_suffix('.xlsx').name} merged",
            synced.written,
            errors=errors,
            warnings=_review_warnings(synced, paths.segments),
        )
    recoded = {d.id for d in changed} | removed
    update = update_segments_file(
        changed,
        codebook,
        paths.segments,
        unit=unit,
        model=s.value(None, "model"),
        xlsx=bool(s.value(None, "code.xlsx")),
        recoded_documents=recoded,
        on_progress=lambda doc_id, done, total: report("code", done, total),
        executor=executor,
    )
    merged, written = update.merge.rows, update.written
    state["code"] = {"fingerprint": fingerprint, "documents": hashes}
    warnings = _review_warnings(update, paths.segments)
    if update.merge.unmatched:
        warnings.append(
            f"{update.merge.unmatched} reviewed row(s) of {', '.join(update.merge.unmatched_documents)} were kept in "
            f"{paths.segments.name} though their text is no longer in the transcript (changed or removed): "
            f"check them there, and delete them if the transcript is gone for good"
        )
    return StageResult(
        "code",
        True,
        f"{len(changed)} of {len(inputs)} transcript(s) coded; {len(merged)} segment rows",
        written,
        errors=errors,
        warnings=warnings,
    )


def _case_ids(s: Settings, paths: ProjectPaths) -> dict[str, str] | None:
    """Original document id -> neutral id when the study renames documents (redact.rename)."""
    if not s.value(None, "redact.rename"):
        return None
    from .redact.docids import DocumentIds, ids_path_for

    return DocumentIds(ids_path_for(paths.key)).by_document_id()


def _review_warnings(update, segments: Path) -> list[str]:
    """Conflicts between segments.csv and its .xlsx twin, and the backups made."""
    twin = segments.with_suffix(".xlsx").name
    out = [c.message(segments.name, twin) for c in update.conflicts]
    out += [f"a copy of the file as it was, with the decisions it loses, is in {b}" for b in update.backups]
    return out


def _stage_tables(s: Settings, paths: ProjectPaths, state: dict, report: ProgressFn) -> StageResult:
    if paths.table_spec is None or not paths.table_spec.is_file():
        return StageResult("tables", False, "skipped: no table spec (set 'tables: spec:' in qualkit.yaml)")
    from .tables.render import write_table_set

    report("tables", 0, 1)
    cases = paths.cases
    ids = _case_ids(s, paths)
    if ids and paths.cases is not None and paths.cases.is_file():
        from .cases import read_cases

        cases = read_cases(paths.cases, ids=ids)
        cases.attrs["path"] = str(paths.cases)
    written = write_table_set(
        paths.table_spec,
        segments=paths.segments if paths.segments.is_file() else None,
        cases=cases,
        codebook=paths.codebook,
        output=paths.tables_out,
        fmt=s.value(None, "tables.format"),
    )
    report("tables", 1, 1)
    return StageResult("tables", True, f"tables written to {paths.tables_out}", list(written))


def _stage_annex(s: Settings, paths: ProjectPaths, state: dict, report: ProgressFn) -> StageResult:
    if paths.annex_spec is None or not paths.annex_spec.is_file():
        return StageResult("annex", False, "skipped: no annex spec (set 'annex: spec:' in qualkit.yaml)")
    from .annex import build_annex

    report("annex", 0, 1)
    out = build_annex(
        paths.annex_spec,
        paths.annex_out,
        template=paths.annex_template,
        key=paths.key if paths.key.is_file() else None,
        settings=s,
        case_ids=_case_ids(s, paths),
    )
    report("annex", 1, 1)
    return StageResult("annex", True, f"annex written to {paths.annex_out}", [Path(out)])
