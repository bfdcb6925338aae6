"""Load and validate YAML codebooks (format in the README, "Codebook").

Unknown keys, duplicate ids, missing required fields and malformed matching
rules are :class:`CodebookError` naming the file, the line and the fix.
Matching rules (``rules:``) are validated by :mod:`qualkit.coding.rules`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..errors import CodebookError
from ..yamlutil import check_keys, line_of, load_yaml

ID_RE = re.compile(r"^[a-z0-9_]+$")

CODEBOOK_KEYS = frozenset({"codebook", "title", "version", "description", "authors", "language", "defaults", "themes"})
THEME_KEYS = frozenset({"id", "label", "description", "codes", "multi_response", "rules"})
CODE_KEYS = frozenset({"id", "label", "definition", "when_to_use", "when_not_to_use", "examples", "rules", "codes"})


@dataclass
class Code:
    id: str
    path: str  # dotted path from the theme: "violence.physical.by_customer"
    label: str
    definition: str = ""
    when_to_use: str = ""
    when_not_to_use: str = ""
    examples: list[str] = field(default_factory=list)
    rules: dict | None = None
    codes: list[Code] = field(default_factory=list)
    line: int | None = None

    @property
    def theme(self) -> str:
        return self.path.split(".", 1)[0]

    @property
    def depth(self) -> int:
        return self.path.count(".")  # 1 for theme.code

    def walk(self) -> Iterator[Code]:
        yield self
        for child in self.codes:
            yield from child.walk()


@dataclass
class Theme:
    id: str
    label: str
    description: str = ""
    codes: list[Code] = field(default_factory=list)
    multi_response: bool | None = None
    rules: dict | None = None
    line: int | None = None

    def walk(self) -> Iterator[Code]:
        for code in self.codes:
            yield from code.walk()


@dataclass
class Codebook:
    id: str
    title: str
    themes: list[Theme]
    version: str = ""
    description: str = ""
    defaults: dict | None = None
    path: Path | None = None
    authors: list | str | None = None
    language: str | None = None

    def iter_codes(self) -> Iterator[Code]:
        """Every code and sub-code, depth first, in codebook order."""
        for theme in self.themes:
            yield from theme.walk()

    def theme(self, theme_id: str) -> Theme:
        for t in self.themes:
            if t.id == theme_id:
                return t
        raise KeyError(theme_id)

    def code(self, path: str) -> Code:
        for c in self.iter_codes():
            if c.path == path:
                return c
        raise KeyError(path)

    def has_code(self, path: str) -> bool:
        return any(c.path == path for c in self.iter_codes())

    @property
    def code_paths(self) -> list[str]:
        return [c.path for c in self.iter_codes()]

    def label_of(self, path: str) -> str:
        try:
            return self.code(path).label
        except KeyError:
            return path


def _text(value, *, path, line, where: str, field_name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    raise CodebookError(
        f"'{field_name}' of {where} must be text", file=path, line=line, fix="write it as a plain or quoted string"
    )


def _parse_code(raw, *, path: Path, parent: str, seen: set[str]) -> Code:
    where = f"a code under '{parent}'"
    check_keys(raw, CODE_KEYS, path=path, where=where, error=CodebookError, required=("id", "label"))
    cid = str(raw["id"])
    line = line_of(raw, "id")
    if not ID_RE.match(cid):
        raise CodebookError(
            f"code id '{cid}' is not valid",
            file=path,
            line=line,
            fix="use lower-case letters, digits and _ only (e.g. poor_family)",
        )
    full = f"{parent}.{cid}"
    if full in seen:
        raise CodebookError(
            f"duplicate code id '{full}'", file=path, line=line, fix="give each code a unique id within its theme"
        )
    seen.add(full)
    examples = raw.get("examples") or []
    if isinstance(examples, str):
        examples = [examples]
    if not isinstance(examples, list):
        raise CodebookError(
            f"'examples' of code '{full}' must be a list",
            file=path,
            line=line_of(raw, "examples"),
            fix='write examples: ["...", "..."]',
        )
    children_raw = raw.get("codes") or []
    if not isinstance(children_raw, list):
        raise CodebookError(
            f"'codes' of code '{full}' must be a list",
            file=path,
            line=line_of(raw, "codes"),
            fix="list sub-codes as '- id: ...' items",
        )
    rules = raw.get("rules")
    code = Code(
        id=cid,
        path=full,
        label=_text(raw["label"], path=path, line=line_of(raw, "label"), where=full, field_name="label"),
        definition=_text(
            raw.get("definition"), path=path, line=line_of(raw, "definition"), where=full, field_name="definition"
        ),
        when_to_use=_text(
            raw.get("when_to_use"), path=path, line=line_of(raw, "when_to_use"), where=full, field_name="when_to_use"
        ),
        when_not_to_use=_text(
            raw.get("when_not_to_use"),
            path=path,
            line=line_of(raw, "when_not_to_use"),
            where=full,
            field_name="when_not_to_use",
        ),
        examples=[str(e) for e in examples],
        rules=rules,
        line=line,
    )
    code.codes = [_parse_code(c, path=path, parent=full, seen=seen) for c in children_raw]
    return code


def parse_codebook(raw, path: Path) -> Codebook:
    if raw is None:
        raise CodebookError("codebook is empty", file=path, fix="start it with 'codebook: <id>' and a 'themes:' list")
    check_keys(
        raw, CODEBOOK_KEYS, path=path, where="the codebook", error=CodebookError, required=("codebook", "themes")
    )
    themes_raw = raw["themes"]
    if not isinstance(themes_raw, list) or not themes_raw:
        raise CodebookError(
            "'themes' must be a non-empty list",
            file=path,
            line=line_of(raw, "themes"),
            fix="list themes as '- id: ...' items",
        )
    themes: list[Theme] = []
    seen_themes: set[str] = set()
    seen_codes: set[str] = set()
    for t in themes_raw:
        check_keys(t, THEME_KEYS, path=path, where="a theme", error=CodebookError, required=("id", "label", "codes"))
        tid = str(t["id"])
        tline = line_of(t, "id")
        if not ID_RE.match(tid):
            raise CodebookError(
                f"theme id '{tid}' is not valid",
                file=path,
                line=tline,
                fix="use lower-case letters, digits and _ only (e.g. family)",
            )
        if tid in seen_themes:
            raise CodebookError(f"duplicate theme id '{tid}'", file=path, line=tline, fix="give each theme a unique id")
        seen_themes.add(tid)
        if not isinstance(t["codes"], list):
            raise CodebookError(
                f"'codes' of theme '{tid}' must be a list",
                file=path,
                line=line_of(t, "codes"),
                fix="list codes as '- id: ...' items",
            )
        mr = t.get("multi_response")
        if mr is not None and not isinstance(mr, bool):
            raise CodebookError(
                f"'multi_response' of theme '{tid}' must be true or false",
                file=path,
                line=line_of(t, "multi_response"),
                fix="write multi_response: true",
            )
        themes.append(
            Theme(
                id=tid,
                label=_text(t["label"], path=path, line=line_of(t, "label"), where=tid, field_name="label"),
                description=_text(
                    t.get("description"), path=path, line=line_of(t, "description"), where=tid, field_name="description"
                ),
                codes=[_parse_code(c, path=path, parent=tid, seen=seen_codes) for c in t["codes"]],
                multi_response=mr,
                rules=t.get("rules"),
                line=tline,
            )
        )
    cb = Codebook(
        id=str(raw["codebook"]),
        title=_text(raw.get("title"), path=path, line=line_of(raw, "title"), where="the codebook", field_name="title")
        or str(raw["codebook"]),
        version=_text(
            raw.get("version"), path=path, line=line_of(raw, "version"), where="the codebook", field_name="version"
        ),
        description=_text(
            raw.get("description"),
            path=path,
            line=line_of(raw, "description"),
            where="the codebook",
            field_name="description",
        ),
        defaults=raw.get("defaults"),
        themes=themes,
        path=path,
        authors=raw.get("authors"),
        language=raw.get("language"),
    )
    _validate_rules(cb, raw)
    return cb


def _validate_rules(cb: Codebook, raw) -> None:
    """Hand the codebook's matching rules to the rule compiler for validation."""
    from .rules import validate_codebook_rules

    validate_codebook_rules(cb)


def load_codebook(path: str | Path) -> Codebook:
    path = Path(path)
    raw = load_yaml(path, error=CodebookError, what="codebook")
    return parse_codebook(raw, path)
