"""Street addresses (many countries' forms, and Vietnamese "số 12 đường Lê Lợi"), with the
lines of an address block around them (town, postcode, the addressee above)."""

from __future__ import annotations

import bisect
import re
from typing import Sequence

from ...textnorm import fold, is_vn_syllable
from ..phrases import TokenView
from ..spans import Span
from .base import Words, shared_words
from .contacts import _DATE_LIKE, _digits

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


class AddressDetector:
    """Street addresses and the address block around them."""

    name = "addresses"

    def __init__(self, words: Words | None = None) -> None:
        self.words = words or shared_words()

    def detect(self, view: TokenView, turns: Sequence | None = None) -> list[Span]:
        text = view.text
        lex = self.words.lex
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
                between = m.group("words").split()
                if any(fold(w) in ("years", "year", "tuổi", "tuoi", "old", "am", "pm", "h", "x") for w in between):
                    continue
                out.append(Span(m.start(), m.end(), "PLACE", "address"))
        for m in ADDR_VN.finditer(text):
            name = m.group("words").split()
            if (
                len(name) >= 2
                and all(w[0].isupper() for w in name)
                and all(is_vn_syllable(fold(w)) for w in name)
                and not any(fold(w) in lex.stop and fold(w) not in self.words.name_parts for w in name)
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
        lex = self.words.lex
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
            if any(w in self.words.lex.stop and w not in _PARTICLES for w in ws) and not whole_line:
                break
            if all(w in self.words.lex.stop for w in ws):
                continue
            out.append(Span(s + m.start(), s + m.end(), "PLACE", "address"))
            if not whole_line:
                break
        return out
