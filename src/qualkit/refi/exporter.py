"""Write REFI-QDA exchange files: a whole project (``.qdpx``) or a codebook (``.qdc``).

A ``.qdpx`` is a zip holding ``project.qde`` (XML, ``urn:QDA-XML:project:1.0``)
and ``sources/`` with one plain-text file per transcript (UTF-8, no BOM, named
``<source GUID>.txt``) plus, for Word transcripts, the ``.docx`` itself as the
rich-text version. What goes in, and how it maps:

- codebook themes -> top-level ``Code`` (``isCodable="false"``); codes and
  sub-codes -> nested ``Code`` elements; GUIDs are uuid5(fixed namespace,
  codebook id + code path), so the same code keeps its GUID in every export;
  the ``Description`` carries definition, when to use, when not to use, examples.
- transcripts -> ``TextSource``. The stored plain text is the document text as
  qualkit reads it (README "File formats") with every line break written as LF
  (default) or CRLF (``newline="crlf"``, for MAXQDA); offsets are Unicode code
  points of that stored text, so a CRLF transcript's offsets are shifted by one
  per preceding line break with ``newline="lf"``.
- coded segments -> ``PlainTextSelection`` (one per distinct span) with one
  ``Coding`` per code and coder; the coder is a ``User`` (GUID from the name).
  Rejected rows never go out; suggested rows only with ``include_suggested``.
  Rows without offsets code the whole source (``Coding`` on the ``TextSource``).
- cases -> ``Case`` with ``VariableValue`` s (``Variables`` typed Integer /
  Float / Boolean / Date / Text from the values) and ``SourceRef`` /
  ``SelectionRef`` for the sources and segments that belong to each case.
"""

from __future__ import annotations

import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Iterable

from .. import __version__
from ..coding.codebook import Code, Codebook, Theme, load_codebook
from ..errors import InputError, SafetyError, UsageError
from ..fsutil import atomic_open, is_inside, same_file
from ..progress import ProgressFn
from .common import (
    CODEBOOK_NS,
    PROJECT_NS,
    VALUE_ELEMENT,
    XSI_NS,
    code_guid,
    compose_description,
    guess_variable_type,
    newline_view,
    squash_ws,
    stable_guid,
    variable_xml_value,
)

ORIGIN = f"qualkit {__version__}"
SKIP_SUGGESTED = "suggested segment(s) not reviewed (accept them, or use --include-suggested)"


@dataclass
class ExportResult:
    path: Path
    kind: str  # "qdpx" | "qdc"
    codes: int = 0
    sources: int = 0
    selections: int = 0
    codings: int = 0
    users: int = 0
    cases: int = 0
    variables: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n


@dataclass
class ExportPlan:
    """Where an export reads from, resolved from the command line and the project file."""

    transcripts: Path
    codebook: Path | None
    segments: Path | None
    cases: Path | None
    original: bool
    project_name: str
    output_folder: Path | None = None  # the project's shareable folder (originals never go there)
    #: the pseudonym key to check the transcripts against (None: they are the redacted output, or originals)
    key: Path | None = None


# --------------------------------------------------------------------------- planning


