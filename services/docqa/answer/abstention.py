"""Pure: whether retrieval's evidence is too weak to answer from ("not in your documents").

Four measures of the evidence, from the hits of docqa's default search (hybrid, convex
fusion, no reranking) for a question:

* ``top_score``: the fused score of the first hit;
* ``top_cosine``: the highest cosine similarity of question and hit among the hits;
* ``best_sentence``: the extractive pick's best score among the sentences of the top
  passages (``excerpts.candidates``: how well one sentence answers the question);
* ``coverage``: the share of the question's terms (docqa's stems) that the top 3 passages
  hold.

``Evidence`` combines them (standardised, then logistic) into the chance that the collection
does not answer; at ``threshold`` or above, it does not. Weights, scales and threshold were
fitted on SQuAD training articles with ``python -m docqa.evaluation.abstention_calibration``
(half of 30 articles indexed, 300 questions of each half; the threshold refuses 5 % of the
answerable ones). On an out-of-corpus split of dev built the same way (half of its 48
articles indexed, 300 questions of each half): ROC AUC 0.980 (the fused score alone 0.966),
92.0 % of out-of-corpus questions refused, 6.7 % of answerable ones, precision 93.2 %.
On the documentation set (``python -m docqa.evaluation.docs_abstention``: its 46 covered
questions, and 24 it does not cover, ``docs/eval/docs-uncovered-questions.json``): ROC AUC
0.956 (the fused score alone 0.881); none of the covered refused; all 12 unrelated questions
refused, but only 4 of the 12 about neighbouring tools (Kubernetes, Helm, Podman...).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from docqa.answer.excerpts import Candidate
from docqa.answer.support import share, terms_of
from docqa.core.models import Hit
from docqa.search.terms import query_terms


@dataclass(frozen=True)
class Evidence:
    """Weights (bias first) over standardised features, and the refusal threshold."""

    weights: tuple[float, float, float, float, float]
    mean: tuple[float, float, float, float]
    scale: tuple[float, float, float, float]
    threshold: float

    def missing(self, features: Sequence[float]) -> float:
        """The chance, 0-1, that the collection does not answer the question."""
        z = self.weights[0] + sum(
            w * (x - m) / s
            for w, x, m, s in zip(self.weights[1:], features, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z))

    def refuses(self, features: Sequence[float]) -> bool:
        return self.missing(features) >= self.threshold


EVIDENCE = Evidence(
    weights=(-0.5096, -1.3906, -2.6923, -1.9912, -0.6234),
    mean=(0.5738, 0.4677, 0.3456, 0.7013),
    scale=(0.1644, 0.1742, 0.2642, 0.2229),
    threshold=0.4833,
)


def measures(question: str, hits: Sequence[Hit], ranked: Sequence[Candidate]) -> list[float]:
    """(top_score, top_cosine, best_sentence, coverage) of ``hits``, best first, with their
    sentences ``ranked`` by the extractive pick (``excerpts.candidates``)."""
    if not hits:
        return [0.0, 0.0, 0.0, 0.0]
    held = frozenset().union(*(terms_of(hit.text) for hit in hits[:3]))
    return [
        hits[0].score,
        max((hit.similarity or 0.0 for hit in hits), default=0.0),
        ranked[0].score if ranked else 0.0,
        share(query_terms(question), held),
    ]
