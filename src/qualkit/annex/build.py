"""Assembling, checking and writing an annex."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, UsageError
from ..progress import ProgressFn
from .guard import LeakGuard, read_key_identifiers
from .sections import RENDERERS, _load_inputs
from .spec import AnnexSpec, load_annex_spec
from .word import Writer, _open_template

# =========================================================================== assembly


@dataclass
class AnnexResult:
    document: Any  # docx.Document, in memory
    output: Path | None = None
    tables: int = 0
    figures: int = 0
    quotes: int = 0
    stories: int = 0
    sections: int = 0
    key_entries: int = 0  # identifiers the leak check searched for (0 = no key given)
    texts_checked: int = 0
    warnings: list[str] = field(default_factory=list)
    missing_styles: list[str] = field(default_factory=list)

    def __fspath__(self) -> str:  # so Path(result) works where a path is expected
        if self.output is None:
            raise TypeError("the annex has not been written")
        return str(self.output)


def _originals_from_settings(settings) -> Path | None:
    if settings is None or getattr(settings, "project_file", None) is None:
        return None
    return settings.path(None, "transcripts")


def render_annex(
    spec: AnnexSpec | str | Path,
    *,
    template: str | Path | None = None,
    key: str | Path | None = None,
    settings=None,
    original_transcripts: str | Path | None = None,
    on_progress: ProgressFn | None = None,
    case_ids: dict[str, str] | None = None,
) -> AnnexResult:
    """Build the annex in memory; refuse (LeakError) if any text holds an original from *key*.
    *case_ids*: original document id -> neutral id (``redact --rename``) for the cases file."""
    if not isinstance(spec, AnnexSpec):
        spec = load_annex_spec(spec, settings=settings)
    originals = Path(original_transcripts) if original_transcripts is not None else _originals_from_settings(settings)
    identifiers = read_key_identifiers(key) if key is not None else []
    guard = LeakGuard(identifiers, allow=spec.allow)
    inputs = _load_inputs(spec, originals=originals, case_ids=case_ids)
    doc = _open_template(Path(template) if template is not None else None)
    w = Writer(doc, guard)
    progress = on_progress or (lambda *a: None)
    if spec.title:
        w.paragraph(spec.title, "Title", source="title")
    if spec.subtitle:
        w.paragraph(spec.subtitle, "Subtitle", source="subtitle")
    total = len(spec.sections)
    for n, sec in enumerate(spec.sections, start=1):
        progress(sec.type, n - 1, total)
        if sec.landscape or w.landscape:
            w.new_section(sec.landscape)
        elif sec.new_page if sec.new_page is not None else n > 1:
            w.page_break()
        if sec.heading:
            w.heading(sec.heading, 1, source=f"heading of section {n}")
        for para in sec.intro:
            w.paragraph(para, "Normal", source=f"introduction of section {n}")
        RENDERERS[sec.type](w, sec, inputs, spec)
    progress("done", total, total)
    if w.blocks == 0:
        raise ConfigError("the annex would be empty", file=spec.path, fix="add sections with content")
    # belt and braces: every run of text in the finished document, template headers/footers included
    _scan_document(doc, guard)
    guard.raise_if_leaks()
    cp = doc.core_properties
    cp.title = spec.title or "Annex"
    cp.author = spec.author
    cp.last_modified_by = ""
    cp.comments = ""
    cp.keywords = ""
    cp.subject = ""
    cp.revision = 1
    import datetime as dt

    now = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    cp.created = cp.modified = now
    return AnnexResult(
        document=doc,
        tables=w.tables,
        figures=w.figures,
        quotes=w.quotes,
        stories=w.stories,
        sections=total,
        key_entries=len(guard.entries),
        texts_checked=guard.checked,
        warnings=list(dict.fromkeys(inputs.warnings)),
        missing_styles=sorted(w.missing_styles),
    )


def _scan_document(doc, guard: LeakGuard) -> None:
    from docx.oxml.ns import qn

    if not guard.active or guard.hits:
        return
    parts = [("annex body", doc.element.body)]
    for s in doc.sections:
        for kind, hf in (
            ("header", s.header),
            ("footer", s.footer),
            ("first-page header", s.first_page_header),
            ("first-page footer", s.first_page_footer),
            ("even-page header", s.even_page_header),
            ("even-page footer", s.even_page_footer),
        ):
            if not hf.is_linked_to_previous:
                parts.append((f"template {kind}", hf._element))
    for name, el in parts:
        for i, p in enumerate(el.iter(qn("w:p")), start=1):
            text = "".join(t.text or "" for t in p.iter(qn("w:t")))
            guard.check(text, f"{name} paragraph {i}")


def write_annex(result: AnnexResult, output: str | Path) -> Path:
    """Save an annex atomically (a reader never sees a half-written file)."""
    from ..fsutil import atomic_open

    output = Path(output)
    if output.suffix.lower() != ".docx":
        raise UsageError("the annex output must end in .docx", file=output, fix="give --output annex.docx")
    with atomic_open(output, "wb") as fh:
        result.document.save(fh)
    result.output = output
    return output


def build_annex(
    spec: AnnexSpec | str | Path,
    output: str | Path,
    *,
    template: str | Path | None = None,
    key: str | Path | None = None,
    settings=None,
    original_transcripts: str | Path | None = None,
    on_progress: ProgressFn | None = None,
    case_ids: dict[str, str] | None = None,
) -> AnnexResult:
    """Render the annex of *spec* and write it to *output* (.docx); returns the result (``Path(result)`` = output)."""
    if Path(output).suffix.lower() != ".docx":
        raise UsageError("the annex output must end in .docx", file=output, fix="give --output annex.docx")
    result = render_annex(
        spec,
        template=template,
        key=key,
        settings=settings,
        original_transcripts=original_transcripts,
        on_progress=on_progress,
        case_ids=case_ids,
    )
    write_annex(result, output)
    return result
