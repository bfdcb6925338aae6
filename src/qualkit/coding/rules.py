"""The rule language of ``qualkit code``: parse, validate, compile and apply.

A code's ``rules:`` (YAML) say when the code applies to a unit of text (a
sentence, a turn or a paragraph). The language is documented with examples in
docs/code.md; in short::

    rules:
      any: [beat, hit, slap, "kick*"]      # words/phrases, on lemmas: "beat" = beats, beaten, beating
      not: ["beat the price"]               # exclusions: not when the unit also says this

    rules:                                  # several alternatives: the code applies if one matches
      - all: [[borrow, owe, loan], [money, dong]]   # every item present (a nested list = any of)
      - near: [[owner, boss], [beat, hit]]          # within N words of each other
        within: 4
      - regex: '\\bdebts?\\b'
      - pattern: [{LEMMA: hit}, {LOWER: me}]        # a spaCy token pattern
      - exact: "used to"                            # no inflection

Settings (in a code's ``rules:`` mapping, a theme's ``rules:`` or the
codebook's ``defaults:``): ``unit`` (sentence | turn | paragraph),
``roles`` (respondent | interviewer; default respondent), ``speakers``
(label globs), ``negation`` (exclude | require | allow; default exclude),
``within`` (default distance for ``near``) and ``not`` (exclusions).

Parsing and validation need no spaCy (so loading a codebook is cheap);
:func:`compile_codebook` builds one spaCy ``Matcher`` (all terms and token
patterns of the codebook) plus compiled regular expressions, once per codebook
and pipeline; :meth:`CompiledCodebook.scan` runs them once per ``Doc`` and
:meth:`CompiledCodebook.codes_for` evaluates every code on a unit from the
occurrences found.
"""

from __future__ import annotations

import difflib
import fnmatch
import itertools
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import CodebookError
from ..yamlutil import line_of

UNITS = ("sentence", "turn", "paragraph")
ROLES = ("respondent", "interviewer")
NEGATION_MODES = ("exclude", "require", "allow")
DEFAULT_WITHIN = 5
MAX_WITHIN = 200

CONDITION_KEYS = ("any", "all", "near", "exact", "regex", "pattern")
SETTING_KEYS = ("unit", "roles", "speakers", "negation", "within")
#: keys of one alternative (an item of ``match:`` or of a rules list)
ALTERNATIVE_KEYS = frozenset(CONDITION_KEYS) | {"within", "in_order", "negation", "not", "only_if", "case_sensitive"}
#: keys of a nested condition (inside any/all/near)
NESTED_KEYS = frozenset(CONDITION_KEYS) | {"within", "in_order", "negation", "case_sensitive"}
#: keys of a code's ``rules:`` mapping
CODE_RULE_KEYS = (
    frozenset(CONDITION_KEYS) | frozenset(SETTING_KEYS) | {"not", "only_if", "match", "case_sensitive", "in_order"}
)
#: keys of a theme's ``rules:`` and the codebook's ``defaults:`` that the rule engine reads
SHARED_SETTING_KEYS = frozenset(SETTING_KEYS) | {"not", "only_if"}

#: words that negate what follows them (lower-case token texts)
NEGATION_CUES = frozenset(
    "not n't n’t nt never no nobody none nothing neither nor without nowhere noone cannot".split()
)
_NEG_SUBJECTS = frozenset({"nobody", "nothing", "none", "noone", "neither"})
#: tokens that end the scope of a negation cue looking forwards
_SCOPE_BREAKS = frozenset(
    "but however although though except yet until unless because so when while whereas if whether "
    "that which who whom whose where after before since instead".split()
)
_BREAK_PUNCT = frozenset(',;:.!?()[]—–"“”')
NEGATION_WINDOW = 5  # words before a match searched for a cue


# =========================================================================== rule tree


@dataclass(frozen=True)
class Term:
    """A word or phrase: case-insensitive, inflected forms and lemmas (unless exact)."""

    text: str
    exact: bool = False

    @property
    def key(self) -> str:
        return ("X|" if self.exact else "T|") + " ".join(self.text.lower().split())


@dataclass(frozen=True)
class Regex:
    pattern: str
    case_sensitive: bool = False

    @property
    def key(self) -> str:
        return f"R|{int(self.case_sensitive)}|{self.pattern}"


@dataclass(frozen=True)
class TokenPattern:
    pattern: tuple  # of frozen token dicts (repr form), kept hashable
    raw: Any = field(compare=False, hash=False, default=None)
    line: int | None = field(compare=False, hash=False, default=None)

    @property
    def key(self) -> str:
        return f"P|{self.pattern!r}"


@dataclass
class AnyOf:
    items: list


@dataclass
class AllOf:
    items: list


@dataclass
class Near:
    items: list
    within: int
    in_order: bool = False


@dataclass
class Negated:
    """A sub-condition with its own negation mode."""

    mode: str
    item: Any


@dataclass
class Alternative:
    """One way a code can match: a condition, exclusions, requirements and a negation mode."""

    condition: Any
    exclude: Any | None
    negation: str
    line: int | None = None
    require: list = field(default_factory=list)  # only_if: each must also be present in the unit


@dataclass
class CodeRules:
    """Everything the engine needs to apply one code."""

    code: str  # dotted path, theme.code[.sub]
    alternatives: list[Alternative]
    unit: str | None  # None = the run's unit
    roles: tuple[str, ...]
    speakers: tuple[str, ...]
    line: int | None = None

    def leaves(self) -> Iterable:
        for alt in self.alternatives:
            yield from _leaves(alt.condition)
            if alt.exclude is not None:
                yield from _leaves(alt.exclude)
            for req in alt.require:
                yield from _leaves(req)

    def positive_keys(self) -> frozenset[str]:
        """Keys of leaves one of which must occur for the code to match."""
        return frozenset(leaf.key for alt in self.alternatives for leaf in _leaves(alt.condition))

    @property
    def rule_count(self) -> int:
        return len(self.alternatives)

    def applies_to(self, role: str, speaker: str | None) -> bool:
        if role not in self.roles:
            return False
        if not self.speakers:
            return True
        label = (speaker or "").strip().lower()
        return any(fnmatch.fnmatchcase(label, glob) for glob in self.speakers)


