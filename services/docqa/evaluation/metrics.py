"""Pure figures for the evaluation: ranking metrics over one relevant document per question,
and SQuAD v1.1's answer metrics (normalisation, exact match, F1) as its official script has them.

A question's *rank* is the 1-based position of its relevant document among the distinct
documents a search returned (several chunks of one document count once, at the first), or
``None`` when it did not come back at all.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

RECALL_KS = (1, 3, 5, 10, 20, 50, 100)


def distinct(ids: Iterable[str]) -> list[str]:
    """Document ids in order of first appearance."""
    return list(dict.fromkeys(ids))


def rank_of(relevant: str, ranked_ids: Iterable[str]) -> int | None:
    for position, document_id in enumerate(distinct(ranked_ids), start=1):
        if document_id == relevant:
            return position
    return None


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose document is in the top ``k``."""
    return _mean([1.0 if r is not None and r <= k else 0.0 for r in ranks])


def mrr_at(ranks: Sequence[int | None], k: int = 10) -> float:
    """Mean reciprocal rank, counting ranks beyond ``k`` as 0."""
    return _mean([1.0 / r if r is not None and r <= k else 0.0 for r in ranks])


def ndcg_at(ranks: Sequence[int | None], k: int = 10) -> float:
    """nDCG@k with one relevant document (ideal DCG 1): ``1 / log2(rank + 1)`` within ``k``."""
    return _mean([1.0 / math.log2(r + 1) if r is not None and r <= k else 0.0 for r in ranks])


def retrieval_figures(ranks: Sequence[int | None]) -> dict[str, float]:
    figures = {f"recall@{k}": recall_at(ranks, k) for k in RECALL_KS}
    figures["mrr@10"] = mrr_at(ranks, 10)
    figures["ndcg@10"] = ndcg_at(ranks, 10)
    return figures


# SQuAD v1.1 (the official evaluate-v1.1.py, verbatim in behaviour).


def normalize_answer(text: str) -> str:
    """Lower case, remove punctuation, articles (a, an, the) and extra whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


_PUNCTUATION = frozenset(string.punctuation)


def exact_match(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def f1(prediction: str, truth: str) -> float:
    predicted = normalize_answer(prediction).split()
    expected = normalize_answer(truth).split()
    same = sum((Counter(predicted) & Counter(expected)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(expected)
    return 2 * precision * recall / (precision + recall)


def best_em_f1(prediction: str, truths: Sequence[str]) -> tuple[float, float]:
    """EM and F1, each the maximum over the gold answers (there must be at least one)."""
    if not truths:
        raise ValueError("no gold answers to compare with")
    return max(exact_match(prediction, t) for t in truths), max(f1(prediction, t) for t in truths)


_CITATION = re.compile(r"\s*\[\d+\]")


def clean_answer(answer: str) -> str:
    """A generated answer without its citation markers (``[1]``), which are not answer text."""
    return _CITATION.sub("", answer).strip()


def answer_figures(scores: Sequence[tuple[float, float]]) -> dict[str, float | int]:
    """Mean EM and F1 of (em, f1) pairs, and how many there were."""
    return {
        "n": len(scores),
        "exact_match": _mean([em for em, _ in scores]),
        "f1": _mean([value for _, value in scores]),
    }
