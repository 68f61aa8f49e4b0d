"""Measure the evidence a question's retrieval gives, for saying "not in your documents":
fit on SQuAD training articles, report on an out-of-corpus split of dev; in process.

``python -m docqa.evaluation.abstention_calibration [--articles 30] [--sample 300]
[--check-first 30]``

Built the same way on both sides: half of the articles are indexed (``InMemoryIndex``:
docqa's hybrid search in memory), and questions are asked of both halves; a question of an
indexed article is answerable, one of the other half is not. Candidate evidence, each from
the top 5 hits: the fused score of the first (``top_score``), its cosine (``top_cosine``),
the best extractive pick score among the top passages' sentences (``best_sentence``,
``answer.excerpts``), and the share of the question's terms the top 3 passages hold
(``coverage``). A logistic regression fitted on the training split combines them; the
threshold refuses at most 3 % of the training split's answerable questions. Reported for
each candidate alone and combined: ROC AUC, and with the threshold: the share of
out-of-corpus questions refused (recall), of refusals that were out of corpus (precision),
and of answerable questions refused.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from docqa.answer.abstention import measures
from docqa.answer.excerpts import candidates
from docqa.evaluation.memory_index import (
    SQUAD,
    CachedEmbedder,
    InMemoryIndex,
    Question,
    load,
)
from docqa.evaluation.support_calibration import fit_logistic, roc_auc

FEATURES = ("top_score", "top_cosine", "best_sentence", "coverage")
MAX_REFUSED = 0.03  # of answerable questions (the training split's); see abstention.py


def split(
    name: str, articles: int | None, sample: int, embedder: CachedEmbedder, first: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels (1: not in the indexed half) of ``sample`` questions per half, of
    ``articles`` articles from the ``first``."""
    last = None if articles is None else first + articles
    data_paragraphs, questions = load(name, last)
    article_of = _articles(name, last)
    count = max(article_of) + 1
    indexed = set(range(first, count, 2))  # every other article
    kept = [i for i, _ in enumerate(data_paragraphs) if article_of[i] in indexed]
    index = InMemoryIndex([data_paragraphs[i] for i in kept], embedder)
    rng = random.Random(0)
    inside = [q for q in questions if article_of[q.paragraph] in indexed]
    outside = [q for q in questions if first <= article_of[q.paragraph] not in indexed]
    chosen = rng.sample(inside, min(sample, len(inside))) + rng.sample(
        outside, min(sample, len(outside))
    )
    labels = np.array([float(article_of[q.paragraph] not in indexed) for q in chosen])
    return np.array([evidence(q, index, embedder) for q in chosen]), labels


def _articles(name: str, articles: int | None) -> list[int]:
    data = json.loads((SQUAD / name).read_text())["data"][:articles]
    return [a for a, article in enumerate(data) for _ in article["paragraphs"]]


def evidence(question: Question, index: InMemoryIndex, embedder: CachedEmbedder) -> list[float]:
    """The service's own measures (``answer.abstention.measures``) of the question's hits."""
    [vector] = embedder.embed([question.text])
    hits = index.retrieve(question.text, vector)
    return measures(question.text, hits, candidates(question.text, hits, embedder.embed))


def figures(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    refused = scores >= threshold
    outside = labels == 1
    return {
        "auc": roc_auc(list(scores[outside]), list(scores[~outside])),
        "out_of_corpus_refused": float(refused[outside].mean()),
        "answerable_refused": float(refused[~outside].mean()),
        "precision": float(outside[refused].mean()) if refused.any() else float("nan"),
    }


def run(
    articles: int, sample: int, embedder: CachedEmbedder, check_first: int | None = None
) -> dict[str, Any]:
    """Fit on the first ``articles`` training articles; report there, on dev, and with
    ``check_first`` on ``articles`` more training articles from that one (built the same way,
    never fitted on: where features and the operating point were chosen)."""
    x, y = split("train-v1.1-part.json", articles, sample, embedder)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    theta = fit_logistic((x - mean) / std, y)

    def score(rows: np.ndarray) -> np.ndarray:
        z = theta[0] + ((rows - mean) / std) @ theta[1:]
        return np.asarray(1 / (1 + np.exp(-z)))

    train = score(x)
    threshold = float(np.quantile(train[y == 0], 1 - MAX_REFUSED))
    checked: dict[str, Any] = {}
    if check_first is not None:
        cx, cy = split("train-v1.1-part.json", articles, sample, embedder, check_first)
        checked["train_check"] = figures(score(cx), cy, threshold)
    dx, dy = split("dev-v1.1.json", None, sample, embedder)
    alone = {
        name: roc_auc(list(-dx[dy == 1, i]), list(-dx[dy == 0, i]))
        for i, name in enumerate(FEATURES)
    }
    return {
        "weights": dict(zip(("bias", *FEATURES), theta.tolist(), strict=True)),
        "mean": mean.tolist(),
        "std": std.tolist(),
        "threshold": threshold,
        "train": figures(train, y, threshold),
        **checked,
        "dev": figures(score(dx), dy, threshold),
        "dev_auc_each_alone": alone,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument(
        "--check-first", type=int, help="also report on --articles train articles from this one"
    )
    parser.add_argument("--cache", type=Path, default=Path("/tmp/docqa-squad-embeddings.pkl"))
    args = parser.parse_args()
    from docqa.core.config import Settings
    from docqa.wiring import embedder

    cached = CachedEmbedder(embedder(Settings()), args.cache)
    try:
        result = run(args.articles, args.sample, cached, args.check_first)
    finally:
        cached.save()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
