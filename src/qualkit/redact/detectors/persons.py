"""Person names: Vietnamese names and titles, known first names, lists of names.

* :class:`VietnameseNameDetector`: a title or kinship term before a name ("chị Mai",
  "Mr. Tuan"), runs of capitalised Vietnamese syllables ("Nguyễn Thị Mai");
* :class:`KnownNameDetector`: general first and last names (supporting evidence);
* :class:`NameListExpander`: the other items of a list one of whose items is a name
  (runs after the spans are merged).
"""

from __future__ import annotations

import re
from typing import Sequence

from ...textnorm import fold, has_diacritics, is_vn_syllable
from ..lexicon import Lexicon, is_vn_common_word
from ..phrases import PLAIN_KINSHIP, TokenView
from ..spans import Span
from .base import Words, lower_context, sentence_start, shared_words, upper_context
from .facilities import PREFIX_KEYWORDS, SUFFIX_KEYWORDS


def starts_vn_full_name(lex: Lexicon, surname: str, following: str, following_caps: bool) -> bool:
    """A (folded) Vietnamese surname followed by a capitalised middle or given name: a full name starts here."""
    return surname in lex.surnames and following_caps and (following in lex.middles or following in lex.given)


class VietnameseNameDetector:
    """A title or kinship term before a capitalised name; runs of capitalised Vietnamese syllables."""

    name = "vn-names"

    def __init__(self, words: Words | None = None) -> None:
        self.words = words or shared_words()

    def detect(self, view: TokenView, turns: Sequence | None = None) -> list[Span]:
        out: list[Span] = []
        lex = self.words.lex
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
                and (folded[i + 1] not in lex.stop or self._honorific(text[view.starts[i] : view.ends[i]]))
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

    #: titles after which even a common word is a name: "Ms My", "Mr Will", "chị My"
    _HONORIFICS = frozenset("mr mrs ms mx dr miss madam madame mme sir".split())

    def _honorific(self, word: str) -> bool:
        low = word.lower().rstrip(".")
        return low in self._HONORIFICS or (low in self.words.lex.titles_vi and has_diacritics(word))

    def _title_ok(self, view: TokenView, i: int, word: str, f: str) -> bool:
        if word.isupper() and len(word) > 1:
            return False
        lex = self.words.lex
        low = word.lower()
        if low in lex.titles_vi:  # written with its accents (or an accentless term like "anh")
            return has_diacritics(word) or (f in PLAIN_KINSHIP and self._vn_token(view, i + 1))
        if has_diacritics(word):
            return False  # "Bắc" is not "bác"
        if f in lex.titles and fold(low) not in {fold(t) for t in lex.titles_vi}:
            return True  # an English title
        return f in PLAIN_KINSHIP and self._vn_token(view, i + 1)

    def _vn_token(self, view: TokenView, i: int) -> bool:
        f = view.folded[i]
        if not f.isalpha() or not is_vn_syllable(f):
            return False
        if f in self.words.name_parts:
            return True
        if f in self.words.lex.stop or f in self.words.lex.generic:
            return False
        w = view.text[view.starts[i] : view.ends[i]]
        return has_diacritics(w)

    def _vn_run(self, view: TokenView, i: int, k: int) -> list[Span]:
        """Classify the run of tokens i..k-1 (capitalised, Vietnamese-looking)."""
        lex = self.words.lex
        folded = view.folded
        out: list[Span] = []
        # "Tran Van Hung": a surname and name syllables make a full name, even if a place is named inside it
        if k - i >= 3 and folded[i] in lex.surnames and self.words.gaz_index.get(tuple(folded[i:k])) is None:
            sp = self._person_in(view, i, min(k, i + 4), folded[i : min(k, i + 4)])
            if sp is not None:
                return [Span(sp.start, sp.end, "PERSON", "vn-fullname")]
        while i < k:
            toks = folded[i:k]
            # a place name inside the run ends the person part there
            cut = k
            for a in range(i, k):
                for b in range(k, a, -1):
                    if self.words.gaz_index.get(tuple(folded[a:b])) is not None and b - a >= 2:
                        cut = a
                        break
                if cut != k:
                    break
            if cut == i:
                # the run starts with a place: skip it (the gazetteer reports it)
                for b in range(k, i, -1):
                    if self.words.gaz_index.get(tuple(folded[i:b])) is not None:
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
        lex = self.words.lex
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
        if is_vn_common_word(w, sentence_start(view, i)):
            return None  # "Phỏng vấn", "Học sinh": a Vietnamese word, not Phong or Học
        if diac and w.lower() in lex.titles_vi:
            return None  # "Chị an cơm chưa?": the kinship term (a pronoun), not the name Chi
        if t in lex.given and (t not in lex.ambiguous or diac) and not w.isupper():
            if sentence_start(view, i) and t in lex.stop:
                return None
            return Span(view.starts[i], view.ends[i], "PERSON", "vn-name")
        return None


