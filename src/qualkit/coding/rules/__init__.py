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
``within`` (default distance for ``near``), ``scope`` (unit | turn |
question+answer), ``hypothetical`` (allow | exclude) and ``not`` (exclusions).

The package is split by stage:

- :mod:`.model` -- the rule tree and the language's keys and allowed values;
- :mod:`.parse` -- YAML -> rule tree, with every check and its message
  (no spaCy, so loading a codebook is cheap);
- :mod:`.wordforms` -- inflected forms from the pipeline's lemmatizer tables;
- :mod:`.compile` -- :func:`compile_codebook` builds one word/phrase index, one
  spaCy ``Matcher`` (token patterns) and compiled regular expressions, once per
  codebook and pipeline; :meth:`CompiledCodebook.scan` runs them once per ``Doc``;
- :mod:`.evaluate` -- negation and the evaluation of a rule tree on the
  occurrences found in a unit (:meth:`CompiledCodebook.codes_for`).
"""

from .compile import CompiledCodebook, compile_codebook
from .model import (
    ALTERNATIVE_KEYS,
    CODE_RULE_KEYS,
    CONDITION_KEYS,
    DEFAULT_WITHIN,
    MAX_WITHIN,
    NEGATION_MODES,
    NESTED_KEYS,
    ROLES,
    SETTING_KEYS,
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
from .parse import parse_code_rules, parse_codebook_rules, validate_codebook_rules
from .wordforms import WordForms

__all__ = [
    "ALTERNATIVE_KEYS",
    "CODE_RULE_KEYS",
    "CONDITION_KEYS",
    "DEFAULT_WITHIN",
    "MAX_WITHIN",
    "NEGATION_MODES",
    "NESTED_KEYS",
    "ROLES",
    "SETTING_KEYS",
    "SHARED_SETTING_KEYS",
    "UNITS",
    "AllOf",
    "Alternative",
    "AnyOf",
    "CodeRules",
    "CompiledCodebook",
    "Near",
    "Negated",
    "Regex",
    "Term",
    "TokenPattern",
    "WordForms",
    "compile_codebook",
    "parse_code_rules",
    "parse_codebook_rules",
    "validate_codebook_rules",
]
