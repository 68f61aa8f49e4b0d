"""Measures dense retrieval on SQuAD dev (R@1, R@10, MRR@10) through Chroma for each HNSW
setting of ``chroma_tuning``'s variants, beside the exact (brute-force) answer (issue 25, item 3).

As ``docqa eval retrieval --mode dense`` does through the service: every dev paragraph is a
document (its ``as_document``), chunked by the worker's ``Chunker`` at the shipped size and
overlap, each chunk embedded from its indexed text with the packaged MiniLM; each question is
embedded alone and its 100 nearest chunks (``TOP_K``) asked of Chroma; a question's rank is
that of its paragraph among the hits' distinct documents. Chunks and questions are embedded
once and kept in ``--cache``, so each setting costs only Chroma's inserts and queries; every
setting gets its own collection on one ``chroma run`` server, filled with the same rows.

    .venv/bin/python -m bench.experiments.chroma_quality [--cache /tmp/chroma-quality-dev.npz]

``--recall-rows N`` measures instead each graph-changing setting's ANN recall@10 (against the
exact top 10) in collections of N of ``chroma_tuning``'s stub rows, where dev is too small a
graph for HNSW to differ from exact search:

    .venv/bin/python -m bench.experiments.chroma_quality --recall-rows 39500
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.experiments.chroma_server import ChromaServer, chroma_server
from bench.experiments.chroma_tuning import VARIANTS
from docqa.core.config import SHIPPED
from docqa.core.models import PendingDocument
from docqa.evaluation import metrics
from docqa.evaluation.runner import TOP_K
from docqa.training.squad import load

DEV = Path("/work/shared/data/squad/dev-v1.1.json")
QUERY_BATCH = 250  # question vectors per query call


def embedded(cache: Path) -> dict[str, Any]:
    """Dev's chunks (ids, document ids, texts, vectors) and questions (gold paragraph ids and
    vectors), from ``cache`` when it is there."""
    if cache.exists():
        with np.load(cache, allow_pickle=False) as found:
            return {key: found[key] for key in found.files}
    from docqa.adapters.local_embedder import LocalEmbedder
    from docqa.ingest.chunking.chunker import Chunker

    corpus = load(DEV)
    embedder = LocalEmbedder()
    limit = embedder.spec.max_input_tokens
    chunker = Chunker(
        embedder,
        min(SHIPPED["chunk_tokens"], limit),
        min(SHIPPED["chunk_overlap"], limit // 4),
        limit=limit,
    )
    started = time.perf_counter()
    ids, documents, texts, indexed = [], [], [], []
    for paragraph in corpus.paragraphs:
        doc = paragraph.as_document()
        pending = PendingDocument(
            "dev", doc["id"], "", data=doc["text"], title=doc["title"], metadata=doc["metadata"]
        )
        made = chunker.indexed(pending)
        missing = [chunk for chunk, text in made if text is None]
        own = iter(chunker.indexed_texts(missing))
        for chunk, text in made:
            ids.append(chunk.id)
            documents.append(chunk.document_id)
            texts.append(chunk.text)
            indexed.append(text if text is not None else next(own))
    vectors = np.array(embedder.embed(indexed), dtype=np.float32)
    questions = np.array(embedder.embed([q.question for q in corpus.questions]), dtype=np.float32)
    found = {
        "ids": np.array(ids),
        "documents": np.array(documents),
        "texts": np.array(texts),
        "vectors": vectors,
        "gold": np.array([q.paragraph_id for q in corpus.questions]),
        "questions": questions,
    }
    np.savez(cache, **found)
    print(
        f"embedded {len(ids)} chunks, {len(questions)} questions in "
        f"{time.perf_counter() - started:.0f} s"
    )
    return found


def figures(ranked: list[list[str]], gold: np.ndarray) -> dict[str, float]:
    ranks = [metrics.rank_of(str(g), r) for g, r in zip(gold, ranked, strict=True)]
    return {
        "R@1": 100 * metrics.recall_at(ranks, 1),
        "R@10": 100 * metrics.recall_at(ranks, 10),
        "MRR@10": metrics.mrr_at(ranks, 10),
    }


def exact(data: dict[str, Any]) -> list[list[str]]:
    """Each question's ``TOP_K`` nearest chunks' documents by exact cosine."""
    vectors = data["vectors"] / np.linalg.norm(data["vectors"], axis=1, keepdims=True)
    ranked = []
    for start in range(0, len(data["questions"]), 1000):
        scores = data["questions"][start : start + 1000] @ vectors.T
        top = np.argsort(-scores, axis=1)[:, :TOP_K]
        ranked += [[str(data["documents"][i]) for i in row] for row in top]
    return ranked


def through_chroma(
    server: ChromaServer, name: str, hnsw: dict[str, Any], data: dict[str, Any]
) -> list[list[str]]:
    """Each question's ``TOP_K`` nearest chunks' documents, as Chroma answers in a new
    collection ``name`` created with ``hnsw`` and filled with dev's chunks."""
    target = server.collection(name, hnsw)
    for at in range(0, len(data["ids"]), 1000):
        part = slice(at, at + 1000)
        target.upsert(
            ids=[str(i) for i in data["ids"][part]],
            embeddings=data["vectors"][part].tolist(),
            documents=[str(t) for t in data["texts"][part]],
            metadatas=[{"document_id": str(d)} for d in data["documents"][part]],
        )
    ranked: list[list[str]] = []
    for at in range(0, len(data["questions"]), QUERY_BATCH):
        found = target.query(
            query_embeddings=data["questions"][at : at + QUERY_BATCH].tolist(),
            n_results=TOP_K,
            include=["metadatas"],
        )
        ranked += [[str(m["document_id"]) for m in metas] for metas in found["metadatas"] or []]
    return ranked