def _leaves(node) -> Iterable:
    if isinstance(node, (Term, Regex, TokenPattern)):
        yield node
    elif isinstance(node, (AnyOf, AllOf, Near)):
        for item in node.items:
            yield from _leaves(item)
    elif isinstance(node, Negated):
        yield from _leaves(node.item)


# =========================================================================== parsing + validation


class _Ctx:
    """Where we are, for error messages: file, code path."""

    def __init__(self, path: Path | None, where: str, deep: bool = False):
        self.path = path
        self.where = where
        self.deep = deep  # also run spaCy's own token-pattern schema (imports spaCy)

    def error(self, what: str, line: int | None, fix: str) -> CodebookError:
        return CodebookError(f"{what} in the rules of {self.where}", file=self.path, line=line, fix=fix)


def _item_lines(seq, fallback: int | None) -> list[int | None]:
    lines = getattr(seq, "lines", None)
    if isinstance(lines, list) and len(lines) == len(seq):
        return lines
    return [getattr(seq, "line", None) or fallback] * len(seq)


def _check_unknown(mapping: dict, allowed: frozenset[str], ctx: _Ctx, what: str) -> None:
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(sorted(allowed))}"
            raise ctx.error(f"unknown key '{key}'" + (f" in {what}" if what else ""), line_of(mapping, key), hint)


def _parse_term(text: str, ctx: _Ctx, line: int | None, *, exact: bool = False) -> Term:
    words = text.split()
    if not words:
        raise ctx.error("empty word or phrase", line, "write a word or phrase, or remove the empty item")
    for w in words:
        core = w[:-1] if w.endswith("?") and len(w) > 1 else w
        if core.startswith("*") and core != "*":
            raise ctx.error(
                f"'{w}': a wildcard can only end a word",
                line,
                "write e.g. 'traffick*' (words starting with traffick) or use regex:",
            )
        if "*" in core.rstrip("*"):
            raise ctx.error(f"'{w}': a wildcard can only end a word", line, "put * at the end of the word")
    if all(w.endswith("?") and len(w) > 1 for w in words):
        raise ctx.error(f"'{text}': every word is optional (ends with ?)", line, "keep at least one word without '?'")
    if all(w in ("*", "*?") for w in words):
        raise ctx.error(f"'{text}' matches any word", line, "add at least one real word")
    return Term(" ".join(words), exact=exact)


def _parse_regex(value, ctx: _Ctx, line: int | None, case_sensitive: bool) -> Regex:
    if not isinstance(value, str) or not value:
        raise ctx.error("'regex' needs a non-empty text", line, "write regex: '\\bdebts?\\b' (single quotes)")
    try:
        compiled = re.compile(value, 0 if case_sensitive else re.IGNORECASE)
    except re.error as exc:
        raise ctx.error(
            f"regular expression does not compile ({exc.msg} at position {exc.pos})",
            line,
            "check brackets and backslashes; put the expression in single quotes",
        ) from None
    if compiled.match(""):
        raise ctx.error("regular expression matches empty text", line, "make it match at least one character")
    return Regex(value, case_sensitive)


_TOKEN_ATTRS = frozenset(
    """ORTH TEXT LOWER LEMMA NORM POS TAG MORPH DEP ENT_TYPE ENT_IOB ENT_ID ENT_KB_ID SHAPE PREFIX SUFFIX LENGTH
    IS_ALPHA IS_ASCII IS_DIGIT IS_LOWER IS_UPPER IS_TITLE IS_PUNCT IS_SPACE IS_STOP IS_SENT_START
    IS_BRACKET IS_QUOTE IS_LEFT_PUNCT IS_RIGHT_PUNCT IS_CURRENCY LIKE_NUM LIKE_URL LIKE_EMAIL SPACY
    SENT_START OP _""".split()
)


def _freeze(obj):
    if isinstance(obj, dict):
        return tuple(sorted((str(k), _freeze(v)) for k, v in obj.items()))
    if isinstance(obj, list):
        return tuple(_freeze(v) for v in obj)
    return obj


def _plain(obj):
    """LineDict/LineList -> plain dict/list (spaCy wants plain containers)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def _parse_pattern(value, ctx: _Ctx, line: int | None):
    fix = "write pattern: [{LEMMA: hit}, {LOWER: me}] — a list of token descriptions"
    if not isinstance(value, list) or not value:
        raise ctx.error("'pattern' must be a non-empty list of token descriptions", line, fix)
    if all(isinstance(v, list) for v in value):  # several patterns: any of them
        return AnyOf([_parse_pattern(v, ctx, ln) for v, ln in zip(value, _item_lines(value, line))])
    for tok, tline in zip(value, _item_lines(value, line)):
        if not isinstance(tok, dict):
            raise ctx.error("each token of a 'pattern' must be a mapping like {LOWER: me}", tline, fix)
        for attr in tok:
            if str(attr).upper() not in _TOKEN_ATTRS:
                close = difflib.get_close_matches(str(attr).upper(), sorted(_TOKEN_ATTRS), n=1)
                raise ctx.error(
                    f"unknown token attribute '{attr}' in a pattern",
                    line_of(tok, attr) or tline,
                    f"did you mean '{close[0]}'?" if close else "see spaCy's Matcher token attributes",
                )
            if str(attr) != str(attr).upper() and attr != "_":
                raise ctx.error(
                    f"token attribute '{attr}' must be upper case",
                    line_of(tok, attr) or tline,
                    f"write {str(attr).upper()}",
                )
    plain = _plain(value)
    if ctx.deep:
        errors = _spacy_pattern_errors(plain)
        if errors:
            raise ctx.error(f"spaCy token pattern is not valid ({errors[0]})", line, fix)
    return TokenPattern(_freeze(plain), raw=plain, line=line)


def _spacy_pattern_errors(pattern: list) -> list[str]:
    """spaCy's own schema check (imports spaCy, so only called when a pattern exists)."""
    try:
        from spacy.schemas import validate_token_pattern
    except ImportError:  # pragma: no cover - spaCy is a dependency
        return []
    return [str(e).replace("\n", " ") for e in validate_token_pattern(pattern)]


