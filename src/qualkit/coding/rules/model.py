"""The rule tree of ``qualkit code``: the nodes a code's ``rules:`` parse into.

Owns the vocabulary of the rule language (condition and setting keys, units,
roles, negation modes) and the immutable tree a parsed rule becomes: leaves
(:class:`Term`, :class:`Regex`, :class:`TokenPattern`), combinators
(:class:`AnyOf`, :class:`AllOf`, :class:`Near`, :class:`Negated`), one
:class:`Alternative` per way a code can match and :class:`CodeRules` per code.
No spaCy, no YAML: :mod:`.parse` builds these, :mod:`.compile` and
:mod:`.evaluate` apply them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...choices import Unit, values

UNITS = values(Unit)
ROLES = ("respondent", "interviewer")
NEGATION_MODES = ("exclude", "require", "allow")
#: where a code's conditions are looked for: the unit itself, its whole turn, or the turn and
#: the interviewer's question before it (and, for a short answer, the exchange before that)
SCOPES = ("unit", "turn", "question+answer")
#: whether mentions in a conditional clause ("if someone tricks you ...") count
HYPOTHETICAL_MODES = ("allow", "exclude")
#: whose story a turn tells: ``own`` (the speaker's own account: first-person singular words are
#: at least OWN_ACCOUNT_SHARE of what this speaker says in the document), ``general`` (the speaker
#: talks about others, or the turn itself does not say "I/me/my"), ``any``
PERSPECTIVES = ("any", "own", "general")
OWN_ACCOUNT_SHARE = 0.06
OWN_ACCOUNT_MIN_WORDS = 60  # below this a speaker has said too little to tell
DEFAULT_WITHIN = 5
MAX_WITHIN = 200

CONDITION_KEYS = ("any", "all", "near", "exact", "regex", "pattern")
SETTING_KEYS = ("unit", "roles", "speakers", "negation", "within", "scope", "hypothetical", "perspective")
#: keys of one alternative (an item of ``match:`` or of a rules list)
ALTERNATIVE_KEYS = frozenset(CONDITION_KEYS) | {
    "within",
    "in_order",
    "negation",
    "hypothetical",
    "not",
    "only_if",
    "case_sensitive",
}
#: keys of a nested condition (inside any/all/near)
NESTED_KEYS = frozenset(CONDITION_KEYS) | {"within", "in_order", "negation", "case_sensitive"}
#: keys of a code's ``rules:`` mapping
CODE_RULE_KEYS = (
    frozenset(CONDITION_KEYS) | frozenset(SETTING_KEYS) | {"not", "only_if", "match", "case_sensitive", "in_order"}
)
#: keys of a theme's ``rules:`` and the codebook's ``defaults:`` that the rule engine reads
SHARED_SETTING_KEYS = frozenset(SETTING_KEYS) | {"not", "only_if"}


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
    hypothetical: str = "allow"  # exclude: mentions in a conditional clause do not count


@dataclass
class CodeRules:
    """Everything the engine needs to apply one code."""

    code: str  # dotted path, theme.code[.sub]
    alternatives: list[Alternative]
    unit: str | None  # None = the run's unit
    roles: tuple[str, ...]
    speakers: tuple[str, ...]
    line: int | None = None
    scope: str = "unit"  # unit | turn | question+answer
    perspective: str = "any"  # any | own | general

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
