"""Contacts and ids: e-mail addresses, URLs, social-media handles, phone numbers, id numbers."""

from __future__ import annotations

import re
from typing import Sequence

from ...textnorm import fold
from ..lexicon import lexicon
from ..phrases import TokenView
from ..spans import Span

EMAIL_RE = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
URL_RE = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"'“”]+"
    r"|\b(?:[a-z0-9][a-z0-9\-]*\.)+(?:com|net|org|edu|gov|info|biz|io|me|vn|co|uk|us|de|fr|ly|gl|app|page|site|online|asia|tv)"
    r"(?:\.[a-z]{2})?(?:/[^\s<>\"'“”]*)?(?![\w@])",
    re.IGNORECASE,
)
HANDLE_RE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_][A-Za-z0-9_.]{1,40}[A-Za-z0-9_]")
SOCIAL_RE = re.compile(
    r"\b(?:facebook|fb|zalo|viber|skype|telegram|instagram|insta|ig|tiktok|twitter|wechat|kakao|line|whatsapp|messenger)"
    r"(?:[ \t]+(?:account|acc|name|nick|nickname|id|page|handle|profile|user(?:name)?))?"
    r"[ \t]*(?:[:=]|\bis\b|\bas\b|\bcalled\b|\bnamed\b|\blà\b|\btên\b)[ \t]*"
    r"(?P<h>\"[^\"\n]{1,60}\"|“[^”\n]{1,60}”|'[^'\n]{1,60}'|[^\s,;]+(?:[ \t]+[^\W\d_][\w'’]*){0,3})",
    re.IGNORECASE,
)
PHONE_RE = re.compile(
    r"(?<![\w+/.\-])(?:"
    r"(?:\+|00)\d{1,3}[ \t.\-]?(?:\(0\)[ \t.\-]?)?\(?\d{1,4}\)?(?:[ \t.\-]?\d{1,8}){1,5}"  # international
    r"|\(0?\d{1,4}\)[ \t.\-]?\d{2,4}(?:[ \t.\-]?\d{2,8}){1,3}"  # (024) 3825 1234, (898)666-3621
    r"|0\d{1,4}(?:[ \t.\-]\d{2,8}){1,4}"  # 0912 345 678, 024.3825.1234, 0393 1144137
    r"|\d{2,4}(?:[ \t.\-]\d{2,7}){1,4}"  # 618-226-1460, 78 651 450, 467 3395, 99 668472
    r"|0\d{8,10}"  # 0912345678
    r")(?:[ \t]?(?:x|ext\.?|extension)[ \t]?\d{1,5})?(?!\w|-\d|\.\d)"
)
ID_CUE_RE = re.compile(
    r"\b(?:cmnd|cccd|cmt|id|identity|identification|passport|căn cước|chứng minh|hộ chiếu|ssn|social security)"
    r"(?:[ \t]+(?:card|number|no\.?|nr|#|số|is|là|was))*[ \t]*[:#.]?[ \t]*(?P<id>[A-Z]{0,2}\d[\d \-]{5,18}\d)",
    re.IGNORECASE,
)
ID_RE = re.compile(
    r"(?<![\w.\-])(?:\d{9,19}"  # CMND (9), CCCD (12), cards
    r"|\d{4}(?:[ \-]\d{4}){2,3}(?:[ \-]\d{1,4})?"  # 4111 1111 1111 1111
    r"|\d{3}-\d{2}-\d{4}"  # SSN-like
    r"|[A-Z]{2}\d{2}[A-Z0-9]{10,30}"  # IBAN
    r"|(?:\d{1,3}\.){3}\d{1,3}"  # IP address
    r")(?!\w|-\d|\.\d)"
)
_DATE_LIKE = re.compile(
    r"^(?:\d{4}[./\-]\d{1,2}[./\-]\d{1,2}|\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}|(?:19|20)\d\d\s*[\-–]\s*(?:19|20)?\d\d|\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)$"
)
_MONEY_AFTER = re.compile(
    r"^\s*(?:vnd|vnđ|dong|đồng|đ\b|usd|\$|dollars?|euros?|eur|baht|yuan|rmb|million|billion|k\b|%|percent|per cent|người|people|kg|km|m2)",
    re.IGNORECASE,
)


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