def _parse_within(mapping, ctx: _Ctx, default: int) -> int:
    if "within" not in mapping:
        return default
    value = mapping["within"]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WITHIN:
        raise ctx.error(
            "'within' must be a whole number of words (0-200)", line_of(mapping, "within"), "write e.g. within: 5"
        )
    return value


def _parse_negation(mapping, ctx: _Ctx) -> str | None:
    if "negation" not in mapping:
        return None
    value = mapping["negation"]
    if value not in NEGATION_MODES:
        raise ctx.error(
            f"unknown negation mode '{value}'",
            line_of(mapping, "negation"),
            "use exclude (default: negated mentions do not count), require (only negated "
            "mentions count) or allow (both count)",
        )
    return value


def _parse_condition(value, ctx: _Ctx, line: int | None, within: int, case_sensitive: bool = False):
    """A condition: a text (word/phrase), a list (any of), or a mapping with one condition key."""
    if isinstance(value, bool) or value is None:
        raise ctx.error(
            f"'{value}' is not a word, a list or a condition", line, 'quote words like yes/no/true/null: "no"'
        )
    if isinstance(value, (str, int, float)):
        return _parse_term(str(value), ctx, line)
    if isinstance(value, list):
        if not value:
            raise ctx.error("empty list", line, "add at least one word or condition, or remove the list")
        items = [_parse_condition(v, ctx, ln, within, case_sensitive) for v, ln in zip(value, _item_lines(value, line))]
        return items[0] if len(items) == 1 else AnyOf(items)
    if isinstance(value, dict):
        _check_unknown(value, NESTED_KEYS, ctx, "a condition")
        return _parse_mapping_condition(value, ctx, within, case_sensitive)
    raise ctx.error("a condition must be a word, a list or a mapping", line, "see docs/code.md for the rule language")


def _parse_mapping_condition(mapping: dict, ctx: _Ctx, within: int, case_sensitive: bool):
    keys = [k for k in CONDITION_KEYS if k in mapping]
    mline = line_of(mapping)
    if not keys:
        raise ctx.error("no condition", mline, f"add one of: {', '.join(CONDITION_KEYS)}")
    if len(keys) > 1:
        raise ctx.error(
            f"several conditions ({', '.join(keys)}) in one item",
            line_of(mapping, keys[1]),
            "write each as its own list item (the code applies when any item matches), or combine them with all: [...]",
        )
    key = keys[0]
    kline = line_of(mapping, key)
    if "case_sensitive" in mapping:
        if key != "regex":
            raise ctx.error(
                "'case_sensitive' only applies to regex",
                line_of(mapping, "case_sensitive"),
                "remove it (words always match regardless of case)",
            )
        if not isinstance(mapping["case_sensitive"], bool):
            raise ctx.error(
                "'case_sensitive' must be true or false",
                line_of(mapping, "case_sensitive"),
                "write case_sensitive: true",
            )
        case_sensitive = mapping["case_sensitive"]
    if "within" in mapping and key != "near":
        raise ctx.error(
            "'within' only applies to near",
            line_of(mapping, "within"),
            "use near: [..., ...] with within: N, or remove within",
        )
    if "in_order" in mapping and (key != "near" or not isinstance(mapping["in_order"], bool)):
        raise ctx.error(
            "'in_order' is true or false and only applies to near",
            line_of(mapping, "in_order"),
            "write near: [[owner, boss], [beat, hit]] with in_order: true",
        )
    value = mapping[key]
    if key == "regex":
        node = _parse_regex(value, ctx, kline, case_sensitive)
    elif key == "pattern":
        node = _parse_pattern(value, ctx, kline)
    elif key == "exact":
        vals = value if isinstance(value, list) else [value]
        if not vals or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in vals):
            raise ctx.error("'exact' takes a word, a phrase or a list of them", kline, 'write exact: "used to"')
        terms = [_parse_term(str(v), ctx, ln, exact=True) for v, ln in zip(vals, _item_lines(vals, kline))]
        node = terms[0] if len(terms) == 1 else AnyOf(terms)
    else:
        if not isinstance(value, list) or not value:
            raise ctx.error(f"'{key}' needs a list", kline, f'write {key}: [word, "a phrase", ...]')
        items = [
            _parse_condition(v, ctx, ln, within, case_sensitive) for v, ln in zip(value, _item_lines(value, kline))
        ]
        if key == "any":
            node = items[0] if len(items) == 1 else AnyOf(items)
        elif key == "all":
            node = AllOf(items)
        else:
            if len(items) < 2:
                raise ctx.error(
                    "'near' needs at least two items",
                    kline,
                    "write near: [[owner, boss], [beat, hit]] (each item a word or a list)",
                )
            node = Near(items, _parse_within(mapping, ctx, within), bool(mapping.get("in_order", False)))
    mode = _parse_negation(mapping, ctx)
    return Negated(mode, node) if mode else node


