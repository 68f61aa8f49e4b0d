"""Fit the support rule (``docqa.answer.support_rule.Rule``) on SQuAD training articles, never dev.

``python -m docqa.evaluation.support_calibration [--articles 24] [--per-paragraph 2]``

Claims are made from training questions: a question with its gold answer as a statement
(``"<question without ?> <answer>."``), the shape of a one-line answer. For each claim:

* supported (1): the claim against the paragraph that holds its answer;
* wrong fact (0): the question with another answer of the same article (one its paragraph does
  not hold) against that paragraph: the passage is on topic, the claim is false to it;
* off passage (0): the claim against another paragraph of the same article that does not hold
  the answer (what a retrieved but unrelated passage looks like).

The first half of the articles fits the weights (logistic regression, features at each pair's
best span by cosine + overlap) and the threshold (best balanced accuracy); the second half
measures the whole rule as ``support.check`` applies it (best span by the fitted score):
accuracy, balanced accuracy and ROC AUC, printed and returned.

The threshold ``RULE`` ships with is chosen on labelled generated answers instead
(``docqa.evaluation.support_threshold``).
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from docqa.answer import support, support_rule
from docqa.answer.details import details
from docqa.answer.support_rule import Rule
from docqa.core.models import Hit
from docqa.search.terms import query_terms

TRAIN = Path("/work/shared/data/squad/train-v1.1-part.json")


@dataclass(frozen=True)
class Pair:
    claim: str
    passage: str
    label: int
    kind: str  # "supported", "wrong fact", "off passage"
    question: str = ""


def pairs(articles: Sequence[dict[str, Any]], per_paragraph: int, seed: int = 0) -> list[Pair]:
    rng = random.Random(seed)
    made: list[Pair] = []
    for article in articles:
        paragraphs = [p["context"] for p in article["paragraphs"]]
        answers = [qa["answers"][0]["text"] for p in article["paragraphs"] for qa in p["qas"]]
        for index, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            for qa in paragraph["qas"][:per_paragraph]:
                answer = qa["answers"][0]["text"]
                stem = qa["question"].strip().rstrip("?").strip()
                made.append(Pair(f"{stem} {answer}.", context, 1, "supported", qa["question"]))
                wrong = [a for a in answers if a.lower() not in context.lower()]
                if wrong:
                    wrong_claim = f"{stem} {rng.choice(wrong)}."
                    made.append(Pair(wrong_claim, context, 0, "wrong fact", qa["question"]))
                others = [
                    p
                    for i, p in enumerate(paragraphs)
                    if i != index and answer.lower() not in p.lower()
                ]
                if others:
                    off = rng.choice(others)
                    made.append(Pair(f"{stem} {answer}.", off, 0, "off passage", qa["question"]))
    return made


def features(pair: Pair, vectors: dict[str, list[float]]) -> np.ndarray:
    """``support_rule.features`` of every sentence span of the passage, one row each; the claim's
    details are those its question did not give, as ``support.check`` has them."""
    claim = support.claim_of(pair.claim)
    needed = query_terms(claim)
    own = details(claim, pair.question)
    hit = Hit("c", "d", pair.passage, 0.0, {})
    passage_terms = support.terms_of(pair.passage)
    rows = [
        support_rule.features(
            vectors[claim], needed, span, vectors[span.text], passage_terms, own, pair.passage
        )
        for span in support.passage_spans([hit])
    ]
    return np.array(rows)


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 4000, rate: float = 0.5) -> np.ndarray:
    """Logistic regression by gradient descent: (bias, weights...)."""
    design = np.hstack([np.ones((len(x), 1)), x])
    theta = np.zeros(design.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ theta))
        theta -= rate * (design.T @ (p - y) / len(y) + 1e-4 * np.r_[0, theta[1:]])
    return theta


def roc_auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """The chance that a positive scores above a negative (ties count half)."""
    if not positives or not negatives:
        return float("nan")
    pos, neg = np.asarray(positives), np.asarray(negatives)
    above = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(above / (len(pos) * len(neg)))


def balanced(scores: np.ndarray, y: np.ndarray, threshold: float) -> float:
    said = scores >= threshold
    return float((said[y == 1].mean() + (~said[y == 0]).mean()) / 2)


def run(articles: int, per_paragraph: int, embed: support.Embed) -> dict[str, Any]:
    data = json.loads(TRAIN.read_text())["data"][:articles]
    half = len(data) // 2
    fit_pairs, test_pairs = pairs(data[:half], per_paragraph), pairs(data[half:], per_paragraph)
    texts: set[str] = set()
    for pair in (*fit_pairs, *test_pairs):
        texts.add(support.claim_of(pair.claim))
        texts.update(
            span.text for span in support.passage_spans([Hit("c", "d", pair.passage, 0, {})])
        )
    ordered = sorted(texts)
    vectors = dict(zip(ordered, embed(ordered), strict=True))
    rows = [features(pair, vectors) for pair in fit_pairs]
    x = np.array([r[np.argmax(r[:, 0] + r[:, 1])] for r in rows])
    y = np.array([pair.label for pair in fit_pairs])
    rule = Rule(*(float(w) for w in fit_logistic(x, y)))
    fit_scores = np.array([max(rule.score(*row) for row in r) for r in rows])
    threshold = max(np.linspace(0.05, 0.95, 91), key=lambda t: balanced(fit_scores, y, t))
    rule = replace(rule, threshold=float(threshold))
    test_y = np.array([pair.label for pair in test_pairs])
    test_scores = np.array(
        [max(rule.score(*row) for row in features(pair, vectors)) for pair in test_pairs]
    )
    said = test_scores >= rule.threshold
    by_kind = {
        kind: float((said[[p.kind == kind for p in test_pairs]] == (kind == "supported")).mean())
        for kind in ("supported", "wrong fact", "off passage")
    }
    cosine_only = np.array([features(pair, vectors)[:, 0].max() for pair in test_pairs])
    return {
        "rule": rule.__dict__,
        "fit_pairs": len(fit_pairs),
        "test_pairs": len(test_pairs),
        "test_accuracy": float((said == (test_y == 1)).mean()),
        "test_balanced_accuracy": balanced(test_scores, test_y, rule.threshold),
        "test_auc": roc_auc(list(test_scores[test_y == 1]), list(test_scores[test_y == 0])),
        "test_auc_cosine_only": roc_auc(
            list(cosine_only[test_y == 1]), list(cosine_only[test_y == 0])
        ),
        "test_correct_by_kind": by_kind,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=24)
    parser.add_argument("--per-paragraph", type=int, default=2)
    args = parser.parse_args()
    from docqa.core.config import Settings
    from docqa.wiring import embedder

    model = embedder(Settings())
    print(json.dumps(run(args.articles, args.per_paragraph, model.embed), indent=2))


if __name__ == "__main__":
    main()
