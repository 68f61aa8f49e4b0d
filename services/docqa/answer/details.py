"""Pure: the details an answer sentence adds to its question (numbers, code, names) that a
passage does not hold: what a fluent line with one detail wrong gets wrong.

A detail is a word of the claim that the question did not give and that must appear as
written for the claim to be true: a number (``1950`` is not ``1950s``, ``7th`` not ``5th``:
compared as whole words, unstemmed), a code token (a flag, a path, a file name, ``key=value``:
compared as written, lowercased, with the passage's text), or a name (a capitalised word that
does not start the sentence).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from docqa.search.terms import fold, words

_TOKEN = re.compile(r"\S+")
# What surrounds a token without being part of it: quotes, brackets, backticks, end marks.
_OUTER = "\"'`()[]{}<>,;:.!?*\u201c\u201d\u2018\u2019"
_CODE_INSIDE = re.compile(r"[./\\=_]|^--?[a-z]")
_ITEM_MARK = re.compile(r"^(?:[-*+\u2022]|\d{1,3}[.)])$")


def tokens(text: str) -> list[str]:
    """``text``'s whitespace-separated tokens, outer punctuation stripped, list marks left out."""
    found = []
    for raw in _TOKEN.findall(text):
        if _ITEM_MARK.match(raw):
            continue
        token = raw.strip(_OUTER)
        if token:
            found.append(token)
    return found


def is_code(token: str) -> bool:
    """Whether ``token`` reads as code: a flag (``-a``, ``--tlskey``) or a token with a dot,
    slash, backslash, ``=`` or ``_`` inside (a path, a file name, ``key=value``)."""
    return bool(_CODE_INSIDE.search(token.lower())) and any(c.isalnum() for c in token)


def details(claim: str, question: str = "") -> list[str]:
    """The claim's details the question does not hold, each as it must appear in a passage:
    numbers and names as folded words, code tokens as folded text."""
    asked_words = frozenset(words(question))
    asked_text = fold(question)
    found: list[str] = []
    for position, token in enumerate(tokens(claim)):
        if is_code(token):
            if fold(token) not in asked_text:
                found.append(fold(token))
            continue
        for word in words(token):
            if word in asked_words:
                continue
            named = token[:1].isupper() and position > 0
            if any(c.isdigit() for c in word) or named:
                found.append(word)
    return list(dict.fromkeys(found))


def missing(needed: Sequence[str], passage: str) -> float:
    """1.0 when a detail of ``needed`` (``details``) is not in ``passage``: a word among its
    words, a code token within its folded text."""
    if not needed:
        return 0.0
    text = fold(passage)
    held = frozenset(words(passage))
    return float(
        any((detail not in text) if is_code(detail) else (detail not in held) for detail in needed)
    )