@dataclass
class _Settings:
    unit: str | None = None
    roles: tuple[str, ...] | None = None
    speakers: tuple[str, ...] | None = None
    negation: str | None = None
    within: int | None = None
    exclude: list = field(default_factory=list)  # inherited exclusions (not:)
    require: list = field(default_factory=list)  # inherited requirements (only_if:)

    def merged(self, other: _Settings) -> _Settings:
        return _Settings(
            unit=other.unit or self.unit,
            roles=other.roles if other.roles is not None else self.roles,
            speakers=other.speakers if other.speakers is not None else self.speakers,
            negation=other.negation or self.negation,
            within=other.within if other.within is not None else self.within,
            exclude=self.exclude + other.exclude,
            require=self.require + other.require,
        )


def _parse_settings(mapping: dict, ctx: _Ctx, within_default: int) -> _Settings:
    s = _Settings()
    if "unit" in mapping:
        if mapping["unit"] not in UNITS:
            raise ctx.error(
                f"unknown unit '{mapping['unit']}'", line_of(mapping, "unit"), "use sentence, turn or paragraph"
            )
        s.unit = mapping["unit"]
    if "roles" in mapping:
        roles = mapping["roles"]
        roles = [roles] if isinstance(roles, str) else roles
        if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
            bad = next((r for r in (roles or []) if r not in ROLES), roles) if isinstance(roles, list) else roles
            extra = " (metadata lines such as Note: are never coded)" if bad == "metadata" else ""
            raise ctx.error(
                f"unknown role '{bad}'{extra}",
                line_of(mapping, "roles"),
                "use roles: [respondent] or [respondent, interviewer]",
            )
        s.roles = tuple(roles)
    if "speakers" in mapping:
        spk = mapping["speakers"]
        spk = [spk] if isinstance(spk, (str, int)) else spk
        if not isinstance(spk, list) or not spk or not all(isinstance(x, (str, int)) and str(x).strip() for x in spk):
            raise ctx.error(
                "'speakers' must be a list of speaker labels",
                line_of(mapping, "speakers"),
                'write speakers: [R, Respondent, "P*"] (* matches any characters)',
            )
        s.speakers = tuple(str(x).strip().lower() for x in spk)
    s.negation = _parse_negation(mapping, ctx)
    if "within" in mapping:
        s.within = _parse_within(mapping, ctx, within_default)
    if "not" in mapping:
        s.exclude = [_parse_condition(mapping["not"], ctx, line_of(mapping, "not"), s.within or within_default)]
    if "only_if" in mapping:
        s.require = [_parse_condition(mapping["only_if"], ctx, line_of(mapping, "only_if"), s.within or within_default)]
    return s


def _subset(raw: dict, keys) -> dict:
    """The items of *raw* whose key is in *keys*, keeping YAML line numbers."""
    from ..yamlutil import LineDict

    out = LineDict((k, v) for k, v in raw.items() if k in keys)
    out.line = getattr(raw, "line", None)
    lines = getattr(raw, "lines", {}) or {}
    out.lines = {k: lines.get(k, out.line) for k in out}
    return out


def _parse_alternative(raw, ctx: _Ctx, line: int | None, inherited: _Settings) -> Alternative:
    within = inherited.within if inherited.within is not None else DEFAULT_WITHIN
    if isinstance(raw, dict):
        _check_unknown(raw, ALTERNATIVE_KEYS, ctx, "a rule")
        cond_map = _subset(raw, ALTERNATIVE_KEYS - {"not", "negation", "only_if"})
        condition = _parse_mapping_condition(cond_map, ctx, within, False)
        negation = _parse_negation(raw, ctx) or inherited.negation or "exclude"
        excl = list(inherited.exclude)
        if "not" in raw:
            excl.append(_parse_condition(raw["not"], ctx, line_of(raw, "not"), within))
        req = list(inherited.require)
        if "only_if" in raw:
            req.append(_parse_condition(raw["only_if"], ctx, line_of(raw, "only_if"), within))
        line = line_of(raw)
    else:
        condition = _parse_condition(raw, ctx, line, within)
        negation = inherited.negation or "exclude"
        excl = list(inherited.exclude)
        req = list(inherited.require)
    exclude = None if not excl else (excl[0] if len(excl) == 1 else AnyOf(excl))
    return Alternative(condition=condition, exclude=exclude, negation=negation, line=line, require=req)


def parse_code_rules(
    raw,
    *,
    code: str,
    path: Path | None = None,
    line: int | None = None,
    inherited: _Settings | None = None,
    deep: bool = False,
) -> CodeRules:
    """Parse one code's ``rules:`` value (a mapping or a list of alternatives)."""
    ctx = _Ctx(path, f"code '{code}'", deep)
    inherited = inherited or _Settings()
    rline = getattr(raw, "line", None) or line
    if isinstance(raw, list):
        if not raw:
            raise ctx.error("empty rules list", rline, "add rules or remove 'rules:'")
        own = _Settings()
        alts_raw, alt_lines = raw, _item_lines(raw, rline)
    elif isinstance(raw, dict):
        _check_unknown(raw, CODE_RULE_KEYS, ctx, "")
        within_default = inherited.within if inherited.within is not None else DEFAULT_WITHIN
        own = _parse_settings(_subset(raw, SHARED_SETTING_KEYS), ctx, within_default)
        conds = [k for k in CONDITION_KEYS if k in raw]
        if "match" in raw:
            if conds:
                raise ctx.error(
                    f"both 'match' and '{conds[0]}'", line_of(raw, conds[0]), f"move {conds[0]}: into the match: list"
                )
            alts_raw = raw["match"]
            if not isinstance(alts_raw, list) or not alts_raw:
                raise ctx.error(
                    "'match' must be a non-empty list of rules",
                    line_of(raw, "match"),
                    "write match: followed by '- any: [...]' items",
                )
            alt_lines = _item_lines(alts_raw, line_of(raw, "match"))
        elif conds:
            if len(conds) > 1:
                raise ctx.error(
                    f"several conditions ({', '.join(conds)}) in one rule",
                    line_of(raw, conds[1]),
                    "make rules a list with one condition per item (the code applies when any "
                    "item matches), or combine them with all: [...]",
                )
            alt = _subset(raw, {conds[0], "within", "in_order", "case_sensitive"})
            alts_raw, alt_lines = [alt], [rline]
        else:
            raise ctx.error(
                "rules without a condition", rline, f"add one of {', '.join(CONDITION_KEYS)} (or a match: list)"
            )
        if "case_sensitive" in raw and not conds:
            raise ctx.error(
                "'case_sensitive' only applies to regex",
                line_of(raw, "case_sensitive"),
                "put it next to the regex: it applies to",
            )
    else:
        raise ctx.error(
            "'rules' must be a mapping or a list",
            rline,
            "write rules: followed by 'any: [...]' or a list of '- any: [...]' items",
        )
    settings = inherited.merged(own)
    alternatives = [_parse_alternative(a, ctx, ln, settings) for a, ln in zip(alts_raw, alt_lines)]
    roles = settings.roles or (ROLES if settings.speakers else ("respondent",))
    return CodeRules(
        code=code,
        alternatives=alternatives,
        unit=settings.unit,
        roles=tuple(roles),
        speakers=tuple(settings.speakers or ()),
        line=rline,
    )


