"""Word lists the detectors use, loaded once per process (lazily, never at import).

* Vietnamese name parts, titles and kinship terms: ``data/redact_vn_names.txt``.
* Countries and broad regions kept by default: ``data/redact_countries.txt``.
* Generic role/descriptor words: ``data/redact_generic.txt``.
* The gazetteer of Vietnamese administrative units, built at run time from the
  installed ``vietnam-provinces`` package (the post-2025 provinces and
  wards/communes) plus ``data/redact_vn_legacy_units.tsv`` (the pre-2025 63
  provinces, their districts and wards, generated from ``vietnamadminunits``;
  see :mod:`qualkit.redact.build_legacy_gazetteer`), with common spellings
  (Hanoi, HCMC, TP.HCM, Saigon...) added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from ..textnorm import fold

WORD_RE = re.compile(r"\w+(?:['’](?![sS]\b)\w+)*")


def tokens_of(text: str) -> list[str]:
    """Folded word tokens of *text* (the unit of every phrase lookup)."""
    return WORD_RE.findall(fold(text))


def phrase_key(text: str) -> str:
    """The folded identity of a phrase: ``"Hà Nội"``, ``"HA-NOI"`` -> ``"ha noi"``."""
    return " ".join(tokens_of(text))


def _data_text(name: str) -> str:
    return resources.files("qualkit.data").joinpath(name).read_text(encoding="utf-8")


def _sections(name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"": []}
    current = ""
    for raw in _data_text(name).splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            out.setdefault(current, [])
            continue
        out.setdefault(current, []).append(line)
    return out


def _words(lines: list[str]) -> list[str]:
    return [w for line in lines for w in line.split()]


@dataclass
class Lexicon:
    surnames: frozenset[str]
    middles: frozenset[str]
    given: frozenset[str]
    ambiguous: frozenset[str]
    titles: frozenset[str]  # English titles and Vietnamese kinship terms, folded
    titles_vi: frozenset[str]  # Vietnamese kinship terms as written (with accents)
    countries: frozenset[str]  # phrase keys
    generic: frozenset[str]
    stop: frozenset[str]
    common_words: frozenset[str]  # English words that are also names
    female: frozenset[str] = frozenset()  # folded Vietnamese given names usually borne by women
    male: frozenset[str] = frozenset()
    #: Vietnamese words that are never given names, lower case with their accents ("tôi", "phỏng")
    not_names: frozenset[str] = frozenset()
    #: given names that are also common words, lower case with accents: not a name alone at a sentence start
    sentence_common: frozenset[str] = frozenset()
    pseudonyms: dict[str, list[str]] = field(default_factory=dict)


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    names = _sections("redact_vn_names.txt")
    countries = _sections("redact_countries.txt")
    generic = _sections("redact_generic.txt")
    pseudo = _sections("redact_pseudonyms.txt")
    try:
        from spacy.lang.en.stop_words import STOP_WORDS

        stop = frozenset(fold(w) for w in STOP_WORDS)
    except Exception:  # pragma: no cover - spaCy is a dependency
        stop = frozenset()
    return Lexicon(
        surnames=frozenset(fold(w) for w in _words(names["surnames"])),
        middles=frozenset(fold(w) for w in _words(names["middle"])),
        given=frozenset(fold(w) for w in _words(names["given"])),
        ambiguous=frozenset(fold(w) for w in _words(names["ambiguous"])),
        titles=frozenset(fold(w) for w in _words(names["titles"] + names["titles_vi"])),
        titles_vi=frozenset(w.lower() for w in _words(names["titles_vi"])),
        countries=frozenset(phrase_key(c) for c in countries[""] + countries.get("regions", [])),
        generic=frozenset(fold(w) for w in _words(generic["roles"] + generic["descriptors"])),
        stop=stop,
        common_words=frozenset(fold(w) for w in _words(generic.get("common_words", []))),
        female=frozenset(fold(w) for w in _words(names.get("female", []))),
        male=frozenset(fold(w) for w in _words(names.get("male", []))),
        not_names=frozenset(w.lower() for w in _words(names.get("not_names", []))),
        sentence_common=frozenset(w.lower() for w in _words(names.get("sentence_common", []))),
        pseudonyms={k: _words(v) for k, v in pseudo.items() if k},
    )


# --- the gazetteer -----------------------------------------------------------------

#: Vietnamese / English words that introduce or follow an administrative unit name.
ADMIN_PREFIXES = (
    "thanh pho",
    "tinh",
    "quan",
    "huyen",
    "thi xa",
    "thi tran",
    "phuong",
    "xa",
    "dac khu",
    "tp",
    "tx",
    "tt",
    "p",
    "q",
    "h",
    "province of",
    "city of",
    "district of",
)
ADMIN_SUFFIXES = (
    "province",
    "provinces",
    "city",
    "district",
    "districts",
    "ward",
    "wards",
    "commune",
    "communes",
    "town",
    "township",
    "municipality",
    "county",
    "prefecture",
)

#: Common spellings that are not in the official lists.
EXTRA_PLACES = (
    "Hanoi",
    "Ha Noi",
    "Hà Nội",
    "Saigon",
    "Sài Gòn",
    "Sai Gon",
    "HCMC",
    "HCM",
    "HCM City",
    "TP.HCM",
    "TPHCM",
    "TP HCM",
    "TP. HCM",
    "TP Hồ Chí Minh",
    "Ho Chi Minh City",
    "Hồ Chí Minh City",
    "Thành phố Hồ Chí Minh",
    "Danang",
    "Da Nang",
    "Haiphong",
    "Hai Phong",
    "Hue",
    "Huế",
    "Nha Trang",
    "Vung Tau",
    "Chau Doc",
    "Can Tho",
    "Cantho",
    "Halong",
    "Ha Long",
    "Sapa",
    "Sa Pa",
    "Dalat",
    "Da Lat",
    "Mong Cai",
    "Móng Cái",
    "Lao Cai",
    "Lào Cai",
    "Cholon",
    "Chợ Lớn",
    "Phu Quoc",
    "Phú Quốc",
    "Cat Ba",
    "Hoi An",
    "Hội An",
    "Buon Ma Thuot",
    "Buôn Ma Thuột",
    "Pleiku",
    "Quy Nhon",
    "Quy Nhơn",
    "Vinh",
    "Thai Nguyen",
    "Bien Hoa",
    "Biên Hòa",
    "Long Xuyen",
    "Long Xuyên",
    "My Tho",
    "Mỹ Tho",
    "Rach Gia",
    "Rạch Giá",
    "Ca Mau",
    "Cà Mau",
    "Ha Tien",
    "Hà Tiên",
    "Tinh Bien",
    "Tịnh Biên",
)


@dataclass
class Gazetteer:
    #: phrase key -> level ("province", "district", "ward", "alias")
    names: dict[str, str]
    #: single-token names: matched only with an administrative prefix or suffix
    single: frozenset[str]
    max_tokens: int


def is_common_word(folded: str) -> bool:
    """True for a folded single word that is also an ordinary word ("my" from "Mỷ",
    "long", "grade", stop words): as a name it is only matched as written with its
    accents (or where capitalised), never in any case."""
    lex = lexicon()
    return (
        len(folded) < 2
        or folded in lex.stop
        or folded in lex.ambiguous
        or folded in lex.common_words
        or folded in lex.generic
    )


def is_vn_common_word(written: str, sentence_start: bool = False) -> bool:
    """True for a word, as written, that is a common Vietnamese word rather than a given name:
    "Tôi", "Chào", "Phỏng" always; "Học" only at the start of a sentence. Accents decide:
    "Phong" (no accent) is still a name."""
    lex = lexicon()
    low = written.lower()
    return low in lex.not_names or (sentence_start and low in lex.sentence_common)


def _name_variants(name: str) -> list[str]:
    """``"Bà Rịa - Vũng Tàu"`` -> the whole name and its parts."""
    out = [name]
    if " - " in name or "–" in name:
        out += [p.strip() for p in re.split(r"\s+[-–]\s+", name) if p.strip()]
    return out


_PREFIX_RE = re.compile(r"^(?:Thành phố|Tỉnh|Phường|Xã|Đặc khu|Thị xã|Thị trấn|Quận|Huyện)\s+", re.IGNORECASE)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Build the gazetteer from the installed packages and the shipped legacy list."""
    raw: list[tuple[str, str]] = []
    try:
        from vietnam_provinces import Province, Ward

        for p in Province.iter_all():
            raw.append((_PREFIX_RE.sub("", p.name), "province"))
        for w in Ward.iter_all():
            raw.append((_PREFIX_RE.sub("", w.name), "ward"))
    except ImportError:  # pragma: no cover - a declared dependency
        pass
    for line in _data_text("redact_vn_legacy_units.tsv").splitlines():
        if not line or line.startswith("#"):
            continue
        level, _type, name, _province = line.split("\t")
        raw.append((name, level))
    for alias in EXTRA_PLACES:
        raw.append((alias, "alias"))
    names: dict[str, str] = {}
    single: set[str] = set()
    rank = {"alias": 0, "province": 1, "district": 2, "ward": 3}
    for name, level in raw:
        for variant in _name_variants(name):
            toks = tokens_of(variant)
            if not toks or not any(t.isalpha() for t in toks):
                continue  # "Phường 1": numbered units have their own pattern
            key = " ".join(toks)
            if len(toks) == 1 and level in ("ward", "district"):
                single.add(key)
                continue
            if key not in names or rank[level] < rank[names[key]]:
                names[key] = level
            if level in ("province", "district", "alias") and len(toks) in (2, 3) and all(t.isalpha() for t in toks):
                joined = "".join(toks)  # Hanoi, Danang, Haiphong, Nhatrang
                names.setdefault(joined, level)
    max_tokens = max(len(k.split()) for k in names)
    return Gazetteer(names=names, single=frozenset(single), max_tokens=max_tokens)


