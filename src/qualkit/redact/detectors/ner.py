"""The spaCy model's entities as spans: split into the names they really hold, trimmed."""

from __future__ import annotations

from ...textnorm import fold
from ..lexicon import is_vn_common_word
from ..spans import Span
from .base import Words, shared_words
from .persons import starts_vn_full_name

NER_LABELS = {"PERSON": "PERSON", "GPE": "PLACE", "LOC": "PLACE", "FAC": "FACILITY"}


#: a model entity longer than this (in words) is not one name: only its capitalised runs are kept
NER_MAX_WORDS = {"PERSON": 6}
NER_MAX_WORDS_OTHER = 12
#: Vietnamese function words ("and", "with", "of", "is", "at"...): never inside one name, as written
VI_FUNCTION_WORDS = frozenset("và với của là ở hoặc cùng cho thì mà nhưng hay".split())


def _ner_pieces(toks: list, label: str, lists: Words, lowercase_text: bool) -> list[list]:
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
    lex = lists.lex
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
            piece = _trim_person(piece, lists, lowercase_text)
        if piece:
            out.append(piece)
    return out


def _trim_person(piece: list, lists: Words, lowercase_text: bool) -> list:
    lex = lists.lex

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
            if not any(b in lists.name_parts or b in lex.titles or b in lists.names.first for b in before):
                piece = piece[k:]
            break
    return piece


def ner_spans(sdoc, offset: int, lists: Words | None = None) -> list[Span]:
    """spaCy entities of *sdoc* (a chunk starting at *offset*) as spans."""
    lists = lists or shared_words()
    out: list[Span] = []
    lex = lists.lex
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
        for piece in _ner_pieces(list(sub), label, lists, lowercase_text):
            words = [fold(t.text).rstrip(".") for t in piece if not t.is_punct]
            if not lists.distinctive(words):
                continue
            if label == "PERSON" and all(w in lex.generic or w in lex.stop for w in words):
                continue
            if label == "PERSON" and len(piece) == 1 and not piece[0].text[:1].isupper() and not lowercase_text:
                continue  # a lower-case single word in ordinary text ("My nick is ...") is not a name
            a, b = offset + piece[0].idx, offset + piece[-1].idx + len(piece[-1].text)
            out.append(Span(a, b, label, "ner"))
    return out
