"""``docqa eval retrieval``: ingests (or re-uses) the corpus, asks its questions through the
API's ``/search``, prints a table and returns (and optionally writes) a JSON-ready report of
every figure and the settings that produced it. (``docqa eval answers``: ``answer_quality``.)"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from docqa.evaluation import docset as docsets
from docqa.evaluation import metrics, reports, sample
from docqa.evaluation.client import EvalError, call, client, ensure_corpus, ordered_map
from docqa.training.squad import QuestionItem, load

__all__ = ["EvalError", "retrieval"]

TOP_K = max(metrics.RECALL_KS)  # one search per question, every figure from its hits


def retrieval(
    squad: Path | None,
    *,
    base_url: str = "http://127.0.0.1:8000",
    questions: int | None = None,
    collection: str | None = None,
    mode: str | None = None,
    rerank: bool = False,
    every: int = 1,
    concurrency: int = 4,
    json_out: Path | None = None,
    progress: bool = True,
    out: TextIO = sys.stdout,
    docs: docsets.DocSet | None = None,
) -> dict[str, Any]:
    """Recall@k, MRR@10 and nDCG@10 of each question's own paragraph among the search hits;
    with ``docs`` (a documentation set instead of ``squad``), of each question's page, and of
    its labelled section where hits carry a ``section``."""
    if docs is None and squad is None:
        raise EvalError("give a SQuAD file or a documentation set")
    corpus = docs.corpus if docs else load(squad)  # type: ignore[arg-type]
    asked = sample.select(corpus, questions, every)
    name = collection or (docs.default_collection if docs else corpus.default_collection)
    with client(base_url, concurrency) as api:
        post = (lambda a, c, b: docsets.upload(a, c, b, docs.root)) if docs else None
        ingest = ensure_corpus(api, corpus, name, progress=progress, post=post)
        body: dict[str, Any] = {"collection": name, "top_k": TOP_K}
        if mode is not None:
            body["mode"] = mode
        if rerank:
            body["rerank"] = True

        hits: dict[str, list[Any]] = {}
        latencies: list[float] = []

        def search(item: QuestionItem) -> int | None:
            sent = time.perf_counter()
            found = call(api, "POST", "/search", json={**body, "question": item.question})
            latencies.append(time.perf_counter() - sent)
            hits[item.id] = found["hits"]
            return metrics.rank_of(item.paragraph_id, (h["document_id"] for h in found["hits"]))

        started = time.perf_counter()
        ranks = ordered_map(
            search, asked, concurrency=concurrency, desc="search", progress=progress
        )
        seconds = time.perf_counter() - started
        chunks = docsets.chunks(api, name) if docs else None
    by_page = docsets.page_figures(asked, ranks, hits, docs.sections) if docs else {}
    report: dict[str, Any] = {
        "evaluation": "retrieval",
        "settings": {
            **sample.settings(corpus, asked, name, base_url),
            "mode": mode,
            "rerank": rerank,
            "every": every,
            "top_k": TOP_K,
            "concurrency": concurrency,
        },
        "figures": {
            **metrics.retrieval_figures(ranks),
            **by_page.get("figures", {}),
            "questions_per_s": len(asked) / seconds if seconds else 0.0,
            "search_s": seconds,
            "search_p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
            "ingest_s": ingest.seconds,
        },
        "ingest": {
            "reused": ingest.reused,
            "queued": ingest.queued,
            "jobs": ingest.jobs,
            "other_documents": ingest.others,
        },
        "per_question": by_page.get("per_question")
        or [{"id": q.id, "rank": r} for q, r in zip(asked, ranks, strict=True)],
    }
    if docs:
        report["settings"]["pages_fingerprint"] = docsets.fingerprint(docs.root)
        report["ingest"]["chunks"] = chunks
    reports.print_retrieval(report, out)
    reports.write(report, json_out, out)
    return report
