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
does not answer; at ``threshold`` or above, it does not. It is the service's default
(``DOCQA_ABSTENTION=evidence``) for the search it was fitted on (hybrid, convex fusion, no
reranking), where it replaces the single cosine cut (``min_score``). Weights, scales and
threshold were fitted on SQuAD training articles with
``python -m docqa.evaluation.abstention_calibration`` (half of the first 30 articles indexed,
300 questions of each half). The operating point: the threshold refuses 3 % of the training
split's answerable questions (``MAX_REFUSED``). It was chosen, like the features, on training
articles the fit never saw (articles 30-59, built the same way): at 5 % that split refused
4.7 % of its answerable questions, where dev later refused 6.7 %; at 3 % it refused 3.0 % and
96.0 % of the out-of-corpus ones. Candidate features that did not help there (a sentence's
best cosine and term share, the top passage's coverage, capitalised terms covered, the fused
score's gap, the mean cosine) are not used.

On the out-of-corpus split of dev (half of its 48 articles indexed, 300 questions of each
half), measured once with the chosen rule: ROC AUC 0.980 (the fused score alone 0.966),
89.3 % of out-of-corpus questions refused, 4.7 % of answerable ones, precision 95.0 %.
On the documentation set (``python -m docqa.evaluation.docs_abstention``: its 46 covered
questions, and 24 it does not cover, ``docs/eval/docs-uncovered-questions.json``): see
docs/benchmarks.md.
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
    threshold=0.6629,  # refuses 3 % of the training split's answerable questions
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