def plan_export(
    settings,
    *,
    transcripts: Path | None = None,
    codebook: Path | None = None,
    segments: Path | None = None,
    cases: Path | None = None,
    original: bool = False,
    key: Path | None = None,
) -> ExportPlan:
    """Resolve inputs: command line > project file > defaults.

    Default transcripts are the REDACTED ones (``<output>/transcripts``); the
    originals (the project's ``transcripts:``) only with ``original=True``.
    Giving ``--transcripts`` that points into the original transcripts folder
    without ``original=True`` is refused. Any other ``--transcripts`` folder is
    checked against the pseudonym key (*key*, else the project's) before export;
    without a key to check against it is refused.
    """
    has_project = settings.project_file is not None
    originals = settings.path(None, "transcripts") if has_project else None
    out_folder = settings.path(None, "output") if has_project else None
    if transcripts is None:
        if not has_project:
            raise UsageError(
                "no transcripts to export", fix="give --transcripts DIR, or run in a study folder (qualkit.yaml)"
            )
        if original:
            transcripts = originals
        else:
            transcripts = settings.default_path("redacted")
            if not transcripts.is_dir():
                raise InputError(
                    "no redacted transcripts to export",
                    file=transcripts,
                    fix="run 'qualkit redact' (or 'qualkit run') first, give --transcripts DIR, "
                    "or add --original to export the original transcripts",
                )
    elif originals is not None and not original and is_inside(transcripts, originals):
        raise UsageError(
            "--transcripts points at the original (unredacted) transcripts",
            file=transcripts,
            fix="export the redacted transcripts (the default), or add --original if you mean it",
        )
    if not Path(transcripts).is_dir():
        raise InputError("transcripts folder not found", file=transcripts, fix="check the path")
    check_key = None
    redacted = settings.default_path("redacted")
    if not original and (redacted is None or not same_file(transcripts, redacted)):
        check_key = settings.location(key, "redact.key")
        if check_key is None or not check_key.is_file():
            raise UsageError(
                "--transcripts is not the redacted output, and there is no pseudonym key to check it against",
                file=check_key or transcripts,
                fix="give --key FILE (the key of the redaction), or add --original to export them as originals "
                "(written 0600)",
            )
    cb = settings.path(codebook, "codebook") if (codebook is not None or has_project) else None
    cs = settings.path(cases, "cases") if (cases is not None or has_project) else None
    if segments is not None:
        sg = Path(segments)
    elif has_project:
        sg = settings.location(None, "code.segments")
    else:
        sg = None
    # project-file defaults that do not exist are simply left out
    if codebook is None and cb is not None and not cb.is_file():
        cb = None
    if cases is None and cs is not None and not cs.is_file():
        cs = None
    if segments is None and sg is not None and not sg.is_file():
        sg = None
    name = settings.value(None, "project") if has_project else None
    return ExportPlan(
        transcripts=Path(transcripts),
        codebook=cb,
        segments=sg,
        cases=cs,
        original=original,
        project_name=str(name or (settings.root.name if has_project else Path(transcripts).name)),
        output_folder=out_folder,
        key=check_key,
    )


# --------------------------------------------------------------------------- XML helpers


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """Text safe for XML 1.0: characters XML cannot carry (control characters other than
    tab/LF/CR, lone surrogates, U+FFFE/U+FFFF) become spaces, so lengths stay the same."""
    return _NOT_XML.sub(" ", text)


def _code_elements(parent, ns: str, codebook: Codebook, *, with_description: bool = True) -> int:
    """Append the codebook's themes and codes under *parent* (a ``Codes`` element)."""
    from lxml import etree

    count = 0

    def add(where, guid: str, name: str, codable: bool, description: str) -> etree._Element:
        nonlocal count
        el = etree.SubElement(
            where, f"{{{ns}}}Code", guid=guid, name=_xml_text(name) or guid, isCodable="true" if codable else "false"
        )
        if with_description and description.strip():
            etree.SubElement(el, f"{{{ns}}}Description").text = _xml_text(description)
        count += 1
        return el

    def add_code(where, code: Code) -> None:
        desc = compose_description(
            code.definition, code.when_to_use, code.when_not_to_use, code.examples, qualkit_id=code.path
        )
        el = add(where, code_guid(codebook.id, code.path), code.label or code.id, True, desc)
        for child in code.codes:
            add_code(el, child)

    for theme in codebook.themes:
        desc = compose_description(theme.description, qualkit_id=theme.id)
        tel = add(parent, code_guid(codebook.id, theme.id), theme.label or theme.id, False, desc)
        for code in theme.codes:
            add_code(tel, code)
    return count


def codebook_xml(codebook: Codebook) -> bytes:
    """The ``.qdc`` XML of *codebook* (``urn:QDA-XML:codebook:1.0``)."""
    from lxml import etree

    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS, "xsi": XSI_NS}, origin=ORIGIN)
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{CODEBOOK_NS} Codebook.xsd")
    codes = etree.SubElement(root, f"{{{CODEBOOK_NS}}}Codes")
    if not codebook.themes:
        raise InputError("codebook has no themes", file=codebook.path, fix="add at least one theme")
    _code_elements(codes, CODEBOOK_NS, codebook)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def export_codebook(codebook: Codebook | str | Path, output: str | Path) -> ExportResult:
    """Write *codebook* as a REFI-QDA ``.qdc`` file (atomically)."""
    cb = codebook if isinstance(codebook, Codebook) else load_codebook(codebook)
    data = codebook_xml(cb)
    output = Path(output)
    with atomic_open(output, "wb") as fh:
        fh.write(data)
    return ExportResult(path=output, kind="qdc", codes=sum(1 for _ in cb.iter_codes()) + len(cb.themes))


# --------------------------------------------------------------------------- project export


