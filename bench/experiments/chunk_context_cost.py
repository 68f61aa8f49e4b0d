"""What the context prefix costs at ingest (issue 18), in process, with the local MiniLM:
the documentation set's pages sectioned, then chunked without and with their title and heading
path counted in the budget; chunks, chunking time, ``Chunker.indexed_texts`` time and the tokens
the embedder gets.

    .venv/bin/python -m bench.experiments.chunk_context_cost [--docs docs/eval/docs-set/pages]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from docqa.adapters.local_embedder import LocalEmbedder
from docqa.core.models import Chunk, Section
from docqa.ingest.chunking.splitter import chunk_document
from docqa.ingest.formats.extraction import extract_sections
from docqa.ingest.indexing import Chunker

CHUNK_TOKENS, OVERLAP = 200, 40  # the defaults (DOCQA_CHUNK_TOKENS, DOCQA_CHUNK_OVERLAP)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=Path("docs/eval/docs-set/pages"))
    args = parser.parse_args()
    pages = sorted(args.docs.rglob("*.md"))
    embedder = LocalEmbedder()
    max_tokens = min(CHUNK_TOKENS, embedder.spec.max_input_tokens)
    chunker = Chunker(embedder, max_tokens, OVERLAP, limit=embedder.spec.max_input_tokens)
    docs = [
        (str(p.relative_to(args.docs)), extract_sections("markdown", p.read_bytes())) for p in pages
    ]
    for label, with_context in (("without prefix", False), ("with prefix", True)):
        started = time.perf_counter()
        chunks: list[Chunk] = []
        for doc_id, sections in docs:
            if with_context:
                titles = (str(s.metadata["title"]) for s in sections if s.metadata.get("title"))
                chunks += chunk_document(
                    doc_id, sections, embedder, max_tokens, OVERLAP, title=next(titles, doc_id)
                )
            else:
                bare = [
                    Section(
                        s.text,
                        {k: v for k, v in s.metadata.items() if k not in ("title", "section")},
                    )
                    for s in sections
                ]
                chunks += chunk_document(doc_id, bare, embedder, max_tokens, OVERLAP)
        chunked = time.perf_counter() - started
        started = time.perf_counter()
        texts = chunker.indexed_texts(chunks)
        prefixed = time.perf_counter() - started
        counts = [len(spans) for spans in embedder.token_spans(texts)]
        print(
            f"{label}: {len(pages)} pages, {len(chunks)} chunks, chunking {chunked:.1f} s, "
            f"indexed_texts {prefixed:.2f} s, tokens embedded {sum(counts)} "
            f"(mean {sum(counts) / len(counts):.1f}, max {max(counts)})"
        )


if __name__ == "__main__":
    main()
