"""Read REFI-QDA exchange files (``.qdpx`` projects, ``.qdc`` codebooks) into qualkit files.

``import_refi(path, output_dir)`` writes:

- ``transcripts/<id>.txt`` — the plain text of each text source exactly as
  stored (UTF-8, BOM dropped, line breaks kept); a source that only has a Word
  version is written as ``transcripts/<id>.docx``. PDF sources with a plain-text
  representation come in as ``.txt`` too; picture, audio and video sources are
  left out (counted in the result).
- ``codebook.yaml`` — top-level codes with sub-codes become themes; top-level
  codes without sub-codes are gathered in one theme ``codes``; ids are made
  from names (lower case, ``[a-z0-9_]``, unique among siblings), labels are the
  names, a Description becomes the definition (qualkit's own layout with
  "When to use:" etc. is split back into its fields). ATLAS.ti-style names
  ``Group::Code`` are nested under ``Group``. Codings made directly on a theme
  go to a sub-code ``general``.
- ``segments.csv`` — one row per coding: offsets mapped into the document text
  as :func:`qualkit.readers.read_document` reads the written file; coder = the
  User's name; status ``accepted``.
- ``cases.csv`` — one row per Case (and per source that carries variables
  without a case), Variables as columns.
- ``refi-map.csv`` — which GUID became which code path, document id or case id.

Offsets: REFI-QDA counts Unicode code points of the stored plain text; tools
differ on CRLF (NVivo and MAXQDA count two, ATLAS.ti one). ``line_breaks``
chooses: ``file`` (code points of the file as stored), ``one`` or ``two``
(every line break counts one / two), or ``auto``: the convention under which
the selections' names (ATLAS.ti stores the quoted text there) match the text,
else ``one`` for ATLAS.ti projects and ``file`` for the others.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from ..errors import InputError, UsageError
from ..fsutil import atomic_open, atomic_write_bytes, atomic_write_text
from .common import (
    document_id_from_name,
    id_from_name,
    newline_maps,
    norm_guid,
    parse_description,
    split_qualkit_id,
    squash_ws,
    unique,
)

ProgressFn = Callable[[int, int], None]
LINE_BREAKS = ("auto", "file", "one", "two")
MAX_MEMBER = 2**31 - 1  # REFI-QDA's size limit of an internal file


@dataclass
class ImportResult:
    output: Path
    kind: str  # "qdpx" | "qdc" | "qde"
    origin: str = ""
    documents: int = 0
    codes: int = 0  # REFI Code elements that became a theme or a code
    segments: int = 0
    cases: int = 0
    written: list[Path] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    line_breaks: dict[str, str] = field(default_factory=dict)  # document id -> convention used
    code_paths: dict[str, str] = field(default_factory=dict)  # normalised code GUID -> qualkit path

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n


# --------------------------------------------------------------------------- XML helpers


def _local(el) -> str | None:
    tag = el.tag
    if not isinstance(tag, str):
        return None
    return tag.rsplit("}", 1)[-1]


def _kids(el, name: str) -> list:
    return [c for c in el if _local(c) == name]


def _kid(el, name: str):
    for c in el:
        if _local(c) == name:
            return c
    return None


def _kid_text(el, name: str) -> str:
    k = _kid(el, name)
    return (k.text or "") if k is not None else ""


def _parse_xml(data: bytes, where: str):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(
            "not valid XML", file=where, line=line, fix="export the project again from the other program"
        ) from None


# --------------------------------------------------------------------------- the container


class _Container:
    """A .qdpx zip, or a bare .qde/.qdc XML file (sources then beside it in sources/)."""

    def __init__(self, path: Path):
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        self.members: dict[str, str] = {}
        self.qde_name = path.name
        if zipfile.is_zipfile(path):
            try:
                self.zip = zipfile.ZipFile(path)
            except zipfile.BadZipFile:
                raise InputError("not a valid .qdpx (zip) file", file=path, fix="export the project again") from None
            names = [i.filename for i in self.zip.infolist() if not i.is_dir()]
            qdes = [n for n in names if n.replace("\\", "/").lower().endswith(".qde")]
            if not qdes:
                raise InputError(
                    "no project.qde inside the .qdpx file",
                    file=path,
                    fix="export the project again as REFI-QDA (.qdpx)",
                )
            qdes.sort(key=lambda n: (n.replace("\\", "/").count("/"), n.lower() != "project.qde"))
            self.qde_name = qdes[0]
            for n in names:
                base = n.replace("\\", "/").rsplit("/", 1)[-1]
                self.members.setdefault(_file_key(base), n)
        self.base_dir = path.parent

    def xml(self) -> bytes:
        if self.zip is not None:
            return self.zip.read(self.qde_name)
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the file ({exc.strerror})", file=self.path, fix="check the path") from None

    def read(self, ref: str, base_path: str | None) -> tuple[bytes | None, str]:
        """The bytes a source path points to, and a short description of where (for messages)."""
        ref = ref.strip()
        low = ref.lower()
        if low.startswith("internal://"):
            name = ref[len("internal://") :].lstrip("/")
            return self._internal(name), name
        if low.startswith("relative://"):
            rel = ref[len("relative://") :].lstrip("/")
            tries = []
            if base_path:
                tries.append(Path(_native(base_path)) / rel)
            tries += [self.base_dir / rel, self.base_dir / PurePosixPath(rel).name]
            return _first_file(tries), rel
        if low.startswith("absolute://"):
            raw = _native(ref[len("absolute://") :])
            return _first_file([Path(raw), self.base_dir / PurePosixPath(raw.replace("\\", "/")).name]), raw
        # no scheme: a member of the zip, or a file beside the project
        data = self._internal(ref)
        if data is None:
            data = _first_file([self.base_dir / ref])
        return data, ref

    def _internal(self, name: str) -> bytes | None:
        key = _file_key(PurePosixPath(name.replace("\\", "/")).name)
        if self.zip is not None:
            member = self.members.get(key)
            if member is None:
                return None
            if self.zip.getinfo(member).file_size > MAX_MEMBER:
                return None
            return self.zip.read(member)
        for folder in ("sources", "Sources", "SOURCES"):
            d = self.base_dir / folder
            if d.is_dir():
                for f in d.iterdir():
                    if _file_key(f.name) == key:
                        return f.read_bytes()
        return None


def _file_key(name: str) -> str:
    """Member names compared without braces and case ({GUID}.TXT == guid.txt)."""
    return name.replace("{", "").replace("}", "").lower()


def _native(path: str) -> str:
    path = path.replace("\\", "/")
    if re.match(r"^/[A-Za-z]:/", path):  # "/C:/PROJECT/..." from absolute:///C:/...
        path = path[1:]
    return path


def _first_file(paths) -> bytes | None:
    for p in paths:
        try:
            if p.is_file():
                return p.read_bytes()
        except OSError:
            continue
    return None


# --------------------------------------------------------------------------- codes


@dataclass
class _RCode:
    guid: str | None  # normalised
    raw_guid: str
    name: str
    codable: bool
    description: str
    children: list[_RCode] = field(default_factory=list)


def _read_codes(codes_el) -> list[_RCode]:
    out = []
    for el in _kids(codes_el, "Code"):
        raw = el.get("guid") or ""
        code = _RCode(
            guid=norm_guid(raw),
            raw_guid=raw,
            name=(el.get("name") or "").strip(),
            codable=(el.get("isCodable") or "true").strip().lower() not in ("false", "0"),
            description=_kid_text(el, "Description"),
        )
        code.children = _read_codes(el)
        out.append(code)
    return out


def _nest_double_colon(top: list[_RCode]) -> list[_RCode]:
    """ATLAS.ti writes grouped codes flat as "Group::Code": nest them under "Group"."""
    by_name = {c.name: c for c in top}
    out: list[_RCode] = []
    for code in top:
        parts = [p.strip() for p in code.name.split("::")]
        if len(parts) < 2 or not all(parts):
            if code not in out:
                out.append(code)
            continue
        parent_name = parts[0]
        parent = by_name.get(parent_name)
        if parent is None:
            parent = _RCode(guid=None, raw_guid="", name=parent_name, codable=False, description="")
            by_name[parent_name] = parent
        if parent not in out:
            out.append(parent)
        code.name = "::".join(parts[1:])
        parent.children.append(code)
    return out


def _drop_case_codes(codes: list[_RCode], case_guids: set[str]) -> tuple[list[_RCode], int]:
    """NVivo exports cases as codes too (same GUID): leave those out of the codebook."""
    out, dropped = [], 0
    for c in codes:
        kids, n = _drop_case_codes(c.children, case_guids)
        dropped += n
        if c.guid is not None and c.guid in case_guids:
            dropped += 1
            out.extend(kids)
        else:
            c.children = kids
            out.append(c)
    return out, dropped


class _CodebookBuilder:
    """REFI code tree -> qualkit codebook dict, remembering GUID -> code path."""

    def __init__(self, top: list[_RCode]):
        self.themes: list[dict] = []
        self.paths: dict[str, str] = {}  # normalised guid -> path
        self.theme_of: dict[str, dict] = {}  # path of a theme -> its dict
        self.node_of: dict[str, dict] = {}  # path -> code dict
        self.rows: list[tuple[str, str, str]] = []  # (raw guid, name, path) for refi-map.csv
        self.count = 0
        theme_ids: set[str] = set()
        loose_theme: dict | None = None
        loose_ids: set[str] = set()
        for code in top:
            if not code.children and code.codable:
                if loose_theme is None:
                    loose_theme = {
                        "id": None,
                        "label": "Codes",
                        "description": "Top-level codes of the imported project (no sub-codes).",
                        "codes": [],
                    }
                    self.themes.append(loose_theme)
                loose_theme["codes"].append(code)  # resolved below, after theme ids are known
                continue
            description, known = split_qualkit_id(code.description)
            wanted = known if known and "." not in known else id_from_name(code.name, fallback="theme")
            tid = unique(wanted, theme_ids)
            theme = {"id": tid, "label": code.name or tid, "description": description, "codes": []}
            self._register(code, tid)
            self.theme_of[tid] = theme
            self.themes.append(theme)
            kid_ids: set[str] = set()
            theme["codes"] = [self._code(c, tid, kid_ids) for c in code.children]
        if loose_theme is not None:
            tid = unique("codes", theme_ids)
            loose_theme["id"] = tid
            self.theme_of[tid] = loose_theme
            loose_theme["codes"] = [self._code(c, tid, loose_ids) for c in loose_theme["codes"]]

    def _register(self, code: _RCode, path: str) -> None:
        if code.guid is not None:
            self.paths.setdefault(code.guid, path)
        if code.raw_guid:
            self.rows.append((code.raw_guid, code.name, path))
            self.count += 1

    def _code(self, code: _RCode, parent: str, taken: set[str]) -> dict:
        fields = parse_description(code.description)
        known = fields.pop("qualkit_id")
        cid = unique(known.rsplit(".", 1)[-1] if known else id_from_name(code.name), taken)
        path = f"{parent}.{cid}"
        node = {"id": cid, "label": code.name or cid, **fields, "codes": []}
        self._register(code, path)
        self.node_of[path] = node
        kid_ids: set[str] = set()
        node["codes"] = [self._code(c, path, kid_ids) for c in code.children]
        return node

    def path_for_coding(self, guid: str) -> str | None:
        """The code path a coding lands on; codings on a theme go to its 'general' sub-code."""
        path = self.paths.get(guid)
        if path is None or path not in self.theme_of:
            return path
        theme = self.theme_of[path]
        for c in theme["codes"]:
            if c.get("_general"):
                return f"{path}.{c['id']}"
        cid = unique("general", {c["id"] for c in theme["codes"]})
        theme["codes"].append(
            {
                "id": cid,
                "label": f"{theme['label']} (general)",
                "definition": "Coded at the theme itself in the source project.",
                "when_to_use": "",
                "when_not_to_use": "",
                "examples": [],
                "codes": [],
                "_general": True,
            }
        )
        return f"{path}.{cid}"

    def as_yaml_dict(self, cb_id: str, title: str) -> dict:
        def clean(node: dict) -> dict:
            out = {"id": node["id"], "label": node["label"]}
            for key in ("definition", "when_to_use", "when_not_to_use"):
                if node.get(key):
                    out[key] = node[key]
            if node.get("examples"):
                out["examples"] = list(node["examples"])
            if node.get("codes"):
                out["codes"] = [clean(c) for c in node["codes"]]
            return out

        themes = []
        for t in self.themes:
            item = {"id": t["id"], "label": t["label"]}
            if t.get("description"):
                item["description"] = t["description"]
            item["codes"] = [clean(c) for c in t["codes"]]
            themes.append(item)
        return {"codebook": cb_id, "title": title, "themes": themes}


# --------------------------------------------------------------------------- offsets


def _view_maps(text: str, conv: str) -> tuple[str, list[int]]:
    """The other program's view of *text* under a line-break convention, and view->text offsets."""
    if conv == "file":
        return text, list(range(len(text) + 1))
    view, _fwd, back = newline_maps(text, "lf" if conv == "one" else "crlf")
    return view, back


