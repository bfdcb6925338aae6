"""De-identification of interview transcripts (``qualkit redact``, ``qualkit audit``, ``qualkit score``).

Library API::

    from qualkit.redact import RedactOptions, redact_corpus, RedactResult
    result = redact_corpus([Path("transcripts")], Path("output"), Path("private/redaction-key.csv"),
                           RedactOptions(style="pseudonym"), report_path=Path("private/redaction-review.html"))

Nothing here loads a model at import time; the spaCy pipeline is loaded on first use.
"""

from __future__ import annotations

from .engine import (
    LOG_COLUMNS,
    LOG_NAME,
    DocSpans,
    RedactOptions,
    RedactResult,
    Replacer,
    make_redactor,
    redact_corpus,
)
from .key import KEY_COLUMNS, STYLES, RedactionKey
from .spans import LABELS, Span

__all__ = [
    "RedactOptions",
    "RedactResult",
    "redact_corpus",
    "make_redactor",
    "Replacer",
    "DocSpans",
    "RedactionKey",
    "KEY_COLUMNS",
    "STYLES",
    "LABELS",
    "LOG_COLUMNS",
    "LOG_NAME",
    "Span",
    "audit_output",
    "AuditResult",
    "KeyMatcher",
    "KeyHit",
    "score_spans",
    "load_gold",
]


def __getattr__(name: str):
    if name in ("audit_output", "AuditResult", "Leak", "KeyMatcher", "KeyHit"):
        from . import audit

        return getattr(audit, name)
    if name in ("score_spans", "load_gold", "ScoreResult", "distinctive_tokens"):
        from . import score

        return getattr(score, name)
    raise AttributeError(name)
