"""Parsing and validation of a codebook's ``rules:`` into the rule tree.

Owns every check a rule gets before it is applied (unknown keys with a
"did you mean", malformed words, regexes that do not compile or match empty
text, token patterns, settings inherited from the codebook defaults and the
theme) and the error messages that name file, line and fix. Needs no spaCy
unless *deep* (spaCy's own token-pattern schema) is asked for.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import regex

from ...errors import CodebookError
from ...yamlutil import line_of
from .model import (
    ALTERNATIVE_KEYS,
    CODE_RULE_KEYS,
    CONDITION_KEYS,
    DEFAULT_WITHIN,
    HYPOTHETICAL_MODES,
    MAX_WITHIN,
    NEGATION_MODES,
    NESTED_KEYS,
    PERSPECTIVES,
    ROLES,
    SCOPES,
    SHARED_SETTING_KEYS,
    UNITS,
    AllOf,
    Alternative,
    AnyOf,
    CodeRules,
    Near,
    Negated,
    Regex,
    Term,
    TokenPattern,
)
from .safe_regex import backtracks, compile_rule_regex


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
        compiled = compile_rule_regex(value, case_sensitive)
    except regex.error as exc:
        raise ctx.error(
            f"regular expression does not compile ({exc.msg} at position {exc.pos})",
            line,
            "check brackets and backslashes; put the expression in single quotes",
        ) from None
    if compiled.match(""):
        raise ctx.error("regular expression matches empty text", line, "make it match at least one character")
    if backtracks(compiled):
        raise ctx.error(
            "regular expression can take minutes on a short line (catastrophic backtracking)",
            line,
            "do not repeat a group whose parts can match the same text: '(a|aa)+' -> 'a+', '(\\w+\\s?)+' -> '[\\w\\s]+'",
        )
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


def _parse_choice(mapping, key: str, allowed: tuple[str, ...], ctx: _Ctx, fix: str) -> str | None:
    if key not in mapping:
        return None
    value = mapping[key]
    if value not in allowed:
        close = difflib.get_close_matches(str(value), allowed, n=1)
        raise ctx.error(
            f"unknown {key} '{value}'", line_of(mapping, key), (f"did you mean '{close[0]}'? " if close else "") + fix
        )
    return value


def _parse_scope(mapping, ctx: _Ctx) -> str | None:
    return _parse_choice(
        mapping,
        "scope",
        SCOPES,
        ctx,
        "use unit (the unit only, default), turn (the whole speech turn) or question+answer "
        "(the turn and the interviewer's question before it)",
    )


def _parse_perspective(mapping, ctx: _Ctx) -> str | None:
    return _parse_choice(
        mapping,
        "perspective",
        PERSPECTIVES,
        ctx,
        "use any (default), own (the speaker tells their own story) or general (the speaker talks about others)",
    )


def _parse_hypothetical(mapping, ctx: _Ctx) -> str | None:
    return _parse_choice(
        mapping,
        "hypothetical",
        HYPOTHETICAL_MODES,
        ctx,
        "use allow (default: mentions in an if-clause count) or exclude (they do not)",
    )


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
    scope: str | None = None
    hypothetical: str | None = None
    perspective: str | None = None
    exclude: list = field(default_factory=list)  # inherited exclusions (not:)
    require: list = field(default_factory=list)  # inherited requirements (only_if:)

    def merged(self, other: _Settings) -> _Settings:
        return _Settings(
            unit=other.unit or self.unit,
            roles=other.roles if other.roles is not None else self.roles,
            speakers=other.speakers if other.speakers is not None else self.speakers,
            negation=other.negation or self.negation,
            within=other.within if other.within is not None else self.within,
            scope=other.scope or self.scope,
            hypothetical=other.hypothetical or self.hypothetical,
            perspective=other.perspective or self.perspective,
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
    s.scope = _parse_scope(mapping, ctx)
    s.hypothetical = _parse_hypothetical(mapping, ctx)
    s.perspective = _parse_perspective(mapping, ctx)
    if "within" in mapping:
        s.within = _parse_within(mapping, ctx, within_default)
    if "not" in mapping:
        s.exclude = [_parse_condition(mapping["not"], ctx, line_of(mapping, "not"), s.within or within_default)]
    if "only_if" in mapping:
        s.require = [_parse_condition(mapping["only_if"], ctx, line_of(mapping, "only_if"), s.within or within_default)]
    return s


def _subset(raw: dict, keys) -> dict:
    """The items of *raw* whose key is in *keys*, keeping YAML line numbers."""
    from ...yamlutil import LineDict

    out = LineDict((k, v) for k, v in raw.items() if k in keys)
    out.line = getattr(raw, "line", None)
    lines = getattr(raw, "lines", {}) or {}
    out.lines = {k: lines.get(k, out.line) for k in out}
    return out


def _parse_alternative(raw, ctx: _Ctx, line: int | None, inherited: _Settings) -> Alternative:
    within = inherited.within if inherited.within is not None else DEFAULT_WITHIN
    if isinstance(raw, dict):
        _check_unknown(raw, ALTERNATIVE_KEYS, ctx, "a rule")
        cond_map = _subset(raw, ALTERNATIVE_KEYS - {"not", "negation", "only_if", "hypothetical"})
        condition = _parse_mapping_condition(cond_map, ctx, within, False)
        negation = _parse_negation(raw, ctx) or inherited.negation or "exclude"
        hypothetical = _parse_hypothetical(raw, ctx) or inherited.hypothetical or "allow"
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
        hypothetical = inherited.hypothetical or "allow"
        excl = list(inherited.exclude)
        req = list(inherited.require)
    exclude = None if not excl else (excl[0] if len(excl) == 1 else AnyOf(excl))
    return Alternative(
        condition=condition, exclude=exclude, negation=negation, line=line, require=req, hypothetical=hypothetical
    )


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
        scope=settings.scope or "unit",
        perspective=settings.perspective or "any",
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
