"""Measure "not in your documents" on the documentation set: its questions and ones it lacks.

``python -m docqa.evaluation.docs_abstention``

The documentation set's pages (``docs/eval/docs-set/pages``) are chunked as the service chunks
uploads (``ingest.chunking.Chunker``, the configured size and overlap) and indexed in memory
with docqa's hybrid search (``memory_index.InMemoryIndex``: the chunks' own text, without
the title and heading prefix the service adds for the embedder). Asked: the set's covered
questions (``questions.json``: answerable) and ``docs/eval/docs-uncovered-questions.json``
(questions the set does not answer: ``near`` ones about neighbouring tools, ``unrelated`` ones).
Each question's evidence is the service's own (``answer.abstention.measures``), weighed by the
shipped ``abstention.EVIDENCE``, fitted on SQuAD training articles and not refitted here.

Printed beside the SQuAD dev figures of ``abstention.EVIDENCE``: ROC AUC of the rule's score
(and of the fused score alone), the share of uncovered questions refused (overall, near,
unrelated), of covered questions refused, and the precision of refusals.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from docqa.answer.abstention import EVIDENCE, measures
from docqa.answer.excerpts import candidates
from docqa.core.errors import InvalidInput
from docqa.core.models import PendingDocument
from docqa.evaluation import docset
from docqa.evaluation.abstention_calibration import figures
from docqa.evaluation.memory_index import CachedEmbedder, InMemoryIndex
from docqa.evaluation.support_calibration import roc_auc
from docqa.ingest.chunking.chunker import Chunker

DOCS = Path("docs/eval/docs-set")
UNCOVERED = Path("docs/eval/docs-uncovered-questions.json")


def chunk_texts(root: Path, chunker: Chunker) -> list[str]:
    """Every page's chunks' texts, as an upload of the page is chunked."""
    texts: list[str] = []
    for page in docset.pages(root):
        name = page.relative_to(root).as_posix()
        kind = "html" if page.suffix in (".html", ".htm") else "markdown"
        document = PendingDocument(
            "docs", name, "", kind=kind, data=page.read_bytes(), title=page.name, source=name
        )
        try:
            texts += [chunk.text for chunk in chunker(document)]
        except InvalidInput:  # a page with no text to index
            continue
    return texts


def run(chunker: Chunker, embedder: CachedEmbedder) -> dict[str, Any]:
    index = InMemoryIndex(chunk_texts(DOCS / "pages", chunker), embedder)
    covered = [q["question"] for q in json.loads((DOCS / "questions.json").read_text())]
    uncovered = json.loads(UNCOVERED.read_text())
    asked = covered + [q["question"] for q in uncovered]
    kinds = ["covered"] * len(covered) + [q["kind"] for q in uncovered]
    vectors = embedder.embed(asked)
    rows = []
    for question, vector in zip(asked, vectors, strict=True):
        hits = index.retrieve(question, vector)
        rows.append(measures(question, hits, candidates(question, hits, embedder.embed)))
    x = np.array(rows)
    scores = np.array([EVIDENCE.missing(row) for row in rows])
    labels = np.array([float(kind != "covered") for kind in kinds])
    outside = labels == 1
    result: dict[str, Any] = {
        "chunks": len(index.paragraphs),
        "covered": len(covered),
        "uncovered": int(outside.sum()),
        "threshold": EVIDENCE.threshold,
        "all": figures(scores, labels, EVIDENCE.threshold),
        "fused_score_alone_auc": roc_auc(list(-x[outside, 0]), list(-x[~outside, 0])),
    }
    for kind in ("near", "unrelated"):
        picked = np.array([k in (kind, "covered") for k in kinds])
        result[kind] = figures(scores[picked], labels[picked], EVIDENCE.threshold)
    result["refused"] = [q for q, s in zip(asked, scores, strict=True) if s >= EVIDENCE.threshold]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/docqa-docs-embeddings.pkl"))
    args = parser.parse_args()
    from docqa.core.config import Settings
    from docqa.wiring import embedder

    settings = Settings()
    model = embedder(settings)
    limit = model.spec.max_input_tokens
    chunker = Chunker(
        tokenizer=model,
        max_tokens=min(settings.chunk_tokens, limit),
        overlap=min(settings.chunk_overlap, limit // 4),
    )
    cached = CachedEmbedder(model, args.cache)
    try:
        result = run(chunker, cached)
    finally:
        cached.save()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
