"""The two evaluations, ``docqa eval retrieval`` and ``docqa eval answers``: each ingests (or
re-uses) the corpus, asks its questions through the API, prints a table and returns (and
optionally writes) a JSON-ready report of every figure and the settings that produced it."""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

from docqa.answer import repetition
from docqa.answer.citations import CITATION
from docqa.evaluation import docset as docsets
from docqa.evaluation import metrics, reports
from docqa.evaluation.client import EvalError, call, client, ensure_corpus, ordered_map
from docqa.training.squad import Corpus, QuestionItem, load

__all__ = ["EvalError", "answers", "retrieval"]

TOP_K = max(metrics.RECALL_KS)  # one search per question, every figure from its hits


def _settings(
    corpus: Corpus, questions: list[QuestionItem], collection: str, base_url: str
) -> dict[str, Any]:
    return {
        "file": corpus.source,
        "paragraphs": len(corpus.paragraphs),
        "questions": len(questions),
        "questions_in_file": len(corpus.questions),
        "collection": collection,
        "base_url": base_url,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _select(corpus: Corpus, count: int | None, every: int = 1) -> list[QuestionItem]:
    """The first ``count`` questions (all by default) of every ``every``-th one: a sample
    spread over the whole file, where the first questions all come from a few articles."""
    if count is not None and count < 1:
        raise EvalError("--questions must be at least 1")
    if every < 1:
        raise EvalError("--every must be at least 1")
    spread = corpus.questions[::every]
    return spread[:count] if count else spread


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
    asked = _select(corpus, questions, every)
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
            **_settings(corpus, asked, name, base_url),
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


def answers(
    squad: Path,
    *,
    questions: int,
    base_url: str = "http://127.0.0.1:8000",
    collection: str | None = None,
    top_k: int = 5,
    max_tokens: int = 32,
    retrieval_only: bool = False,
    concurrency: int = 4,
    json_out: Path | None = None,
    progress: bool = True,
    out: TextIO = sys.stdout,
) -> dict[str, Any]:
    """SQuAD EM and F1 of ``/ask`` answers with and without retrieval, over all questions and
    over those whose paragraph was among the answer's sources (answer precision given recall);
    the share of answers that loop (``repetition.find_loop``) or that the service cut short
    because the model began to repeat itself (the answer's ``cut``); of the generated
    answers' sentences, the share the service's check found supported and of cited ones
    whose citation it corrected; and of extractive answers (``answer_mode: extract``), the
    share that hold a gold answer (and whose first sentence alone does), and their EM and F1
    (citation marks left out)."""
    corpus = load(squad)
    asked = [q for q in _select(corpus, questions) if q.answers]
    if not asked:
        raise EvalError("none of the selected questions has a gold answer to score against")
    name = collection or corpus.default_collection
    with client(base_url, concurrency) as api:
        ingest = ensure_corpus(api, corpus, name, progress=progress)
        body = {"collection": name, "top_k": top_k, "max_tokens": max_tokens, "temperature": 0}

        modes = MODES[:1] if retrieval_only else MODES

        def ask(item: QuestionItem) -> dict[str, Any]:
            return _ask_both(api, body, item, modes)

        started = time.perf_counter()
        rows = ordered_map(ask, asked, concurrency=concurrency, desc="ask", progress=progress)
        seconds = time.perf_counter() - started
    given = [row for row in rows if row["retrieved"]]
    figures: dict[str, Any] = {"retrieved": len(given) / len(rows)}
    for label, subset in (("all", rows), ("given_retrieved", given)):
        for mode, _ in modes:
            figures[f"{mode}/{label}"] = metrics.answer_figures(
                [(row[mode]["em"], row[mode]["f1"]) for row in subset]
            )
    for mode, _ in modes:
        figures[f"{mode}/loops"] = sum(row[mode]["loop"] for row in rows) / len(rows)
        figures[f"{mode}/cut"] = sum(row[mode]["cut"] for row in rows) / len(rows)
    checked = [row["with_retrieval"] for row in rows]
    sentences = sum(row["sentences"] for row in checked)
    cited = sum(row["cited"] for row in checked)
    figures["with_retrieval/sentences_supported"] = (
        sum(row["supported"] for row in checked) / sentences if sentences else 0.0
    )
    figures["with_retrieval/citations_corrected"] = (
        sum(row["corrected"] for row in checked) / cited if cited else 0.0
    )
    figures["extract/contains_gold"] = sum(row["extract"]["contains_gold"] for row in rows) / len(
        rows
    )
    figures["extract/first_sentence_contains_gold"] = sum(
        row["extract"]["first_sentence_contains_gold"] for row in rows
    ) / len(rows)
    figures["extract/all"] = metrics.answer_figures(
        [(row["extract"]["em"], row["extract"]["f1"]) for row in rows]
    )
    figures["seconds"] = seconds
    figures["ingest_s"] = ingest.seconds
    report = {
        "evaluation": "answers",
        "settings": {
            **_settings(corpus, asked, name, base_url),
            "top_k": top_k,
            "max_tokens": max_tokens,
            "retrieval_only": retrieval_only,
            "temperature": 0,
            "concurrency": concurrency,
        },
        "figures": figures,
        "ingest": {"reused": ingest.reused, "queued": ingest.queued, "jobs": ingest.jobs},
        "per_question": rows,
    }
    reports.print_answers(report, out)
    reports.write(report, json_out, out)
    return report


MODES = (("with_retrieval", True), ("without_retrieval", False))


def _ask_both(
    api: httpx.Client,
    body: dict[str, Any],
    item: QuestionItem,
    modes: tuple[tuple[str, bool], ...] = MODES,
) -> dict[str, Any]:
    row: dict[str, Any] = {"id": item.id, "question": item.question, "gold": list(item.answers)}
    for mode, use_retrieval in modes:
        answer = call(
            api,
            "POST",
            "/ask",
            json={**body, "question": item.question, "use_retrieval": use_retrieval},
        )
        text = metrics.clean_answer(answer["answer"])
        em, f1 = metrics.best_em_f1(text, item.answers)
        row[mode] = {"answer": answer["answer"], "em": em, "f1": f1}
        row[mode]["loop"] = repetition.has_loop(answer["answer"])
        row[mode]["cut"] = bool(answer.get("cut", False))  # absent before the service cut
        if use_retrieval:
            row["retrieved"] = any(s["document_id"] == item.paragraph_id for s in answer["sources"])
            row[mode].update(_support(answer))
    quoted = call(
        api, "POST", "/ask", json={**body, "question": item.question, "answer_mode": "extract"}
    )
    text = metrics.clean_answer(CITATION.sub("", quoted["answer"]))
    em, f1 = metrics.best_em_f1(text, item.answers)
    contains = any(gold.strip() and gold.strip() in quoted["answer"] for gold in item.answers)
    first = quoted.get("sentences") or [{"text": ""}]
    first_contains = any(gold.strip() and gold.strip() in first[0]["text"] for gold in item.answers)
    row["extract"] = {
        "answer": quoted["answer"],
        "em": em,
        "f1": f1,
        "contains_gold": contains,
        "first_sentence_contains_gold": first_contains,
    }
    return row


def _support(answer: dict[str, Any]) -> dict[str, Any]:
    """What the service's check said of a generated answer: its sentences, how many are
    supported, how many carry a citation, and how many citations it corrected."""
    sentences = answer.get("sentences", [])
    return {
        "grounded": answer.get("grounded"),
        "sentences": len(sentences),
        "supported": sum(bool(s["supported"]) for s in sentences),
        "cited": sum(bool(s["cited"]) for s in sentences),
        "corrected": sum(bool(s["corrected"]) for s in sentences),
    }