def _shared_settings(raw, ctx: _Ctx, where: str, *, strict: bool) -> _Settings:
    if raw is None:
        return _Settings()
    if not isinstance(raw, dict):
        raise ctx.error(
            f"{where} must be a mapping", getattr(raw, "line", None), "write e.g. unit: sentence on the lines under it"
        )
    if strict:
        _check_unknown(raw, SHARED_SETTING_KEYS, ctx, where)
    relevant = {}
    for key, value in raw.items():
        if key in SHARED_SETTING_KEYS:
            relevant[key] = value
        else:
            # codebook defaults may carry settings other commands read; flag only likely typos
            close = difflib.get_close_matches(str(key), sorted(SHARED_SETTING_KEYS), n=1, cutoff=0.75)
            if close:
                raise ctx.error(f"unknown key '{key}' in {where}", line_of(raw, key), f"did you mean '{close[0]}'?")
    return _parse_settings(_subset(raw, set(relevant)), ctx, DEFAULT_WITHIN)


def parse_codebook_rules(cb, *, deep: bool = False) -> list[CodeRules]:
    """Parse and validate every code's rules; raises CodebookError naming file, line and fix.

    *deep* also checks token patterns against spaCy's schema (imports spaCy);
    loading a codebook does the cheap structural check only, compiling it
    (``qualkit code``, ``qualkit codebook validate``) does the full one.
    """
    path = getattr(cb, "path", None)
    base = _shared_settings(
        getattr(cb, "defaults", None), _Ctx(path, "the codebook defaults"), "defaults", strict=False
    )
    base.unit = None  # the codebook's default unit is the run's default (code_documents), not a rule
    out: list[CodeRules] = []
    for theme in cb.themes:
        tctx = _Ctx(path, f"theme '{theme.id}'", deep)
        tset = base.merged(_shared_settings(theme.rules, tctx, "the theme's rules", strict=True))
        for code in theme.walk():
            if code.rules is None:
                continue
            out.append(
                parse_code_rules(code.rules, code=code.path, path=path, line=code.line, inherited=tset, deep=deep)
            )
    return out


def validate_codebook_rules(cb) -> None:
    """Called by :func:`qualkit.codebook.load_codebook`: raise on malformed rules."""
    parse_codebook_rules(cb)


# =========================================================================== word forms


class WordForms:
    """Inflected forms of a base word from the pipeline's own lemmatizer tables.

    ``forms("beat")`` -> {beat, beats, beaten, beating, ...}: regular forms are the
    lemmatizer's suffix rules run backwards (only for words the tables know as a
    lemma of that part of speech), irregular forms come from its exception table.
    Without tables (a blank pipeline) only the word and its -s plural are used.
    """

    def __init__(self, nlp=None):
        self.rules: dict[str, list] = {}
        self.index: dict[str, set] = {}
        self.exc_rev: dict[str, set[str]] = {}
        self.exc: dict[str, set[str]] = {}
        self._cache: dict[str, frozenset[str]] = {}
        lem = None
        if nlp is not None and "lemmatizer" in getattr(nlp, "pipe_names", ()):
            lem = nlp.get_pipe("lemmatizer")
        lookups = getattr(lem, "lookups", None)
        if lookups is None:
            return
        try:
            rules = lookups.get_table("lemma_rules")
            index = lookups.get_table("lemma_index")
            exc = lookups.get_table("lemma_exc")
        except KeyError:
            return
        for pos in ("noun", "verb", "adj"):
            if pos in rules:
                self.rules[pos] = [tuple(r) for r in rules[pos]]
            if pos in index:
                self.index[pos] = set(index[pos])
            if pos in exc:
                for form, lemmas in exc[pos].items():
                    for lemma in lemmas:
                        self.exc_rev.setdefault(lemma, set()).add(form)
                        self.exc.setdefault(form, set()).add(lemma)

    def lemmas(self, word: str) -> set[str]:
        """Base forms of a (possibly inflected) word, including the word itself."""
        w = word.lower()
        out = {w}
        if any(w in self.index.get(pos, ()) for pos in ("noun", "verb", "adj")):
            return out  # a word in its own right ("caring", "beating", "guarded"): not widened
        out |= self.exc.get(w, set())
        for pos in ("noun", "verb"):
            idx = self.index.get(pos, set())
            if w in idx:
                continue
            for old, new in self.rules.get(pos, []):
                if old and w.endswith(old):
                    cand = w[: len(w) - len(old)] + new
                    if cand and cand in idx:
                        out.add(cand)
                        break
        return out

    def forms(self, word: str) -> frozenset[str]:
        w = word.lower()
        if w in self._cache:
            return self._cache[w]
        out: set[str] = set()
        for base in self.lemmas(w):
            out |= self._forms_of_lemma(base)
        out.add(w)
        result = frozenset(out)
        self._cache[w] = result
        return result

    def _forms_of_lemma(self, w: str) -> set[str]:
        out = {w} | self.exc_rev.get(w, set())
        if not self.rules:
            if w.isalpha() and len(w) > 2:
                out.add(w + "s")
            return out
        if not w.isalpha() or len(w) <= 2:
            return out
        noun_verb = self.index.get("noun", set()) | self.index.get("verb", set())
        for pos, pos_rules in self.rules.items():
            if w not in self.index.get(pos, set()):
                continue
            for old, new in pos_rules:
                if new and not w.endswith(new):
                    continue
                cand = (w[: len(w) - len(new)] if new else w) + old
                if cand == w or not cand:
                    continue
                if pos == "adj" and cand in noun_verb:
                    continue  # "own" must not give "owner"
                out.add(cand)
        return out


