"""Evaluating compiled rules on one unit of one ``Doc``.

Owns the per-document occurrence table (:class:`DocScan`), negation
detection (a cue window plus the dependency parse) and the evaluation of a
rule tree over the occurrences found in a unit.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .model import AllOf, AnyOf, Near, Negated, Regex, Term, TokenPattern

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
#: subordinators that make a clause conditional ("if someone tricks you ...")
HYPOTHETICAL_MARKS = frozenset("if unless whether suppose supposing imagine".split())
_MODALS = frozenset("would could might should 'd".split())
#: first words of an answer that deny what the question asked ("No.", "Never.", "Not once.")
NEGATIVE_ANSWERS = frozenset("no nope never not nobody none nothing neither".split())


@dataclass
class DocScan:
    """Occurrences of every leaf key in one Doc, plus per-token helpers."""

    doc: Any
    occ: list[tuple[int, int, str]]  # (start token, end token, key), sorted
    starts: list[int]
    word_index: list[int]  # non-space tokens before each token (for distances)
    sent_start: list[int]
    _neg: dict = field(default_factory=dict)
    _hyp: dict = field(default_factory=dict)

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

    def hypothetical(self, s: int, e: int) -> bool:
        key = (s, e)
        if key not in self._hyp:
            self._hyp[key] = _is_hypothetical(self.doc, s, e)
        return self._hyp[key]

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


def _is_hypothetical(doc, s: int, e: int) -> bool:
    """Is the match doc[s:e] in a conditional ("if you refuse, they beat you")?

    True when the clause holding the match, or a clause governing it, has an
    if/unless/whether subordinate clause (the match in the if-clause or in its
    main clause) whose verb is not a simple past ("if a guest refused, I told
    him ..." tells what happened each time), or when the governing verb has a
    modal such as would/could/might.
    """
    tok = doc[s:e].root
    chain = [tok, *tok.ancestors]
    for anc in chain:
        if anc.dep_ == "mark" and anc.lower_ in HYPOTHETICAL_MARKS:
            return True
        clauses = [anc] + [c for c in anc.children if c.dep_ == "advcl"]
        for clause in clauses:
            for child in clause.children:
                if child.dep_ == "mark" and child.lower_ in HYPOTHETICAL_MARKS:
                    past = clause.tag_ == "VBD" and not any(
                        a.lower_ in _MODALS for a in anc.children if a.dep_ == "aux"
                    )
                    if not past:
                        return True
        if anc.dep_ in ("ccomp", "relcl", "acl", "parataxis") and anc is not tok:
            break
    return False


class ContextScan:
    """A :class:`DocScan` seen from one turn: occurrences outside the turn (the interviewer's
    question, an earlier exchange) count as negated when the answer opens with a denial
    ("No.", "Never.", "Not once."); otherwise they keep their own negation."""

    def __init__(self, scan: DocScan, turn: tuple[int, int], answer_negative: bool):
        self.scan = scan
        self.turn = turn
        self.answer_negative = answer_negative
        self.doc = scan.doc

    def _outside(self, s: int) -> bool:
        return not (self.turn[0] <= s < self.turn[1])

    def negated(self, s: int, e: int) -> bool:
        if self._outside(s) and self.answer_negative:
            return True
        return self.scan.negated(s, e)

    def hypothetical(self, s: int, e: int) -> bool:
        return False if self._outside(s) else self.scan.hypothetical(s, e)

    def gap(self, occs) -> int:
        return self.scan.gap(occs)


def answer_is_negative(doc, ts: int, te: int) -> bool:
    """Does the turn doc[ts:te] open with a denial ("No.", "Never.", "No, never ...")?"""
    for i in range(ts, te):
        tok = doc[i]
        if tok.is_space or tok.is_punct:
            continue
        return tok.lower_ in NEGATIVE_ANSWERS
    return False


@dataclass(frozen=True)
class KeySet:
    """Compiled form of "any of these words/regexes/patterns": their keys."""

    keys: frozenset


def evaluate_node(node, present: dict, scan, mode: str, hyp: bool = False) -> list[tuple[int, int]]:
    """Occurrences that satisfy *node* in the unit (empty list = no match).

    *mode* is the negation mode; *hyp* True drops mentions in a conditional clause.
    """
    if isinstance(node, (KeySet, Term, Regex, TokenPattern)):
        if isinstance(node, KeySet):
            out = []
            keys = node.keys
            for k, occs in present.items():
                if k in keys:
                    out.extend(occs)
        else:
            out = list(present.get(node.key, []))
        if mode == "exclude" and out:
            out = [o for o in out if not scan.negated(*o)]
        if hyp and out:
            out = [o for o in out if not scan.hypothetical(*o)]
        return out
    if isinstance(node, Negated):
        inner = "allow" if node.mode == "require" else node.mode
        hits = evaluate_node(node.item, present, scan, inner, hyp)
        if node.mode == "require" and not any(scan.negated(*o) for o in hits):
            return []
        return hits
    if isinstance(node, AnyOf):
        out = []
        for item in node.items:
            out.extend(evaluate_node(item, present, scan, mode, hyp))
        return out
    if isinstance(node, AllOf):
        out = []
        for item in node.items:
            hits = evaluate_node(item, present, scan, mode, hyp)
            if not hits:
                return []
            out.extend(hits)
        return out
    if isinstance(node, Near):
        lists = []
        for item in node.items:
            hits = evaluate_node(item, present, scan, mode, hyp)
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