@dataclass
class _Source:
    doc_id: str
    guid: str
    stored: str  # plain text as stored in sources/
    fwd: list[int]  # document offset -> stored offset
    doc_text: str
    rich: Path | None


def _codebook_from_paths(paths: Iterable[str], cb_id: str) -> Codebook:
    """A minimal codebook (labels = ids) for segment codes when no codebook is given."""
    themes: dict[str, Theme] = {}
    nodes: dict[str, Code] = {}
    for path in sorted(set(paths)):
        parts = path.split(".")
        theme = themes.setdefault(parts[0], Theme(id=parts[0], label=parts[0]))
        siblings = theme.codes
        for depth in range(1, len(parts)):
            sub = ".".join(parts[: depth + 1])
            if sub not in nodes:
                nodes[sub] = Code(id=parts[depth], path=sub, label=parts[depth])
                siblings.append(nodes[sub])
            siblings = nodes[sub].codes
    return Codebook(id=cb_id, title=cb_id, themes=list(themes.values()))


def _read_documents(transcripts: Path, result: ExportResult, *, follow_links: bool = False) -> dict:
    from ..readers import iter_inputs, read_document

    docs: dict = {}
    for item in iter_inputs([transcripts], follow_links=follow_links):
        try:
            doc = read_document(item.path, rel=item.rel)
        except InputError as exc:
            result.warnings.append(f"left out {item.rel}: {exc.what}")
            result.skip("unreadable transcript")
            continue
        if doc.id in docs:
            result.warnings.append(f"left out {item.rel}: another transcript has the document id '{doc.id}'")
            result.skip("duplicate document id")
            continue
        docs[doc.id] = doc
    return docs


def _locate(doc_text: str, start, end, text: str) -> tuple[int, int] | None:
    """Check a segment's offsets against its text; find it nearby when the offsets drifted."""
    n = len(doc_text)
    ok_range = start is not None and end is not None and 0 <= start < end <= n
    if ok_range and (not text or doc_text[start:end] == text or squash_ws(doc_text[start:end]) == squash_ws(text)):
        return start, end
    if not text:
        return None
    hits = []
    i = doc_text.find(text)
    while i != -1:
        hits.append(i)
        i = doc_text.find(text, i + 1)
    if not hits:
        return None
    anchor = start if start is not None else 0
    best = min(hits, key=lambda h: abs(h - anchor))
    return best, best + len(text)


def export_project(
    output: str | Path,
    *,
    transcripts: str | Path,
    codebook: Codebook | str | Path | None = None,
    segments: str | Path | None = None,
    cases: str | Path | None = None,
    project_name: str | None = None,
    include_suggested: bool = False,
    newline: str = "lf",
    include_rich: bool = True,
    private: bool = False,
    follow_links: bool = False,
    key: str | Path | None = None,
    on_progress: ProgressFn | None = None,
) -> ExportResult:
    """Write a REFI-QDA ``.qdpx`` project (atomically; 0600 when *private*).

    With *key* (a pseudonym key), the transcripts are checked against it first, as the
    annex guard and ``qualkit audit`` do, and the export is refused if any original from the
    key is in them (text, Word parts, file names). Returns counts, what was left out
    (``skipped``) and warnings (file names and counts only, never transcript text).
    """
    if newline not in ("lf", "crlf"):
        raise UsageError(f"unknown newline style '{newline}'", fix="use lf or crlf")
    job = _ProjectExport(Path(output), project_name, newline, include_rich)
    job.load_documents(Path(transcripts), follow_links)
    if key is not None:
        check_against_key(job.docs, Path(key), Path(transcripts))
    job.load(codebook, segments, cases)
    job.add_sources()
    job.add_selections(include_suggested)
    job.add_coders()
    job.add_cases()
    xml, members = job.project_xml(on_progress)
    with atomic_open(job.result.path, "wb", private=private) as fh:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("project.qde", xml)
            for name, payload in members:
                if isinstance(payload, Path):
                    zf.write(payload, name)
                else:
                    zf.writestr(name, payload)
    return job.result


