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
from ..yamlutil import YamlMap, load_yaml

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


def _node(raw, *, path: Path, where: str, of: str, keys: frozenset[str], required: tuple[str, ...]) -> YamlMap:
    return YamlMap(raw, path=path, where=where, error=CodebookError, of=of).check(keys, required=required)


def _parse_code(raw, *, path: Path, parent: str, seen: set[str]) -> Code:
    node = _node(raw, path=path, where=f"a code under '{parent}'", of="", keys=CODE_KEYS, required=("id", "label"))
    cid = str(raw["id"])
    line = node.line("id")
    if not ID_RE.match(cid):
        raise node.fail(
            f"code id '{cid}' is not valid", "id", "use lower-case letters, digits and _ only (e.g. poor_family)"
        )
    full = f"{parent}.{cid}"
    if full in seen:
        raise node.fail(f"duplicate code id '{full}'", "id", "give each code a unique id within its theme")
    seen.add(full)
    node.of = f" of code '{full}'"
    examples = node.texts("examples") if node.get("examples") else []
    children_raw = node.items("codes", fix="list sub-codes as '- id: ...' items") if node.get("codes") else []
    code = Code(
        id=cid,
        path=full,
        label=node.text("label"),
        definition=node.text("definition"),
        when_to_use=node.text("when_to_use"),
        when_not_to_use=node.text("when_not_to_use"),
        examples=examples or [],
        rules=raw.get("rules"),
        line=line,
    )
    code.codes = [_parse_code(c, path=path, parent=full, seen=seen) for c in children_raw or ()]
    return code


def parse_codebook(raw, path: Path) -> Codebook:
    """Validate a parsed codebook: keys, ids, texts, and every code's matching rules."""
    if raw is None:
        raise CodebookError("codebook is empty", file=path, fix="start it with 'codebook: <id>' and a 'themes:' list")
    top = _node(raw, path=path, where="the codebook", of="", keys=CODEBOOK_KEYS, required=("codebook", "themes"))
    themes_raw = top.items("themes", fix="list themes as '- id: ...' items", non_empty=True)
    themes: list[Theme] = []
    seen_themes: set[str] = set()
    seen_codes: set[str] = set()
    for t in themes_raw or ():
        node = _node(t, path=path, where="a theme", of="", keys=THEME_KEYS, required=("id", "label", "codes"))
        tid = str(t["id"])
        if not ID_RE.match(tid):
            raise node.fail(
                f"theme id '{tid}' is not valid", "id", "use lower-case letters, digits and _ only (e.g. family)"
            )
        if tid in seen_themes:
            raise node.fail(f"duplicate theme id '{tid}'", "id", "give each theme a unique id")
        seen_themes.add(tid)
        node.of = f" of theme '{tid}'"
        codes_raw = node.items("codes", fix="list codes as '- id: ...' items")
        themes.append(
            Theme(
                id=tid,
                label=node.text("label"),
                description=node.text("description"),
                codes=[_parse_code(c, path=path, parent=tid, seen=seen_codes) for c in codes_raw or ()],
                multi_response=node.flag("multi_response", None),
                rules=t.get("rules"),
                line=node.line("id"),
            )
        )
    top.of = " of the codebook"
    cb = Codebook(
        id=str(raw["codebook"]),
        title=top.text("title") or str(raw["codebook"]),
        version=top.text("version"),
        description=top.text("description"),
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
