"""Inputs of an annex and the section renderers: tables and charts, codebook, quotes, life stories, text."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError, SafetyError
from .spec import ATTRIBUTION_FIELDS, AnnexSpec, Section
from .word import Writer

# =========================================================================== inputs


@dataclass
class Inputs:
    spec: AnnexSpec
    segments: Any = None  # DataFrame
    cases: Any = None  # DataFrame (strings, "" = missing), indexed by case id
    cases_path: Path | None = None
    codebook: Any = None
    documents: dict[str, Path] = field(default_factory=dict)  # redacted transcripts by id
    _docs: dict[str, Any] = field(default_factory=dict)
    _norm: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    unverified: set[str] = field(default_factory=set)  # quoted documents missing from the redacted folder

    def document(self, doc_id: str):
        from ..readers import read_document

        if doc_id in self._docs:
            return self._docs[doc_id]
        path = self.documents.get(doc_id)
        if path is None:
            return None
        doc = read_document(path)
        self._docs[doc_id] = doc
        return doc

    def case_row(self, case_id: str) -> dict[str, str] | None:
        if self.cases is None or case_id not in self.cases.index:
            return None
        return {k: str(v) for k, v in self.cases.loc[case_id].items()}

    def case_line(self, case_id: str) -> int | None:
        if self.cases is None or case_id not in self.cases.index:
            return None
        return int(list(self.cases.index).index(case_id)) + 2


def _needs(spec: AnnexSpec) -> set[str]:
    need: set[str] = set()
    for sec in spec.sections:
        if sec.type in ("tables", "respondents"):
            need.add("cases")
            if any(it.spec.theme for it in sec.tables):
                need.add("segments")
        elif sec.type == "codebook":
            need.add("codebook")
        elif sec.type == "quotes":
            need.update({"segments", "cases"})
        elif sec.type == "life_stories":
            need.add("transcripts")
            if any("{" in (st.heading or sec.story_heading) for st in sec.stories):
                need.add("cases")
    return need


def check_transcripts_folder(folder: Path, originals: Path | None, *, spec_path=None, line=None) -> None:
    """Refuse the original transcripts (or a folder holding them) as the source of quotes and stories."""
    if originals is None:
        return
    from ..fsutil import is_inside

    if is_inside(folder, originals) or is_inside(originals, folder):
        raise SafetyError(
            "the annex's transcripts folder is (or holds) the ORIGINAL transcripts of the project",
            file=spec_path,
            line=line,
            fix="give the folder of redacted transcripts written by 'qualkit redact' (e.g. output/transcripts)",
        )


def _load_inputs(spec: AnnexSpec, *, originals: Path | None, case_ids: dict[str, str] | None = None) -> Inputs:
    from ..cases import read_cases
    from ..coding.codebook import load_codebook
    from ..coding.segments import read_segments
    from ..readers import iter_inputs

    need = _needs(spec)
    inputs = Inputs(spec=spec)

    def required(attr: str, what: str, fix: str) -> Path:
        value = getattr(spec, attr)
        if value is None:
            raise ConfigError(
                f"the annex needs {what} but the spec names none", file=spec.path, line=spec.line(attr), fix=fix
            )
        return value

    if "cases" in need:
        inputs.cases_path = required("cases", "the cases file", "add 'cases: cases.csv' at the top of the annex spec")
        cases = read_cases(inputs.cases_path, ids=case_ids)
        cases.attrs["path"] = str(inputs.cases_path)
        inputs.cases = cases
    if "segments" in need:
        path = required(
            "segments", "the coded segments", "add 'segments: output/segments.csv' at the top of the annex spec"
        )
        seg = read_segments(path)
        seg.attrs["path"] = str(path)
        inputs.segments = seg
    if spec.codebook is not None and (spec.codebook.is_file() or "codebook" in need):
        inputs.codebook = load_codebook(spec.codebook)
    elif "codebook" in need:
        required("codebook", "the codebook", "add 'codebook: codebook.yaml' at the top of the annex spec")
    quotes = any(s.type == "quotes" for s in spec.sections)
    if "transcripts" in need or (quotes and spec.transcripts is not None):
        folder = required(
            "transcripts",
            "the folder of redacted transcripts",
            "add 'transcripts: output/transcripts' (the redacted copies) at the top of the annex spec",
        )
        check_transcripts_folder(folder, originals, spec_path=spec.path, line=spec.line("transcripts"))
        if not folder.is_dir():
            if "transcripts" in need or "transcripts" in spec.lines:
                raise InputError(
                    "redacted transcripts folder not found",
                    file=folder,
                    fix="run 'qualkit redact' first or correct 'transcripts:' in the annex spec",
                )
        else:
            for inp in iter_inputs([folder]):
                doc_id = inp.path.stem
                if inp.path.name.startswith(".") or doc_id.endswith("redaction-log"):
                    continue
                if doc_id in inputs.documents and inputs.documents[doc_id] != inp.path:
                    inputs.documents.setdefault(f"!dup:{doc_id}", inp.path)
                inputs.documents.setdefault(doc_id, inp.path)
    if quotes and not inputs.documents:
        inputs.warnings.append(
            "quotes were taken from the segments' text column without checking them against "
            "the redacted transcripts (give 'transcripts:' in the annex spec)"
        )
    return inputs


# =========================================================================== templates (attributions)


def _fields_of(template: str) -> list[str]:
    return [name for _l, name, _s, _c in string.Formatter().parse(template) if name]


def _fill(
    templates: list[str],
    values: dict[str, str],
    *,
    missing: str,
    case_id: str,
    inputs: Inputs,
    spec_line: int | None,
    what: str,
) -> str | None:
    """The first template whose fields all have a value; None = skip; error when none fits."""
    cols = set(inputs.cases.columns) if inputs.cases is not None else set()
    for t in templates:
        unknown = [f for f in _fields_of(t) if f not in values and f not in cols and f not in ATTRIBUTION_FIELDS]
        if unknown:
            import difflib

            close = difflib.get_close_matches(unknown[0], sorted(cols | ATTRIBUTION_FIELDS), n=1)
            raise ConfigError(
                f"{what} uses {{{unknown[0]}}}, which is not a column of the cases file",
                file=inputs.spec.path,
                line=spec_line,
                fix=(f"did you mean {{{close[0]}}}? " if close else "") + "columns are: " + ", ".join(sorted(cols)),
            )
    for t in templates:
        names = _fields_of(t)
        if all(_present(values.get(n)) for n in names):
            return t.format(**{n: values[n] for n in names})
    if missing == "skip":
        return None
    if missing != "error":
        t = templates[0]
        return t.format(**{n: (values.get(n) if _present(values.get(n)) else missing) for n in _fields_of(t)})
    absent = [n for n in _fields_of(templates[-1]) if not _present(values.get(n))]
    raise InputError(
        f"case '{case_id}' has no value for '{absent[0]}', needed by the {what}",
        file=inputs.cases_path,
        line=inputs.case_line(case_id),
        fix=f"fill it in, add a shorter fallback template to the {what} list, or set 'missing: skip' or "
        f"'missing: \"unknown\"' in the section (line {spec_line} of {inputs.spec.path})",
    )


def _present(v) -> bool:
    if v is None:
        return False
    s = str(v).strip()
    return s not in ("", "nan", "NaN", "<NA>", "None")


def _case_values(inputs: Inputs, case_id: str) -> dict[str, str]:
    row = inputs.case_row(case_id) or {}
    return {k: ("" if not _present(v) else str(v).strip()) for k, v in row.items()}


# =========================================================================== sections

_TAG_RE = re.compile(r"</?[a-zA-Z][^<>]{0,40}>")
_WS_RE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _WS_RE.sub(" ", text).strip()


def _render_tables(w: Writer, sec: Section, inputs: Inputs, spec: AnnexSpec) -> None:
    from ..tables.build import build_table
    from ..tables.render import display_grid
    from .charts import chart_data, render_bar_chart

    for item in sec.tables:
        table = build_table(item.spec, inputs.segments if item.spec.theme else None, inputs.cases, inputs.codebook)
        for warning in table.warnings:
            inputs.warnings.append(f"table {item.spec.id}: {warning}")
        cells = item.cells or item.spec.effective_cells
        headers, body, lines = display_grid(table, cells)
        title = item.spec.title or re.sub(
            r"^Table [^ ]+\. ", "", table.heading
        )  # untitled: 'Family experiences by group'
        w.caption(spec.table_caption, "Table", str(item.spec.number), title, source=f"caption of table {item.spec.id}")
        if item.spec.caption:
            w.paragraph(item.spec.caption, "Table Description", source=f"caption of table {item.spec.id}")
        ncols = len(headers)
        shares, _chars = column_needs(headers, body)
        w.table(
            headers,
            body,
            source=f"table {item.spec.id}",
            widths=shares,
            numeric=[False] + [True] * (ncols - 1),
            total_row=True,
            keep_with_next=bool(lines),  # the base line and notes stay with the table
        )
        for k, line in enumerate(lines):
            p = w.paragraph(line, "Table Note", source=f"notes of table {item.spec.id}")
            p.paragraph_format.keep_with_next = k < len(lines) - 1
        w.tables += 1
        if item.chart is not None:
            opts = item.chart
            unknown = [c for c in (opts.columns or []) if c not in table.columns]
            if unknown:
                raise ConfigError(
                    f"chart of table {item.spec.id}: no column '{unknown[0]}'",
                    file=spec.path,
                    line=item.line,
                    fix="columns are the table's 'by' values: " + ", ".join(table.columns),
                )
            w.figures += 1
            ctitle = opts.title or title
            data = chart_data(
                table,
                values=opts.values,
                no_response=opts.no_response,
                total=opts.total,
                columns=opts.columns,
                title=ctitle,
            )
            for t in data.categories + data.series:
                w.guard.check(t, f"chart of table {item.spec.id}")
            width_cm = min(opts.width_cm, w.text_width / 360000)  # EMU -> cm: drawn at its printed width
            png = render_bar_chart(data, width_cm=width_cm, font=w.body_font())
            w.picture(png, width_cm, alt_text=data.alt_text(), space_before=True)
            w.caption(
                spec.figure_caption,
                "Figure",
                str(w.figures),
                ctitle,
                source=f"chart of table {item.spec.id}",
                keep_with_next=False,
            )


def column_needs(headers: list[str], body: list[list[str]]) -> tuple[list[float], int]:
    """Column widths (shares) from the content, and the characters the table needs in all.

    The label column gets what its longest label needs (up to ~45 characters), a
    number column what its longest header word or cell needs."""

    def longest_word(text: str) -> int:
        return max((len(x) for x in str(text).split()), default=1)

    label = min(45, max([len(headers[0])] + [len(r[0]) for r in body] + [12]))
    need = [label]
    for j in range(1, len(headers)):
        head = max(longest_word(headers[j]), (len(headers[j]) + 2) // 3)
        cells = max([len(str(r[j])) for r in body] + [1])
        need.append(max(6, head, cells) + 2)
    total = sum(need)
    return [n / total for n in need], total


def _render_codebook(w: Writer, sec: Section, inputs: Inputs, spec: AnnexSpec) -> None:
    cb = inputs.codebook
    themes = cb.themes
    if sec.themes:
        known = {t.id: t for t in cb.themes}
        bad = [t for t in sec.themes if t not in known]
        if bad:
            raise ConfigError(
                f"codebook section: no theme '{bad[0]}' in codebook '{cb.id}'",
                file=spec.path,
                line=sec.lines.get("themes", sec.line),
                fix="themes are: " + ", ".join(known),
            )
        themes = [known[t] for t in sec.themes]
    if cb.title and not sec.intro:
        w.paragraph(
            f"Codebook: {cb.title}" + (f" (version {cb.version})" if cb.version else ""),
            "Normal",
            source="codebook title",
            file=str(cb.path),
        )
    headers = ["Code", "Label", "Definition", "When to use", "When not to use", "Example"]
    longest = max([len(c.path.split(".", 1)[1]) for c in _iter_codes(themes)] + [8])
    code_share = min(0.24, max(0.12, (longest + 2) * 0.19 / (w.text_width / 360000)))
    rest = (1 - code_share - 0.12) / 4
    rows: list[list[str]] = []
    bands: dict[int, str] = {}
    for theme in themes:
        band = f"Theme: {theme.label} ({theme.id})"
        if theme.description:
            band += f" — {theme.description}"
        bands[len(rows) + len(bands)] = band
        for code in theme.walk():
            rel = code.path.split(".", 1)[1]
            indent = "\u00a0\u00a0" * (code.depth - 1)
            examples = code.examples if sec.max_examples is None else code.examples[: sec.max_examples]
            rows.append(
                [
                    indent + rel,
                    code.label,
                    code.definition,
                    code.when_to_use,
                    code.when_not_to_use,
                    "\n".join(f"“{e}”" for e in examples),
                ]
            )
    w.table(
        headers,
        rows,
        source=f"codebook {cb.id}",
        widths=[code_share, 0.12, rest, rest, rest, rest],
        numeric=[False] * 6,
        total_row=False,
        band_rows=bands,
    )
    w.paragraph(
        f"{sum(1 for _ in _iter_codes(themes))} codes in {len(themes)} theme(s).", "Table Note", source="codebook note"
    )


def _iter_codes(themes):
    for t in themes:
        yield from t.walk()


def _expand_codes(sec: Section, inputs: Inputs, spec: AnnexSpec) -> list[str]:
    cb = inputs.codebook
    out: list[str] = []
    for c in sec.codes:
        if "." in c:
            if cb is not None and not cb.has_code(c):
                import difflib

                close = difflib.get_close_matches(c, cb.code_paths, n=1)
                raise ConfigError(
                    f"quotes section: no code '{c}' in codebook '{cb.id}'",
                    file=spec.path,
                    line=sec.lines.get("codes", sec.line),
                    fix=f"did you mean '{close[0]}'?" if close else "use theme.code ids from the codebook",
                )
            out.append(c)
        else:
            if cb is not None:
                try:
                    theme = cb.theme(c)
                except KeyError:
                    raise ConfigError(
                        f"quotes section: '{c}' is neither a code (theme.code) nor a theme of codebook '{cb.id}'",
                        file=spec.path,
                        line=sec.lines.get("codes", sec.line),
                        fix="themes are: " + ", ".join(t.id for t in cb.themes),
                    ) from None
                out += [code.path for code in theme.codes]
            else:
                found = sorted({x for x in inputs.segments["code"] if x.startswith(c + ".") and x.count(".") == 1})
                if not found:
                    raise ConfigError(
                        f"quotes section: no segment is coded with a code of '{c}'",
                        file=spec.path,
                        line=sec.lines.get("codes", sec.line),
                        fix="check the id, or give 'codebook:'",
                    )
                out += found
    return list(dict.fromkeys(out))


@dataclass
class Quote:
    code: str
    case: str
    document: str
    start: int | None
    text: str  # as printed (whitespace collapsed, subtitle tags removed)
    attribution: str
    row: int  # line in the segments file
    raw: str = ""  # the text at its source offsets (what the leak check reads)


def select_quotes(sec: Section, inputs: Inputs, spec: AnnexSpec) -> dict[str, list[Quote]]:
    """Up to ``max_per_code`` quotes per code: accepted segments (or suggested when asked), never rejected;
    at most ``per_case`` per case; respondent speech only; text checked against the redacted transcript."""
    seg = inputs.segments
    seg_path = seg.attrs.get("path")
    allowed = {"accepted", "suggested"} if sec.include_suggested else {"accepted"}
    codes = _expand_codes(sec, inputs, spec)
    out: dict[str, list[Quote]] = {}
    cb = inputs.codebook
    for code in codes:
        picked: list[Quote] = []
        per_case: dict[str, int] = {}
        seen_text: set[str] = set()
        rows = seg[(seg["code"] == code) | seg["code"].str.startswith(code + ".")]
        rows = rows[rows["effective_status"].isin(allowed)]
        if "start" in rows.columns:
            rows = rows.assign(_order=rows["start"].fillna(-1)).sort_values(["document", "_order"], kind="stable")
        candidates = []
        for idx, r in rows.iterrows():
            line = int(idx) + 2
            case_id = str(r["case_id"])
            if inputs.cases is not None and case_id not in inputs.cases.index:
                raise InputError(
                    f"case '{case_id}' of a quoted segment is not in the cases file",
                    file=seg_path,
                    line=line,
                    fix="add the respondent to the cases file or correct the segment's document/case",
                )
            text, start, raw = _quote_text(r, inputs, seg_path, line, sec)
            if text is None:
                continue
            n = len(text)
            if n < sec.min_chars or (sec.max_chars is not None and n > sec.max_chars):
                continue
            candidates.append((case_id, text, start, str(r["document"]), line, raw))
        # first one quote per case in turn (variety of voices), then more up to per_case
        for rnd in range(sec.per_case):
            for case_id, text, start, document, line, raw in candidates:
                if len(picked) >= sec.max_per_code:
                    break
                key = _norm(text).casefold()
                if key in seen_text or per_case.get(case_id, 0) != rnd:
                    continue
                values = _case_values(inputs, case_id)
                values.update(
                    {
                        "case": case_id,
                        "document": document,
                        "code": code,
                        "code_label": cb.label_of(code) if cb is not None else code,
                        "theme_label": _theme_label(cb, code),
                    }
                )
                attribution = _fill(
                    sec.attribution,
                    values,
                    missing=sec.missing,
                    case_id=case_id,
                    inputs=inputs,
                    spec_line=sec.lines.get("attribution", sec.line),
                    what="attribution",
                )
                if attribution is None:
                    continue
                seen_text.add(key)
                per_case[case_id] = per_case.get(case_id, 0) + 1
                picked.append(Quote(code, case_id, document, start, text, attribution, line, raw))
        out[code] = picked
    return out


def _theme_label(cb, code: str) -> str:
    if cb is None:
        return code.split(".", 1)[0]
    try:
        return cb.theme(code.split(".", 1)[0]).label
    except KeyError:
        return code.split(".", 1)[0]


def _quote_text(r, inputs: Inputs, seg_path, line: int, sec: Section) -> tuple[str | None, int | None, str]:
    """(printed text, offset in the document, raw text): taken from, or checked against, the redacted transcript."""
    doc_id = str(r["document"])
    given = str(r.get("text", "") or "")
    start = r.get("start")
    end = r.get("end")
    start = None if start is None or str(start) in ("", "<NA>", "nan") else int(start)
    end = None if end is None or str(end) in ("", "<NA>", "nan") else int(end)
    if not inputs.documents:
        return (_norm(given) or None), start, given
    if f"!dup:{doc_id}" in inputs.documents:
        raise InputError(
            f"document '{doc_id}' exists twice in the redacted transcripts folder (two formats)",
            file=inputs.documents[doc_id],
            fix="keep one file per document id",
        )
    doc = inputs.document(doc_id)
    if doc is None:  # not verifiable against redacted text: never printed
        inputs.unverified.add(doc_id)
        return None, None, ""
    if start is not None and end is not None and 0 <= start < end <= len(doc.text):
        sliced = doc.text[start:end]
        if not given or _norm(sliced) == _norm(given):
            text, at = sliced, start
        else:
            text, at = None, None
    else:
        text, at = None, None
    if text is None:
        if not given:
            return None, None, ""
        key = inputs._norm.get(doc_id)
        if key is None:
            key = inputs._norm[doc_id] = _norm(doc.text)
        if _norm(given) not in key:
            raise SafetyError(
                f"the text of a quoted segment (document '{doc_id}') is not in the redacted transcript",
                file=seg_path,
                line=line,
                fix="code the redacted transcripts (not the originals), or correct the row's text and offsets",
            )
        text = given
        at = doc.text.find(given) if given in doc.text else None
    if sec.respondents_only and at is not None and doc.turns:
        turn = doc.turn_at(at)
        if turn is not None and turn.role != "respondent":
            return None, None, ""
    cleaned = _TAG_RE.sub("", text) if doc.format in ("vtt", "srt") else text
    return _norm(cleaned) or None, at, text


def _render_quotes(w: Writer, sec: Section, inputs: Inputs, spec: AnnexSpec) -> None:
    quotes = select_quotes(sec, inputs, spec)
    if inputs.unverified:
        n = len(inputs.unverified)
        inputs.warnings.append(
            f"quotes: segments of {n} document(s) not in the redacted transcripts folder "
            f"{spec.transcripts} were left out (e.g. {sorted(inputs.unverified)[0]})"
        )
    cb = inputs.codebook
    for code, items in quotes.items():
        label = cb.label_of(code) if cb is not None else code
        w.heading(f"{label}", 2, source=f"heading of quotes for {code}")
        if not items:
            w.paragraph("No accepted quote for this code.", "Table Note", source="quotes note")
            inputs.warnings.append(f"quotes: no accepted segment to quote for {code}")
            continue
        for q in items:
            shown = f"“{q.text}”" if sec.quote_marks else q.text
            src_file = (
                str(inputs.documents[q.document])
                if q.document in inputs.documents
                else str(inputs.segments.attrs.get("path"))
            )
            where = (
                f"quote from document {q.document}"
                if q.start is not None
                else f"quote from document {q.document} (segments row {q.row}, offset in the quote)"
            )
            before = len(w.guard.hits)
            w.guard.check(q.raw or q.text, where, base=q.start or 0, file=src_file)
            if len(w.guard.hits) == before:
                w.guard.check(q.text, where + " (as printed)", base=q.start or 0, file=src_file)
            p = w.paragraph(shown, "Quote", check=False)
            p.paragraph_format.keep_with_next = True
            w.paragraph(
                q.attribution, "Attribution", source=f"attribution of case {q.case}", file=str(inputs.cases_path)
            )
            w.quotes += 1


def _render_stories(w: Writer, sec: Section, inputs: Inputs, spec: AnnexSpec) -> None:
    for i, st in enumerate(sec.stories):
        if f"!dup:{st.document}" in inputs.documents:
            raise InputError(
                f"document '{st.document}' exists twice in the redacted transcripts folder",
                file=inputs.documents[st.document],
                fix="keep one file per document id",
            )
        doc = inputs.document(st.document)
        if doc is None:
            raise InputError(
                f"life story '{st.document}' is not in the redacted transcripts folder",
                file=spec.path,
                line=st.line,
                fix=f"redact it into {spec.transcripts} first, or correct 'document:'",
            )
        case_id = st.case or st.document
        values = _case_values(inputs, case_id) if inputs.cases is not None else {}
        values.update({"case": case_id, "document": st.document, "pseudonym": st.pseudonym})
        template = st.heading or sec.story_heading
        heading = _fill(
            [template],
            values,
            missing=sec.missing if sec.missing != "skip" else "error",
            case_id=case_id,
            inputs=inputs,
            spec_line=st.line,
            what="story heading",
        )
        if i:
            w.page_break()
        w.heading(heading or st.pseudonym, 2, source=f"heading of life story {st.document}")
        for para in st.intro:
            w.paragraph(para, "Table Description", source=f"introduction of life story {st.document}")
        spoken: dict[str | None, int] = {}
        for t in doc.turns:
            if t.role == "respondent":
                spoken[t.speaker] = spoken.get(t.speaker, 0) + (t.end - t.text_start)
        if st.speaker is not None:
            if st.speaker not in spoken:
                raise InputError(
                    f"life story '{st.document}': no respondent turn has the label '{st.speaker}'",
                    file=spec.path,
                    line=st.line,
                    fix="use the respondent's label as written in the redacted transcript, or leave "
                    "'speaker:' out (the respondent who speaks most)",
                )
            main = st.speaker
        else:
            main = max(spoken, key=lambda k: spoken[k]) if spoken else None
        others = sum(1 for t in doc.turns if t.role == "respondent" and t.speaker != main)
        if others:
            inputs.warnings.append(
                f"life story {st.document}: {others} turn(s) of other speakers left out (choose with 'speaker:')"
            )
        written = 0
        for turn in doc.turns:
            if turn.role == "metadata" or (turn.role == "interviewer" and not sec.interviewer):
                continue
            if turn.role == "respondent" and turn.speaker != main:
                continue
            body = doc.text[turn.text_start : turn.end]
            if doc.format in ("vtt", "srt"):
                body = _TAG_RE.sub("", body)
            parts = [x.strip() for x in body.replace("\r", "").split("\n") if x.strip()]
            if not parts:
                continue
            w.guard.check(
                doc.text[turn.text_start : turn.end],
                f"document {st.document}",
                base=turn.text_start,
                file=str(doc.path),
            )
            label = (turn.speaker or "Interviewer") if turn.role == "interviewer" else ""
            if label:
                w.guard.check(label, f"document {st.document}", base=turn.label_start or turn.start, file=str(doc.path))
            for k, part in enumerate(parts):
                text = f"{label}: {part}" if label and k == 0 else part
                if turn.role == "interviewer":
                    q = w.paragraph(text, "Interviewer Text", italic=True, check=False)
                    q.paragraph_format.keep_with_next = True  # a question never ends a page
                else:
                    w.paragraph(text, "Story Text", check=False)
                written += 1
        if not written:
            inputs.warnings.append(f"life story {st.document}: no respondent turn found (check the speaker labels)")
        w.stories += 1


def _render_text(w: Writer, sec: Section, inputs: Inputs, spec: AnnexSpec) -> None:
    for para in sec.text:
        w.paragraph(para, "Normal", source=f"text of section line {sec.line}")


RENDERERS = {
    "tables": _render_tables,
    "respondents": _render_tables,
    "codebook": _render_codebook,
    "quotes": _render_quotes,
    "life_stories": _render_stories,
    "text": _render_text,
}