# =========================================================================== compile + apply


@dataclass
class _DocScan:
    """Occurrences of every leaf key in one Doc, plus per-token helpers."""

    doc: Any
    occ: list[tuple[int, int, str]]  # (start token, end token, key), sorted
    starts: list[int]
    word_index: list[int]  # non-space tokens before each token (for distances)
    sent_start: list[int]
    _neg: dict = field(default_factory=dict)

    def in_range(self, ts: int, te: int) -> dict[str, list[tuple[int, int]]]:
        out: dict[str, list[tuple[int, int]]] = {}
        i = bisect_left(self.starts, ts)
        while i < len(self.occ) and self.occ[i][0] < te:
            s, e, k = self.occ[i]
            if e <= te:
                out.setdefault(k, []).append((s, e))
            i += 1
        return out

    def negated(self, s: int, e: int) -> bool:
        key = (s, e)
        if key not in self._neg:
            self._neg[key] = _is_negated(self.doc, s, e, self.sent_start[s], self.word_index)
        return self._neg[key]

    def gap(self, occs: Iterable[tuple[int, int]]) -> int:
        occs = list(occs)
        hi_start = max(o[0] for o in occs)
        lo_end = min(o[1] for o in occs)
        if hi_start <= lo_end:
            return 0
        return self.word_index[hi_start] - self.word_index[lo_end]


def _is_negated(doc, s: int, e: int, sent_start: int, word_index: list[int]) -> bool:
    """Is the match doc[s:e] negated? Cues inside the match do not count.

    1. a cue (not, n't, never, no, nobody, without, ...) up to five words before
       the match in the same clause: the search stops at punctuation, at words
       such as but/because/that/if, and at the subject of a new clause;
    2. the syntax: a ``neg`` dependent (or a "no" determiner, a negative subject
       such as "nobody") on the match or on the words that govern it, climbing
       through objects, prepositions and conjoined verbs without their own subject.
    """
    # 1. window before the match
    words = 0
    i = s - 1
    while i >= sent_start and words < NEGATION_WINDOW:
        tok = doc[i]
        i -= 1
        if tok.is_space:
            continue
        low = tok.lower_
        words += 1
        if low in NEGATION_CUES:
            if low == "not" and i + 2 < len(doc) and doc[i + 2].lower_ == "only":
                continue  # "not only ... but also"
            if low == "no" and (tok.dep_ in ("intj", "ROOT") or (i + 2 < len(doc) and doc[i + 2].is_punct)):
                return False  # "No, ..." answers a question; it does not negate what follows
            return True
        if low in _BREAK_PUNCT or tok.is_punct and low not in ("'", "’", "-"):
            break
        if low in _SCOPE_BREAKS or tok.dep_ in ("nsubj", "nsubjpass", "expl"):
            break
    # 2. syntax
    span = doc[s:e]
    inside = set(range(s, e))

    def negating_child(tok) -> bool:
        for child in tok.children:
            if child.i in inside:
                continue
            low = child.lower_
            if child.dep_ == "neg" and low != "only":
                return True
            if child.dep_ in ("det", "advmod") and low in ("no", "never"):
                return True
            if child.dep_ in ("nsubj", "nsubjpass") and (
                low in _NEG_SUBJECTS or any(g.dep_ == "det" and g.lower_ == "no" for g in child.children)
            ):
                return True
        return False

    for tok in span:
        if negating_child(tok):
            return True
    cur = span.root
    for _ in range(6):
        head = cur.head
        if head is cur:
            break
        if cur.dep_ == "conj":
            # "I didn't drink or smoke" distributes; "..., but the owner beat me" does not
            if any(c.dep_ in ("nsubj", "nsubjpass") for c in cur.children) or any(
                c.lower_ in ("but", "yet") for c in head.children if c.dep_ == "cc"
            ):
                break
        if cur.dep_ in ("ccomp", "advcl", "relcl", "acl", "csubj", "parataxis"):
            break
        cur = head
        if cur.i not in inside:
            if cur.lower_ in ("without", "never", "no"):
                return True
            if negating_child(cur):
                return True
    return False


