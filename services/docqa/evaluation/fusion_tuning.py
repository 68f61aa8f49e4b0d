"""Chooses the fusion's ``k`` and weights on training data:
``python -m docqa.evaluation.fusion_tuning``.

Tuning on SQuAD dev would make dev's figures flattering, so this runs on articles of the
training file (by default the last ones of ``train-v1.1-part.json``): their paragraphs go into
an in-memory keyword index and are embedded in process; every question is searched both ways,
then each (k, keyword weight) pair of the grid fuses the two lists by RRF, and each
(normalisations, keyword share) of the second grid by a convex combination of normalised
scores (``DOCQA_FUSION=convex``; dense: cosine, keyword: BM25STD's formula). Both lists are cut
to the service's fusion depth first. It prints Recall@1, @10 and MRR@10 for each, best first,
beside dense and keyword alone and the configured fusion. ``--cache FILE`` keeps the searched
lists (the slow part) for a rerun with the same sample.

With ``--reranker DIR`` it also chooses ``DOCQA_RERANK_KEEP_WEIGHT``: the cross-encoder
re-scores the first ``--rerank-depth`` of the configured fusion's list, and each keep weight
of the grid fuses its order with the fusion's. Questions the reranker (or a base it was
continued from) trained on are left out first (``docqa.training.provenance``).
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from docqa.adapters.local_embedder import LocalEmbedder
from docqa.core.config import Settings
from docqa.core.models import Hit
from docqa.evaluation import metrics
from docqa.search.bm25 import Bm25
from docqa.search.fusion import Fusion, Normalisation, blend, fuse
from docqa.search.retrieval import Reranking, reorder
from docqa.training.squad import Corpus, load

# beside the repository, as before the move: <repo>/../shared/data/squad
TRAIN = Path(__file__).resolve().parents[4] / "shared/data/squad/train-v1.1-part.json"
DEPTH = 100
SHARES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
DENSE_NORMS: tuple[Normalisation, ...] = ("none", "minmax", "dbsf")
KEYWORD_NORMS: tuple[Normalisation, ...] = ("max", "minmax", "dbsf")
Scored = list[list[tuple[str, float]]]  # per question: (paragraph id, score), best first


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
    parser = argparse.ArgumentParser(
        prog="python -m docqa.evaluation.fusion_tuning", description=__doc__
    )
    parser.add_argument("--squad", type=Path, default=TRAIN)
    parser.add_argument("--articles", type=int, default=30, help="last N articles of the file")
    parser.add_argument("--questions", type=int, default=2000, help="spread over the articles")
    parser.add_argument("--model", type=Path, help="embedder directory (default: packaged)")
    parser.add_argument("--reranker", type=Path, help="cross-encoder directory: tune its keep")
    parser.add_argument("--rerank-depth", type=int, default=Reranking.configured(settings).depth)
    parser.add_argument("--cache", type=Path, help="searched lists: read if there, else written")
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
    if args.cache and args.cache.is_file():
        dense, keyword = pickle.loads(args.cache.read_bytes())
    else:
        dense, keyword = search_both(corpus, args.model)
        if args.cache:
            args.cache.write_bytes(pickle.dumps((dense, keyword)))
    configured = Fusion.configured(settings)
    dense = [d[: configured.depth] for d in dense]
    keyword = [w[: configured.depth] for w in keyword]
    dense_hits = [_hits(d, similarity=True) for d in dense]
    keyword_hits = [_hits(w) for w in keyword]

    gold = [q.paragraph_id for q in corpus.questions]
    rows = [
        ("dense", figures([[i for i, _ in d] for d in dense], gold)),
        ("keyword", figures([[i for i, _ in w] for w in keyword], gold)),
        (
            f"configured ({configured.method})",
            figures(
                _ids(
                    [
                        configured.combine(d, w)
                        for d, w in zip(dense_hits, keyword_hits, strict=True)
                    ]
                ),
                gold,
            ),
        ),
    ]
    grid = []
    for k, weight in itertools.product((1, 2, 5, 10, 20, 40, 60, 100), (0.5, 1, 1.5, 2, 3)):
        fused = [
            fuse([(1.0, d), (weight, w)], k) for d, w in zip(dense_hits, keyword_hits, strict=True)
        ]
        grid.append((f"k={k} keyword_weight={weight}", figures(_ids(fused), gold)))
    convex = []
    for dn, kn, share in itertools.product(DENSE_NORMS, KEYWORD_NORMS, SHARES):
        fused = [
            blend(d, w, share, (dn, kn)) for d, w in zip(dense_hits, keyword_hits, strict=True)
        ]
        convex.append((f"convex {dn}/{kn} share={share}", figures(_ids(fused), gold)))
    for table in (grid, convex):
        table.sort(key=lambda row: -(row[1]["R@1"] + row[1]["R@10"]))
    usual = [row for row in grid if row[0] == "k=60 keyword_weight=1"]
    for name, found in rows + grid[:8] + usual + convex[:16]:
        print(f"{name:<40}" + _line(found))
    if args.reranker:
        texts = {p.id: p.text for p in corpus.paragraphs}
        fusion = Fusion.configured(settings)
        configured_lists = [
            fusion.combine(d, w) for d, w in zip(dense_hits, keyword_hits, strict=True)
        ]
        rerank(args.reranker, args.rerank_depth, corpus, configured_lists, texts, gold)


def search_both(corpus: Corpus, model: Path | None) -> tuple[Scored, Scored]:
    """Each question's ``DEPTH`` best paragraphs by cosine (the embedder in process) and by
    BM25 (in memory), with their scores."""
    started = time.perf_counter()
    embedder = LocalEmbedder(model)
    vectors = np.array(embedder.embed([p.text for p in corpus.paragraphs]))
    asked = np.array(embedder.embed([q.question for q in corpus.questions]))
    ids = [p.id for p in corpus.paragraphs]
    dense = [
        [(ids[i], float(row[i])) for i in np.argsort(-row)[:DEPTH]] for row in asked @ vectors.T
    ]
    index = Bm25([p.text for p in corpus.paragraphs])  # BM25STD's scoring, in memory
    keyword = [[(ids[i], s) for i, s in index.scored(q.question, DEPTH)] for q in corpus.questions]
    print(f"searched both ways in {time.perf_counter() - started:.0f} s")
    return dense, keyword


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


def _hits(scored: list[tuple[str, float]], similarity: bool = False) -> list[Hit]:
    return [Hit(i, i, "", s, {}, s if similarity else None) for i, s in scored]


if __name__ == "__main__":
    main()
