"""Rule-based detectors: contacts and ids, Vietnamese names, titles, places, facilities, addresses.

Each detector takes the text (and its :class:`TokenView`) and returns
:class:`~qualkit.redact.spans.Span` objects; none of them loads a model. The
spaCy entities are turned into spans by :func:`ner_spans`.
"""

from __future__ import annotations

import re
from typing import Iterable

from ..textnorm import fold, has_diacritics, is_vn_syllable
from .lexicon import Gazetteer, Lexicon, gazetteer, is_vn_common_word, lexicon, person_names
from .phrases import Entry, PhraseIndex, TokenView
from .spans import Span

# --- contacts and ids -----------------------------------------------------------------

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


# --- places, facilities, streets, addresses -----------------------------------------------

#: keyword (folded) -> label, for "<Name> keyword" (suffix) forms
SUFFIX_KEYWORDS: dict[str, str] = {}
for _kw in (
    "centre center shelter hotel motel guesthouse hostel inn karaoke club bar pub cafe coffee "
    "restaurant massage parlour parlor spa salon brothel hospital clinic school university college "
    "pagoda temple church mosque station camp prison factory mall plaza building apartments airport "
    "checkpoint hall"
).split():
    SUFFIX_KEYWORDS[_kw] = "FACILITY"
for _kw in (
    "guest house|border gate|border post|border checkpoint|police station|bus station|train station|"
    "karaoke bar|coffee shop|massage parlour|massage parlor|beer garden|night club|nightclub|rescue centre|"
    "social protection centre|drop-in centre|drop in centre|shelter house"
).split("|"):
    SUFFIX_KEYWORDS[_kw] = "FACILITY"
for _kw in (
    "street st road rd avenue ave lane alley boulevard blvd highway bridge lake park market square "
    "village hamlet commune ward district province town township city island beach bay river "
    "mountain mountains hill hills pass quarter port harbour harbor delta canal waterfall cave "
    "islands estate"
).split():
    SUFFIX_KEYWORDS[_kw] = "PLACE"
for _kw in ("night market|border area|industrial zone|industrial park|economic zone|residential area|urban area").split(
    "|"
):
    SUFFIX_KEYWORDS[_kw] = "PLACE"

#: keyword (folded) -> (label, accent-sensitive original form or None), for "keyword <Name>" forms
PREFIX_KEYWORDS: dict[str, tuple[str, str | None]] = {}
for _kw, _label in (
    ("khách sạn", "FACILITY"),
    ("nhà nghỉ", "FACILITY"),
    ("nhà hàng", "FACILITY"),
    ("quán", "FACILITY"),
    ("quán karaoke", "FACILITY"),
    ("trung tâm", "FACILITY"),
    ("mái ấm", "FACILITY"),
    ("nhà tạm lánh", "FACILITY"),
    ("câu lạc bộ", "FACILITY"),
    ("clb", "FACILITY"),
    ("bến xe", "FACILITY"),
    ("cửa khẩu", "PLACE"),
    ("đồn biên phòng", "FACILITY"),
    ("trạm", "FACILITY"),
    ("trường", "FACILITY"),
    ("bệnh viện", "FACILITY"),
    ("chùa", "FACILITY"),
    ("nhà thờ", "FACILITY"),
    ("chợ", "PLACE"),
    ("cầu", "PLACE"),
    ("hồ", "PLACE"),
    ("công viên", "PLACE"),
    ("làng", "PLACE"),
    ("thôn", "PLACE"),
    ("bản", "PLACE"),
    ("ấp", "PLACE"),
    ("xóm", "PLACE"),
    ("buôn", "PLACE"),
    ("tổ dân phố", "PLACE"),
    ("khu phố", "PLACE"),
    ("tổ", "PLACE"),
    ("đường", "PLACE"),
    ("phố", "PLACE"),
    ("ngõ", "PLACE"),
    ("ngách", "PLACE"),
    ("hẻm", "PLACE"),
    ("kiệt", "PLACE"),
    ("số nhà", "PLACE"),
    ("số", "PLACE"),
    ("quận", "PLACE"),
    ("huyện", "PLACE"),
    ("phường", "PLACE"),
    ("xã", "PLACE"),
    ("tỉnh", "PLACE"),
    ("thành phố", "PLACE"),
    ("thị xã", "PLACE"),
    ("thị trấn", "PLACE"),
    ("tp", "PLACE"),
    ("khu", "PLACE"),
    ("đảo", "PLACE"),
    ("bãi biển", "PLACE"),
    ("núi", "PLACE"),
    ("sông", "PLACE"),
    ("cảng", "PLACE"),
    ("bến", "PLACE"),
    ("vịnh", "PLACE"),
):
    _f = fold(_kw)
    # short Vietnamese keywords that are English words once folded must be written with their accents
    PREFIX_KEYWORDS[_f] = (
        _label,
        _kw
        if len(_f) <= 4
        and _f
        in {
            "so",
            "ho",
            "cau",
            "cho",
            "ban",
            "pho",
            "quan",
            "to",
            "ben",
            "khu",
            "nui",
            "song",
            "dao",
            "tram",
            "chua",
            "xa",
            "tinh",
            "ngo",
            "ap",
            "xom",
            "thon",
            "lang",
            "buon",
            "hem",
            "kiet",
            "tp",
        }
        and _kw != "tp"
        else None,
    )
for _kw, _label in (
    ("hotel", "FACILITY"),
    ("karaoke", "FACILITY"),
    ("club", "FACILITY"),
    ("bar", "FACILITY"),
    ("cafe", "FACILITY"),
    ("massage", "FACILITY"),
    ("spa", "FACILITY"),
    ("restaurant", "FACILITY"),
    ("lake", "PLACE"),
    ("mount", "PLACE"),
    ("mt", "PLACE"),
    ("district", "PLACE"),
    ("ward", "PLACE"),
    ("hamlet", "PLACE"),
    ("zone", "PLACE"),
    ("commune", "PLACE"),
    ("village", "PLACE"),
    ("province", "PLACE"),
    ("camp", "FACILITY"),
    ("centre", "FACILITY"),
    ("center", "FACILITY"),
    ("shelter", "FACILITY"),
    ("block", "PLACE"),
    ("group", "PLACE"),
):
    PREFIX_KEYWORDS.setdefault(_kw, (_label, "Title"))
#: prefixes after which a bare number is a place ("District 1", "Quận 3", "ngõ 12", "hẻm 34/5")
NUMBERED_PREFIXES = frozenset(
    fold(w)
    for w in (
        "district quận q ward phường p hamlet ấp zone khu phố tổ ngõ ngách hẻm kiệt số block group commune xã".split()
    )
)
_ADMIN_WORDS = frozenset("district ward commune province city town township quan huyen phuong xa tinh".split())