def _name_key(name: str | None) -> tuple[str, bool]:
    """A selection name as evidence: (text, truncated?). ATLAS.ti names a quotation by its
    text, cut with an ellipsis when long."""
    name = squash_ws(name or "")
    for tail in ("…", "..."):
        if name.endswith(tail):
            return name[: -len(tail)].rstrip(), True
    return name, False


def _choose_convention(
    text: str, sels: list[dict], forced: str, default: str, bom: bool
) -> tuple[str, int, list[int], str]:
    """Pick the line-break convention (and BOM shift) under which the selections fit the text.

    Evidence: selections whose name is their text. Without evidence (or on a
    tie) the *default* wins.
    """
    if forced != "auto":
        view, back = _view_maps(text, forced)
        return forced, 0, back, view
    evidence = []
    for s in sels:
        key, truncated = _name_key(s["name"])
        if len(key) >= 4:
            evidence.append((s["start"], s["end"], key, truncated))
    best, best_score = (default, 0), 0
    cache: dict[str, tuple[str, list[int]]] = {}
    if evidence:
        for conv in ("file", "one", "two"):
            view, back = cache.setdefault(conv, _view_maps(text, conv))
            for shift in (0, 1) if bom else (0,):
                score = 0
                for a, b, key, truncated in evidence:
                    got = squash_ws(view[max(a - shift, 0) : max(b - shift, 0)])
                    if got == key or (truncated and got.startswith(key)):
                        score += 1
                if score > best_score or (score == best_score and score and (conv, shift) == (default, 0)):
                    best, best_score = (conv, shift), score
    conv, shift = best
    view, back = cache.get(conv) or _view_maps(text, conv)
    return conv, shift, back, view