class _TermIndex:
    """All words and phrases of a codebook, found with one dictionary lookup per token.

    A word spec matches a token when the token's lower-case text is one of the
    word's forms or its lemma is one of the word's lemmas; phrases continue over
    line breaks (space tokens); "word?" is optional, "pre*" a prefix, "*" any word.
    (spaCy's Matcher evaluates every pattern's predicates on every token: with
    thousands of inflected phrases that is ~10x slower than this index.)
    """

    def __init__(self):
        self.by_word: dict[str, list[tuple[str, int]]] = {}  # form or lemma -> [(key, spec index)]
        self.scan_always: list[tuple[str, int]] = []  # terms that may start with a prefix or any word
        self.specs: dict[str, list[tuple]] = {}

    def add(self, key: str, specs: list[tuple]) -> None:
        if key in self.specs or not specs:
            return
        self.specs[key] = specs
        for i, (kind, forms, lemmas, optional) in enumerate(specs):
            if kind == "word":
                for w in forms | lemmas:
                    self.by_word.setdefault(w, []).append((key, i))
            else:
                self.scan_always.append((key, i))
            if not optional:
                break  # a match can only start at or before the first required word

    @staticmethod
    def _ok(spec, low: str, lemma: str, tok) -> bool:
        kind, forms, lemmas, _opt = spec
        if kind == "word":
            return low in forms or lemma in lemmas
        if kind == "prefix":
            return low.startswith(next(iter(forms)))
        return not (tok.is_space or tok.is_punct)

    def find(self, doc) -> set[tuple[int, int, str]]:
        if not self.specs:
            return set()
        n = len(doc)
        lows, lemmas, space = [], [], []
        for t in doc:
            lows.append(t.lower_)
            lemmas.append(t.lemma_.lower())
            space.append(t.is_space)
        found: set[tuple[int, int, str]] = set()
        for i in range(n):
            if space[i]:
                continue
            starts = list(self.by_word.get(lows[i], ()))
            if lemmas[i] != lows[i]:
                starts += self.by_word.get(lemmas[i], ())
            starts += self.scan_always
            for key, k in starts:
                specs = self.specs[key]
                if not self._ok(specs[k], lows[i], lemmas[i], doc[i]):
                    continue
                for end in self._rest(specs, k + 1, i + 1, doc, lows, lemmas, space, n):
                    found.add((i, end, key))
        return found

    def _rest(self, specs, k: int, j: int, doc, lows, lemmas, space, n):
        """End positions of matches of specs[k:] starting at token j (space tokens skipped)."""
        if k == len(specs):
            yield j
            return
        spec = specs[k]
        if spec[3]:  # optional: try without it
            yield from self._rest(specs, k + 1, j, doc, lows, lemmas, space, n)
        while j < n and space[j]:
            j += 1
        if j < n and self._ok(spec, lows[j], lemmas[j], doc[j]):
            yield from self._rest(specs, k + 1, j + 1, doc, lows, lemmas, space, n)


class CompiledCodebook:
    """A codebook's rules compiled for one pipeline: one Matcher, regexes, per-code trees."""

    def __init__(self, cb, nlp, rules: list[CodeRules] | None = None):
        from spacy.errors import MatchPatternError
        from spacy.matcher import Matcher

        self.codebook = cb
        self.nlp = nlp
        self.rules = rules if rules is not None else parse_codebook_rules(cb, deep=True)
        self.forms = WordForms(nlp)
        self.matcher = Matcher(nlp.vocab, validate=True)  # token patterns only
        self.terms = _TermIndex()  # words and phrases: a dictionary lookup per token
        self.regexes: dict[str, re.Pattern] = {}
        self._keys_by_hash: dict[int, str] = {}
        order = {c.path: i for i, c in enumerate(cb.iter_codes())}
        self.rules.sort(key=lambda r: order.get(r.code, len(order)))
        self.positive = {r.code: r.positive_keys() for r in self.rules}
        path = getattr(cb, "path", None)
        seen: set[str] = set()
        for r in self.rules:
            for leaf in r.leaves():
                if leaf.key in seen:
                    continue
                seen.add(leaf.key)
                if isinstance(leaf, Regex):
                    self.regexes[leaf.key] = re.compile(leaf.pattern, 0 if leaf.case_sensitive else re.IGNORECASE)
                    continue
                if isinstance(leaf, Term):
                    self.terms.add(leaf.key, self._term_specs(leaf))
                    continue
                try:
                    self.matcher.add(leaf.key, [list(leaf.raw)])
                except (MatchPatternError, ValueError) as exc:
                    raise CodebookError(
                        f"spaCy cannot use a pattern in the rules of code '{r.code}' "
                        f"({str(exc).splitlines()[0][:120]})",
                        file=path,
                        line=getattr(leaf, "line", None) or r.line,
                        fix="check the token attributes and values",
                    ) from None
                self._keys_by_hash[nlp.vocab.strings[leaf.key]] = leaf.key
        self.units_used = {r.unit for r in self.rules}
        self._compiled_alts = {
            r.code: [
                Alternative(
                    condition=_optimize(a.condition),
                    exclude=None if a.exclude is None else _optimize(a.exclude),
                    negation=a.negation,
                    line=a.line,
                    require=[_optimize(q) for q in a.require],
                )
                for a in r.alternatives
            ]
            for r in self.rules
        }

    # -- terms -> word specs for the term index
    def _term_specs(self, term: Term) -> list[tuple]:
        """(kind, forms, lemmas, optional) per word: kind "word", "prefix" or "any"."""
        specs: list[tuple] = []
        for chunk in term.text.split():
            optional = chunk.endswith("?") and len(chunk) > 1
            core = chunk[:-1] if optional else chunk
            if core == "*":
                specs.append(("any", frozenset(), frozenset(), optional))
            elif core.endswith("*"):
                specs.append(("prefix", frozenset({core[:-1].lower()}), frozenset(), optional))
            else:
                for t in self.nlp.tokenizer(core):
                    low = t.lower_
                    if term.exact:
                        specs.append(("word", frozenset({low}), frozenset(), optional))
                    else:
                        specs.append(("word", self.forms.forms(low), frozenset(self.forms.lemmas(low)), optional))
        return specs

    # -- per document
    def scan(self, doc) -> _DocScan:
        found: set[tuple[int, int, str]] = self.terms.find(doc)
        for match_id, s, e in self.matcher(doc) if len(self.matcher) else ():
            key = self._keys_by_hash.get(match_id)
            if key is not None and e > s:
                # trim spaces the gap tokens may have swallowed at the ends
                found.add((s, e, key))
        if self.regexes:
            text = doc.text
            for key, rx in self.regexes.items():
                for m in rx.finditer(text):
                    if m.end() <= m.start():
                        continue
                    span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
                    if span is not None and len(span):
                        found.add((span.start, span.end, key))
        occ = sorted(found)
        word_index: list[int] = []
        n = 0
        for tok in doc:
            word_index.append(n)
            if not tok.is_space:
                n += 1
        word_index.append(n)
        sent_start = [0] * (len(doc) + 1)
        for sent in doc.sents:
            for i in range(sent.start, sent.end):
                sent_start[i] = sent.start
        return _DocScan(doc, occ, [o[0] for o in occ], word_index, sent_start)

    def codes_for(
        self, scan: _DocScan, ts: int, te: int, *, unit: str, role: str, speaker: str | None, default_unit: str
    ) -> list[str]:
        """Codes whose rules match tokens [ts, te) of a unit of kind *unit*."""
        present = scan.in_range(ts, te)
        if not present:
            return []
        keys = set(present)
        out = []
        for r in self.rules:
            if (r.unit or default_unit) != unit:
                continue
            if not (self.positive[r.code] & keys):
                continue
            if not r.applies_to(role, speaker):
                continue
            if any(self._alternative_matches(alt, present, scan) for alt in self._compiled_alts[r.code]):
                out.append(r.code)
        return out

    def _alternative_matches(self, alt: Alternative, present, scan: _DocScan) -> bool:
        hits = _evaluate(Negated(alt.negation, alt.condition), present, scan, alt.negation)
        if not hits:
            return False
        if alt.exclude is not None and _evaluate(alt.exclude, present, scan, "allow"):
            return False
        return all(_evaluate(req, present, scan, "allow") for req in alt.require)