def ann_recall(server: ChromaServer, rows: int, asked: int) -> dict[str, float]:
    """Recall@10 of Chroma's answers against the exact cosine top 10, per HNSW setting, in
    collections of ``rows`` of ``chroma_tuning``'s stub rows (``asked`` others, picked at
    random, are the queries): how each setting's graph holds up beyond dev's 2,552 chunks."""
    from bench.experiments.chroma_tuning import rows as stub_rows

    texts, vectors = stub_rows(rows + asked)
    held = np.random.default_rng(0).permutation(rows + asked)
    stored, queries = np.sort(held[:rows]), held[rows:]
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    exact_top = np.argsort(-(unit[queries] @ unit[stored].T), axis=1)[:, :10]
    truth = [{int(stored[i]) for i in row} for row in exact_top]
    found: dict[str, float] = {}
    for n, name in enumerate(("today", "construction_ef 50", "M 8")):
        [variant] = [v for v in VARIANTS if v.name == name]
        target = server.collection(f"recall-{n}", variant.hnsw)
        for at in range(0, rows, 2000):
            part = stored[at : at + 2000]
            target.upsert(
                ids=[f"row-{i}" for i in part],
                embeddings=vectors[part].tolist(),
                documents=[texts[i] for i in part],
            )
        answers = target.query(query_embeddings=vectors[queries].tolist(), n_results=10)
        hits = [
            len({int(i.removeprefix("row-")) for i in ids} & want)
            for ids, want in zip(answers["ids"], truth, strict=True)
        ]
        found[name] = 100 * sum(hits) / (10 * len(hits))
        print(f"ANN recall@10 at {rows} rows, {name}: {found[name]:.2f}", flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/chroma-quality-dev.npz"))
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument(
        "--recall-rows", type=int, help="instead: ANN recall@10 in collections of this many rows"
    )
    args = parser.parse_args()
    if args.recall_rows:
        with chroma_server() as server:
            recall = ann_recall(server, args.recall_rows, 500)
        if args.json:
            args.json.write_text(json.dumps(recall, indent=2) + "\n")
        return
    data = embedded(args.cache)
    report: dict[str, Any] = {"chunks": len(data["ids"]), "questions": len(data["gold"])}
    report["exact"] = figures(exact(data), data["gold"])
    settings: dict[str, str] = {}  # one collection per HNSW setting, named by its first variant
    for variant in VARIANTS:
        settings.setdefault(json.dumps(variant.hnsw, sort_keys=True), variant.name)
    with chroma_server() as server:
        for n, (hnsw, name) in enumerate(settings.items()):
            report[name] = figures(
                through_chroma(server, f"quality-{n}", json.loads(hnsw), data), data["gold"]
            )
    today = report["today"]
    print(f"{report['chunks']} chunks, {report['questions']} questions")
    print("| setting | R@1 | R@10 | MRR@10 | R@1 - today | R@10 - today |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, f in report.items():
        if isinstance(f, dict):
            print(
                f"| {name} | {f['R@1']:.2f} | {f['R@10']:.2f} | {f['MRR@10']:.3f} "
                f"| {f['R@1'] - today['R@1']:+.2f} | {f['R@10'] - today['R@10']:+.2f} |"
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
