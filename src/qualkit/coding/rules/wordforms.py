"""Inflected forms of the words in a codebook, from spaCy's lemmatizer tables.

Owns :class:`WordForms`: "beat" -> beat, beats, beaten, beating. Works on
the lookup tables of a loaded pipeline (no model calls), so a codebook's
thousands of words are widened in milliseconds.
"""

from __future__ import annotations


class WordForms:
    """Inflected forms of a base word from the pipeline's own lemmatizer tables.

    ``forms("beat")`` -> {beat, beats, beaten, beating, ...}: regular forms are the
    lemmatizer's suffix rules run backwards (only for words the tables know as a
    lemma of that part of speech), irregular forms come from its exception table.
    Without tables (a blank pipeline) only the word and its -s plural are used.
    """

    def __init__(self, nlp=None):
        self.rules: dict[str, list] = {}
        self.index: dict[str, set] = {}
        self.exc_rev: dict[str, set[str]] = {}
        self.exc: dict[str, set[str]] = {}
        self._cache: dict[str, frozenset[str]] = {}
        #: lemmas known as a noun or a verb (built once: ~66k entries, read per adjective form)
        self._noun_verb: frozenset[str] = frozenset()
        lem = None
        if nlp is not None and "lemmatizer" in getattr(nlp, "pipe_names", ()):
            lem = nlp.get_pipe("lemmatizer")
        lookups = getattr(lem, "lookups", None)
        if lookups is None:
            return
        try:
            rules = lookups.get_table("lemma_rules")
            index = lookups.get_table("lemma_index")
            exc = lookups.get_table("lemma_exc")
        except KeyError:
            return
        for pos in ("noun", "verb", "adj"):
            if pos in rules:
                self.rules[pos] = [tuple(r) for r in rules[pos]]
            if pos in index:
                self.index[pos] = set(index[pos])
            if pos in exc:
                for form, lemmas in exc[pos].items():
                    for lemma in lemmas:
                        self.exc_rev.setdefault(lemma, set()).add(form)
                        self.exc.setdefault(form, set()).add(lemma)
        self._noun_verb = frozenset(self.index.get("noun", set()) | self.index.get("verb", set()))

    def lemmas(self, word: str) -> set[str]:
        """Base forms of a (possibly inflected) word, including the word itself."""
        w = word.lower()
        out = {w}
        if any(w in self.index.get(pos, ()) for pos in ("noun", "verb", "adj")):
            return out  # a word in its own right ("caring", "beating", "guarded"): not widened
        out |= self.exc.get(w, set())
        for pos in ("noun", "verb"):
            idx = self.index.get(pos, set())
            if w in idx:
                continue
            for old, new in self.rules.get(pos, []):
                if old and w.endswith(old):
                    cand = w[: len(w) - len(old)] + new
                    if cand and cand in idx:
                        out.add(cand)
                        break
        return out

    def forms(self, word: str) -> frozenset[str]:
        w = word.lower()
        if w in self._cache:
            return self._cache[w]
        out: set[str] = set()
        for base in self.lemmas(w):
            out |= self._forms_of_lemma(base)
        out.add(w)
        result = frozenset(out)
        self._cache[w] = result
        return result

    def _forms_of_lemma(self, w: str) -> set[str]:
        out = {w} | self.exc_rev.get(w, set())
        if not self.rules:
            if w.isalpha() and len(w) > 2:
                out.add(w + "s")
            return out
        if not w.isalpha() or len(w) <= 2:
            return out
        for pos, pos_rules in self.rules.items():
            if w not in self.index.get(pos, set()):
                continue
            for old, new in pos_rules:
                if new and not w.endswith(new):
                    continue
                cand = (w[: len(w) - len(new)] if new else w) + old
                if cand == w or not cand:
                    continue
                if pos == "adj" and cand in self._noun_verb:
                    continue  # "own" must not give "owner"
                out.add(cand)
        return out