# --------------------------------------------------------------------------- import


def import_refi(
    path: str | Path,
    output: str | Path,
    *,
    line_breaks: str = "auto",
    force: bool = False,
    on_progress: ProgressFn | None = None,
) -> ImportResult:
    """Turn a ``.qdpx`` project or ``.qdc`` codebook into qualkit files in *output*."""
    path = Path(path)
    output = Path(output)
    if line_breaks not in LINE_BREAKS:
        raise UsageError(f"unknown line-break convention '{line_breaks}'", fix="use auto, file, one or two")
    if not path.is_file():
        raise InputError("file not found", file=path, fix="give a .qdpx project or a .qdc codebook")
    if not force:
        existing = [p for p in (output / "codebook.yaml", output / "segments.csv", output / "cases.csv") if p.exists()]
        tdir = output / "transcripts"
        if existing or (tdir.is_dir() and any(tdir.iterdir())):
            raise UsageError(
                "the output folder already holds qualkit files",
                file=output,
                fix="choose an empty folder, or add --force to overwrite them",
            )

    box = _Container(path)
    try:
        return _import(box, path, output, line_breaks, on_progress)
    finally:
        if box.zip is not None:
            box.zip.close()


def _import(
    box: _Container, path: Path, output: Path, line_breaks: str, on_progress: ProgressFn | None
) -> ImportResult:
    import yaml

    from ..coding.segments import CodedSegment, write_segments
    from ..documents import Document
    from ..readers import decode_bytes, read_document

    where = f"{path}:{box.qde_name}" if box.zip is not None else str(path)
    root = _parse_xml(box.xml(), where)
    kind_root = _local(root)
    if kind_root not in ("Project", "CodeBook"):
        raise InputError(
            f"unexpected root element '{kind_root}'",
            file=where,
            fix="give a REFI-QDA project (.qdpx) or codebook (.qdc)",
        )
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    kind = "qdc" if kind_root == "CodeBook" else ("qdpx" if box.zip is not None else "qde")
    result = ImportResult(output=output, kind=kind, origin=root.get("origin") or "")
    if not ns.startswith("urn:QDA-XML:"):
        result.warnings.append(f"unexpected XML namespace '{ns}'; read it as REFI-QDA anyway")
    atlas = "atlas" in result.origin.lower()

    # ---- users, variables, cases (cases first: NVivo case nodes are also codes)
    users: dict[str, str] = {}
    for u in root.iter():
        if _local(u) == "User":
            g = norm_guid(u.get("guid"))
            if g:
                users[g] = (u.get("name") or u.get("id") or f"user-{g[:8]}").strip()
    variables: dict[str, str] = {}
    var_el = _kid(root, "Variables")
    var_names: list[str] = []
    if var_el is not None:
        taken_cols = {"case"}
        for v in _kids(var_el, "Variable"):
            g = norm_guid(v.get("guid"))
            if g:
                name = unique((v.get("name") or "").strip() or "variable", taken_cols)
                variables[g] = name
                var_names.append(name)
    cases: list[dict] = []
    case_guids: set[str] = set()
    cases_el = _kid(root, "Cases")
    taken_cases: set[str] = set()
    if cases_el is not None:
        for i, c in enumerate(_kids(cases_el, "Case"), 1):
            g = norm_guid(c.get("guid"))
            cid = unique((c.get("name") or "").strip() or f"case_{i}", taken_cases)
            values = _variable_values(c, variables, result)
            cases.append(
                {
                    "guid": g,
                    "raw": c.get("guid") or "",
                    "id": cid,
                    "values": values,
                    "sources": {norm_guid(r.get("targetGUID")) for r in _kids(c, "SourceRef")},
                    "selections": {norm_guid(r.get("targetGUID")) for r in _kids(c, "SelectionRef")},
                }
            )
            if _kids(c, "CodeRef"):
                result.skip("case-level code reference", len(_kids(c, "CodeRef")))
            if g:
                case_guids.add(g)
    case_by_guid = {c["guid"]: c for c in cases if c["guid"]}
    cases_of_selection: dict[str, list[str]] = {}
    cases_of_source: dict[str, list[str]] = {}
    for c in cases:
        for g in c["selections"]:
            cases_of_selection.setdefault(g, []).append(c["id"])
        for g in c["sources"]:
            cases_of_source.setdefault(g, []).append(c["id"])

    # ---- codebook
    codes_el = None
    if kind_root == "CodeBook":
        codes_el = _kid(root, "Codes")
    else:
        cb = _kid(root, "CodeBook")
        codes_el = _kid(cb, "Codes") if cb is not None else None
    top = _read_codes(codes_el) if codes_el is not None else []
    top, dropped = _drop_case_codes(top, case_guids)
    if dropped:
        result.warnings.append(
            f"{dropped} code(s) share a GUID with a case (NVivo case nodes): read as case membership"
        )
    top = _nest_double_colon(top)
    builder = _CodebookBuilder(top)
    result.codes = builder.count

    output.mkdir(parents=True, exist_ok=True)
    written = result.written
    map_rows: list[tuple[str, str, str, str]] = [("code", g, n, p) for g, n, p in builder.rows]

    # ---- sources
    segments: list[CodedSegment] = []
    source_vars: list[tuple[str, str | None, dict]] = []  # (doc id, source guid, values)
    sources_el = _kid(root, "Sources") if kind_root == "Project" else None
    items = list(sources_el) if sources_el is not None else []
    taken_docs: set[str] = set()
    tdir = output / "transcripts"
    base_path = root.get("basePath")
    for n_item, el in enumerate(items, 1):
        kind_el = _local(el)
        text_el, name = None, el.get("name")
        if kind_el == "TextSource":
            text_el = el
        elif kind_el == "PDFSource":
            text_el = _kid(el, "Representation")
            if text_el is None:
                result.skip("PDF source without a text representation")
            if _kids(el, "PDFSelection"):
                result.skip("PDF area selection (not imported)", len(_kids(el, "PDFSelection")))
        elif kind_el in ("PictureSource", "AudioSource", "VideoSource"):
            result.skip(f"{kind_el[:-6].lower()} source (not imported)")
        if text_el is None:
            if on_progress:
                on_progress(n_item, len(items))
            continue
        doc_id = unique(document_id_from_name(name, fallback=f"source_{n_item}"), taken_docs, fold_case=True)
        label = name or doc_id

        # the text: plain text file > inline PlainTextContent > Word file
        text: str | None = None
        bom = False
        docx_bytes: bytes | None = None
        ptp, rtp = text_el.get("plainTextPath"), text_el.get("richTextPath")
        if ptp:
            data, ref = box.read(ptp, base_path)
            if data is None:
                result.warnings.append(f"source '{label}': plain text {ref} not found in the project")
            else:
                try:
                    text, _enc, bom, warns = decode_bytes(data, path=Path(ref))
                    result.warnings.extend(f"source '{label}': {w}" for w in warns)
                except InputError as exc:
                    result.warnings.append(f"source '{label}': {exc.what}")
        if text is None and _kid(text_el, "PlainTextContent") is not None:
            text = _kid_text(text_el, "PlainTextContent")
        if text is None and rtp:
            data, ref = box.read(rtp, base_path)
            if data is not None and ref.lower().endswith(".docx"):
                docx_bytes = data
            elif data is None:
                result.warnings.append(f"source '{label}': rich text {ref} not found in the project")
            else:
                result.warnings.append(f"source '{label}': rich text {ref} is not .docx and has no plain text")
        if text is None and docx_bytes is None:
            result.skip("text source without readable text")
            if on_progress:
                on_progress(n_item, len(items))
            continue

        doc: Document | None = None
        if docx_bytes is not None:
            target = tdir / f"{doc_id}.docx"
            atomic_write_bytes(target, docx_bytes)
            try:
                doc = read_document(target)
                text = doc.text
            except InputError as exc:
                result.warnings.append(f"source '{label}': Word file {target.name} unreadable ({exc.what})")
                text = ""
        else:
            target = tdir / f"{doc_id}.txt"
            atomic_write_text(target, text)
            try:
                doc = read_document(target)
                text = doc.text
            except InputError:
                result.warnings.append(f"source '{label}' has no text (written as an empty transcript)")
        written.append(target)
        result.documents += 1
        src_guid = norm_guid(text_el.get("guid")) or norm_guid(el.get("guid"))
        map_rows.append(("source", el.get("guid") or "", name or "", doc_id))

        # selections
        sels = []
        for s in _kids(text_el, "PlainTextSelection"):
            try:
                a, b = int(s.get("startPosition")), int(s.get("endPosition"))
            except (TypeError, ValueError):
                result.skip("selection with bad offsets")
                continue
            if b < a:
                a, b = b, a
            codings = [
                (
                    norm_guid(_kid(c, "CodeRef").get("targetGUID")) if _kid(c, "CodeRef") is not None else None,
                    norm_guid(c.get("creatingUser")) or norm_guid(s.get("creatingUser")),
                )
                for c in _kids(s, "Coding")
            ]
            if not codings:
                result.skip("selection without a coding (memo only)")
            sels.append(
                {
                    "guid": norm_guid(s.get("guid")),
                    "raw": s.get("guid") or "",
                    "start": a,
                    "end": b,
                    "name": s.get("name"),
                    "codings": codings,
                }
            )
        has_breaks = "\r" in text or "\n" in text
        default = "one" if (atlas and "\r\n" in text) else "file"
        conv, shift, back, view = _choose_convention(text, sels, line_breaks, default, bom)
        if has_breaks:
            result.line_breaks[doc_id] = conv + (" (BOM counted)" if shift else "")

        # case membership: whole source (SourceRef, or NVivo's case node coded on the source) or
        # spans (SelectionRef, or NVivo's case node coded on a selection); a segment belongs to
        # the cases whose spans contain it
        guids = {g for g in (src_guid, norm_guid(el.get("guid"))) if g}
        source_cases = [cid for g in guids for cid in cases_of_source.get(g, [])]
        whole: list[tuple[str, str]] = []  # (code path, coder) of codings of the whole source
        for c in _kids(text_el, "Coding"):
            ref = _kid(c, "CodeRef")
            code_g = norm_guid(ref.get("targetGUID")) if ref is not None else None
            if code_g in case_by_guid:
                source_cases.append(case_by_guid[code_g]["id"])
                continue
            cpath = builder.path_for_coding(code_g) if code_g else None
            if cpath is None:
                result.skip("coding of a code not in the codebook")
                continue
            whole.append((cpath, users.get(norm_guid(c.get("creatingUser")) or "", "")))
        source_cases = list(dict.fromkeys(source_cases))
        case_spans: list[tuple[str, int, int]] = []
        mapped: list[tuple[dict, int, int, list[tuple[str, str]]]] = []
        for sel in sels:
            a, b = sel["start"] - shift, sel["end"] - shift
            if a >= len(view) or b <= 0:
                result.skip("selection outside the text")
                continue
            if b > len(view) or a < 0:
                result.skip("selection clipped at the end of the text")
                a, b = max(a, 0), min(b, len(view))
            start, end = back[a], back[b]
            if start >= end:
                result.skip("empty selection")
                continue
            case_spans += [(cid, start, end) for cid in cases_of_selection.get(sel["guid"], [])]
            codes_here: list[tuple[str, str]] = []
            for code_g, user_g in sel["codings"]:
                if code_g is not None and code_g in case_by_guid:
                    case_spans.append((case_by_guid[code_g]["id"], start, end))
                    continue
                cpath = builder.path_for_coding(code_g) if code_g else None
                if cpath is None:
                    result.skip("coding of a code not in the codebook")
                    continue
                codes_here.append((cpath, users.get(user_g or "", "")))
            if codes_here:
                mapped.append((sel, start, end, codes_here))
        for sel, start, end, codes_here in mapped:
            inside = [cid for cid, s0, e0 in case_spans if s0 <= start and end <= e0]
            case = _pick_case(inside, source_cases, doc_id, result)
            turn = doc.turn_at(start) if doc is not None and doc.turns else None
            for cpath, coder in dict.fromkeys(codes_here):
                segments.append(
                    CodedSegment(
                        document=doc_id,
                        code=cpath,
                        case=case,
                        segment=(sel["guid"] or sel["raw"] or ""),
                        start=start,
                        end=end,
                        speaker=(turn.speaker or "") if turn else "",
                        coder=coder,
                        status="accepted",
                        text=text[start:end],
                    )
                )
        for cpath, coder in dict.fromkeys(whole):
            segments.append(
                CodedSegment(
                    document=doc_id,
                    code=cpath,
                    case=_pick_case([], source_cases, doc_id, result),
                    coder=coder,
                    status="accepted",
                )
            )
        values = _variable_values(el, variables, result)
        if text_el is not el:
            values.update(_variable_values(text_el, variables, result))
        if values:
            source_vars.append((doc_id, src_guid, values))
        if on_progress:
            on_progress(n_item, len(items))
    if kind_root == "Project" and _kid(root, "Notes") is not None:
        result.skip("note (memo, not imported)", len(_kids(_kid(root, "Notes"), "Note")))
    for holder, item, what in (("Sets", "Set", "set"), ("Links", "Link", "link"), ("Graphs", "Graph", "graph")):
        if _kid(root, holder) is not None and _kids(_kid(root, holder), item):
            result.skip(f"{what} (not imported)", len(_kids(_kid(root, holder), item)))

    # ---- codebook.yaml
    stem = path.stem
    title = (root.get("name") or stem).strip() or stem
    cb_id = id_from_name(title, fallback="imported")
    if builder.themes:
        cb_dict = builder.as_yaml_dict(cb_id, title)
        target = output / "codebook.yaml"
        atomic_write_text(
            target,
            "# Imported from REFI-QDA by qualkit\n"
            + yaml.safe_dump(cb_dict, sort_keys=False, allow_unicode=True, width=100),
        )
        written.append(target)
    else:
        result.warnings.append("the file holds no codes: no codebook.yaml written")

    if kind_root == "Project":
        # ---- segments.csv (always, so the folder is complete)
        unique_rows, seen_rows = [], set()
        for s in segments:
            key = (s.document, s.code, s.start, s.end, s.coder)
            if key in seen_rows:
                continue
            seen_rows.add(key)
            unique_rows.append(s)
        written.extend(write_segments(output / "segments.csv", unique_rows))
        result.segments = len(unique_rows)

        # ---- cases.csv
        rows: dict[str, dict[str, str]] = {c["id"]: dict(c["values"]) for c in cases}
        for doc_id, src_guid, values in source_vars:
            owners = cases_of_source.get(src_guid, [])
            owner = owners[0] if len(owners) == 1 else doc_id
            row = rows.setdefault(owner, {})
            for k, v in values.items():
                if row.get(k, v) != v:
                    result.skip("source variable value that differs from its case's value")
                    continue
                row[k] = v
        if rows:
            cols = [n for n in var_names if any(n in r for r in rows.values())]
            cols += sorted({k for r in rows.values() for k in r} - set(cols))
            target = output / "cases.csv"
            with atomic_open(target, "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(["case"] + cols)
                for cid, r in rows.items():
                    w.writerow([cid] + [r.get(c, "") for c in cols])
            written.append(target)
            result.cases = len(rows)
        for c in cases:
            map_rows.append(("case", c["raw"], c["id"], c["id"]))

    # ---- refi-map.csv
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["kind", "guid", "name", "qualkit"])
    w.writerows(map_rows)
    target = output / "refi-map.csv"
    atomic_write_text(target, buf.getvalue())
    written.append(target)
    result.code_paths = dict(builder.paths)
    return result


def _variable_values(el, variables: dict[str, str], result: ImportResult) -> dict[str, str]:
    values: dict[str, str] = {}
    for vv in _kids(el, "VariableValue"):
        ref = _kid(vv, "VariableRef")
        g = norm_guid(ref.get("targetGUID")) if ref is not None else None
        if g not in variables:
            result.skip("value of an unknown variable")
            continue
        text = ""
        for child in vv:
            if _local(child) in (
                "TextValue",
                "BooleanValue",
                "IntegerValue",
                "FloatValue",
                "DateValue",
                "DateTimeValue",
            ):
                text = (child.text or "").strip()
        values[variables[g]] = text
    return {k: v for k, v in values.items() if v != ""}


def _pick_case(sel_cases: list[str], source_cases: list[str], doc_id: str, result: ImportResult) -> str:
    sel_cases = list(dict.fromkeys(sel_cases))
    if sel_cases:
        if len(sel_cases) > 1:
            result.skip("segment in more than one case (first kept)")
        case = sel_cases[0]
    elif len(source_cases) == 1:
        case = source_cases[0]
    else:
        if len(source_cases) > 1:
            result.skip("segment of a source in several cases (case left empty)")
        case = ""
    return "" if case == doc_id else case
