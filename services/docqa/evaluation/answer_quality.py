"""``docqa eval answers``: ingests (or re-uses) the SQuAD corpus, asks each question through
``/ask`` with and without retrieval and as an extract, prints a table and returns (and
optionally writes) a JSON-ready report of every figure and the settings that produced it."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, TextIO

import httpx

from docqa.answer import repetition
from docqa.answer.citations import CITATION
from docqa.evaluation import metrics, reports, sample
from docqa.evaluation.client import EvalError, call, client, ensure_corpus, ordered_map
from docqa.training.squad import QuestionItem, load


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
    asked = [q for q in sample.select(corpus, questions) if q.answers]
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
            **sample.settings(corpus, asked, name, base_url),
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
