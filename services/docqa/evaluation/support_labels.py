"""Measure how often the support check agrees with sentences labelled by hand.

``python -m docqa.evaluation.support_labels collect --base-url URL --out draft.jsonl``
asks a running service (the embedded model) questions of a few SQuAD articles (dev, or with
``--squad`` the train part) and of the documentation set (``docs/eval/docs-set``), each page
or paragraph indexed first, and writes one line per sentence of each generated answer: the
question, the whole answer, the sentence, its sources' texts, the passage the check found
best, what the check said, and ``label`` null.

A person then sets each ``label`` (true: the sources say what the sentence says; false: they do
not, or it says nothing checkable: fragments, lead-ins, echoes of the question) and commits the
file (``docs/eval/support-labels.jsonl`` to report on; ``support-labels-train.jsonl``, from
SQuAD train, to fit on: ``support_calibration --labels``).

``python -m docqa.evaluation.support_labels measure docs/eval/support-labels.jsonl``
checks each answer again with the current ``support_rule.RULE`` and the service's embedder (so the
figure follows the rule, not the labels' day; each label follows its sentence's text, however
the answer is split now) and prints the agreement with the labels, by set, the confusion
matrix, every disagreement, and the check's in-process cost per answer. Its cost inside
``/ask``: ``docqa.evaluation.support_cost``.
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

from docqa.answer import support, support_rule
from docqa.answer.claims import claim_of
from docqa.answer.sentences import split
from docqa.answer.support import SentenceSupport
from docqa.core.models import Hit
from docqa.evaluation import docset
from docqa.evaluation.client import call, client, ensure_corpus
from docqa.evaluation.support_calibration import roc_auc
from docqa.training.squad import Corpus
from docqa.training.squad import load as load_squad

DEV = Path("/work/shared/data/squad/dev-v1.1.json")
DOCS = Path("docs/eval/docs-set")
MAX_TOKENS = 96
# The collection each set's questions are asked of.
COLLECTIONS = {
    "squad-dev": "labels-squad",
    "squad-train": "labels-squad-train",
    "docs-set": "labels-docs",
}


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


def units_of(answer: str, labelled: Sequence[str]) -> list[int]:
    """The unit of ``support.check`` (of ``answer``) each labelled sentence lies in, found by
    its text in order: the labels keep their sentences whichever way the answer is split."""
    units = [unit for unit in split(answer) if claim_of(unit.text)]
    found, position = [], 0
    for sentence in labelled:
        start = answer.find(sentence, position)
        if start < 0:
            raise ValueError(f"a labelled sentence is not in its answer: {sentence!r}")
        found.append(next(i for i, unit in enumerate(units) if unit.end > start))
        position = start + 1
    return found


def ask(api: httpx.Client, collection: str, question: str, max_tokens: int) -> dict[str, Any]:
    body = {
        "question": question,
        "collection": collection,
        "max_tokens": max_tokens,
        "answer_mode": "generate",
        "top_k": 3,
    }
    return dict(call(api, "POST", "/ask", json=body))


def squad_part(
    articles: int, per_article: int, seed: int, path: Path = DEV, first: int = 0
) -> tuple[Corpus, list[str]]:
    """``articles`` articles of a SQuAD file (from its ``first``), their paragraphs, and
    ``per_article`` questions of each."""
    dev = load_squad(path)
    titles = list(dict.fromkeys(p.title for p in dev.paragraphs))[first : first + articles]
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
        corpus, squad_questions = squad_part(
            args.articles, args.per_article, args.seed, args.squad, args.first_article
        )
        squad_name = "squad-dev" if args.squad == DEV else "squad-train"
        squad_collection = COLLECTIONS[squad_name]
        ensure_corpus(api, corpus, squad_collection, progress=False)
        asked = [(squad_name, squad_collection, squad_questions)]
        if args.docs_questions:
            docs, docs_questions = docs_part(args.docs_questions, args.seed)
            ensure_corpus(
                api,
                docs.corpus,
                "labels-docs",
                progress=False,
                post=lambda api, name, batch: docset.upload(api, name, batch, docs.root),
            )
            asked.append(("docs-set", "labels-docs", docs_questions))
        for name, collection, questions in asked:
            for question in questions:
                rows += rows_of(name, question, ask(api, collection, question, args.max_tokens))
    return rows


def verdicts(
    rows: Iterable[dict[str, Any]],
    embed: support.Embed,
    rule: support_rule.Rule = support_rule.RULE,
) -> tuple[list[tuple[dict[str, Any], SentenceSupport]], list[float]]:
    """Each labelled row with what ``support.check`` (``rule``) says of the unit it lies in,
    each answer checked once; and the milliseconds each check took (in this process)."""
    answers: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["label"] is not None:
            answers.setdefault((row["question"], row["answer"]), []).append(row)
    found: list[tuple[dict[str, Any], SentenceSupport]] = []
    costs: list[float] = []
    for unordered in answers.values():
        sentences = sorted(unordered, key=lambda row: int(row["index"]))
        first = sentences[0]
        embed([first["answer"]])  # warm: the first call loads nothing into the figure
        started = time.perf_counter()
        checked = support.check(
            first["answer"], hits_of(first["sources"]), embed, rule, first["question"]
        )
        costs.append((time.perf_counter() - started) * 1000)
        at = units_of(first["answer"], [row["sentence"] for row in sentences])
        found += [(row, checked.sentences[index]) for row, index in zip(sentences, at, strict=True)]
    return found, costs


def measure(
    rows: Iterable[dict[str, Any]],
    embed: support.Embed,
    rule: support_rule.Rule = support_rule.RULE,
) -> dict[str, Any]:
    """The check's agreement with the labels (overall and by set), re-checked with ``rule``,
    its confusion matrix, each disagreement listed; and its cost per answer (p50 ms, in this
    process)."""
    found, costs = verdicts(rows, embed, rule)
    agree: dict[str, list[bool]] = {}
    confusion = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    scored: dict[bool, list[float]] = {True: [], False: []}  # the check's score by label
    wrong: list[dict[str, Any]] = []
    for row, unit in found:
        said, label = unit.supported, bool(row["label"])
        scored[label].append(unit.score)
        if said != label:
            wrong.append({"sentence": row["sentence"], "label": label, "score": unit.score})
        agree.setdefault(row["set"], []).append(said == label)
        confusion[("t" if said == label else "f") + ("p" if said else "n")] += 1
    every = [ok for oks in agree.values() for ok in oks]
    return {
        "sentences": len(every),
        "answers": len(costs),
        "agreement": round(sum(every) / len(every), 4),
        "by_set": {name: [round(sum(oks) / len(oks), 4), len(oks)] for name, oks in agree.items()},
        "labelled_supported": len(scored[True]),
        "confusion": confusion,  # t/f: agrees or not; p/n: the check said supported or not
        "score_auc": round(roc_auc(scored[True], scored[False]), 4),
        "check_ms_p50": round(statistics.median(costs), 1),
        "disagreements": wrong,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    kinds = parser.add_subparsers(dest="kind", required=True)
    making = kinds.add_parser("collect", help="ask a running service; unlabelled lines")
    making.add_argument("--base-url", default="http://127.0.0.1:8000")
    making.add_argument("--out", type=Path, required=True)
    making.add_argument("--squad", type=Path, default=DEV, help="dev (default) or train part")
    making.add_argument("--first-article", type=int, default=0)
    making.add_argument("--articles", type=int, default=3)
    making.add_argument("--per-article", type=int, default=7)
    making.add_argument("--docs-questions", type=int, default=20)
    making.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    making.add_argument("--seed", type=int, default=0)
    measuring = kinds.add_parser("measure", help="agreement of the check with the labels")
    measuring.add_argument("labels", type=Path)
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
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