STREET_SUFFIX = (
    r"street|st|str|road|rd|avenue|ave|av|lane|ln|drive|dr|close|court|ct|crescent|cres|place|pl|"
    r"terrace|tce|way|boulevard|blvd|square|sq|parade|row|walk|grove|gardens|highway|hwy|pike|turnpike|"
    r"pass|trail|circle|cir|loop|alley|mews|rise|vale|green|parkway|pkwy|quay|wharf|hill|heights|"
    r"esplanade|promenade|bypass|lodge|creek|junction|jct|estate|hollow|"
    r"meadows?|ridge|summit|valley|villas?|ways|fork|forge|"
    r"glen|harbor|harbour|haven|island|isle|knoll|landing|manor|mill|mills|motorway|port|"
    r"ranch|track|trafficway|tunnel|vista|wells|cove|burg|gateway"
)
STREET_PREFIX = (
    r"rue|avenue|av|avda|avenida|boulevard|bd|chemin|allée|allee|impasse|via|viale|piazza|piazzetta|"
    r"corso|largo|vicolo|calle|plaza|paseo|carrer|camino|rua|travessa|alameda|praça|praca|estrada|"
    r"rodovia|ul|ulica|al|aleja|plac|strada|str|bulevardul|odos|leoforos|platz|straße|strasse|"
    r"đường|phố|ngõ|ngách|hẻm|kiệt|duong|pho|street|st|road|rd"
)
STREET_ENDINGS = (
    r"straße|strasse|gasse|weg|platz|allee|ring|damm|ufer|gatan|gata|gate|vägen|vagen|vegen|veien|"
    r"veg|vej|gade|stræde|strade|torv|katu|kuja|tie|polku|kaari|rinne|laan|straat|gracht|plein|kade|"
    r"singel|dreef|utca|út|tér|körút|iela|gatve|tänav|tee|puiestee|ulice|náměstí|třída|cesta|stien|"
    r"stig|bakken|haugen|lia|vägen|backe|gränd|vangen|bygget|leite|tún|vegur|gata|stræti"
)
_PARTICLES = frozenset("de du des la le di da del della van von der den dos das do e y of the al el ten ter".split())

ADDR_NUM_FIRST = re.compile(
    rf"(?<![\w.,])\d{{1,6}}[A-Za-z]?(?:[/\-]\d{{1,4}}[A-Za-z]?)?(?:[ \t]+\d{{1,6}}[A-Za-z]?)?[ \t]+"
    rf"(?P<words>(?:[^\W\d_][\w'’.\-]*[ \t]+){{0,4}}?)(?:{STREET_SUFFIX})\b\.?",
    re.IGNORECASE,
)
ADDR_PREFIX = re.compile(
    rf"(?<![\w])(?:\d{{1,6}}[A-Za-z]?[ \t]+)?(?:{STREET_PREFIX})\.?[ \t]+"
    rf"(?P<words>(?:[\w'’.\-]+[ \t]+){{0,4}}?)(?:\d{{1,5}}[A-Za-z]?\b\.?|(?P<end>[\w'’\-]+))",
    re.IGNORECASE,
)
#: "Koskikatu 25", "Villacher Strasse 89": a number after a word with a street ending (found from the number)
_NUMBER_AFTER_WORD = re.compile(r"(?<=[^\W\d_])\.?[ \t]+\d{1,5}[A-Za-z]?\b\.?")
_ENDINGS = tuple(sorted({fold(x) for x in STREET_ENDINGS.split("|")}, key=len, reverse=True))
_ENDING_WORDS = frozenset(_ENDINGS)
ADDR_NUM_WORDS_NUM = re.compile(
    r"(?<![\w.,])\d{1,6}[ \t]+(?P<words>(?:[^\W\d_][\w'’.\-]*[ \t]+){1,4})\d{1,5}[A-Za-z]?\b\.?"
)
ADDR_VN = re.compile(
    r"(?<![\w.,])(?:(?:số|so)[ \t]+)?\d{1,5}[A-Za-z]?(?:/\d{1,4}[A-Za-z]?)*[ \t]+(?:(?:đường|phố|duong|pho)[ \t]+)?"
    r"(?P<words>[^\W\d_][\w'’]*(?:[ \t]+[^\W\d_][\w'’]*){1,3})"
)
ADDR_UNIT = re.compile(
    r"(?<![\w])(?:apt|apartment|suite|ste|unit|flat|box|p\.?[ \t]?o\.?[ \t]?box|postbox|post box|psc|cmr|bldg|building)"
    r"\.?[ \t]*#?[ \t]*\d{1,6}[A-Za-z]?\b",
    re.IGNORECASE,
)
ADDR_MILITARY = re.compile(r"\b(?:APO|FPO|DPO)[ \t]+(?:AA|AE|AP)[ \t]+\d{5}\b", re.IGNORECASE)
ADDR_STATE_ZIP = re.compile(r"(?<![\w])[A-Z]{2}[ \t]+\d{5}(?:-\d{4})?\b")
_POSTCODE = re.compile(r"(?<![\w\-])(?:\d{4,6}|\d{2}-\d{3}|\d{3}[ \t]\d{2})(?![\w\-])")
_CAP_WORDS = re.compile(r"[^\W\d_][\w'’.\-]*(?:[ \t]+(?:[^\W\d_][\w'’.\-]*|\([^)\n]{1,30}\)))*")


