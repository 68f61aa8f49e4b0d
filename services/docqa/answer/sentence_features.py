"""Pure: the features of each sentence of the top passages as an answer to a question, which
``sentence_ranking`` weighs.

Each sentence (``sentences.split``; code blocks only when they are all there is) of the first
``PASSAGES`` hits gets ``FEATURES``, from one ``embed`` call for the question and the
sentences:

* ``cosine``: the embedder's cosine of question and sentence; ``cosine_gap``: minus the best
  cosine among the candidates (0 for the best, negative for the rest);
* ``overlap``: the share of the question's terms (docqa's stems, ``search.terms.query_terms``)
  the sentence holds; ``overlap_gap`` the same less the best candidate's;
* ``weighted``: the same share, each term weighted by its rarity among the candidate
  sentences (``ln(1 + n / (1 + sentences holding it))``: the article's own subject, in every
  sentence, counts little); ``weighted_gap`` less the best candidate's;
* ``bigram``: the share of the question's consecutive term pairs found side by side;
* ``neighbour``: the best ``weighted`` of the sentences just before and after it;
* ``context``: ``overlap`` for its whole passage; ``rank``: 1 / the passage's rank;
  ``fused``: the passage's search score;
* ``novel``: the share of the sentence's terms the question does not hold;
* ``number``, ``year``, ``name``: the question asks for a quantity or date (``how many``,
  ``when``...) and the sentence holds a digit; asks ``when`` / ``what year`` and it holds a
  year, month or century; asks ``who`` / ``whom`` / ``whose`` and it holds a capitalised word
  the question does not (not the sentence's first);
* ``length``: ln(1 + its words).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from docqa.answer.sentences import Sentence, split
from docqa.answer.support import share, terms_of
from docqa.answer.support_rule import cosine
from docqa.core.models import Hit
from docqa.search.terms import query_terms, stem, words

PASSAGES = 3  # the top hits an answer is quoted from
FEATURES = (
    "cosine",
    "cosine_gap",
    "overlap",
    "overlap_gap",
    "weighted",
    "weighted_gap",
    "bigram",
    "neighbour",
    "context",
    "rank",
    "fused",
    "novel",
    "number",
    "year",
    "name",
    "length",
)
COSINE_FEATURES = ("cosine", "cosine_gap")  # the two that need the embedder
_WORD = re.compile(r"\S+")
_QUANTITY = re.compile(
    r"\b(when|what (year|century|decade)|which (year|century)|"
    r"how (many|much|long|old|far|often|large|big|tall|high|few))\b",
    re.IGNORECASE,
)
_DATE_ASKED = re.compile(
    r"\b(when|what (year|century|decade|date|day|month)|which (year|century))\b", re.IGNORECASE
)
_PERSON_ASKED = re.compile(r"\b(who|whom|whose)\b", re.IGNORECASE)
_DATE = re.compile(
    r"\b(1\d{3}|20\d{2})s?\b|\bcentur|\b(january|february|march|april|may|june|july|august|"
    r"september|october|november|december)\b",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+")


@dataclass(frozen=True)
class Ranked:
    """A sentence of a passage as an answer candidate: where it is, its features (in the order
    of the weights that score them: ``FEATURES`` here, the pick's in ``excerpts``), its score."""

    source: int  # the passage's number [n]
    start: int  # offsets in the passage's text
    end: int
    text: str
    kind: str
    features: tuple[float, ...]
    score: float = 0.0


def units_of(hits: Sequence[Hit], passages: int = PASSAGES) -> list[tuple[int, Sentence]]:
    """``(passage number, unit)`` of the first ``passages`` hits, code blocks only when they
    are all there is."""
    every = [
        (n, unit) for n, hit in enumerate(hits[:passages], start=1) for unit in split(hit.text)
    ]
    return [(n, unit) for n, unit in every if unit.kind != "code"] or every


def featured(
    question: str,
    hits: Sequence[Hit],
    units: Sequence[tuple[int, Sentence]],
    question_vector: Sequence[float] | None,
    vectors: Sequence[Sequence[float]] | None,
) -> list[Ranked]:
    """Each unit with its ``FEATURES`` (``vectors``: the units' embeddings, in order; without
    them the cosine features are 0)."""
    if not units:
        return []
    needed = query_terms(question)
    asked = frozenset(needed)
    asked_words = frozenset(words(question))
    pairs = list(itertools.pairwise(needed))
    quantity = bool(_QUANTITY.search(question))
    date = bool(_DATE_ASKED.search(question))
    person = bool(_PERSON_ASKED.search(question))
    held = [terms_of(unit.text) for _, unit in units]
    rarity = {
        term: math.log(1 + len(units) / (1 + sum(term in terms for terms in held)))
        for term in needed
    }
    total = sum(rarity.values()) or 1.0
    weighted = [sum(rarity[t] for t in needed if t in terms) / total for terms in held]
    overlap = [share(needed, terms) for terms in held]
    cosines = (
        [cosine(question_vector, vector) for vector in vectors]
        if question_vector is not None and vectors is not None
        else [0.0] * len(units)
    )
    context = {n: share(needed, terms_of(hit.text)) for n, hit in enumerate(hits, start=1)}
    rows: list[Ranked] = []
    for i, (n, unit) in enumerate(units):
        stems = [stem(word) for word in words(unit.text)]
        adjacent = set(itertools.pairwise(stems))
        own = query_terms(unit.text)
        names = [
            match.group()
            for match in _CAPITALISED.finditer(unit.text)
            if match.start() > 0 and match.group().lower() not in asked_words
        ]
        before = weighted[i - 1] if i > 0 and units[i - 1][0] == n else 0.0
        after = weighted[i + 1] if i + 1 < len(units) and units[i + 1][0] == n else 0.0
        values = {
            "cosine": cosines[i],
            "cosine_gap": cosines[i] - max(cosines),
            "overlap": overlap[i],
            "overlap_gap": overlap[i] - max(overlap),
            "weighted": weighted[i],
            "weighted_gap": weighted[i] - max(weighted),
            "bigram": sum(pair in adjacent for pair in pairs) / len(pairs) if pairs else 0.0,
            "neighbour": max(before, after),
            "context": context[n],
            "rank": 1.0 / n,
            "fused": hits[n - 1].score,
            "novel": sum(term not in asked for term in own) / len(own) if own else 0.0,
            "number": float(quantity and any(c.isdigit() for c in unit.text)),
            "year": float(date and bool(_DATE.search(unit.text))),
            "name": float(person and bool(names)),
            "length": math.log1p(len(_WORD.findall(unit.text))),
        }
        features = tuple(values[name] for name in FEATURES)
        rows.append(Ranked(n, unit.start, unit.end, unit.text, unit.kind, features))
    return rows
