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
from typing import Callable, Iterable

from .. import __version__
from ..coding.codebook import Code, Codebook, Theme, load_codebook
from ..errors import InputError, SafetyError, UsageError
from ..fsutil import atomic_open, is_inside
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

ProgressFn = Callable[[int, int], None]
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


# --------------------------------------------------------------------------- planning


def plan_export(
    settings,
    *,
    transcripts: Path | None = None,
    codebook: Path | None = None,
    segments: Path | None = None,
    cases: Path | None = None,
    original: bool = False,
) -> ExportPlan:
    """Resolve inputs: command line > project file > defaults.

    Default transcripts are the REDACTED ones (``<output>/transcripts``); the
    originals (the project's ``transcripts:``) only with ``original=True``.
    Giving ``--transcripts`` that points into the original transcripts folder
    without ``original=True`` is refused.
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


def _read_documents(transcripts: Path, result: ExportResult) -> dict:
    from ..readers import iter_inputs, read_document

    docs: dict = {}
    for item in iter_inputs([transcripts]):
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
    on_progress: ProgressFn | None = None,
) -> ExportResult:
    """Write a REFI-QDA ``.qdpx`` project (atomically; 0600 when *private*).

    Returns counts, what was left out (``skipped``) and warnings (file names
    and counts only, never transcript text).
    """
    from lxml import etree

    from ..cases import read_cases
    from ..coding.segments import read_segments

    if newline not in ("lf", "crlf"):
        raise UsageError(f"unknown newline style '{newline}'", fix="use lf or crlf")
    output = Path(output)
    result = ExportResult(path=output, kind="qdpx")
    transcripts = Path(transcripts)
    docs = _read_documents(transcripts, result)
    if not docs:
        raise InputError(
            "no readable transcripts",
            file=transcripts,
            fix="give the folder of (redacted) transcripts: .txt .md .docx .vtt .srt",
        )

    seg_df = read_segments(segments) if segments is not None else None
    if isinstance(codebook, (str, Path)):
        codebook = load_codebook(codebook)
    if codebook is None and seg_df is not None and len(seg_df):
        codebook = _codebook_from_paths(seg_df["code"], project_name or "qualkit")
        result.warnings.append("no codebook given: codes were built from the segment codes (labels = ids)")
    scope = codebook.id if codebook is not None else (project_name or "qualkit")
    with_rules = _count_rules(codebook) if codebook is not None else 0
    if with_rules:
        result.warnings.append(
            f"matching rules of {with_rules} theme(s)/code(s) are not part of REFI-QDA (they stay in the codebook YAML)"
        )
    known_codes = set(codebook.code_paths) if codebook is not None else set()
    cases_df = read_cases(cases) if cases is not None else None

    # ---- sources
    sources: dict[str, _Source] = {}
    for doc_id, doc in docs.items():
        stored, fwd = newline_view(doc.text, newline)
        rich = doc.path if (include_rich and doc.format == "docx") else None
        sources[doc_id] = _Source(doc_id, stable_guid("source", scope, doc_id), stored, fwd, doc.text, rich)

    # ---- segments -> selections
    statuses = {"accepted", "suggested"} if include_suggested else {"accepted"}
    # (doc, start, end) -> list of (code, coder, case)
    spans: dict[tuple[str, int, int], list[tuple[str, str, str]]] = defaultdict(list)
    whole: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    if seg_df is not None:
        for row in seg_df.itertuples(index=False):
            status = row.effective_status
            if status == "rejected":
                result.skip("rejected segment")
                continue
            if status not in statuses:
                result.skip(SKIP_SUGGESTED)
                continue
            if row.document not in sources:
                result.skip("segment of an unknown document")
                continue
            if row.code not in known_codes:
                result.skip("segment with a code not in the codebook")
                continue
            coder = str(row.coder or "").strip()
            case = str(row.case or "").strip()
            start = None if _isna(row.start) else int(row.start)
            end = None if _isna(row.end) else int(row.end)
            if start is None and end is None:
                whole[row.document].append((row.code, coder, case))
                continue
            where = _locate(docs[row.document].text, start, end, str(row.text or ""))
            if where is None:
                result.skip("segment whose text is not at its offsets")
                continue
            if where != (start, end):
                result.warnings.append(f"{row.document}: segment at {start}-{end} found at {where[0]}-{where[1]}")
            key = (row.document, where[0], where[1])
            entry = (row.code, coder, case)
            if entry not in spans[key]:
                spans[key].append(entry)

    # ---- users
    coders: list[str] = []
    for entries in list(spans.values()) + list(whole.values()):
        for _, coder, _ in entries:
            if coder and coder not in coders:
                coders.append(coder)
    user_guid = {c: stable_guid("user", c) for c in coders}

    # ---- cases and membership
    case_ids: list[str] = []
    case_values: dict[str, dict[str, str]] = {}
    variables: list[tuple[str, str, str]] = []  # (name, guid, type)
    if cases_df is not None:
        attr_cols = [c for c in cases_df.columns if c != "case"]
        for col in attr_cols:
            vals = [str(v) for v in cases_df[col].tolist() if not _isna(v)]
            variables.append((col, stable_guid("variable", scope, col), guess_variable_type(vals)))
        for cid, row in cases_df.iterrows():
            cid = str(cid)
            case_ids.append(cid)
            case_values[cid] = {col: str(row[col]) for col in attr_cols if not _isna(row[col])}
    case_sources: dict[str, list[str]] = defaultdict(list)
    case_selections: dict[str, list[str]] = defaultdict(list)
    sel_guid = {key: stable_guid("selection", scope, key[0], str(key[1]), str(key[2])) for key in spans}
    spans_of_doc: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for key in spans:
        spans_of_doc[key[0]].append(key)
    for doc_id in sources:
        doc_spans = spans_of_doc.get(doc_id, [])
        eff = {case or doc_id for key in doc_spans for _, _, case in spans[key]}
        eff |= {case or doc_id for _, _, case in whole.get(doc_id, [])}
        if len(eff) == 1 and next(iter(eff)) != doc_id:
            case_sources[next(iter(eff))].append(doc_id)  # every segment belongs to one other case
            continue
        if doc_id in case_values:
            case_sources[doc_id].append(doc_id)
        for key in doc_spans:
            for case in dict.fromkeys(c for _, _, c in spans[key] if c and c != doc_id):
                case_selections[case].append(sel_guid[key])
    for cid in list(case_sources) + list(case_selections):
        if cid not in case_values:
            case_values[cid] = {}
            case_ids.append(cid)

    # ---- XML
    P = f"{{{PROJECT_NS}}}"
    now = _now()
    root = etree.Element(
        P + "Project",
        nsmap={None: PROJECT_NS, "xsi": XSI_NS},
        name=_xml_text(project_name or scope),
        origin=ORIGIN,
        creationDateTime=now,
        modifiedDateTime=now,
    )
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{PROJECT_NS} Project.xsd")
    if coders:
        users_el = etree.SubElement(root, P + "Users")
        for c in coders:
            etree.SubElement(users_el, P + "User", guid=user_guid[c], name=_xml_text(c))
        root.set("creatingUserGUID", user_guid[coders[0]])
    if codebook is not None and codebook.themes:
        cb_el = etree.SubElement(etree.SubElement(root, P + "CodeBook"), P + "Codes")
        result.codes = _code_elements(cb_el, PROJECT_NS, codebook)
    used_vars = [v for v in variables if any(v[0] in case_values.get(c, {}) for c in case_ids)]
    if used_vars:
        vars_el = etree.SubElement(root, P + "Variables")
        for name, guid, type_ in used_vars:
            etree.SubElement(vars_el, P + "Variable", guid=guid, name=_xml_text(name), typeOfVariable=type_)
        result.variables = len(used_vars)
    if case_ids:
        cases_el = etree.SubElement(root, P + "Cases")
        for cid in case_ids:
            cel = etree.SubElement(cases_el, P + "Case", guid=stable_guid("case", scope, cid), name=_xml_text(cid))
            for name, guid, type_ in used_vars:
                value = case_values[cid].get(name)
                if value is None:
                    continue
                vv = etree.SubElement(cel, P + "VariableValue")
                etree.SubElement(vv, P + "VariableRef", targetGUID=guid)
                etree.SubElement(vv, P + VALUE_ELEMENT[type_]).text = _xml_text(variable_xml_value(value, type_))
            for doc_id in case_sources.get(cid, []):
                etree.SubElement(cel, P + "SourceRef", targetGUID=sources[doc_id].guid)
            for sg in case_selections.get(cid, []):
                etree.SubElement(cel, P + "SelectionRef", targetGUID=sg)
        result.cases = len(case_ids)

    srcs_el = etree.SubElement(root, P + "Sources")
    members: list[tuple[str, bytes | Path]] = []
    total = len(sources)
    by_doc: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for key in spans:
        by_doc[key[0]].append((key[1], key[2]))
    for i, (doc_id, src) in enumerate(sources.items(), 1):
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
            entries = spans[(doc_id, start, end)]
            excerpt = squash_ws(src.doc_text[start:end])
            name = excerpt if len(excerpt) <= 100 else excerpt[:99].rstrip() + "…"
            s_attrs = {
                "guid": sel_guid[(doc_id, start, end)],
                "name": _xml_text(name),
                "startPosition": str(src.fwd[start]),
                "endPosition": str(src.fwd[end]),
                "creationDateTime": now,
            }
            first = next((c for _, c, _ in entries if c), None)
            if first:
                s_attrs["creatingUser"] = user_guid[first]
            ptsel = etree.SubElement(sel_el, P + "PlainTextSelection", **s_attrs)
            for code, coder, _ in entries:
                _coding(ptsel, P, scope, code, coder, user_guid, now, f"{doc_id}/{start}/{end}")
                result.codings += 1
            result.selections += 1
        for code, coder, _ in whole.get(doc_id, []):
            _coding(sel_el, P, scope, code, coder, user_guid, now, f"{doc_id}/whole")
            result.codings += 1
        result.sources += 1
        if on_progress:
            on_progress(i, total)
    result.users = len(coders)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    with atomic_open(output, "wb", private=private) as fh:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("project.qde", xml)
            for name, payload in members:
                if isinstance(payload, Path):
                    zf.write(payload, name)
                else:
                    zf.writestr(name, payload)
    return result


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
    if plan.original and plan.output_folder is not None and is_inside(output, plan.output_folder):
        raise SafetyError(
            "an export of the ORIGINAL transcripts would be written into the shareable output folder",
            file=output,
            fix=f"write it outside {plan.output_folder} (e.g. in private/)",
        )