@dataclass
class PersonNames:
    first: frozenset[str]
    last: frozenset[str]


_LATIN_NAME = re.compile(r"^[A-Za-zÀ-ɏḀ-ỿ'’\-]{3,}$")


@lru_cache(maxsize=1)
def person_names() -> PersonNames:
    """General first- and last-name lists, folded (from the Faker package's name providers).

    Used only as supporting evidence (a known first name before a capitalised
    word, a known first name alone that is not an English word). Empty when Faker
    is not installed.
    """
    first: set[str] = set()
    last: set[str] = set()
    try:
        import importlib
        import pkgutil

        import faker.providers.person as people
    except ImportError:  # pragma: no cover - optional
        return PersonNames(frozenset(), frozenset())
    for mod_info in pkgutil.iter_modules(people.__path__):
        try:
            provider = importlib.import_module(f"{people.__name__}.{mod_info.name}").Provider
        except Exception:  # pragma: no cover - a broken locale
            continue
        for attr in dir(provider):
            if not (attr.startswith(("first_name", "last_name")) or "romanized" in attr):
                continue
            values = getattr(provider, attr, None)
            if not isinstance(values, (dict, tuple, list, set, frozenset)):
                continue
            target = first if "first" in attr else last
            for v in values:
                if isinstance(v, str) and _LATIN_NAME.match(v):
                    target.add(fold(v))
    lex = lexicon()
    common = lex.common_words | lex.stop | lex.generic | lex.titles | lex.ambiguous
    return PersonNames(frozenset(first - common - lex.countries), frozenset(last - common - lex.countries))
