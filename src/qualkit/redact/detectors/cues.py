"""Names given away by their context: cues ("my name is X", "Name: X", "Hi X,"), verbs
("X said", "according to X") and speaker labels that are names ("Lan: ...")."""

from __future__ import annotations

import re
from typing import Sequence

from ...textnorm import fold
from ..phrases import TokenView
from ..spans import Span
from .base import Words, shared_words


class CueDetector:
    """A name after a cue ("my name is", "Name:", "Hi", "my sister") or next to a verb of saying."""

    name = "cues"

    def __init__(self, words: Words | None = None) -> None:
        self.words = words or shared_words()

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

    def detect(self, view: TokenView, turns: Sequence | None = None) -> list[Span]:
        return self.cue_spans(view.text)

    def verb_spans(self, text: str) -> list[Span]:
        out: list[Span] = []
        lex = self.words.lex
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
                    or self.words.gaz_index.get((f[0],)) is not None
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
        lex = self.words.lex
        for m in self.CUE_RE.finditer(text):
            s = m.start("n")
            words = list(re.finditer(r"[^\W\d_][\w'’\-]*\.?", text[s : m.end("n")]))
            keep: list[re.Match[str]] = []
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


class SpeakerDetector:
    """Speaker labels that are names ("Lan:", "Ms Hương:"), not roles ("Interviewer:", "R:")."""

    name = "speakers"

    def __init__(self, words: Words | None = None) -> None:
        self.words = words or shared_words()

    def detect(self, view: TokenView, turns: Sequence | None = None) -> list[Span]:
        return self.speaker_spans(view.text, turns) if turns else []

    def speaker_spans(self, text: str, turns) -> list[Span]:
        out: list[Span] = []
        lex = self.words.lex
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
            if not core or not self.words.distinctive(core) or fold(label).strip() in ("interviewer", "respondent"):
                continue
            from ...documents import INTERVIEWER_LABELS

            if core[0] in INTERVIEWER_LABELS:
                continue
            # skip a leading title inside the label ("Ms Lan")
            s = t.label_start
            m = re.match(r"(?:[\w'’]+\.?\s+)", label)
            if m and fold(m.group()).strip(" .") in lex.titles and len(words) > 1:
                s += m.end()
            out.append(Span(s, t.label_end, "PERSON", "speaker"))
        return out
