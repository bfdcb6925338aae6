"""Compiling a codebook's rules for one spaCy pipeline and finding codes in a unit.

Owns :class:`CompiledCodebook` (one word/phrase index, one ``Matcher`` for
token patterns, compiled regexes, evaluation-ready trees) and the cache of
compiled codebooks (:func:`compile_codebook`, once per codebook and pipeline).
"""

from __future__ import annotations

import regex

from ...errors import CodebookError
from .evaluate import ContextScan, DocScan, KeySet, evaluate_node
from .model import PERSPECTIVES, AllOf, Alternative, AnyOf, CodeRules, Near, Negated, Regex, Term, TokenPattern
from .parse import parse_codebook_rules
from .safe_regex import compile_rule_regex, time_limit
from .wordforms import WordForms

ALL_PERSPECTIVES = frozenset(PERSPECTIVES)


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
        self.regexes: dict[str, regex.Pattern] = {}
        self._regex_rule: dict[str, tuple[str, int | None]] = {}  # key -> (code, line), for errors
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
                    self.regexes[leaf.key] = compile_rule_regex(leaf.pattern, leaf.case_sensitive)
                    self._regex_rule[leaf.key] = (r.code, getattr(leaf, "line", None) or r.line)
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
        self.wide_scope = any(r.scope != "unit" for r in self.rules)
        self.perspectives = any(r.perspective != "any" for r in self.rules)
        self._compiled_alts = {
            r.code: [
                Alternative(
                    condition=_optimize(a.condition),
                    exclude=None if a.exclude is None else _optimize(a.exclude),
                    negation=a.negation,
                    line=a.line,
                    require=[_optimize(q) for q in a.require],
                    hypothetical=a.hypothetical,
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
    def scan(self, doc) -> DocScan:
        found: set[tuple[int, int, str]] = self.terms.find(doc)
        for match_id, s, e in self.matcher(doc) if len(self.matcher) else ():
            key = self._keys_by_hash.get(match_id)
            if key is not None and e > s:
                # trim spaces the gap tokens may have swallowed at the ends
                found.add((s, e, key))
        if self.regexes:
            text = doc.text
            limit = time_limit(text)
            for key, rx in self.regexes.items():
                try:
                    matches = [m.span() for m in rx.finditer(text, timeout=limit)]
                except TimeoutError:
                    code, line = self._regex_rule[key]
                    raise CodebookError(
                        f"the regular expression of code '{code}' took more than {limit:.0f} s on one text "
                        f"(catastrophic backtracking)",
                        file=getattr(self.codebook, "path", None),
                        line=line,
                        fix="simplify it: do not repeat a group whose parts can match the same text",
                    ) from None
                for start, end in matches:
                    if end <= start:
                        continue
                    span = doc.char_span(start, end, alignment_mode="expand")
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
        return DocScan(doc, occ, [o[0] for o in occ], word_index, sent_start)

    def codes_for(
        self,
        scan: DocScan,
        ts: int,
        te: int,
        *,
        unit: str,
        role: str,
        speaker: str | None,
        default_unit: str,
        perspectives: frozenset[str] = ALL_PERSPECTIVES,
    ) -> list[str]:
        """Codes of scope ``unit`` whose rules match tokens [ts, te) of a unit of kind *unit*."""
        present = scan.in_range(ts, te)
        if not present:
            return []
        keys = set(present)
        out = []
        for r in self.rules:
            if (r.unit or default_unit) != unit or r.scope != "unit" or r.perspective not in perspectives:
                continue
            if not (self.positive[r.code] & keys):
                continue
            if not r.applies_to(role, speaker):
                continue
            if any(self._alternative_matches(alt, present, scan) for alt in self._compiled_alts[r.code]):
                out.append(r.code)
        return out

    def context_codes(
        self,
        scan: DocScan,
        turn: tuple[int, int],
        units: list[tuple[int, int]],
        *,
        unit: str,
        role: str,
        speaker: str | None,
        default_unit: str,
        question: tuple[int, int] | None = None,
        earlier: tuple[int, int] | None = None,
        answer_negative: bool = False,
        perspectives: frozenset[str] = ALL_PERSPECTIVES,
    ) -> dict[str, list[int]]:
        """Codes of scope ``turn`` or ``question+answer`` for one turn: {code: [unit index, ...]}.

        *turn* is the turn's token range and *units* the token ranges of its units.
        Conditions and ``only_if`` are looked for in the turn (plus, for
        ``question+answer``, *question*, the interviewer's turn just before, and
        *earlier*, the exchange before that, given for short answers and used when
        the question itself names nothing the rules look for; their
        occurrences count as negated when the answer opens with a denial). The code
        goes on the units holding what matched (the first unit when only the
        question did) unless the unit says what the rule's ``not:`` excludes.
        """
        out: dict[str, list[int]] = {}
        if earlier is not None and question is not None and scan.in_range(*question):
            earlier = None  # the question carries its own topic: no need to look further back
        turn_present = scan.in_range(*turn)
        unit_present: dict[int, dict] = {}
        wide_present = None
        view = None
        for r in self.rules:
            if r.scope == "unit" or (r.unit or default_unit) != unit or r.perspective not in perspectives:
                continue
            if not r.applies_to(role, speaker):
                continue
            present, on = turn_present, scan
            if r.scope == "question+answer" and (question or earlier):
                if wide_present is None:
                    wide_present = {k: list(v) for k, v in turn_present.items()}
                    for rng in (question, earlier):
                        if rng is not None:
                            for k, v in scan.in_range(*rng).items():
                                wide_present.setdefault(k, []).extend(v)
                    view = ContextScan(scan, turn, answer_negative)
                present, on = wide_present, view
            if not present or not (self.positive[r.code] & present.keys()):
                continue
            placed: set[int] = set()
            for alt in self._compiled_alts[r.code]:
                hits = self._alternative_hits(alt, present, on, check_exclusions=False)
                if not hits:
                    continue
                where = [k for k, (us, ue) in enumerate(units) if any(us <= h[0] < ue for h in hits)] or [0]
                for k in where:
                    if k in placed:
                        continue
                    if alt.exclude is not None:
                        if k not in unit_present:
                            unit_present[k] = scan.in_range(*units[k])
                        if evaluate_node(alt.exclude, unit_present[k], scan, "allow"):
                            continue
                    placed.add(k)
            if placed:
                out[r.code] = sorted(placed)
        return out

    def _alternative_hits(
        self, alt: Alternative, present, scan, *, check_exclusions: bool = True
    ) -> list[tuple[int, int]]:
        hyp = alt.hypothetical == "exclude"
        hits = evaluate_node(Negated(alt.negation, alt.condition), present, scan, alt.negation, hyp)
        if not hits:
            return []
        if check_exclusions and alt.exclude is not None and evaluate_node(alt.exclude, present, scan, "allow"):
            return []
        if all(evaluate_node(req, present, scan, "allow") for req in alt.require):
            return hits
        return []

    def _alternative_matches(self, alt: Alternative, present, scan: DocScan) -> bool:
        return bool(self._alternative_hits(alt, present, scan))


def _optimize(node):
    """Collapse any-of lists of plain leaves into one key set (evaluation speed only)."""
    if isinstance(node, AnyOf):
        items = [_optimize(i) for i in node.items]
        leaves = [i for i in items if isinstance(i, (Term, Regex, TokenPattern, KeySet))]
        others = [i for i in items if not isinstance(i, (Term, Regex, TokenPattern, KeySet))]
        keys = frozenset(k for leaf in leaves for k in (leaf.keys if isinstance(leaf, KeySet) else (leaf.key,)))
        if not others:
            return KeySet(keys)
        return AnyOf(([KeySet(keys)] if keys else []) + others)
    if isinstance(node, (Term, Regex, TokenPattern)):
        return KeySet(frozenset({node.key}))
    if isinstance(node, AllOf):
        return AllOf([_optimize(i) for i in node.items])
    if isinstance(node, Near):
        return Near([_optimize(i) for i in node.items], node.within, node.in_order)
    if isinstance(node, Negated):
        return Negated(node.mode, _optimize(node.item))
    return node


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
