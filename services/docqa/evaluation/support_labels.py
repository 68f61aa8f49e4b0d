"""Measure how often the support check agrees with sentences labelled by hand, and its cost.

``python -m docqa.evaluation.support_labels collect --base-url URL --out draft.jsonl``
asks a running service (the embedded model) questions of a few SQuAD dev articles and of the
documentation set (``docs/eval/docs-set``), each page or paragraph indexed first, and writes one
line per sentence of each generated answer: the question, the whole answer, the sentence, its
sources' texts, the passage the check found best, what the check said, and ``label`` null.

A person then sets each ``label`` (true: the sources say what the sentence says; false: they do
not, or it says nothing checkable) and commits the file (``docs/eval/support-labels.jsonl``).

``python -m docqa.evaluation.support_labels measure docs/eval/support-labels.jsonl``
checks each answer again with the current ``support.RULE`` and the service's embedder (so the
figure follows the rule, not the labels' day) and prints the agreement with the labels, by set,
and what the check costs per answer beside the ``/ask`` times the file recorded (``total_ms``).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx

from docqa.answer import support
from docqa.core.models import Hit
from docqa.evaluation import docset
from docqa.evaluation.client import call, client, ensure_corpus
from docqa.evaluation.support_calibration import roc_auc
from docqa.training.squad import Corpus
from docqa.training.squad import load as load_squad

DEV = Path("/work/shared/data/squad/dev-v1.1.json")
DOCS = Path("docs/eval/docs-set")
MAX_TOKENS = 96


def hits_of(texts: Sequence[str]) -> list[Hit]:
    """Sources as the check takes them: their texts, numbered in order."""
    return [Hit(f"s{n}", f"s{n}", text, 0.0, {}) for n, text in enumerate(texts, start=1)]


def rows_of(name: str, question: str, asked: dict[str, Any]) -> list[dict[str, Any]]:
    """One unlabelled line per checked sentence of an ``/ask`` answer."""
    texts = [source["text"] for source in asked["sources"]]
    rows = []
    for index, sentence in enumerate(asked["sentences"]):
        best = sentence["source"]
        rows.append(
            {
                "set": name,
                "question": question,
                "answer": asked["answer"],
                "index": index,
                "sentence": sentence["text"],
                "passage": texts[best - 1] if best else None,
                "sources": texts,
                "check": {"supported": sentence["supported"], "score": sentence["score"]},
                "total_ms": asked["timings"]["total_ms"],
                "label": None,
            }
        )
    return rows


def ask(api: httpx.Client, collection: str, question: str, max_tokens: int) -> dict[str, Any]:
    body = {
        "question": question,
        "collection": collection,
        "max_tokens": max_tokens,
        "answer_mode": "generate",
        "top_k": 3,
    }
    return dict(call(api, "POST", "/ask", json=body))


def squad_part(articles: int, per_article: int, seed: int) -> tuple[Corpus, list[str]]:
    """The first ``articles`` dev articles' paragraphs, and ``per_article`` questions of each."""
    dev = load_squad(DEV)
    titles = list(dict.fromkeys(p.title for p in dev.paragraphs))[:articles]
    paragraphs = [p for p in dev.paragraphs if p.title in titles]
    rng = random.Random(seed)
    questions = []
    by_id = {q.id: q for q in dev.questions}
    for title in titles:
        ids = [i for p in paragraphs if p.title == title for i in p.question_ids]
        questions += [by_id[i].question for i in rng.sample(ids, per_article)]
    return Corpus(dev.source, paragraphs, []), questions


def docs_part(count: int, seed: int) -> tuple[docset.DocSet, list[str]]:
    """The documentation set, only its pages that answer ``count`` of its questions."""
    whole = docset.load(DOCS / "pages", DOCS / "questions.json")
    picked = random.Random(seed).sample(whole.corpus.questions, count)
    wanted = {q.paragraph_id for q in picked}
    paragraphs = [p for p in whole.corpus.paragraphs if p.id in wanted]
    corpus = Corpus(whole.corpus.source, paragraphs, [])
    return docset.DocSet(corpus, {}, whole.root), [q.question for q in picked]


