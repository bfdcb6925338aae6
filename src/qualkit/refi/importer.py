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

from ..errors import InputError, UsageError
from ..fsutil import atomic_open, atomic_write_bytes, atomic_write_text
from ..progress import ProgressFn
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

    def __init__(self, path: Path, sources: Path | None = None):
        self.path = path
        self.sources = Path(sources) if sources is not None else None
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

    def locate(self, ref: str) -> tuple[tuple[str, str | Path | None], str]:
        """Where a source path points - ``("zip", member)``, ``("file", path)``, or ``(kind, None)``
        when it is not there - and the path as written (for messages).

        Only the archive (the zip, or the ``sources/`` folder beside a bare ``.qde``) and the
        sources folder given by the user are ever read. Anything else - an absolute path,
        ``absolute://``, a ``..`` step, a relative path the archive does not hold, a link out of
        the sources folder - is refused with an :class:`InputError` naming the path.
        """
        ref = ref.strip()
        low = ref.lower()
        if low.startswith("internal://"):
            name = ref[len("internal://") :].lstrip("/")
            return self._internal(name), name
        if low.startswith("absolute://"):
            path = _native(ref[len("absolute://") :])
            if self.sources is None:
                raise self._refused(ref, "is an absolute path")
            return self._in_sources(PurePosixPath(path).name, ref), path
        rel = _native(ref[len("relative://") :].lstrip("/") if low.startswith("relative://") else ref)
        if rel.startswith("/") or re.match(r"^[A-Za-z]:", rel):
            raise self._refused(ref, "is an absolute path")
        if ".." in PurePosixPath(rel).parts:
            raise self._refused(ref, "leaves the project ('..')")
        found = self._internal(rel)
        if found[1] is not None:
            return found, rel
        if self.sources is None:
            raise self._refused(ref, "is not in the archive")
        return self._in_sources(rel, ref), rel

    def read(self, ref: str) -> tuple[bytes | None, str]:
        """The bytes a source path points to (None: not there), and the path as written."""
        (kind, where), shown = self.locate(ref)
        if where is None:
            return None, shown
        if kind == "zip":
            assert self.zip is not None
            return self.zip.read(str(where)), shown
        try:
            return Path(where).read_bytes(), shown
        except OSError:
            return None, shown

    def _refused(self, ref: str, why: str) -> InputError:
        where = "the archive or the --sources folder" if self.sources is not None else "the archive"
        return InputError(
            f"a source path {why}: '{ref}'; qualkit reads sources only from {where}",
            file=self.path,
            fix="export the project again with its sources embedded, or copy them into a folder "
            "and give it with --sources DIR",
        )

    def _internal(self, name: str) -> tuple[str, str | Path | None]:
        key = _file_key(PurePosixPath(name.replace("\\", "/")).name)
        if self.zip is not None:
            member = self.members.get(key)
            if member is None or self.zip.getinfo(member).file_size > MAX_MEMBER:
                return "zip", None
            return "zip", member
        for folder in ("sources", "Sources", "SOURCES"):
            d = self.base_dir / folder
            if d.is_dir():
                for f in sorted(d.iterdir()):
                    if _file_key(f.name) == key:
                        return "file", self._inside(d, f, name)
        return "file", None

    def _in_sources(self, rel: str, ref: str) -> tuple[str, Path | None]:
        assert self.sources is not None
        for candidate in (self.sources / rel, self.sources / PurePosixPath(rel).name):
            if candidate.is_file():
                return "file", self._inside(self.sources, candidate, ref)
        return "file", None

    def _inside(self, folder: Path, path: Path, ref: str) -> Path:
        """*path*, if it really is inside *folder* (a link out of it is refused)."""
        real, top = path.resolve(), folder.resolve()
        if top not in real.parents:
            raise self._refused(ref, "leads out of its folder (a link)")
        return real


def _file_key(name: str) -> str:
    """Member names compared without braces and case ({GUID}.TXT == guid.txt)."""
    return name.replace("{", "").replace("}", "").lower()


