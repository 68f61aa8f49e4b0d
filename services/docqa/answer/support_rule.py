"""Pure: the support check's score of an answer sentence against a passage span: the
features of the pair and the rule that weighs them (``support.check`` applies it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from docqa.answer.details import missing
from docqa.answer.spans import Span, share


@dataclass(frozen=True)
class Rule:
    """How the features combine into a score, and the score that counts as support."""

    bias: float
    cosine: float
    overlap: float
    context: float
    numbers: float
    details: float = 0.0
    threshold: float = 0.5

    def score(
        self,
        cosine: float,
        overlap: float,
        context: float,
        numbers: float,
        details: float = 0.0,
    ) -> float:
        z = (
            self.bias
            + self.cosine * cosine
            + self.overlap * overlap
            + self.context * context
            + self.numbers * numbers
            + self.details * details
        )
        return 1.0 / (1.0 + math.exp(-z))


# Weights fitted on SQuAD train claim/passage pairs (``python -m
# docqa.evaluation.support_calibration --articles 24``: held-out pairs balanced accuracy
# 90.4 %, ROC AUC 0.959; 85.0 % / 0.926 without ``details``). Threshold chosen on 182 generated
# answer sentences labelled by hand, all of SQuAD train or docqa's own README
# (``support_threshold docs/eval/support-labels-train.jsonl``): 0.67 (best 0.65-0.68),
# agreement 78.6 % there (the earlier weights and claims: 72.0 %). Against the 83 labelled
# sentences reported on (SQuAD dev and the documentation set, ``docs/eval/support-labels.jsonl``;
# ``python -m docqa.evaluation.support_labels measure``): agreement 78.3 % (SQuAD dev 81.0 %,
# docs 77.4 %; was 75.9 %), score ROC AUC 0.903; most disagreements are still fluent lines
# with a wrong detail that the passage also holds, which the check passes.
RULE = Rule(
    bias=-5.6744,
    cosine=4.0067,
    overlap=2.7177,
    context=3.8978,
    numbers=-2.1589,
    details=-5.9739,
    threshold=0.67,
)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def novel_number(needed: Sequence[str], held: frozenset[str]) -> float:
    """1.0 when a term of ``needed`` with a digit in it is not in ``held``."""
    return float(any(term not in held for term in needed if any(c.isdigit() for c in term)))


def features(
    claim_vector: Sequence[float],
    needed: Sequence[str],
    span: Span,
    span_vector: Sequence[float],
    passage: frozenset[str],
    claim_details: Sequence[str] = (),
    passage_text: str = "",
) -> tuple[float, float, float, float, float]:
    """(cosine, overlap, context, numbers, details) of an answer sentence and a passage span;
    ``details`` is 1 when a detail of the claim (``details.details``: a number, code token or
    name its question did not give) is not in the passage's text (``passage_text``)."""
    return (
        cosine(claim_vector, span_vector),
        share(needed, span.terms),
        share(needed, passage),
        novel_number(needed, passage),
        missing(claim_details, passage_text),
    )