def contact_spans(text: str) -> list[Span]:
    out: list[Span] = []
    taken: list[tuple[int, int]] = []
    for m in EMAIL_RE.finditer(text):
        out.append(Span(m.start(), m.end(), "EMAIL", "email"))
        taken.append((m.start(), m.end()))
    for m in URL_RE.finditer(text):
        s, e = m.start(), m.end()
        while e > s and text[e - 1] in ".,;:!?)]}'\"":
            e -= 1
        if any(a <= s < b for a, b in taken):
            continue
        frag = text[s:e]
        if "." not in frag or frag.lower() in ("e.g", "i.e"):
            continue
        out.append(Span(s, e, "URL", "url"))
        taken.append((s, e))
    for m in HANDLE_RE.finditer(text):
        if not any(a <= m.start() < b for a, b in taken):
            out.append(Span(m.start(), m.end(), "HANDLE", "handle"))
    for m in SOCIAL_RE.finditer(text):
        s, e = m.span("h")
        h = text[s:e]
        if h[:1] in "\"“'":
            s, e = s + 1, e - 1
        else:
            words = h.split()
            while len(words) > 1 and not words[-1][:1].isupper() and not words[-1][:1].isdigit():
                words.pop()
            e = s + len(" ".join(words)) if " ".join(words) == h[: len(" ".join(words))] else e
        if e > s and not h.lower().startswith(("http", "www")) and fold(text[s:e]) not in lexicon().stop:
            out.append(Span(s, e, "HANDLE", "handle"))
    for m in PHONE_RE.finditer(text):
        s, e = m.start(), m.end()
        frag = text[s:e]
        # a trailing bracket that does not belong to the number
        while frag and frag[-1] in ")" and frag.count("(") < frag.count(")"):
            e -= 1
            frag = frag[:-1]
        n = _digits(frag)
        if n < 7 or n > 15 or _DATE_LIKE.match(frag.strip()):
            continue
        groups = re.findall(r"\d+", frag)
        if len(groups) > 1 and all(len(g) == 4 and g[:2] in ("19", "20") for g in groups):
            continue  # a list of years
        if not frag.startswith(("+", "0", "(")) and len(groups) > 1 and groups[-1] == "000":
            continue  # an amount: 15 000 000
        if _MONEY_AFTER.match(text[e : e + 12]) or text[max(0, s - 1) : s] in "$€£₫" and s > 0:
            continue
        if (
            not frag.startswith(("+", "0", "("))
            and len(groups) == 2
            and not re.search(
                r"(?:phone|tel|call|number|mobile|cell|fax|desk|office|sđt|điện thoại|số|on|at|to|registered)\W*$",
                text[max(0, s - 25) : s],
                re.IGNORECASE,
            )
            and not re.match(r"\s*(?:office|fax|mobile|home|work)", text[e : e + 10], re.IGNORECASE)
        ):
            continue  # two bare groups ("467 3395") only where a phone is expected
        if len(groups) >= 3 and len(groups[0]) == 1 and all(len(g) == 3 for g in groups[1:]):
            continue  # 1 500 000: thousands separators
        out.append(Span(s, e, "PHONE", "phone"))
    for m in ID_CUE_RE.finditer(text):
        s, e = m.span("id")
        out.append(Span(s, e, "ID", "id-cue"))
    for m in ID_RE.finditer(text):
        frag = m.group()
        if _DATE_LIKE.match(frag):
            continue
        out.append(Span(m.start(), m.end(), "ID", "id"))
    return out


class ContactDetector:
    """E-mail addresses, URLs, handles, phone numbers and id numbers (regular expressions)."""

    name = "contacts"

    def detect(self, view: TokenView, turns: Sequence | None = None) -> list[Span]:
        return contact_spans(view.text)
