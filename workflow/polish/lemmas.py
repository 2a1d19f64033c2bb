"""Polish text into index terms: lemmas from morfeusz2, proper nouns kept apart, folded.

Every word of a text gives a few *terms*, plain lowercase ASCII-or-letters tokens that any
full-text engine (SQLite FTS5 unicode61, PostgreSQL ``to_tsvector('simple', ...)``) keeps
as they are:

- its common-word lemmas, folded: "samorządów" -> ``samorzad``; "pił" -> ``pic``, ``pila``;
- its proper-noun lemmas with the prefix :data:`PROPER`: "w Rybniku" -> ``qqrybnik``,
  "Piły" (the city) -> ``qqpila``; so the city Piła never matches the saw or "pić", and
  "Rybnik" never matches "Rybny";
- its original form with the prefix :data:`FORM`: ``qxrybniku``, for the names the
  dictionary does not know.

Folding removes diacritics and turns "ł" into "l" (FTS5 does not fold "ł"), on the index
side (:func:`index_terms`) and on the query side (:func:`query_terms`) alike.

A capitalised word with a proper-noun reading is indexed as that proper noun (and as the
common word too when it opens a sentence, where capitals say nothing); a lowercase word as
a common word. A query word is read the same way, except that a lowercase query word with
no current common reading ("rybnik": only an archaic one) is taken as the proper noun, and
a word the dictionary does not know matches lemmas and forms spelled like it ("lodz").

:func:`tokens` keeps each word's offsets in the original text, so that snippets highlight
the words as written. Standard library and morfeusz2 only.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

PROPER = "qq"
"""Prefix of a proper-noun lemma term ("Rybnik" -> ``qqrybnik``)."""
FORM = "qx"
"""Prefix of an original-form term ("Rybniku" -> ``qxrybniku``)."""

_WORD = re.compile(r"[^\W_]+")
_SENTENCE_END = frozenset(".!?:;\n")
#: Qualifiers of readings that a query word should not be taken for.
_RARE = frozenset({"przest.", "rzad.", "daw."})
_FOLD = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "đ": "d", "ß": "ss"})
_local = threading.local()


@dataclass(frozen=True, slots=True)
class Token:
    """A word of a text as written, with its offsets (``text[start:end] == word``)."""

    word: str
    start: int
    end: int
    sentence_start: bool


@dataclass(frozen=True, slots=True)
class Reading:
    """One interpretation of a word: its lemma (without morfeusz's ``:Sm1`` homonym mark)."""

    lemma: str
    proper: bool
    rare: bool
    known: bool


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Lowercase, without diacritics, "ł" as "l": "Łódź" -> "lodz"."""
    decomposed = unicodedata.normalize("NFKD", word.translate(_FOLD).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def morfeusz() -> Any:
    """This thread's Morfeusz instance (creating one takes a while; one is not thread-safe)."""
    instance = getattr(_local, "morfeusz", None)
    if instance is None:
        import morfeusz2

        instance = morfeusz2.Morfeusz(expand_tags=False, generate=False)
        _local.morfeusz = instance
    return instance


def tokens(text: str) -> Iterator[Token]:
    """The words of ``text`` (runs of letters and digits) with offsets; ``sentence_start``
    when only spaces and a sentence's end (or nothing) come before."""
    previous = 0
    for match in _WORD.finditer(text):
        start = match.start()
        gap = text[previous:start]
        first = previous == 0 or not _SENTENCE_END.isdisjoint(gap)
        previous = match.end()
        yield Token(match.group(), start, previous, first)


@lru_cache(maxsize=65536)
def readings(word: str) -> tuple[Reading, ...]:
    """Every reading morfeusz2 gives ``word`` (one per lemma); an unknown word gives one
    reading, itself, with ``known`` False."""
    seen: dict[tuple[str, bool], Reading] = {}
    for _start, _end, (_form, lemma, tag, names, quals) in morfeusz().analyse(word):
        if tag in ("interp", "ign"):
            continue
        base = lemma.split(":", 1)[0] or lemma
        if not _WORD.fullmatch(base):  # a multi-word lemma ("Ewangelia_świętego_Jana")
            continue
        proper = base[:1].isupper() or any(n != "nazwa_pospolita" for n in names)
        rare = bool(_RARE.intersection(quals))
        key = (base, proper)
        if key not in seen or (seen[key].rare and not rare):
            seen[key] = Reading(base, proper, rare, True)
    if not seen:
        return (Reading(word, word[:1].isupper(), False, False),)
    return tuple(seen.values())


def _lemma_term(reading: Reading) -> str:
    return (PROPER if reading.proper else "") + fold(reading.lemma).replace("-", "")


def word_index_terms(token: Token) -> frozenset[str]:
    """The terms a word of a document is indexed under."""
    return _word_terms(token.word, token.sentence_start)


@lru_cache(maxsize=65536)
def _word_terms(word: str, sentence_start: bool) -> frozenset[str]:
    found = readings(word)
    terms = {FORM + fold(word).replace("-", "")}
    capital = word[:1].isupper()
    proper = [r for r in found if r.proper]
    common = [r for r in found if not r.proper]
    if capital and proper:
        terms.update(_lemma_term(r) for r in proper)
        if sentence_start or not found[0].known:
            terms.update(_lemma_term(r) for r in common)
    else:
        terms.update(_lemma_term(r) for r in common or found)
    return frozenset(terms)


def index_terms(text: str) -> list[str]:
    """The terms of every word of ``text``, in order (repeats kept, for ranking)."""
    out: list[str] = []
    for token in tokens(text):
        out.extend(sorted(word_index_terms(token)))
    return out


def index_text(text: str) -> str:
    """:func:`index_terms` as one space-separated string: what the full-text column holds."""
    return " ".join(index_terms(text))


def word_query_terms(word: str) -> frozenset[str]:
    """The terms any of which a document must hold to match the query word ``word``."""
    found = readings(word)
    if not found[0].known:
        folded = fold(word).replace("-", "")
        return frozenset({folded, PROPER + folded, FORM + folded})
    proper = [r for r in found if r.proper]
    common = [r for r in found if not r.proper and not r.rare]
    if word[:1].isupper() and proper:
        chosen = proper
    elif common:
        chosen = common
    else:  # "rybnik": only an archaic common noun; the city is what is meant
        capitalised = [r for r in readings(word[:1].upper() + word[1:]) if r.proper]
        chosen = proper or capitalised or list(found)
    return frozenset(_lemma_term(r) for r in chosen)


def query_terms(query: str) -> list[frozenset[str]]:
    """One set of alternatives per word of ``query`` (words are ANDed, a set is ORed);
    operators, quotes and punctuation are just separators. Duplicate words are dropped."""
    groups: list[frozenset[str]] = []
    for token in tokens(unicodedata.normalize("NFC", query)):
        terms = word_query_terms(token.word)
        if terms not in groups:
            groups.append(terms)
    return groups
