"""Pure: rank the sentences of the top passages as answers to a question (a logistic model).

Each sentence (``sentences.split``; code blocks only when they are all there is) of the first
``PASSAGES`` hits gets ``FEATURES`` (``sentence_features``: what each says, and how they are
read from one ``embed`` call for the question and the sentences).

``Ranking`` weighs them (``1 / (1 + exp(-(bias + w . features)))``); ``RANKING`` was fitted on
SQuAD training articles, a sentence labelled right when it holds a gold answer
(``python -m docqa.evaluation.excerpt_calibration fit``; figures beside it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from docqa.answer.sentence_features import (
    COSINE_FEATURES,
    FEATURES,
    PASSAGES,
    Ranked,
    featured,
    units_of,
)
from docqa.answer.support import Embed
from docqa.core.models import Hit

__all__ = [
    "COSINE_FEATURES",
    "FEATURES",
    "PASSAGES",
    "RANKING",
    "SEMANTIC",
    "TERMS",
    "Ranked",
    "Ranking",
    "featured",
    "ranked",
    "units_of",
]


@dataclass(frozen=True)
class Ranking:
    """Weights (``bias``, then one per name in ``FEATURES``) of a logistic score."""

    bias: float
    weights: tuple[float, ...]

    @property
    def embeds(self) -> bool:
        """Whether it reads the embedder's cosine (else no ``embed`` call is needed)."""
        return any(self.weights[FEATURES.index(name)] for name in COSINE_FEATURES)

    def score(self, features: Sequence[float]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def ranked(
    question: str, hits: Sequence[Hit], embed: Embed | None, ranking: Ranking | None = None
) -> list[Ranked]:
    """The sentences of the first ``PASSAGES`` hits, best answer first (``RANKING`` unless
    told; one ``embed`` call when the ranking reads the cosine, none otherwise)."""
    chosen = ranking or RANKING
    units = units_of(hits)
    if not units:
        return []
    if chosen.embeds:
        if embed is None:
            raise ValueError("this ranking reads the embedder's cosine: it needs embed")
        vectors = embed([question, *(unit.text for _, unit in units)])
        rows = featured(question, hits, units, vectors[0], vectors[1:])
    else:
        rows = featured(question, hits, units, None, None)
    scored = [
        Ranked(r.source, r.start, r.end, r.text, r.kind, r.features, chosen.score(r.features))
        for r in rows
    ]
    return sorted(scored, key=lambda row: -row.score)


# Both fitted on the first 20 SQuAD training articles (all their 7,989 questions; 111,920
# candidate sentences of their top 3 passages, each question's right ones those holding a
# gold answer; ``python -m docqa.evaluation.excerpt_calibration fit --articles 20``): ranking
# scores, not calibrated chances (a softmax fixes no bias). ``fused`` is the fused hybrid
# score (0-1): a reranked list's scores are on another scale. On all 10,570 SQuAD dev
# questions (the same in-memory default hybrid search; ``... measure``), the share whose
# answer holds a gold answer, its first sentence alone / up to two sentences:
# ``SEMANTIC`` (all features, one embedder call per answer) 75.9 % / 83.1 %;
# ``TERMS`` (the cosine left out: no embedder call) 73.8 % / 81.1 %. The embedder call costs
# p50 ~150-220 ms on this 2-core machine, over the 50 ms an extractive answer may add to
# retrieval, so ``RANKING``, what ``excerpts.excerpt`` uses, is ``TERMS``.
SEMANTIC = Ranking(
    bias=-8.0956,
    weights=(
        3.6727,  # cosine
        3.506,  # cosine_gap
        -4.7514,  # overlap
        -3.1176,  # overlap_gap
        8.6768,  # weighted
        4.5706,  # weighted_gap
        -0.0575,  # bigram
        0.3441,  # neighbour
        -0.4374,  # context
        -0.4221,  # rank
        12.6718,  # fused
        -0.0139,  # novel
        1.3274,  # number
        1.514,  # year
        2.1259,  # name
        0.2368,  # length
    ),
)
TERMS = Ranking(
    bias=-6.5161,
    weights=(
        0.0,  # cosine
        0.0,  # cosine_gap
        -2.0276,  # overlap
        -1.3304,  # overlap_gap
        7.0404,  # weighted
        3.7086,  # weighted_gap
        -0.0094,  # bigram
        0.2007,  # neighbour
        -2.4366,  # context
        -0.4347,  # rank
        16.0648,  # fused
        -2.034,  # novel
        1.5448,  # number
        1.6663,  # year
        2.1251,  # name
        0.2729,  # length
    ),
)
RANKING = TERMS