class RuleDetector:
    """All rule-based detectors, with their word lists loaded once."""

    def __init__(self) -> None:
        self.lex: Lexicon = lexicon()
        self.gaz: Gazetteer = gazetteer()
        self.gaz_index = PhraseIndex()
        for key in self.gaz.names:
            self.gaz_index.add(tuple(key.split()), Entry("PLACE", "gazetteer", title_case=True))
        lex = self.lex
        self.name_parts = lex.surnames | lex.middles | lex.given
        self._suffix_first = {k.split()[0] for k in SUFFIX_KEYWORDS}
        self._suffix_max = max(len(k.split()) for k in SUFFIX_KEYWORDS)
        self._prefix_max = max(len(k.split()) for k in PREFIX_KEYWORDS)
        self._prefix_first = {k.split()[0] for k in PREFIX_KEYWORDS}
        self._names = None

    # -- helpers ----------------------------------------------------------------------
    def is_generic(self, folded: str) -> bool:
        return folded in self.lex.generic or folded in self.lex.stop

    def distinctive(self, folded_tokens: Iterable[str]) -> bool:
        """True when some token is a name-like word (not generic, not a stop word, not a title)."""
        for t in folded_tokens:
            if t.isdigit():
                continue
            if t not in self.lex.generic and t not in self.lex.stop and t not in self.lex.titles and len(t) > 1:
                return True
        return False

    # -- all rules --------------------------------------------------------------------
    def detect(self, text: str, view: TokenView | None = None, turns=None) -> list[Span]:
        view = view or TokenView(text)
        spans = contact_spans(text)
        spans += self.gazetteer_spans(view)
        spans += self.keyword_spans(view)
        spans += self.name_spans(view)
        spans += self.known_name_spans(view)
        spans += self.address_spans(text)
        spans += self.cue_spans(text)
        if turns:
            spans += self.speaker_spans(text, turns)
        return spans

    # -- gazetteer ----------------------------------------------------------------------
    def gazetteer_spans(self, view: TokenView) -> list[Span]:
        out: list[Span] = []
        folded = view.folded
        for i, k, _entry in self.gaz_index.finditer(view):
            if k - i == 1 and (
                folded[i] in self.lex.stop
                or (
                    len(folded[i]) <= 3
                    and not view.text[view.starts[i] : view.ends[i]].isupper()
                    and folded[i] not in ("hue", "vinh")
                )
            ):
                continue
            s, e = view.starts[i], view.ends[k - 1]
            out.append(Span(s, e, "PLACE", "gazetteer"))
        # single-token unit names only with an administrative word next to them
        single = self.gaz.single
        n = len(folded)
        for i, f in enumerate(folded):
            if f in single and view.caps[i]:
                before = i > 0 and folded[i - 1] in _ADMIN_WORDS and view.joined(i - 1)
                after = i + 1 < n and folded[i + 1] in _ADMIN_WORDS and view.joined(i)
                if before or after:
                    out.append(Span(view.starts[i], view.ends[i], "PLACE", "gazetteer"))
        return out

    # -- facilities, streets, villages (keyword + name) -----------------------------------
    def keyword_spans(self, view: TokenView) -> list[Span]:
        out: list[Span] = []
        folded, caps, text = view.folded, view.caps, view.text
        n = len(folded)
        i = 0
        while i < n:
            f = folded[i]
            # suffix form: "<Name> Centre", "<Name> village"
            if f in self._suffix_first:
                for m in range(self._suffix_max, 0, -1):
                    if i + m > n:
                        continue
                    kw = " ".join(folded[i : i + m])
                    if kw in SUFFIX_KEYWORDS and all(view.joined(x) for x in range(i, i + m - 1)):
                        sp = self._name_before(view, i, i + m, SUFFIX_KEYWORDS[kw])
                        if sp:
                            out.append(sp)
                        break
            # prefix form: "khách sạn <Name>", "Hotel <Name>", "District 4", "ngõ 12"
            if f in self._prefix_first:
                for m in range(self._prefix_max, 0, -1):
                    if i + m > n:
                        continue
                    kw = " ".join(folded[i : i + m])
                    spec = PREFIX_KEYWORDS.get(kw)
                    if spec is None or not all(view.joined(x) for x in range(i, i + m - 1)):
                        continue
                    label, form = spec
                    written = text[view.starts[i] : view.ends[i + m - 1]]
                    if form == "Title" and not caps[i]:
                        continue
                    if form not in (None, "Title") and written.lower() != form:
                        continue
                    sp = self._name_after(view, i, i + m, label, numbered=kw in NUMBERED_PREFIXES or kw in ("so nha",))
                    if sp:
                        out.append(sp)
                    break
            i += 1
        return out

    @staticmethod
    def _tight(view: TokenView, i: int) -> bool:
        """Tokens i and i+1 belong to one facility name: a space, slash or hyphen between them."""
        return i + 1 < len(view.starts) and view.text[view.ends[i] : view.starts[i + 1]] in (
            " ",
            "/",
            "-",
            "\u00a0",
            "'",
            "’",
            ". ",
        )

    def _name_token_ok(self, view: TokenView, j: int) -> bool:
        f = view.folded[j]
        if f.isdigit():
            return True
        return view.caps[j] and f not in self.lex.stop

    def _name_before(self, view: TokenView, kw_start: int, kw_end: int, label: str) -> Span | None:
        j = kw_start - 1
        # "Thien Phuoc vocational school": lower-case descriptors between the name and the keyword
        skipped = 0
        while (
            j >= 0
            and skipped < 2
            and view.joined(j)
            and not view.caps[j]
            and view.folded[j] in self.lex.generic
            and view.folded[j] not in self.lex.stop
        ):
            j -= 1
            skipped += 1
        names: list[int] = []
        while j >= 0 and len(names) < 5 and view.joined(j) and self._tight(view, j) and self._name_token_ok(view, j):
            names.append(j)
            j -= 1
        if not names:
            return None
        names.reverse()
        # leading generic words ("the Social ...") do not start the name
        while names and self.is_generic(view.folded[names[0]]) and not view.folded[names[0]].isdigit():
            names.pop(0)
        if not names or not self.distinctive(view.folded[x] for x in names):
            return None
        return Span(view.starts[names[0]], view.ends[kw_end - 1], label, "facility")

    def _name_after(self, view: TokenView, kw_start: int, kw_end: int, label: str, numbered: bool) -> Span | None:
        j = kw_end
        names: list[int] = []
        n = len(view.folded)
        last = kw_end - 1
        while (
            j < n and len(names) < 4 and view.joined(last) and self._tight(view, last) and self._name_token_ok(view, j)
        ):
            names.append(j)
            last = j
            j += 1
        if not names:
            return None
        toks = [view.folded[x] for x in names]
        if not (self.distinctive(toks) or (numbered and toks[0].isdigit())):
            return None
        return Span(view.starts[kw_start], view.ends[names[-1]], label, "facility")

    # -- Vietnamese names, titles ---------------------------------------------------------
    def name_spans(self, view: TokenView) -> list[Span]:
        out: list[Span] = []
        lex = self.lex
        folded, caps, text = view.folded, view.caps, view.text
        n = len(folded)
        titles = lex.titles
        i = 0
        while i < n:
            f = folded[i]
            # title or kinship term + capitalised name: "chị Mai", "Mr. Tuan", "Sister Lan"
            if (
                f in titles
                and i + 1 < n
                and caps[i + 1]
                and (
                    view.joined(i)
                    or view.gap(i) in (". ", ".\u00a0")
                    and text[view.starts[i] : view.ends[i]].lower() not in lex.titles_vi
                )
                and not folded[i + 1].isdigit()
                and folded[i + 1] not in lex.stop
                and folded[i + 1] not in lex.generic
                and not is_vn_common_word(text[view.starts[i + 1] : view.ends[i + 1]])
            ):
                w = text[view.starts[i] : view.ends[i]]
                if self._title_ok(view, i, w, f):
                    while (
                        i + 2 < n
                        and folded[i + 1] in titles
                        and caps[i + 2]
                        and view.joined(i + 1)
                        and not self._vn_token(view, i + 1)
                    ):
                        i += 1  # "Lieutenant Colonel Đặng Quốc Hưng"
                    j = i + 1
                    while (
                        j + 1 < n
                        and j - i < 4
                        and caps[j + 1]
                        and view.joined(j)
                        and folded[j + 1] not in lex.stop
                        and folded[j + 1] not in lex.generic
                        and not folded[j + 1].isdigit()
                    ):
                        j += 1
                    out.append(Span(view.starts[i + 1], view.ends[j], "PERSON", "title"))
                    i = j + 1
                    continue
            # a run of capitalised Vietnamese-looking syllables
            if caps[i] and self._vn_token(view, i):
                j = i
                while (
                    j + 1 < n
                    and j - i < 5
                    and caps[j + 1]
                    and view.joined(j)
                    and text[view.ends[j] : view.starts[j + 1]] in (" ", "\u00a0")
                    and (
                        self._vn_token(view, j + 1)
                        or (
                            # after a surname and a middle name any syllable is the given name: "Ngo Thi Bup"
                            j > i
                            and folded[i] in lex.surnames
                            and folded[j] in lex.middles
                            and is_vn_syllable(folded[j + 1])
                            and folded[j + 1] not in lex.stop
                        )
                    )
                ):
                    j += 1
                out += self._vn_run(view, i, j + 1)
                i = j + 1
                continue
            i += 1
        return out

    #: unaccented Vietnamese kinship terms that are not English words
    _VI_PLAIN_OK = frozenset("anh em chi co ba ong chu bac di cau thim mo chau bo thay cu".split())

    def _title_ok(self, view: TokenView, i: int, word: str, f: str) -> bool:
        if word.isupper() and len(word) > 1:
            return False
        lex = self.lex
        low = word.lower()
        if low in lex.titles_vi:  # written with its accents (or an accentless term like "anh")
            return has_diacritics(word) or (f in self._VI_PLAIN_OK and self._vn_token(view, i + 1))
        if has_diacritics(word):
            return False  # "Bắc" is not "bác"
        if f in lex.titles and fold(low) not in {fold(t) for t in lex.titles_vi}:
            return True  # an English title
        return f in self._VI_PLAIN_OK and self._vn_token(view, i + 1)

    def _vn_token(self, view: TokenView, i: int) -> bool:
        f = view.folded[i]
        if not f.isalpha() or not is_vn_syllable(f):
            return False
        if f in self.name_parts:
            return True
        if f in self.lex.stop or f in self.lex.generic:
            return False
        w = view.text[view.starts[i] : view.ends[i]]
        return has_diacritics(w)

    def _vn_run(self, view: TokenView, i: int, k: int) -> list[Span]:
        """Classify the run of tokens i..k-1 (capitalised, Vietnamese-looking)."""
        lex = self.lex
        folded = view.folded
        out: list[Span] = []
        # "Tran Van Hung": a surname and name syllables make a full name, even if a place is named inside it
        if k - i >= 3 and folded[i] in lex.surnames and self.gaz_index.get(tuple(folded[i:k])) is None:
            sp = self._person_in(view, i, min(k, i + 4), folded[i : min(k, i + 4)])
            if sp is not None:
                return [Span(sp.start, sp.end, "PERSON", "vn-fullname")]
        while i < k:
            toks = folded[i:k]
            # a place name inside the run ends the person part there
            cut = k
            for a in range(i, k):
                for b in range(k, a, -1):
                    if self.gaz_index.get(tuple(folded[a:b])) is not None and b - a >= 2:
                        cut = a
                        break
                if cut != k:
                    break
            if cut == i:
                # the run starts with a place: skip it (the gazetteer reports it)
                for b in range(k, i, -1):
                    if self.gaz_index.get(tuple(folded[i:b])) is not None:
                        i = b
                        break
                continue
            toks = folded[i:cut]
            span = self._person_in(view, i, cut, toks)
            if span:
                out.append(span)
            i = cut
        return out

    def _person_in(self, view: TokenView, i: int, k: int, toks: list[str]) -> Span | None:
        lex = self.lex
        words = [view.text[view.starts[x] : view.ends[x]] for x in range(i, k)]
        diac = any(has_diacritics(w) for w in words)
        if len(toks) >= 2:
            first = toks[0]
            if first in lex.surnames and (first not in lex.stop or diac or toks[1] in lex.middles):
                if all(t in lex.given or t in lex.middles or t in lex.surnames or is_vn_syllable(t) for t in toks[1:]):
                    return Span(view.starts[i], view.ends[k - 1], "PERSON", "vn-name")
            if (
                all(t in lex.given or t in lex.middles for t in toks)
                and (toks[-1] in lex.given)
                and (diac or not all(t in lex.ambiguous for t in toks))
            ):
                return Span(view.starts[i], view.ends[k - 1], "PERSON", "vn-name")
            # fall back to the last given name in the run
            for x in range(k - 1, i - 1, -1):
                sp = self._person_in(view, x, x + 1, [view.folded[x]])
                if sp:
                    return sp
            return None
        t = toks[0]
        w = words[0]
        if not diac and (t in lex.generic or t in lex.stop or t in lex.common_words):
            return None  # "Men came": an English word, not Mến
        if is_vn_common_word(w, self._sentence_start(view, i)):
            return None  # "Phỏng vấn", "Học sinh": a Vietnamese word, not Phong or Học
        if t in lex.given and (t not in lex.ambiguous or diac) and not w.isupper():
            if self._sentence_start(view, i) and t in lex.stop:
                return None
            return Span(view.starts[i], view.ends[i], "PERSON", "vn-name")
        return None

    @staticmethod
    def _sentence_start(view: TokenView, i: int) -> bool:
        if i == 0:
            return True
        gap = view.text[view.ends[i - 1] : view.starts[i]]
        return any(c in gap for c in ".!?\n:")

    # -- general first names (supporting evidence) --------------------------------------
    def known_name_spans(self, view: TokenView) -> list[Span]:
        """A known first name before capitalised words ("Sophie Lang", "Szabina J Gelencsér"),
        a known first name alone that is not an English word ("Derek"), and in all-lower-case
        text a known first name before a word ("eva kleist")."""
        names = self.names
        first, last = names.first, names.last
        out: list[Span] = []
        folded, caps, text = view.folded, view.caps, view.text
        lex = self.lex
        n = len(folded)
        i = 0
        while i < n:
            f = folded[i]
            if f not in first:
                # "Faina D. Yefremova": a name, an initial, a name
                if (
                    i + 2 < n
                    and caps[i]
                    and caps[i + 1]
                    and caps[i + 2]
                    and len(folded[i + 1]) == 1
                    and folded[i + 1].isalpha()
                    and self._namey(view, i)
                    and self._namey(view, i + 2)
                    and view.joined(i)
                    and view.joined(i + 1)
                ):
                    out.append(Span(view.starts[i], view.ends[i + 2], "PERSON", "name-list"))
                    i += 3
                    continue
                # "Calquín Cazares": a capitalised word before a known surname
                if (
                    i + 1 < n
                    and caps[i]
                    and caps[i + 1]
                    and folded[i + 1] in last
                    and self._namey(view, i)
                    and self._namey(view, i + 1)
                    and view.text[view.ends[i] : view.starts[i + 1]] == " "
                    and not self._vn_name_starts(view, i + 1)
                    and not is_vn_common_word(text[view.starts[i] : view.ends[i]])
                ):
                    out.append(Span(view.starts[i], view.ends[i + 1], "PERSON", "name-list"))
                    i += 2
                    continue
                i += 1
                continue
            w = text[view.starts[i] : view.ends[i]]
            if is_vn_common_word(w, self._sentence_start(view, i)):
                i += 1  # "Tôi", "Chào", "Cảm": Vietnamese words, not the names Toi, Chao, Cam
                continue
            if caps[i] and not w.isupper() or (w.isupper() and len(w) > 3 and self._upper_context(view, i)):
                j = i
                while j + 1 < n and j - i < 3 and view.joined(j) and caps[j + 1] and not folded[j + 1].isdigit():
                    nxt = folded[j + 1]
                    initial = len(nxt) == 1 and nxt.isalpha() and j + 2 < n and caps[j + 2] and view.joined(j + 1)
                    if not initial and (
                        nxt in lex.stop or nxt in lex.generic or nxt in SUFFIX_KEYWORDS or nxt in lex.countries
                    ):
                        break
                    j += 1
                out.append(Span(view.starts[i], view.ends[j], "PERSON", "name-list"))
                i = j + 1
                continue
            if w.islower() and self._lower_context(view, i) and f not in lex.common_words:
                j = i
                if (
                    i + 2 < n
                    and len(folded[i + 1]) == 1
                    and view.joined(i)
                    and view.joined(i + 1)
                    and folded[i + 2].isalpha()
                    and folded[i + 2] not in lex.stop
                ):
                    j = i + 2  # "emidio p lombardo"
                elif (
                    i + 1 < n
                    and view.joined(i)
                    and folded[i + 1].isalpha()
                    and folded[i + 1] not in lex.stop
                    and (folded[i + 1] in last or folded[i + 1] not in lex.generic)
                ):
                    j = i + 1
                out.append(Span(view.starts[i], view.ends[j], "PERSON", "name-list"))
                i = j + 1
                continue
            i += 1
        return out

    def _vn_name_starts(self, view: TokenView, i: int) -> bool:
        """Token i starts a Vietnamese full name ("Nguyen Thi Mai"), so the word before it is not part of it."""
        return (
            i + 1 < len(view.folded)
            and view.joined(i)
            and starts_vn_full_name(self.lex, view.folded[i], view.folded[i + 1], view.caps[i + 1])
            and view.folded[i - 1] not in self.name_parts
        )

    def _namey(self, view: TokenView, i: int) -> bool:
        """Token i could be part of a personal name: a capitalised word that is not a common word."""
        f = view.folded[i]
        lex = self.lex
        if not f.isalpha() or len(f) < 2:
            return False
        w = view.text[view.starts[i] : view.ends[i]]
        if w.isupper() and len(w) > 1:
            return False
        return not (
            f in lex.stop
            or f in lex.generic
            or f in lex.common_words
            or f in lex.titles
            or f in lex.countries
            or f in SUFFIX_KEYWORDS
            or f in PREFIX_KEYWORDS
        )

    @property
    def names(self):
        if self._names is None:
            self._names = person_names()
        return self._names

    @staticmethod
    def _lower_context(view: TokenView, i: int) -> bool:
        """The line around token i has no capital letters (text typed in lower case)."""
        text = view.text
        a = text.rfind("\n", 0, view.starts[i]) + 1
        b = text.find("\n", view.ends[i])
        line = text[a : b if b >= 0 else len(text)]
        return not any(c.isupper() for c in line)

    @staticmethod
    def _upper_context(view: TokenView, i: int) -> bool:
        text = view.text
        a = text.rfind("\n", 0, view.starts[i]) + 1
        b = text.find("\n", view.ends[i])
        line = text[a : b if b >= 0 else len(text)]
        return not any(c.islower() for c in line)

    # -- lists: "Eklund, Michael and Hodge" --------------------------------------------------
    LIST_RE = re.compile(
        r"(?<![\w'’\-])(?=[A-ZĐÀ-ÝẠ-Ỹ])[^\W\d_][\w'’\-]*(?:[ \t][^\W\d_][\w'’\-]*)?(?:,[ \t]+[^\W\d_][\w'’\-]*(?:[ \t][^\W\d_][\w'’\-]*)?){0,10},?[ \t]+(?:and|or|&|và|hoặc)[ \t]+[^\W\d_][\w'’\-]*(?:[ \t][^\W\d_][\w'’\-]*)?"
    )
    _ITEM_SPLIT = re.compile(r",?[ \t]+(?:and|or|&|và|hoặc)[ \t]+|,[ \t]+")

    def expand_lists(self, text: str, spans: list[Span]) -> list[Span]:
        """Items of a list of capitalised names are people when one of them is (or two are known surnames)."""
        persons = [(s.start, s.end) for s in spans if s.label == "PERSON"]
        lex = self.lex
        last, first = self.names.last, self.names.first
        out: list[Span] = []
        for m in self.LIST_RE.finditer(text):
            items = []
            pos = m.start()
            for part in self._ITEM_SPLIT.split(m.group()):
                k = text.find(part, pos)
                pos = k + len(part)
                words = part.split()
                if len(words) > 1 and not words[-1][:1].isupper():
                    if not items:
                        items.append(None)  # "Thank you, Lan and Huong": not an item
                        continue
                    part = words[0]  # "Murphy were": the item is "Murphy"
                items.append((k, k + len(part)))
            items = [x for x in items if x is not None]
            good = []
            for a, b in items:
                words = text[a:b].split()
                fw = [fold(w) for w in words]
                if not all(w[:1].isupper() for w in words) or any(
                    x in lex.stop or x in lex.generic or x in lex.countries for x in fw
                ):
                    good.append(None)
                    continue
                good.append((a, b))
            valid = [g for g in good if g]
            if len(valid) < 2 or len(valid) < len(good) - 1:
                continue
            anchored = any(any(s < b and a < e for s, e in persons) for a, b in valid)
            known = sum(
                1 for a, b in valid if fold(text[a:b].split()[-1]) in last or fold(text[a:b].split()[0]) in first
            )
            if (
                anchored
                or known >= 2
                or (
                    known >= 1
                    and all(len(text[a:b].split()) == 1 for a, b in valid)
                    and all(self.gaz_index.get((fold(text[a:b]),)) is None for a, b in valid)
                )
            ):
                out += [Span(a, b, "PERSON", "name-list") for a, b in valid]
        return out

    # -- name cues: "my name is X", "Name: X", "Hi X," ---------------------------------------
    CUE_RE = re.compile(
        r"(?:\b(?:my name is|name is|name was|named|called|calls me|call me|known as|nicknamed|alias|aka|"
        r"tên là|tên em là|tên tôi là|tên)\s+"
        r"|(?:^|\n)[ \t>*]*(?:name|full name|họ tên|họ và tên|tên|patient|client|contact|attn|to|from|signed)[ \t]*:[ \t]*"
        r"|\b(?:last name|first name|surname|family name|given name|full name|maiden name)(?:[ \t]+is)?[ \t]*[?:.]?[ \t]*"
        r"|\b(?:hi|hello|dear|hey|thanks|thank you|chào|xin chào)[ \t]*,?[ \t]+"
        r"|\b(?:my|her|his|their|our|your)[ \t]+(?:friend|sister|brother|mother|father|boyfriend|girlfriend|husband|"
        r"wife|son|daughter|cousin|aunt|uncle|boss|pimp|neighbour|neighbor|colleague|partner|client|customer|kid|child|baby|"
        r"nephew|niece|grandson|granddaughter|grandmother|grandfather|fiance|fiancee|roommate|classmate|teacher)[ \t]*,?[ \t]+)"
        r"(?P<n>[^\W\d_][\w'’\-]*(?:[ \t]+[^\W\d_]\.?(?![\w])|[ \t]+[^\W\d_][\w'’\-]*){0,3})",
        re.IGNORECASE,
    )

    #: "<Name> said", "<Name> lives in", "... says <Name>."
    VERB_AFTER_RE = re.compile(
        r"(?<![\w'’\-])(?P<n>[A-ZĐÀ-ÝẠ-Ỹ][\w'’\-]*(?:[ \t][A-ZĐÀ-ÝẠ-Ỹ][\w'’\-]*)?)[ \t]+"
        r"(?:said|says|told|tells|asked|asks|lives|lived|was born|works|worked|began|started|comes from|came from|"
        r"is from|was from|married|called me|phoned|texted|promised|introduced|took me|brought me|sold me|"
        r"nói|bảo|kể)\b"
    )
    VERB_BEFORE_RE = re.compile(
        r"\b(?:says|said|asked|told|according to|thanks to|married to|introduced by|sold by|taken by)[ \t]+"
        r"(?P<n>[A-ZĐÀ-ÝẠ-Ỹ][\w'’\-]*(?:[ \t][A-ZĐÀ-ÝẠ-Ỹ][\w'’\-]*)?)(?=[ \t]*[.,;!?\n]|$)"
    )

    def verb_spans(self, text: str) -> list[Span]:
        out: list[Span] = []
        lex = self.lex
        for rx in (self.VERB_AFTER_RE, self.VERB_BEFORE_RE):
            for m in rx.finditer(text):
                words = m.group("n").split()
                f = [fold(w) for w in words]
                # a sentence-initial common word ("Nobody said", "Police said") is not a name
                while f and (
                    f[0] in lex.stop
                    or f[0] in lex.generic
                    or f[0] in lex.common_words
                    or f[0] in lex.titles
                    or f[0] in lex.countries
                    or self.gaz_index.get((f[0],)) is not None
                ):
                    words.pop(0)
                    f.pop(0)
                if not words or any(x in lex.stop or x in lex.generic or x in lex.countries for x in f):
                    continue
                if len(words) == 1 and len(f[0]) < 2:
                    continue
                e = m.end("n")
                out.append(Span(e - len(" ".join(words)), e, "PERSON", "name-cue"))
        return out

    def cue_spans(self, text: str) -> list[Span]:
        out: list[Span] = self.verb_spans(text)
        lex = self.lex
        for m in self.CUE_RE.finditer(text):
            s = m.start("n")
            words = list(re.finditer(r"[^\W\d_][\w'’\-]*\.?", text[s : m.end("n")]))
            keep = []
            lowercase_text = not any(c.isupper() for c in text[max(0, s - 80) : s + 80])
            for k, w in enumerate(words):
                word = w.group().rstrip(".")
                f = fold(word)
                if len(word) == 1 and word.isupper() and keep and k + 1 < len(words):
                    keep.append(w)  # a middle initial
                    continue
                if f in lex.stop or f in lex.generic or f in lex.titles:
                    if k == 0 and f in lex.titles:
                        continue
                    break
                if not (word[0].isupper() or lowercase_text):
                    break
                keep.append(w)
            if keep:
                out.append(Span(s + keep[0].start(), s + keep[-1].end(), "PERSON", "name-cue"))
        return out

    # -- speaker labels that are names -------------------------------------------------------
    def speaker_spans(self, text: str, turns) -> list[Span]:
        out: list[Span] = []
        lex = self.lex
        for t in turns:
            if t.label_start is None or t.role == "metadata":
                continue
            label = text[t.label_start : t.label_end]
            words = re.findall(r"[\w'’.\-]+", label)
            if not words or any(any(c.isdigit() for c in w) for w in words):
                continue
            folded = [fold(w).strip(".") for w in words]
            if len(words) == 1 and (len(folded[0]) <= 3 and words[0].isupper() or len(folded[0]) <= 1):
                continue  # R, I, Q, INT, FGD
            if not all(w[0].isupper() for w in words):
                continue
            core = [f for f in folded if f not in lex.titles]
            if not core or not self.distinctive(core) or fold(label).strip() in ("interviewer", "respondent"):
                continue
            from ..documents import INTERVIEWER_LABELS

            if core[0] in INTERVIEWER_LABELS:
                continue
            # skip a leading title inside the label ("Ms Lan")
            s = t.label_start
            m = re.match(r"(?:[\w'’]+\.?\s+)", label)
            if m and fold(m.group()).strip(" .") in lex.titles and len(words) > 1:
                s += m.end()
            out.append(Span(s, t.label_end, "PERSON", "speaker"))
        return out

    # -- street addresses ---------------------------------------------------------------
    def address_spans(self, text: str) -> list[Span]:
        lex = self.lex
        out: list[Span] = []

        def words_ok(words: str, need_cap: bool = False) -> bool:
            ws = words.split()
            for w in ws:
                f = fold(w.strip(".,"))
                if f in lex.stop and f not in _PARTICLES:
                    return False
            if need_cap and ws and not any(w[0].isupper() for w in ws):
                return False
            return True

        for m in ADDR_NUM_FIRST.finditer(text):
            if words_ok(m.group("words")):
                out.append(Span(m.start(), m.end(), "PLACE", "address"))
        for m in ADDR_PREFIX.finditer(text):
            words = m.group("words")
            if m.group("end") is not None:
                # "29 Rue de Tanger", "đường Lê Lợi": without a number the name must be capitalised or the prefix numbered
                end_word = m.group("end")
                if not words_ok(words + " " + end_word):
                    continue
                if not re.match(r"\d", m.group()) and not (
                    end_word[:1].isupper() and (not words.strip() or words.strip()[:1].isupper())
                ):
                    continue
                if fold(end_word) in lex.stop or fold(end_word) in lex.generic:
                    continue
            elif not words_ok(words):
                continue
            if (
                not re.match(r"\d", m.group())
                and not words.strip()
                and m.group("end") is None
                and not m.group()[0].isupper()
            ):
                pass
            out.append(Span(m.start(), m.end(), "PLACE", "address"))
        for m in _NUMBER_AFTER_WORD.finditer(text):
            ws = m.start()
            while ws > 0 and (text[ws - 1].isalnum() or text[ws - 1] in "'’-"):
                ws -= 1
            raw_word = text[ws : m.start()]
            word = fold(raw_word)
            ending = next((x for x in _ENDINGS if word.endswith(x)), None)
            if ending is None or (len(ending) <= 3 and word != ending):
                continue
            if not raw_word[:1].isupper() and word != ending and any(c.isupper() for c in text[max(0, ws - 40) : ws]):
                continue  # "about 8": a lower-case word in ordinary text
            start = ws
            if word in _ENDING_WORDS:  # "Villacher Strasse 89", "Trenerys gate 232": the name is before it
                prev = re.search(r"(?:[^\W\d_][\w'’\-]*[ \t]+){1,2}$", text[max(0, ws - 60) : ws])
                if prev:
                    words = prev.group().split()
                    while words and (
                        fold(words[0]) in lex.stop
                        and fold(words[0]) not in _PARTICLES
                        or not words[0][0].isupper()
                        and fold(words[0]) not in _PARTICLES
                    ):
                        words.pop(0)
                    if words:
                        start = ws - len(prev.group()) + prev.group().index(words[0])
            num = re.search(r"\d{1,6}[ \t]+$", text[max(0, start - 8) : start])
            if num:
                start -= len(num.group())
            out.append(Span(start, m.end(), "PLACE", "address"))
        for m in ADDR_NUM_WORDS_NUM.finditer(text):
            if words_ok(m.group("words"), need_cap=True) and not _DATE_LIKE.match(m.group()):
                ws = m.group("words").split()
                if any(fold(w) in ("years", "year", "tuổi", "tuoi", "old", "am", "pm", "h", "x") for w in ws):
                    continue
                out.append(Span(m.start(), m.end(), "PLACE", "address"))
        for m in ADDR_VN.finditer(text):
            ws = m.group("words").split()
            if (
                len(ws) >= 2
                and all(w[0].isupper() for w in ws)
                and all(is_vn_syllable(fold(w)) for w in ws)
                and not any(fold(w) in lex.stop and fold(w) not in self.name_parts for w in ws)
            ):
                out.append(Span(m.start(), m.end(), "PLACE", "address"))
        for rx in (ADDR_UNIT, ADDR_MILITARY, ADDR_STATE_ZIP):
            for m in rx.finditer(text):
                out.append(Span(m.start(), m.end(), "PLACE", "address"))
        if out:
            out += self._address_block(text, out)
        return out

    def _address_block(self, text: str, found: list[Span]) -> list[Span]:
        """Short lines after an address line (town, region, postcode) and ", Town" after an address."""
        extra: list[Span] = []
        lines = []
        pos = 0
        for raw in text.split("\n"):
            lines.append((pos, pos + len(raw)))
            pos += len(raw) + 1
        starts = [a for a, _ in lines]
        import bisect

        seen_lines: set[int] = set()
        for sp in found:
            li = bisect.bisect_right(starts, sp.start) - 1
            # the rest of the same line after the address: ", Marshland", ", Beder, Denmark 56905"
            rest_s, rest_e = sp.end, lines[li][1]
            extra += self._place_tail(text, rest_s, rest_e)
            if li in seen_lines:
                continue
            seen_lines.add(li)
            extra += self._names_before_address(text, lines, li)
            for lj in range(li + 1, min(li + 5, len(lines))):
                a, b = lines[lj]
                line = text[a:b]
                content = line.strip(" \t\r>*-•?")
                if not content:
                    continue
                if (
                    len(content) > 48
                    or _digits(content) >= 7
                    or re.match(r"[^:]{1,30}:\s", content)
                    or re.search(r"[.!?]\s|\b(?:is|are|was|the|and|to|of)\b", content)
                ):
                    break
                extra += self._place_tail(text, a, b, whole_line=True)
        return extra

    def _names_before_address(self, text: str, lines: list[tuple[int, int]], li: int) -> list[Span]:
        """Short lines of two or three capitalised words just above an address: the addressee."""
        out: list[Span] = []
        lex = self.lex
        blanks = 0
        for lj in range(li - 1, max(-1, li - 6), -1):
            a, b = lines[lj]
            raw = text[a:b]
            content = raw.strip(" \t\r>*-•?")
            if not content:
                blanks += 1
                if blanks > 1:
                    break
                continue
            if len(content) > 40 or any(c.isdigit() for c in content) or ":" in content:
                break
            words = content.split()
            if (
                2 <= len(words) <= 3
                and all(w[:1].isupper() for w in words)
                and not any(fold(w.strip(".,")) in lex.stop or fold(w.strip(".,")) in lex.generic for w in words)
            ):
                k = a + raw.index(content)
                out.append(Span(k, k + len(content), "PERSON", "name-block"))
        return out

    def _place_tail(self, text: str, s: int, e: int, whole_line: bool = False) -> list[Span]:
        out: list[Span] = []
        seg = text[s:e]
        if not whole_line:
            m = re.match(r"[ \t]*,[ \t]*", seg)
            if not m:
                return out
        for m in _POSTCODE.finditer(seg):
            out.append(Span(s + m.start(), s + m.end(), "PLACE", "address"))
        for m in _CAP_WORDS.finditer(seg):
            words = m.group()
            ws = [fold(w) for w in re.findall(r"\w+", words)]
            if not ws:
                continue
            caps_ok = all(
                w[:1].isupper() for w in re.findall(r"[^\W\d_][\w'’.\-]*", words) if fold(w) not in _PARTICLES
            )
            if not caps_ok and not whole_line:
                break
            if any(w in self.lex.stop and w not in _PARTICLES for w in ws) and not whole_line:
                break
            if all(w in self.lex.stop for w in ws):
                continue
            out.append(Span(s + m.start(), s + m.end(), "PLACE", "address"))
            if not whole_line:
                break
        return out


