"""The text side of keyword search: the terms a chunk is indexed under, and the query a question
becomes. Pure functions; the keyword index (adapters/keyword.py) stores and sends what they make.

Tokens match what SQLite FTS5's ``porter unicode61 remove_diacritics 2`` tokenizer made before
the index moved into Redis: Unicode words (letters and digits; anything else separates, ``_``
included), lowercased, diacritics folded (NFKD, combining marks dropped: ``café`` → ``cafe``),
Porter-stemmed (PyStemmer's ``porter`` is Porter's original algorithm, as FTS5's). RediSearch
does none of this the same way by itself (its English stemmer expands a query to stem *and*
word, and it does not fold diacritics), so docqa stems and folds on both sides and the index
stores the stems in a ``NOSTEM`` field.

A question becomes a union of escaped terms (``a|b|c``) that cannot reach the query parser's
crash and error paths: no stop words (a union that starts with two stop words crashed the
whole Redis with the module's default stop list; the index has none and docqa drops them
here), no empty term (``a||b`` is a syntax error), every character that is not a letter or
digit escaped, at most ``MAX_QUERY_TERMS`` distinct terms of at most ``MAX_TERM_CHARS``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

# Words a question is made of but that say nothing about which chunk answers it. Leaving them
# out of the query keeps BM25 from scoring every chunk that contains "the".
_STOPWORDS = """a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves"""
STOPWORDS = frozenset(_STOPWORDS.split())

WORD = re.compile(r"[^\W_]+")  # letters and digits, as unicode61's token characters
MAX_QUERY_TERMS = 64  # distinct terms a question is searched by (its first ones)
MAX_TERM_CHARS = 100  # a longer "word" in a question is noise (a hash, a run of letters)
_NOT_PLAIN = re.compile(r"[^\w]|_")
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")

_stemmer = Stemmer.Stemmer("porter")


def fold(text: str) -> str:
    """Lowercased, compatibility-decomposed, combining marks (diacritics) dropped. Combining
    marks are never ASCII, so only the other characters are looked at (prose has few)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    if decomposed.isascii():
        return decomposed
    return _NOT_ASCII.sub(_unless_combining, decomposed)


def _unless_combining(match: re.Match[str]) -> str:
    return "" if unicodedata.combining(match.group()) else match.group()


def words(text: str) -> list[str]:
    """``text``'s words, folded, in order."""
    return WORD.findall(fold(text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def document_terms(text: str) -> str:
    """What the index stores for a chunk: its stemmed words, space-separated (stop words kept,
    so that BM25's document lengths count every word, as FTS5's did)."""
    return " ".join(term for term in map(stem, words(text)) if term)


def query_terms(question: str) -> list[str]:
    """The distinct stems a question is searched by, in order: its words but stop words (a
    question of stop words only keeps them), none empty or over ``MAX_TERM_CHARS``, at most
    ``MAX_QUERY_TERMS``."""
    found = [word for word in words(question) if len(word) <= MAX_TERM_CHARS]
    chosen = [word for word in found if word not in STOPWORDS] or found
    terms = dict.fromkeys(term for term in map(stem, chosen) if term)
    return list(terms)[:MAX_QUERY_TERMS]


def escape(term: str) -> str:
    """``term`` with a backslash before every character that is not a letter or digit, so
    the query parser reads it as one plain term."""
    return _NOT_PLAIN.sub(lambda match: "\\" + match.group(), term)


def match_query(question: str) -> str | None:
    """The RediSearch query (DIALECT 2) matching any of the question's terms; None when it has
    none worth searching for."""
    terms = query_terms(question)
    if not terms:
        return None
    return "|".join(escape(term) for term in terms)