def _native(path: str) -> str:
    path = path.replace("\\", "/")
    if re.match(r"^/[A-Za-z]:/", path):  # "/C:/PROJECT/..." from absolute:///C:/...
        path = path[1:]
    return path


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
    sources: str | Path | None = None,
    on_progress: ProgressFn | None = None,
) -> ImportResult:
    """Turn a ``.qdpx`` project or ``.qdc`` codebook into qualkit files in *output*.

    Source files are read only from inside the archive, or from the folder *sources*
    when given; a source path pointing anywhere else is refused before anything is written.
    """
    path = Path(path)
    output = Path(output)
    if line_breaks not in LINE_BREAKS:
        raise UsageError(f"unknown line-break convention '{line_breaks}'", fix="use auto, file, one or two")
    if not path.is_file():
        raise InputError("file not found", file=path, fix="give a .qdpx project or a .qdc codebook")
    if sources is not None and not Path(sources).is_dir():
        raise UsageError("--sources folder not found", file=sources, fix="give the folder holding the source files")
    if not force:
        existing = [p for p in (output / "codebook.yaml", output / "segments.csv", output / "cases.csv") if p.exists()]
        tdir = output / "transcripts"
        if existing or (tdir.is_dir() and any(tdir.iterdir())):
            raise UsageError(
                "the output folder already holds qualkit files",
                file=output,
                fix="choose an empty folder, or add --force to overwrite them",
            )

    box = _Container(path, Path(sources) if sources is not None else None)
    try:
        return _Import(box, path, output, line_breaks, on_progress).run()
    finally:
        if box.zip is not None:
            box.zip.close()


_TEXT_SOURCES = ("TextSource", "PDFSource")
_MEDIA_SOURCES = ("PictureSource", "AudioSource", "VideoSource")


