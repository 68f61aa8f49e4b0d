"""``python -m bench.fusion``: choose the fusion's ``k`` and weights on training data.

Tuning on SQuAD dev would make dev's figures flattering, so this runs on articles of the
training file (by default the last ones of ``train-v1.1-part.json``): their paragraphs go into
an in-memory keyword index and are embedded in process; every question is searched both ways,
then each (k, keyword weight) pair of the grid fuses the two lists. It prints Recall@1, @10 and
MRR@10 for each pair, best first, beside dense and keyword alone.

With ``--reranker DIR`` it also chooses ``DOCQA_RERANK_KEEP_WEIGHT``: the cross-encoder
re-scores the first ``--rerank-depth`` of the configured fusion's list, and each keep weight
of the grid fuses its order with the fusion's. Questions the reranker (or a base it was
continued from) trained on are left out first (``docqa.training.provenance``).
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from docqa.adapters.local_embedder import LocalEmbedder
from docqa.bm25 import Bm25
from docqa.config import Settings
from docqa.evaluation import metrics
from docqa.evaluation.squad import Corpus, load
from docqa.models import Hit
from docqa.retrieval import Fusion, Reranking, fuse, reorder

TRAIN = Path(__file__).resolve().parents[1].parent / "shared/data/squad/train-v1.1-part.json"
DEPTH = 100


def subset(corpus: Corpus, articles: int, questions: int) -> Corpus:
    titles = list(dict.fromkeys(p.title for p in corpus.paragraphs))[-articles:]
    paragraphs = [p for p in corpus.paragraphs if p.title in set(titles)]
    kept = {p.id for p in paragraphs}
    asked = [q for q in corpus.questions if q.paragraph_id in kept]
    asked = asked[:: max(1, len(asked) // questions)][:questions]  # spread over the articles
    return Corpus(corpus.source, paragraphs, asked)


def figures(ranked: list[list[str]], gold: list[str]) -> dict[str, float]:
    ranks = [metrics.rank_of(g, r) for g, r in zip(gold, ranked, strict=True)]
    return {
        "R@1": metrics.recall_at(ranks, 1),
        "R@10": metrics.recall_at(ranks, 10),
        "MRR@10": metrics.mrr_at(ranks, 10),
    }


def main(argv: list[str] | None = None) -> None:
    settings = Settings()
    parser = argparse.ArgumentParser(prog="python -m bench.fusion", description=__doc__)
    parser.add_argument("--squad", type=Path, default=TRAIN)
    parser.add_argument("--articles", type=int, default=30, help="last N articles of the file")
    parser.add_argument("--questions", type=int, default=2000, help="spread over the articles")
    parser.add_argument("--model", type=Path, help="embedder directory (default: packaged)")
    parser.add_argument("--reranker", type=Path, help="cross-encoder directory: tune its keep")
    parser.add_argument("--rerank-depth", type=int, default=Reranking.configured(settings).depth)
    args = parser.parse_args(argv)

    corpus = load(args.squad)
    if args.reranker:
        from docqa.training.provenance import trained_questions

        trained = trained_questions(args.reranker)
        corpus = replace(
            corpus, questions=[q for q in corpus.questions if q.question not in trained]
        )
        print(f"left out {len(trained)} questions the reranker trained on")
    corpus = subset(corpus, args.articles, args.questions)
    print(f"{len(corpus.paragraphs)} paragraphs, {len(corpus.questions)} questions")
    started = time.perf_counter()
    embedder = LocalEmbedder(args.model)
    vectors = np.array(embedder.embed([p.text for p in corpus.paragraphs]))
    asked = np.array(embedder.embed([q.question for q in corpus.questions]))
    ids = [p.id for p in corpus.paragraphs]
    dense = [[ids[i] for i in np.argsort(-row)[:DEPTH]] for row in asked @ vectors.T]
    index = Bm25([p.text for p in corpus.paragraphs])  # BM25STD's scoring, in memory
    keyword = [[ids[i] for i in index.search(q.question, DEPTH)] for q in corpus.questions]
    print(f"searched both ways in {time.perf_counter() - started:.0f} s")

    gold = [q.paragraph_id for q in corpus.questions]
    rows = [("dense", figures(dense, gold)), ("keyword", figures(keyword, gold))]
    for k, weight in itertools.product((1, 2, 5, 10, 20, 40, 60, 100), (0.5, 1, 1.5, 2, 3)):
        fused = [
            [h.chunk_id for h in fuse([(1.0, _hits(d)), (weight, _hits(w))], k)]
            for d, w in zip(dense, keyword, strict=True)
        ]
        rows.append((f"k={k} keyword_weight={weight}", figures(fused, gold)))
    rows[2:] = sorted(rows[2:], key=lambda row: -(row[1]["R@1"] + row[1]["R@10"]))
    usual = [row for row in rows if row[0] == "k=60 keyword_weight=1"]
    for name, found in rows[:12] + usual:
        print(f"{name:<32}" + _line(found))
    if args.reranker:
        texts = {p.id: p.text for p in corpus.paragraphs}
        fusion = Fusion.configured(settings)
        configured = [
            fuse([(fusion.dense_weight, _hits(d)), (fusion.keyword_weight, _hits(w))], fusion.k)
            for d, w in zip(dense, keyword, strict=True)
        ]
        rerank(args.reranker, args.rerank_depth, corpus, configured, texts, gold)


def rerank(
    model: Path,
    depth: int,
    corpus: Corpus,
    fused: list[list[Hit]],
    texts: dict[str, str],
    gold: list[str],
) -> None:
    """R@1, R@10 and MRR@10 of the fused lists re-ordered at each keep weight."""
    from docqa.adapters.local_reranker import LocalReranker

    reranker = LocalReranker(model)
    started = time.perf_counter()
    scores = [
        reranker.rerank(q.question, [texts[hit.chunk_id] for hit in hits[:depth]])
        for q, hits in zip(corpus.questions, fused, strict=True)
    ]
    print(f"reranked the first {depth} in {time.perf_counter() - started:.0f} s")
    print(f"{'configured fusion':<32}" + _line(figures(_ids(fused), gold)))
    for keep in (0.0, 0.25, 0.5, 0.6, 0.75, 0.9, 1.0, 1.5):
        ranked = [reorder(hits, s, keep) for hits, s in zip(fused, scores, strict=True)]
        print(f"{f'rerank keep={keep}':<32}" + _line(figures(_ids(ranked), gold)))


def _ids(lists: list[list[Hit]]) -> list[list[str]]:
    return [[hit.chunk_id for hit in hits] for hits in lists]


def _line(found: dict[str, float]) -> str:
    return "".join(f"{key} {100 * v:5.1f}  " for key, v in found.items())


def _hits(ids: list[str]) -> list[Hit]:
    return [Hit(i, i, "", 0.0, {}) for i in ids]


if __name__ == "__main__":
    main()