class KnownNameDetector:
    """A known first name before capitalised words ("Sophie Lang", "Szabina J Gelencsér"),
    a known first name alone that is not an English word ("Derek"), and in all-lower-case
    text a known first name before a word ("eva kleist")."""

    name = "known-names"

    def __init__(self, words: Words | None = None) -> None:
        self.words = words or shared_words()

    def detect(self, view: TokenView, turns: Sequence | None = None) -> list[Span]:
        names = self.words.names
        first, last = names.first, names.last
        out: list[Span] = []
        folded, caps, text = view.folded, view.caps, view.text
        lex = self.words.lex
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
            if is_vn_common_word(w, sentence_start(view, i)):
                i += 1  # "Tôi", "Chào", "Cảm": Vietnamese words, not the names Toi, Chao, Cam
                continue
            if caps[i] and not w.isupper() or (w.isupper() and len(w) > 3 and upper_context(view, i)):
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
            if w.islower() and lower_context(view, i) and f not in lex.common_words:
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
                    and (folded[i + 1] in last or folded[i + 1] in self.words.name_parts)
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
            and starts_vn_full_name(self.words.lex, view.folded[i], view.folded[i + 1], view.caps[i + 1])
            and view.folded[i - 1] not in self.words.name_parts
        )

    def _namey(self, view: TokenView, i: int) -> bool:
        """Token i could be part of a personal name: a capitalised word that is not a common word."""
        f = view.folded[i]
        lex = self.words.lex
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


class NameListExpander:
    """Items of a list of capitalised names are people when one of them is (or two are known names)."""

    name = "name-lists"

    def __init__(self, words: Words | None = None) -> None:
        self.words = words or shared_words()

    LIST_RE = re.compile(
        r"(?<![\w'’\-])(?=[A-ZĐÀ-ÝẠ-Ỹ])[^\W\d_][\w'’\-]*(?:[ \t][^\W\d_][\w'’\-]*)?(?:,[ \t]+[^\W\d_][\w'’\-]*(?:[ \t][^\W\d_][\w'’\-]*)?){0,10},?[ \t]+(?:and|or|&|và|hoặc)[ \t]+[^\W\d_][\w'’\-]*(?:[ \t][^\W\d_][\w'’\-]*)?"
    )
    _ITEM_SPLIT = re.compile(r",?[ \t]+(?:and|or|&|và|hoặc)[ \t]+|,[ \t]+")

    def expand(self, text: str, spans: list[Span]) -> list[Span]:
        """Items of a list of capitalised names are people when one of them is (or two are known surnames)."""
        persons = [(s.start, s.end) for s in spans if s.label == "PERSON"]
        lex = self.words.lex
        last, first = self.words.names.last, self.words.names.first
        out: list[Span] = []
        for m in self.LIST_RE.finditer(text):
            items: list[tuple[int, int] | None] = []
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
            good: list[tuple[int, int] | None] = []
            for a, b in (x for x in items if x is not None):
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
                    and all(self.words.gaz_index.get((fold(text[a:b]),)) is None for a, b in valid)
                )
            ):
                out += [Span(a, b, "PERSON", "name-list") for a, b in valid]
        return out