def collect(base_url: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with client(base_url) as api:
        corpus, squad_questions = squad_part(args.articles, args.per_article, args.seed)
        ensure_corpus(api, corpus, "labels-squad", progress=False)
        docs, docs_questions = docs_part(args.docs_questions, args.seed)
        ensure_corpus(
            api,
            docs.corpus,
            "labels-docs",
            progress=False,
            post=lambda api, name, batch: docset.upload(api, name, batch, docs.root),
        )
        for name, collection, questions in (
            ("squad-dev", "labels-squad", squad_questions),
            ("docs-set", "labels-docs", docs_questions),
        ):
            for question in questions:
                rows += rows_of(name, question, ask(api, collection, question, args.max_tokens))
    return rows


def measure(rows: Iterable[dict[str, Any]], embed: support.Embed) -> dict[str, Any]:
    """The check's agreement with the labels (overall and by set), re-checked with ``RULE``;
    and its cost per answer (p50 ms) beside the recorded ``/ask`` p50."""
    labelled = [row for row in rows if row["label"] is not None]
    answers: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in labelled:
        answers.setdefault((row["question"], row["answer"]), []).append(row)
    agree: dict[str, list[bool]] = {}
    confusion = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    costs, totals = [], []
    scored: dict[bool, list[float]] = {True: [], False: []}  # the check's score by label
    for sentences in answers.values():
        first = sentences[0]
        embed([first["answer"]])  # warm: the first call loads nothing into the figure
        started = time.perf_counter()
        checked = support.check(first["answer"], hits_of(first["sources"]), embed)
        costs.append((time.perf_counter() - started) * 1000)
        totals.append(first["total_ms"])
        for row in sentences:
            said = checked.sentences[row["index"]].supported
            scored[bool(row["label"])].append(checked.sentences[row["index"]].score)
            agree.setdefault(row["set"], []).append(said == row["label"])
            key = ("t" if said == row["label"] else "f") + ("p" if said else "n")
            confusion[key] += 1
    every = [ok for oks in agree.values() for ok in oks]
    cost, total = statistics.median(costs), statistics.median(totals)
    return {
        "sentences": len(every),
        "answers": len(answers),
        "agreement": round(sum(every) / len(every), 4),
        "by_set": {name: [round(sum(oks) / len(oks), 4), len(oks)] for name, oks in agree.items()},
        "labelled_supported": sum(row["label"] for row in labelled),
        "confusion": confusion,  # t/f: agrees or not; p/n: the check said supported or not
        "score_auc": round(roc_auc(scored[True], scored[False]), 4),
        "check_ms_p50": round(cost, 1),
        "ask_total_ms_p50": round(total, 1),
        "check_share_of_ask_p50": round(cost / total, 4),
    }


def cost(base_url: str, rows: Iterable[dict[str, Any]], embed: support.Embed) -> dict[str, Any]:
    """The check's cost beside ``/ask``'s, side by side in one run: each labelled question
    asked again (its collection as ``collect`` left it), then its answer checked here, in
    turn, so both see the same load. p50 of ``/ask`` (check on, as shipped), of the check,
    and of ``/ask`` less the check (what it would take with the check off)."""
    collections = {"squad-dev": "labels-squad", "docs-set": "labels-docs"}
    questions = dict.fromkeys((row["set"], row["question"]) for row in rows)
    asks, checks = [], []
    with client(base_url) as api:
        for name, question in questions:
            asked = ask(api, collections[name], question, MAX_TOKENS)
            texts = [source["text"] for source in asked["sources"]]
            if not asked["sentences"]:
                continue  # refused or not checked: no check to time
            started = time.perf_counter()
            support.check(asked["answer"], hits_of(texts), embed)
            checks.append((time.perf_counter() - started) * 1000)
            asks.append(asked["timings"]["total_ms"])
    on, check = statistics.median(asks), statistics.median(checks)
    off = statistics.median(a - c for a, c in zip(asks, checks, strict=True))
    return {
        "answers": len(asks),
        "ask_ms_p50_check_on": round(on, 1),
        "ask_ms_p50_check_off_estimated": round(off, 1),
        "check_ms_p50": round(check, 1),
        "slower_with_check": round(on / off - 1, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    kinds = parser.add_subparsers(dest="kind", required=True)
    making = kinds.add_parser("collect", help="ask a running service; unlabelled lines")
    making.add_argument("--base-url", default="http://127.0.0.1:8000")
    making.add_argument("--out", type=Path, required=True)
    making.add_argument("--articles", type=int, default=3)
    making.add_argument("--per-article", type=int, default=7)
    making.add_argument("--docs-questions", type=int, default=20)
    making.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    making.add_argument("--seed", type=int, default=0)
    measuring = kinds.add_parser("measure", help="agreement of the check with the labels")
    measuring.add_argument("labels", type=Path)
    measuring.add_argument(
        "--base-url", help="also ask the labelled questions again here: the check's cost"
    )
    args = parser.parse_args()
    if args.kind == "collect":
        rows = collect(args.base_url, args)
        args.out.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        print(f"{len(rows)} sentences written to {args.out}")
        return
    from docqa.core.config import Settings
    from docqa.wiring import embedder

    model = embedder(Settings())
    lines = args.labels.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    result = measure(rows, model.embed)
    if args.base_url:
        result["cost"] = cost(args.base_url, rows, model.embed)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
