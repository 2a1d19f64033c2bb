"""Snippets: a window of the original text around the first matched words, escaped for
HTML, the matched words in ``<mark>``. Built from the stored text and the query's terms,
so SQLite and PostgreSQL give the same snippet."""

from __future__ import annotations

import re
from html import escape

from workflow.polish.lemmas import Token, tokens, word_index_terms

WINDOW = 24
"""Words in a snippet."""
SCAN_LIMIT = 20_000
"""Words looked at for a match (a long text: the snippet comes from its beginning)."""


def snippet(body: str, terms: frozenset[str], *, window: int = WINDOW) -> str:
    """The HTML snippet of ``body`` for the query ``terms`` (``query_terms`` flattened)."""
    words: list[Token] = []
    hits: list[int] = []
    for index, token in enumerate(tokens(body)):
        if index >= SCAN_LIMIT:
            break
        words.append(token)
        if _terms(token) & terms:
            hits.append(index)
            if len(words) >= hits[0] + window:
                break
    if not words:
        return ""
    first = hits[0] if hits else 0
    start = max(0, first - window // 4)
    chosen = words[start : start + window]
    if not chosen:
        return ""
    marked = set(hits)
    parts: list[str] = ["… " if start > 0 else ""]
    cursor = chosen[0].start
    for offset, token in enumerate(chosen, start=start):
        parts.append(escape(_flat(body[cursor : token.start])))
        word = escape(token.word)
        parts.append(f"<mark>{word}</mark>" if offset in marked else word)
        cursor = token.end
    end = chosen[-1].end
    tail = body[end : end + 1]
    if tail and not tail.isspace() and not tail.isalnum():
        parts.append(escape(tail))
    if start + len(chosen) < len(words) or end + 1 < len(body):
        parts.append(" …")
    return "".join(parts)


def _terms(token: Token) -> frozenset[str]:
    # Where a sentence starts matters for capitalised words only: one cache entry otherwise.
    if token.sentence_start and not token.word[:1].isupper():
        token = Token(token.word, token.start, token.end, False)
    return word_index_terms(token)


def _flat(gap: str) -> str:
    """The text between two words, on one line."""
    return re.sub(r"\s+", " ", gap)