@dataclass(frozen=True)
class _KeySet:
    """Compiled form of "any of these words/regexes/patterns": their keys."""

    keys: frozenset


def _optimize(node):
    """Collapse any-of lists of plain leaves into one key set (evaluation speed only)."""
    if isinstance(node, AnyOf):
        items = [_optimize(i) for i in node.items]
        leaves = [i for i in items if isinstance(i, (Term, Regex, TokenPattern, _KeySet))]
        others = [i for i in items if not isinstance(i, (Term, Regex, TokenPattern, _KeySet))]
        keys = frozenset(k for leaf in leaves for k in (leaf.keys if isinstance(leaf, _KeySet) else (leaf.key,)))
        if not others:
            return _KeySet(keys)
        return AnyOf(([_KeySet(keys)] if keys else []) + others)
    if isinstance(node, (Term, Regex, TokenPattern)):
        return _KeySet(frozenset({node.key}))
    if isinstance(node, AllOf):
        return AllOf([_optimize(i) for i in node.items])
    if isinstance(node, Near):
        return Near([_optimize(i) for i in node.items], node.within, node.in_order)
    if isinstance(node, Negated):
        return Negated(node.mode, _optimize(node.item))
    return node


def _evaluate(node, present: dict, scan: _DocScan, mode: str) -> list[tuple[int, int]]:
    """Occurrences that satisfy *node* in the unit (empty list = no match)."""
    if isinstance(node, _KeySet):
        out = []
        keys = node.keys
        for k, occs in present.items():
            if k in keys:
                out.extend(occs)
        if mode == "exclude" and out:
            return [o for o in out if not scan.negated(*o)]
        return out
    if isinstance(node, (Term, Regex, TokenPattern)):
        occs = present.get(node.key, [])
        if mode == "exclude":
            return [o for o in occs if not scan.negated(*o)]
        return list(occs)
    if isinstance(node, Negated):
        inner = "allow" if node.mode == "require" else node.mode
        hits = _evaluate(node.item, present, scan, inner)
        if node.mode == "require" and not any(scan.negated(*o) for o in hits):
            return []
        return hits
    if isinstance(node, AnyOf):
        out: list = []
        for item in node.items:
            out.extend(_evaluate(item, present, scan, mode))
        return out
    if isinstance(node, AllOf):
        out = []
        for item in node.items:
            hits = _evaluate(item, present, scan, mode)
            if not hits:
                return []
            out.extend(hits)
        return out
    if isinstance(node, Near):
        lists = []
        for item in node.items:
            hits = _evaluate(item, present, scan, mode)
            if not hits:
                return []
            lists.append(sorted(set(hits)))
        out = []
        total = 1
        for lst in lists:
            total *= len(lst)
        if total > 20000:  # pathological: keep the closest few of each
            lists = [lst[:20] for lst in lists]
        for combo in itertools.product(*lists):
            if node.in_order and any(combo[i][0] < combo[i - 1][1] for i in range(1, len(combo))):
                continue
            if scan.gap(combo) <= node.within:
                out.extend(combo)
        return out
    raise TypeError(node)  # pragma: no cover


_compiled: dict[tuple[int, int], CompiledCodebook] = {}


def compile_codebook(cb, nlp) -> CompiledCodebook:
    """Compile (once per codebook object and pipeline) the codebook's rules."""
    key = (id(cb), id(nlp))
    hit = _compiled.get(key)
    if hit is not None and hit.codebook is cb and hit.nlp is nlp:
        return hit
    compiled = CompiledCodebook(cb, nlp)
    if len(_compiled) > 16:
        _compiled.clear()
    _compiled[key] = compiled
    return compiled