# --- spaCy entities -----------------------------------------------------------------------

NER_LABELS = {"PERSON": "PERSON", "GPE": "PLACE", "LOC": "PLACE", "FAC": "FACILITY"}


#: a model entity longer than this (in words) is not one name: only its capitalised runs are kept
NER_MAX_WORDS = {"PERSON": 6}
NER_MAX_WORDS_OTHER = 12
#: Vietnamese function words ("and", "with", "of", "is", "at"...): never inside one name, as written
VI_FUNCTION_WORDS = frozenset("và với của là ở hoặc cùng cho thì mà nhưng hay".split())


def _ner_pieces(toks: list, label: str, rules: RuleDetector, lowercase_text: bool) -> list[list]:
    """Split the tokens of one model entity into the names it really holds.

    * at a line break or "Label: " (an entity across them is two things);
    * at a Vietnamese function word ("Hồng và anh Tuấn"), and, in a person, before a
      kinship term that starts a new name ("... anh Tuấn": the term itself is dropped);
    * an over-long entity ("blah blah ..." tagged as one PERSON) keeps only its runs of
      capitalised words that are short enough to be a name;
    * a person loses lower-case words at its edges in ordinary text ("Nguyễn Thị Mai end"),
      common Vietnamese words ("Tôi"), and capitalised words before a Vietnamese full
      name ("Later Nguyen Thi Mai": the name starts at the surname).
    """
    lex = rules.lex
    pieces: list[list] = []
    cur: list = []
    for k, t in enumerate(toks):
        txt = t.text
        if t.is_space or "\n" in txt or (txt == ":" and t.whitespace_) or "\n" in t.whitespace_:
            if not t.is_space and txt != ":":
                cur.append(t)
            pieces.append(cur)
            cur = []
            continue
        if label in ("PERSON", "PLACE") and txt in VI_FUNCTION_WORDS:
            pieces.append(cur)
            cur = []
            continue
        if label == "PERSON" and cur and txt in lex.titles_vi and k + 1 < len(toks) and toks[k + 1].text[:1].isupper():
            pieces.append(cur)
            cur = []
            continue
        cur.append(t)
    pieces.append(cur)
    limit = NER_MAX_WORDS.get(label, NER_MAX_WORDS_OTHER)
    out: list[list] = []
    for piece in pieces:
        while piece and piece[0].is_punct:
            piece = piece[1:]
        while piece and piece[-1].is_punct:
            piece = piece[:-1]
        if not piece:
            continue
        words = [t for t in piece if not t.is_punct]
        if len(words) > limit:
            if lowercase_text:
                continue
            runs: list[list] = []
            run: list = []
            for t in piece:
                if t.text[:1].isupper():
                    run.append(t)
                else:
                    runs.append(run)
                    run = []
            runs.append(run)
            out += [r for r in runs if 0 < len(r) <= limit]
            continue
        if label == "PERSON":
            piece = _trim_person(piece, rules, lowercase_text)
        if piece:
            out.append(piece)
    return out


