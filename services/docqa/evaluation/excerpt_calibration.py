"""Fit the extractive answer's sentence ranking (``docqa.answer.sentence_ranking.Ranking``) on
SQuAD training articles, and measure extractive answers on dev; in process, no server.

``python -m docqa.evaluation.excerpt_calibration fit [--articles 20]``
``python -m docqa.evaluation.excerpt_calibration measure [--sample 0]`` (0: all 10,570)
``python -m docqa.evaluation.excerpt_calibration time [--sample 50]``
``python -m docqa.evaluation.excerpt_calibration fit-pick [--articles 30] [--questions 600]``

Retrieval is docqa's default hybrid search done in memory (``memory_index.InMemoryIndex``):
each SQuAD paragraph is one chunk (they fit MiniLM's 256 tokens nearly all), dense by MiniLM
cosine, keyword by ``search.bm25`` (docqa's terms, RediSearch's BM25), fused by ``Fusion()``
(the shipped convex fusion), the top 5 kept. ``fit`` indexes the first ``--articles`` training
articles, asks all their questions, labels each candidate sentence of the top passages 1 when
it holds a gold answer and fits a conditional logit (``training.conditional_logit``) on their
``sentence_ranking.FEATURES``; ``measure`` reports the share of dev questions whose extractive
answer (one sentence, and the default of up to two) holds a gold answer; ``time`` the
milliseconds (p50, p90) that an extractive answer and the support check of a three-sentence
answer take on top of retrieval (uncached: the embedder runs). ``fit-pick`` refits the older
single-sentence pick (``excerpts.PICK``) that the abstention rule reads. Embeddings are cached
in ``--cache``.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from docqa.answer import sentence_ranking
from docqa.answer.excerpts import Pick, choose, featured
from docqa.answer.sentence_ranking import Ranking
from docqa.evaluation.memory_index import CachedEmbedder, InMemoryIndex, Question, holds, load
from docqa.evaluation.support_calibration import fit_logistic
from docqa.training.conditional_logit import fit_conditional_logit


def fit_pick(x: np.ndarray, y: np.ndarray) -> Pick:
    return Pick(*(float(w) for w in fit_logistic(x, y)))


def run_fit_pick(articles: int, sample: int, embedder: CachedEmbedder) -> dict[str, Any]:
    """The older single-sentence pick (``excerpts.PICK``, read by the abstention rule)."""
    paragraphs, questions = load("train-v1.1-part.json", articles)
    index = InMemoryIndex(paragraphs, embedder)
    chosen = random.Random(0).sample(questions, min(sample, len(questions)))
    rows, labels = [], []
    qvectors = embedder.embed([q.text for q in chosen])
    for question, vector in zip(chosen, qvectors, strict=True):
        hits = index.retrieve(question.text, vector)
        for candidate in featured(question.text, hits, embedder.embed):
            rows.append(candidate.features)
            labels.append(float(holds(candidate.text, question.answers)))
    return {"pick": fit_pick(np.array(rows), np.array(labels)).__dict__, "candidates": len(rows)}


def ranked_rows(
    questions: Sequence[Question], index: InMemoryIndex, embedder: CachedEmbedder
) -> tuple[list[list[sentence_ranking.Ranked]], list[bool]]:
    """Each question's candidate sentences with their features (unscored), in order; and
    whether its gold paragraph is among the passages they come from."""
    rows, found = [], []
    qvectors = embedder.embed([q.text for q in questions])
    for question, vector in zip(questions, qvectors, strict=True):
        hits = index.retrieve(question.text, vector)
        units = sentence_ranking.units_of(hits)
        vectors = embedder.embed([unit.text for _, unit in units]) if units else []
        rows.append(sentence_ranking.featured(question.text, hits, units, vector, vectors))
        top = hits[: sentence_ranking.PASSAGES]
        found.append(any(hit.chunk_id == str(question.paragraph) for hit in top))
    return rows, found


def fit_ranking(
    rows: Sequence[Sequence[sentence_ranking.Ranked]],
    answers: Sequence[Sequence[str]],
    left_out: Sequence[str] = (),
) -> Ranking:
    """The conditional logit of the candidates' features, right when one holds a gold answer;
    the features named in ``left_out`` are not fitted (weight 0)."""
    used = [n for n, name in enumerate(sentence_ranking.FEATURES) if name not in left_out]
    x = np.array([[r.features[n] for n in used] for question in rows for r in question])
    y = np.array(
        [
            float(holds(r.text, gold))
            for question, gold in zip(rows, answers, strict=True)
            for r in question
        ]
    )
    groups = np.array([n for n, question in enumerate(rows) for _ in question])
    bias, fitted = fit_conditional_logit(x, y, groups)
    weights = dict(zip(used, fitted, strict=True))
    return Ranking(
        round(bias, 4),
        tuple(round(float(weights.get(n, 0.0)), 4) for n in range(len(sentence_ranking.FEATURES))),
    )


def figures(
    rows: Sequence[Sequence[sentence_ranking.Ranked]],
    questions: Sequence[Question],
    ranking: Ranking,
) -> dict[str, float]:
    """Shares of questions whose answer of one sentence, and of up to two, holds a gold answer."""
    one = two = 0
    for candidates, question in zip(rows, questions, strict=True):
        ordered = sorted(candidates, key=lambda r: -ranking.score(r.features))
        one += holds(" ".join(c.text for c in choose(ordered, 1)), question.answers)
        two += holds(" ".join(c.text for c in choose(ordered, 2)), question.answers)
    n = len(questions) or 1
    return {"questions": len(questions), "one_sentence": one / n, "two_sentences": two / n}


def _named(ranking: Ranking) -> dict[str, float]:
    return {
        "bias": ranking.bias,
        **dict(zip(sentence_ranking.FEATURES, ranking.weights, strict=True)),
    }


def run_fit(articles: int, embedder: CachedEmbedder) -> dict[str, Any]:
    """Both rankings: ``terms`` (the cosine features left out: no embedder call when
    answering; ``sentence_ranking.TERMS``) and ``semantic`` (all; ``SEMANTIC``)."""
    paragraphs, questions = load("train-v1.1-part.json", articles)
    index = InMemoryIndex(paragraphs, embedder)
    rows, _ = ranked_rows(questions, index, embedder)
    gold = [q.answers for q in questions]
    terms = fit_ranking(rows, gold, sentence_ranking.COSINE_FEATURES)
    semantic = fit_ranking(rows, gold)
    return {
        "terms": _named(terms),
        "semantic": _named(semantic),
        "candidates": sum(map(len, rows)),
        "on_these_training_questions": {
            "terms": figures(rows, questions, terms),
            "semantic": figures(rows, questions, semantic),
        },
    }


def measure(
    questions: Sequence[Question], index: InMemoryIndex, embedder: CachedEmbedder
) -> dict[str, Any]:
    rows, found = ranked_rows(questions, index, embedder)
    return {
        "terms (the default, RANKING)": figures(rows, questions, sentence_ranking.TERMS),
        "semantic": figures(rows, questions, sentence_ranking.SEMANTIC),
        "gold_paragraph_in_top_passages": sum(found) / (len(questions) or 1),
    }


def timing(questions: Sequence[Question], index: InMemoryIndex, model: Any) -> dict[str, float]:
    """p50 and p90 milliseconds of ``excerpt`` (the default ranking, and ``SEMANTIC``) and of
    ``support.check`` of an answer of three passage sentences, with the uncached embedder
    (retrieval itself is not timed)."""
    import time

    from docqa.answer.excerpts import excerpt
    from docqa.answer.support import check

    spent: dict[str, list[float]] = {"extract": [], "extract_semantic": [], "check": []}
    for question in questions:
        [vector] = model.embed([question.text])
        hits = index.retrieve(question.text, vector)
        started = time.perf_counter()
        quoted = excerpt(question.text, hits, model.embed)
        spent["extract"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        excerpt(question.text, hits, model.embed, ranking=sentence_ranking.SEMANTIC)
        spent["extract_semantic"].append((time.perf_counter() - started) * 1000)
        answer = " ".join(f"{s.text} [{n}]" for n, s in enumerate(quoted.sentences[:1], 1))
        answer = f"{answer} {hits[-1].text.split('. ')[0]}. It is not known [2]."
        started = time.perf_counter()
        check(answer, hits, model.embed)
        spent["check"].append((time.perf_counter() - started) * 1000)
    result: dict[str, float] = {"questions": len(questions)}
    for what, times in spent.items():
        result[f"{what}_p50_ms"] = float(np.percentile(times, 50))
        result[f"{what}_p90_ms"] = float(np.percentile(times, 90))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["fit", "measure", "time", "fit-pick"])
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--questions", type=int, default=800)
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/docqa-squad-embeddings.pkl"))
    args = parser.parse_args()
    from docqa.core.config import Settings
    from docqa.wiring import embedder

    cached = CachedEmbedder(embedder(Settings()), args.cache)
    try:
        if args.what == "fit":
            result = run_fit(args.articles, cached)
        elif args.what == "fit-pick":
            result = run_fit_pick(args.articles, args.questions, cached)
        elif args.what == "time":
            paragraphs, questions = load("dev-v1.1.json")
            index = InMemoryIndex(paragraphs, cached)
            sample = random.Random(1).sample(questions, args.sample)
            result = timing(sample, index, cached.model)
        else:
            paragraphs, questions = load("dev-v1.1.json")
            index = InMemoryIndex(paragraphs, cached)
            if args.sample:
                questions = random.Random(0).sample(questions, min(args.sample, len(questions)))
            result = measure(questions, index, cached)
    finally:
        cached.save()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