def check_against_key(docs: dict, key: Path, folder: Path) -> None:
    """Refuse to export transcripts that hold any original from the pseudonym *key* (in the
    text, the other parts of a Word file, or the file name), as the annex guard does.
    The error names the place (file and offsets) and never the text."""
    from ..redact.audit import KeyMatcher
    from ..redact.engine import path_words

    matcher = KeyMatcher(key)
    hits: list[str] = []
    for doc in docs.values():
        rel = doc.relpath.as_posix() if doc.relpath is not None else doc.path.name
        texts = [(f"{rel} (file name)", path_words(rel)), (rel, doc.text)]
        if doc.format == "docx":
            from ..readers.docx import docx_other_texts

            texts += [(f"{rel}#{part}", t) for part, t, _prose in docx_other_texts(doc.path, doc.text)]
        for where, text in texts:
            hits += [f"{where}:{h.start}-{h.end} {h.label}" for h in matcher.find(text)]
    if hits:
        raise SafetyError(
            f"{len(hits)} original(s) from the pseudonym key are in the transcripts to export "
            f"(first: {hits[0]}); they are not redacted",
            file=folder,
            fix="export the redacted transcripts (the default), or add --original to export them as "
            "originals (written 0600, for your own use only)",
        )


class _ProjectExport:
    """One project export: the inputs, then sources, selections, coders and cases, then the XML."""

    def __init__(self, output: Path, project_name: str | None, newline: str, include_rich: bool) -> None:
        self.result = ExportResult(path=output, kind="qdpx")
        self.project_name = project_name
        self.newline = newline
        self.include_rich = include_rich
        self.sources: dict[str, _Source] = {}
        # (doc, start, end) -> list of (code, coder, case); whole-source codings by document
        self.spans: dict[tuple[str, int, int], list[tuple[str, str, str]]] = defaultdict(list)
        self.whole: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        self.coders: list[str] = []
        self.user_guid: dict[str, str] = {}
        self.case_ids: list[str] = []
        self.case_values: dict[str, dict[str, str]] = {}
        self.variables: list[tuple[str, str, str]] = []  # (name, guid, type)
        self.case_sources: dict[str, list[str]] = defaultdict(list)
        self.case_selections: dict[str, list[str]] = defaultdict(list)
        self.sel_guid: dict[tuple[str, int, int], str] = {}

    # ---- inputs

    def load_documents(self, transcripts: Path, follow_links: bool) -> None:
        self.docs = _read_documents(transcripts, self.result, follow_links=follow_links)
        if not self.docs:
            raise InputError(
                "no readable transcripts",
                file=transcripts,
                fix="give the folder of (redacted) transcripts: .txt .md .docx .vtt .srt",
            )

    def load(self, codebook, segments, cases) -> None:
        from ..cases import read_cases
        from ..coding.segments import read_segments

        result = self.result
        self.seg_df = read_segments(segments) if segments is not None else None
        if isinstance(codebook, (str, Path)):
            codebook = load_codebook(codebook)
        if codebook is None and self.seg_df is not None and len(self.seg_df):
            codebook = _codebook_from_paths(self.seg_df["code"], self.project_name or "qualkit")
            result.warnings.append("no codebook given: codes were built from the segment codes (labels = ids)")
        self.codebook = codebook
        self.scope = codebook.id if codebook is not None else (self.project_name or "qualkit")
        with_rules = _count_rules(codebook) if codebook is not None else 0
        if with_rules:
            result.warnings.append(
                f"matching rules of {with_rules} theme(s)/code(s) are not part of REFI-QDA "
                "(they stay in the codebook YAML)"
            )
        self.known_codes = set(codebook.code_paths) if codebook is not None else set()
        self.cases_df = read_cases(cases) if cases is not None else None

    # ---- sources

    def add_sources(self) -> None:
        for doc_id, doc in self.docs.items():
            stored, fwd = newline_view(doc.text, self.newline)
            rich = doc.path if (self.include_rich and doc.format == "docx") else None
            guid = stable_guid("source", self.scope, doc_id)
            self.sources[doc_id] = _Source(doc_id, guid, stored, fwd, doc.text, rich)

    # ---- segments -> selections

    def add_selections(self, include_suggested: bool) -> None:
        if self.seg_df is None:
            return
        result = self.result
        statuses = {"accepted", "suggested"} if include_suggested else {"accepted"}
        for row in self.seg_df.itertuples(index=False):
            status = row.effective_status
            if status == "rejected":
                result.skip("rejected segment")
                continue
            if status not in statuses:
                result.skip(SKIP_SUGGESTED)
                continue
            if row.document not in self.sources:
                result.skip("segment of an unknown document")
                continue
            if row.code not in self.known_codes:
                result.skip("segment with a code not in the codebook")
                continue
            coder = str(row.coder or "").strip()
            case = str(row.case or "").strip()
            start = None if _isna(row.start) else int(row.start)
            end = None if _isna(row.end) else int(row.end)
            if start is None and end is None:
                self.whole[row.document].append((row.code, coder, case))
                continue
            where = _locate(self.docs[row.document].text, start, end, str(row.text or ""))
            if where is None:
                result.skip("segment whose text is not at its offsets")
                continue
            if where != (start, end):
                result.warnings.append(f"{row.document}: segment at {start}-{end} found at {where[0]}-{where[1]}")
            key = (row.document, where[0], where[1])
            entry = (row.code, coder, case)
            if entry not in self.spans[key]:
                self.spans[key].append(entry)

    # ---- users

    def add_coders(self) -> None:
        for entries in list(self.spans.values()) + list(self.whole.values()):
            for _, coder, _ in entries:
                if coder and coder not in self.coders:
                    self.coders.append(coder)
        self.user_guid = {c: stable_guid("user", c) for c in self.coders}

    # ---- cases and membership

    def add_cases(self) -> None:
        scope, spans = self.scope, self.spans
        if self.cases_df is not None:
            attr_cols = [c for c in self.cases_df.columns if c != "case"]
            for col in attr_cols:
                vals = [str(v) for v in self.cases_df[col].tolist() if not _isna(v)]
                self.variables.append((col, stable_guid("variable", scope, col), guess_variable_type(vals)))
            for cid, row in self.cases_df.iterrows():
                cid = str(cid)
                self.case_ids.append(cid)
                self.case_values[cid] = {col: str(row[col]) for col in attr_cols if not _isna(row[col])}
        self.sel_guid = {key: stable_guid("selection", scope, key[0], str(key[1]), str(key[2])) for key in spans}
        spans_of_doc: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        for key in spans:
            spans_of_doc[key[0]].append(key)
        for doc_id in self.sources:
            doc_spans = spans_of_doc.get(doc_id, [])
            eff = {case or doc_id for key in doc_spans for _, _, case in spans[key]}
            eff |= {case or doc_id for _, _, case in self.whole.get(doc_id, [])}
            if len(eff) == 1 and next(iter(eff)) != doc_id:
                self.case_sources[next(iter(eff))].append(doc_id)  # every segment belongs to one other case
                continue
            if doc_id in self.case_values:
                self.case_sources[doc_id].append(doc_id)
            for key in doc_spans:
                for case in dict.fromkeys(c for _, _, c in spans[key] if c and c != doc_id):
                    self.case_selections[case].append(self.sel_guid[key])
        for cid in list(self.case_sources) + list(self.case_selections):
            if cid not in self.case_values:
                self.case_values[cid] = {}
                self.case_ids.append(cid)

    # ---- XML

    def project_xml(self, on_progress: ProgressFn | None) -> tuple[bytes, list[tuple[str, bytes | Path]]]:
        """The ``project.qde`` XML and the ``sources/`` members of the zip."""
        from lxml import etree

        P = f"{{{PROJECT_NS}}}"
        now = _now()
        root = etree.Element(
            P + "Project",
            nsmap={None: PROJECT_NS, "xsi": XSI_NS},
            name=_xml_text(self.project_name or self.scope),
            origin=ORIGIN,
            creationDateTime=now,
            modifiedDateTime=now,
        )
        root.set(f"{{{XSI_NS}}}schemaLocation", f"{PROJECT_NS} Project.xsd")
        if self.coders:
            users_el = etree.SubElement(root, P + "Users")
            for c in self.coders:
                etree.SubElement(users_el, P + "User", guid=self.user_guid[c], name=_xml_text(c))
            root.set("creatingUserGUID", self.user_guid[self.coders[0]])
        if self.codebook is not None and self.codebook.themes:
            cb_el = etree.SubElement(etree.SubElement(root, P + "CodeBook"), P + "Codes")
            self.result.codes = _code_elements(cb_el, PROJECT_NS, self.codebook)
        self._cases_xml(root, P)
        members = self._sources_xml(root, P, now, on_progress)
        self.result.users = len(self.coders)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True), members

    def _cases_xml(self, root, P: str) -> None:
        from lxml import etree

        case_values = self.case_values
        used_vars = [v for v in self.variables if any(v[0] in case_values.get(c, {}) for c in self.case_ids)]
        if used_vars:
            vars_el = etree.SubElement(root, P + "Variables")
            for name, guid, type_ in used_vars:
                etree.SubElement(vars_el, P + "Variable", guid=guid, name=_xml_text(name), typeOfVariable=type_)
            self.result.variables = len(used_vars)
        if not self.case_ids:
            return
        cases_el = etree.SubElement(root, P + "Cases")
        for cid in self.case_ids:
            cel = etree.SubElement(cases_el, P + "Case", guid=stable_guid("case", self.scope, cid), name=_xml_text(cid))
            for name, guid, type_ in used_vars:
                value = case_values[cid].get(name)
                if value is None:
                    continue
                vv = etree.SubElement(cel, P + "VariableValue")
                etree.SubElement(vv, P + "VariableRef", targetGUID=guid)
                etree.SubElement(vv, P + VALUE_ELEMENT[type_]).text = _xml_text(variable_xml_value(value, type_))
            for doc_id in self.case_sources.get(cid, []):
                etree.SubElement(cel, P + "SourceRef", targetGUID=self.sources[doc_id].guid)
            for sg in self.case_selections.get(cid, []):
                etree.SubElement(cel, P + "SelectionRef", targetGUID=sg)
        self.result.cases = len(self.case_ids)

    def _sources_xml(self, root, P: str, now: str, on_progress: ProgressFn | None) -> list[tuple[str, bytes | Path]]:
        from lxml import etree

        result, scope = self.result, self.scope
        srcs_el = etree.SubElement(root, P + "Sources")
        members: list[tuple[str, bytes | Path]] = []
        total = len(self.sources)
        by_doc: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for key in self.spans:
            by_doc[key[0]].append((key[1], key[2]))
        for i, (doc_id, src) in enumerate(self.sources.items(), 1):
            attrs = {
                "guid": src.guid,
                "name": _xml_text(doc_id),
                "plainTextPath": f"internal://{src.guid}.txt",
                "creationDateTime": now,
            }
            if src.rich is not None:
                attrs["richTextPath"] = f"internal://{src.guid}.docx"
                members.append((f"sources/{src.guid}.docx", src.rich))
            members.append((f"sources/{src.guid}.txt", src.stored.encode("utf-8", "replace")))
            sel_el = etree.SubElement(srcs_el, P + "TextSource", **attrs)
            for start, end in sorted(by_doc.get(doc_id, [])):
                entries = self.spans[(doc_id, start, end)]
                excerpt = squash_ws(src.doc_text[start:end])
                name = excerpt if len(excerpt) <= 100 else excerpt[:99].rstrip() + "…"
                s_attrs = {
                    "guid": self.sel_guid[(doc_id, start, end)],
                    "name": _xml_text(name),
                    "startPosition": str(src.fwd[start]),
                    "endPosition": str(src.fwd[end]),
                    "creationDateTime": now,
                }
                first = next((c for _, c, _ in entries if c), None)
                if first:
                    s_attrs["creatingUser"] = self.user_guid[first]
                ptsel = etree.SubElement(sel_el, P + "PlainTextSelection", **s_attrs)
                for code, coder, _ in entries:
                    _coding(ptsel, P, scope, code, coder, self.user_guid, now, f"{doc_id}/{start}/{end}")
                    result.codings += 1
                result.selections += 1
            for code, coder, _ in self.whole.get(doc_id, []):
                _coding(sel_el, P, scope, code, coder, self.user_guid, now, f"{doc_id}/whole")
                result.codings += 1
            result.sources += 1
            if on_progress:
                on_progress("export", i, total)
        return members


def _coding(parent, P: str, scope: str, code: str, coder: str, user_guid: dict, now: str, where: str) -> None:
    from lxml import etree

    attrs = {"guid": stable_guid("coding", scope, where, code, coder), "creationDateTime": now}
    if coder:
        attrs["creatingUser"] = user_guid[coder]
    cel = etree.SubElement(parent, P + "Coding", **attrs)
    etree.SubElement(cel, P + "CodeRef", targetGUID=code_guid(scope, code))


def _count_rules(codebook: Codebook) -> int:
    return sum(1 for t in codebook.themes if t.rules) + sum(1 for c in codebook.iter_codes() if c.rules)


def _isna(value) -> bool:
    try:
        import pandas as pd

        return value is None or bool(pd.isna(value)) or value == ""
    except (TypeError, ValueError):
        return False


def check_original_destination(output: Path, plan: ExportPlan) -> None:
    """Originals hold identifiers: never write them into the shareable output folder."""
    from ..places import PRIVATE, SHAREABLE, Place, check_places

    if plan.original and plan.output_folder is not None:
        check_places(
            [
                Place(Path(output), "export of the original transcripts", PRIVATE),
                Place(plan.output_folder, "output folder", SHAREABLE),
            ]
        )