def starts_vn_full_name(lex: Lexicon, surname: str, following: str, following_caps: bool) -> bool:
    """A (folded) Vietnamese surname followed by a capitalised middle or given name: a full name starts here."""
    return surname in lex.surnames and following_caps and (following in lex.middles or following in lex.given)


def _trim_person(piece: list, rules: RuleDetector, lowercase_text: bool) -> list:
    lex = rules.lex

    def weak(t) -> bool:
        return (not lowercase_text and t.text[:1].islower()) or is_vn_common_word(t.text) or t.is_punct

    while piece and weak(piece[0]):
        piece = piece[1:]
    while piece and weak(piece[-1]):
        piece = piece[:-1]
    # "Later Nguyen Thi Mai": a Vietnamese full name starts at its surname
    for k in range(1, len(piece) - 1):
        if starts_vn_full_name(lex, fold(piece[k].text), fold(piece[k + 1].text), piece[k + 1].text[:1].isupper()):
            before = [fold(t.text) for t in piece[:k]]
            if not any(b in rules.name_parts or b in lex.titles or b in rules.names.first for b in before):
                piece = piece[k:]
            break
    return piece


def ner_spans(sdoc, offset: int, rules: RuleDetector) -> list[Span]:
    """spaCy entities of *sdoc* (a chunk starting at *offset*) as spans."""
    out: list[Span] = []
    lex = rules.lex
    text = sdoc.text  # Doc.text joins every token: build it once, not per entity
    for ent in sdoc.ents:
        label = NER_LABELS.get(ent.label_)
        if label is None:
            continue
        toks = [fold(t.text) for t in ent if not t.is_punct]
        if not toks:
            continue
        start_tok = 0
        while start_tok < len(ent) - 1 and (
            fold(ent[start_tok].text) in lex.stop
            or ent[start_tok].is_punct
            or label == "PERSON"
            and fold(ent[start_tok].text).rstrip(".") in lex.titles
        ):
            start_tok += 1  # "My nick", "the Mekong", "Mr. Tuan"
        sub = ent[start_tok:]
        lowercase_text = not any(c.isupper() for c in text[max(0, sub.start_char - 200) : sub.end_char + 200])
        for piece in _ner_pieces(list(sub), label, rules, lowercase_text):
            words = [fold(t.text).rstrip(".") for t in piece if not t.is_punct]
            if not rules.distinctive(words):
                continue
            if label == "PERSON" and all(w in lex.generic or w in lex.stop for w in words):
                continue
            if label == "PERSON" and len(piece) == 1 and not piece[0].text[:1].isupper() and not lowercase_text:
                continue  # a lower-case single word in ordinary text ("My nick is ...") is not a name
            a, b = offset + piece[0].idx, offset + piece[-1].idx + len(piece[-1].text)
            out.append(Span(a, b, label, "ner"))
    return out
