"""Regular expressions of codebook rules that cannot hang a run.

Rules' ``regex:`` conditions are compiled with the ``regex`` module (compatible with
:mod:`re` in its default ``V0`` mode) and every search runs with a time limit. The
choice, over refusing nested quantifiers when the codebook is checked: ``regex``
already defuses the nested-quantifier forms (``(a+)+$`` runs in microseconds), a
syntactic check cannot see the other catastrophic forms (overlapping alternatives
under a repeat, ``(a|aa)+$``, still backtracks exponentially) and would refuse
harmless patterns; a time limit bounds every case. ``codebook validate`` also tries
each expression on a few texts made of its own letters (where backtracking blows up),
so most bad expressions are named before a run; any that slips through stops the run
with the rule's file and line instead of hanging it.
"""

from __future__ import annotations

import regex

#: seconds a probe of :func:`backtracks` may take
PROBE_SECONDS = 0.25
#: seconds a search may take: a base plus a share per character of the text searched
BASE_SECONDS = 2.0
SECONDS_PER_MB = 2.0


def compile_rule_regex(pattern: str, case_sensitive: bool) -> regex.Pattern:
    """*pattern* compiled as rules use it (raises :class:`regex.error`)."""
    return regex.compile(pattern, regex.V0 | (0 if case_sensitive else regex.IGNORECASE))


def time_limit(text: str) -> float:
    """Seconds a rule's search of *text* may take."""
    return BASE_SECONDS + SECONDS_PER_MB * len(text) / 1_000_000


def backtracks(rx: regex.Pattern) -> bool:
    """True when *rx* takes too long on a short text made of its own characters (e.g. 40 ``a``
    then a character it does not expect): the signature of catastrophic backtracking."""
    letters = {c for c in rx.pattern if c.isalnum()} | {"a", "1", " "}
    for c in sorted(letters):
        for tail in ("!", "\n", ""):
            try:
                rx.search(c * 40 + tail, timeout=PROBE_SECONDS)
            except TimeoutError:
                return True
    return False