class _Import:
    """One import: the parsed project, what was read so far, and the files written."""

    def __init__(
        self, box: _Container, path: Path, output: Path, line_breaks: str, on_progress: ProgressFn | None
    ) -> None:
        self.box, self.path, self.output = box, path, output
        self.line_breaks = line_breaks
        self.on_progress = on_progress
        where = f"{path}:{box.qde_name}" if box.zip is not None else str(path)
        self.root = _parse_xml(box.xml(), where)
        self.kind_root = _local(self.root)
        if self.kind_root not in ("Project", "CodeBook"):
            raise InputError(
                f"unexpected root element '{self.kind_root}'",
                file=where,
                fix="give a REFI-QDA project (.qdpx) or codebook (.qdc)",
            )
        ns = self.root.tag[1:].split("}", 1)[0] if self.root.tag.startswith("{") else ""
        kind = "qdc" if self.kind_root == "CodeBook" else ("qdpx" if box.zip is not None else "qde")
        self.result = ImportResult(output=output, kind=kind, origin=self.root.get("origin") or "")
        if not ns.startswith("urn:QDA-XML:"):
            self.result.warnings.append(f"unexpected XML namespace '{ns}'; read it as REFI-QDA anyway")
        self.atlas = "atlas" in self.result.origin.lower()
        self.users: dict[str, str] = {}
        self.variables: dict[str, str] = {}  # normalised guid -> column name
        self.var_names: list[str] = []
        self.cases: list[dict] = []
        self.case_by_guid: dict[str, dict] = {}
        self.cases_of_selection: dict[str, list[str]] = {}
        self.cases_of_source: dict[str, list[str]] = {}
        self.segments: list = []  # CodedSegment
        self.source_vars: list[tuple[str, str | None, dict]] = []  # (doc id, source guid, values)
        self.map_rows: list[tuple[str, str, str, str]] = []
        self.taken_docs: set[str] = set()

    def run(self) -> ImportResult:
        items = self._source_items()
        self._check_source_paths(items)  # refuse before anything is written
        case_guids = self._read_people()
        self.builder = self._read_codebook(case_guids)
        self.result.codes = self.builder.count
        self.output.mkdir(parents=True, exist_ok=True)
        self.map_rows = [("code", g, n, p) for g, n, p in self.builder.rows]
        for n_item, el in enumerate(items, 1):
            self._import_source(el, n_item)
            if self.on_progress:
                self.on_progress("import", n_item, len(items))
        self._count_left_out()
        self._write_codebook()
        if self.kind_root == "Project":
            self._write_segments()
            self._write_cases()
        self._write_map()
        self.result.code_paths = dict(self.builder.paths)
        return self.result

    # ---- what the project holds

    def _source_items(self) -> list:
        sources_el = _kid(self.root, "Sources") if self.kind_root == "Project" else None
        return list(sources_el) if sources_el is not None else []

    def _check_source_paths(self, items: list) -> None:
        """Every source path must stay inside the archive (or --sources): checked up front."""
        for el in items:
            text_el = el if _local(el) == "TextSource" else _kid(el, "Representation")
            if text_el is None or _local(el) not in _TEXT_SOURCES:
                continue
            ptp, rtp = text_el.get("plainTextPath"), text_el.get("richTextPath")
            if ptp:
                self.box.locate(ptp)
            elif rtp and _kid(text_el, "PlainTextContent") is None:
                self.box.locate(rtp)  # the Word file is read only when there is no plain text

    def _read_people(self) -> set[str]:
        """Users, variables and cases (cases first: NVivo case nodes are also codes). Returns the
        GUIDs of the cases."""
        root, result = self.root, self.result
        for u in root.iter():
            if _local(u) == "User":
                g = norm_guid(u.get("guid"))
                if g:
                    self.users[g] = (u.get("name") or u.get("id") or f"user-{g[:8]}").strip()
        var_el = _kid(root, "Variables")
        if var_el is not None:
            taken_cols = {"case"}
            for v in _kids(var_el, "Variable"):
                g = norm_guid(v.get("guid"))
                if g:
                    name = unique((v.get("name") or "").strip() or "variable", taken_cols)
                    self.variables[g] = name
                    self.var_names.append(name)
        case_guids: set[str] = set()
        cases_el = _kid(root, "Cases")
        taken_cases: set[str] = set()
        if cases_el is not None:
            for i, c in enumerate(_kids(cases_el, "Case"), 1):
                g = norm_guid(c.get("guid"))
                cid = unique((c.get("name") or "").strip() or f"case_{i}", taken_cases)
                self.cases.append(
                    {
                        "guid": g,
                        "raw": c.get("guid") or "",
                        "id": cid,
                        "values": _variable_values(c, self.variables, result),
                        "sources": {norm_guid(r.get("targetGUID")) for r in _kids(c, "SourceRef")},
                        "selections": {norm_guid(r.get("targetGUID")) for r in _kids(c, "SelectionRef")},
                    }
                )
                if _kids(c, "CodeRef"):
                    result.skip("case-level code reference", len(_kids(c, "CodeRef")))
                if g:
                    case_guids.add(g)
        self.case_by_guid = {c["guid"]: c for c in self.cases if c["guid"]}
        for c in self.cases:
            for g in c["selections"]:
                self.cases_of_selection.setdefault(g, []).append(c["id"])
            for g in c["sources"]:
                self.cases_of_source.setdefault(g, []).append(c["id"])
        return case_guids

    def _read_codebook(self, case_guids: set[str]) -> _CodebookBuilder:
        if self.kind_root == "CodeBook":
            codes_el = _kid(self.root, "Codes")
        else:
            cb = _kid(self.root, "CodeBook")
            codes_el = _kid(cb, "Codes") if cb is not None else None
        top = _read_codes(codes_el) if codes_el is not None else []
        top, dropped = _drop_case_codes(top, case_guids)
        if dropped:
            self.result.warnings.append(
                f"{dropped} code(s) share a GUID with a case (NVivo case nodes): read as case membership"
            )
        return _CodebookBuilder(_nest_double_colon(top))

    # ---- one source

    def _import_source(self, el, n_item: int) -> None:
        result = self.result
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
        elif kind_el in _MEDIA_SOURCES:
            result.skip(f"{kind_el[:-6].lower()} source (not imported)")
        if text_el is None:
            return
        doc_id = unique(document_id_from_name(name, fallback=f"source_{n_item}"), self.taken_docs, fold_case=True)
        label = name or doc_id
        text, bom, docx_bytes = self._source_text(text_el, label)
        if text is None and docx_bytes is None:
            result.skip("text source without readable text")
            return
        doc, text = self._write_transcript(doc_id, label, text, docx_bytes)
        result.documents += 1
        src_guid = norm_guid(text_el.get("guid")) or norm_guid(el.get("guid"))
        self.map_rows.append(("source", el.get("guid") or "", name or "", doc_id))
        sels = self._selections(text_el)
        default = "one" if (self.atlas and "\r\n" in text) else "file"
        conv, shift, back, view = _choose_convention(text, sels, self.line_breaks, default, bom)
        if "\r" in text or "\n" in text:
            result.line_breaks[doc_id] = conv + (" (BOM counted)" if shift else "")
        self._code_source(el, text_el, doc_id, doc, text, src_guid, sels, (shift, back, view))
        values = _variable_values(el, self.variables, result)
        if text_el is not el:
            values.update(_variable_values(text_el, self.variables, result))
        if values:
            self.source_vars.append((doc_id, src_guid, values))

    def _source_text(self, text_el, label: str) -> tuple[str | None, bool, bytes | None]:
        """The text of a source: plain text file > inline PlainTextContent > Word file.
        Returns (text, had a BOM, Word bytes)."""
        from ..readers import decode_bytes

        result = self.result
        text: str | None = None
        bom = False
        docx_bytes: bytes | None = None
        ptp, rtp = text_el.get("plainTextPath"), text_el.get("richTextPath")
        if ptp:
            data, ref = self.box.read(ptp)
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
            data, ref = self.box.read(rtp)
            if data is not None and ref.lower().endswith(".docx"):
                docx_bytes = data
            elif data is None:
                result.warnings.append(f"source '{label}': rich text {ref} not found in the project")
            else:
                result.warnings.append(f"source '{label}': rich text {ref} is not .docx and has no plain text")
        return text, bom, docx_bytes

    def _write_transcript(self, doc_id: str, label: str, text: str | None, docx_bytes: bytes | None):
        """Write ``transcripts/<id>.txt`` (or ``.docx``); return the document as qualkit reads it
        (None if unreadable) and its text."""
        from ..readers import read_document

        tdir = self.output / "transcripts"
        doc = None
        if docx_bytes is not None:
            target = tdir / f"{doc_id}.docx"
            atomic_write_bytes(target, docx_bytes)
            try:
                doc = read_document(target)
                text = doc.text
            except InputError as exc:
                self.result.warnings.append(f"source '{label}': Word file {target.name} unreadable ({exc.what})")
                text = ""
        else:
            target = tdir / f"{doc_id}.txt"
            atomic_write_text(target, text or "")
            try:
                doc = read_document(target)
                text = doc.text
            except InputError:
                self.result.warnings.append(f"source '{label}' has no text (written as an empty transcript)")
        self.result.written.append(target)
        return doc, text or ""

    def _selections(self, text_el) -> list[dict]:
        sels = []
        for s in _kids(text_el, "PlainTextSelection"):
            try:
                a, b = int(s.get("startPosition")), int(s.get("endPosition"))
            except (TypeError, ValueError):
                self.result.skip("selection with bad offsets")
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
                self.result.skip("selection without a coding (memo only)")
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
        return sels

    def _code_source(self, el, text_el, doc_id: str, doc, text: str, src_guid, sels: list[dict], maps) -> None:
        """Codings of the source and of its selections -> segments, with their case.

        Case membership: whole source (SourceRef, or NVivo's case node coded on the source) or
        spans (SelectionRef, or NVivo's case node coded on a selection); a segment belongs to
        the cases whose spans contain it."""
        from ..coding.segments import CodedSegment

        result, builder = self.result, self.builder
        shift, back, view = maps
        guids = {g for g in (src_guid, norm_guid(el.get("guid"))) if g}
        source_cases = [cid for g in guids for cid in self.cases_of_source.get(g, [])]
        whole: list[tuple[str, str]] = []  # (code path, coder) of codings of the whole source
        for c in _kids(text_el, "Coding"):
            ref = _kid(c, "CodeRef")
            code_g = norm_guid(ref.get("targetGUID")) if ref is not None else None
            if code_g in self.case_by_guid:
                source_cases.append(self.case_by_guid[code_g]["id"])
                continue
            cpath = builder.path_for_coding(code_g) if code_g else None
            if cpath is None:
                result.skip("coding of a code not in the codebook")
                continue
            whole.append((cpath, self.users.get(norm_guid(c.get("creatingUser")) or "", "")))
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
            case_spans += [(cid, start, end) for cid in self.cases_of_selection.get(sel["guid"], [])]
            codes_here: list[tuple[str, str]] = []
            for code_g, user_g in sel["codings"]:
                if code_g is not None and code_g in self.case_by_guid:
                    case_spans.append((self.case_by_guid[code_g]["id"], start, end))
                    continue
                cpath = builder.path_for_coding(code_g) if code_g else None
                if cpath is None:
                    result.skip("coding of a code not in the codebook")
                    continue
                codes_here.append((cpath, self.users.get(user_g or "", "")))
            if codes_here:
                mapped.append((sel, start, end, codes_here))
        for sel, start, end, codes_here in mapped:
            inside = [cid for cid, s0, e0 in case_spans if s0 <= start and end <= e0]
            case = _pick_case(inside, source_cases, doc_id, result)
            turn = doc.turn_at(start) if doc is not None and doc.turns else None
            for cpath, coder in dict.fromkeys(codes_here):
                self.segments.append(
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
            self.segments.append(
                CodedSegment(
                    document=doc_id,
                    code=cpath,
                    case=_pick_case([], source_cases, doc_id, result),
                    coder=coder,
                    status="accepted",
                )
            )

    def _count_left_out(self) -> None:
        root, result = self.root, self.result
        if self.kind_root == "Project" and _kid(root, "Notes") is not None:
            result.skip("note (memo, not imported)", len(_kids(_kid(root, "Notes"), "Note")))
        for holder, item, what in (("Sets", "Set", "set"), ("Links", "Link", "link"), ("Graphs", "Graph", "graph")):
            if _kid(root, holder) is not None and _kids(_kid(root, holder), item):
                result.skip(f"{what} (not imported)", len(_kids(_kid(root, holder), item)))

    # ---- the files

    def _write_codebook(self) -> None:
        import yaml

        stem = self.path.stem
        title = (self.root.get("name") or stem).strip() or stem
        cb_id = id_from_name(title, fallback="imported")
        if not self.builder.themes:
            self.result.warnings.append("the file holds no codes: no codebook.yaml written")
            return
        cb_dict = self.builder.as_yaml_dict(cb_id, title)
        target = self.output / "codebook.yaml"
        atomic_write_text(
            target,
            "# Imported from REFI-QDA by qualkit\n"
            + yaml.safe_dump(cb_dict, sort_keys=False, allow_unicode=True, width=100),
        )
        self.result.written.append(target)

    def _write_segments(self) -> None:
        """segments.csv (always, so the folder is complete)."""
        from ..coding.segments import write_segments

        unique_rows, seen_rows = [], set()
        for s in self.segments:
            key = (s.document, s.code, s.start, s.end, s.coder)
            if key in seen_rows:
                continue
            seen_rows.add(key)
            unique_rows.append(s)
        self.result.written.extend(write_segments(self.output / "segments.csv", unique_rows))
        self.result.segments = len(unique_rows)

    def _write_cases(self) -> None:
        result = self.result
        rows: dict[str, dict[str, str]] = {c["id"]: dict(c["values"]) for c in self.cases}
        for doc_id, src_guid, values in self.source_vars:
            owners = self.cases_of_source.get(src_guid, [])
            owner = owners[0] if len(owners) == 1 else doc_id
            row = rows.setdefault(owner, {})
            for k, v in values.items():
                if row.get(k, v) != v:
                    result.skip("source variable value that differs from its case's value")
                    continue
                row[k] = v
        if rows:
            cols = [n for n in self.var_names if any(n in r for r in rows.values())]
            cols += sorted({k for r in rows.values() for k in r} - set(cols))
            target = self.output / "cases.csv"
            with atomic_open(target, "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(["case"] + cols)
                for cid, r in rows.items():
                    w.writerow([cid] + [r.get(c, "") for c in cols])
            result.written.append(target)
            result.cases = len(rows)
        for c in self.cases:
            self.map_rows.append(("case", c["raw"], c["id"], c["id"]))

    def _write_map(self) -> None:
        """refi-map.csv: which GUID became which code path, document id or case id."""
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["kind", "guid", "name", "qualkit"])
        w.writerows(self.map_rows)
        target = self.output / "refi-map.csv"
        atomic_write_text(target, buf.getvalue())
        self.result.written.append(target)


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
