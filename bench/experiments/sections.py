"""Sectioning on a documentation folder, offline (issue 18): chunks, and fenced code blocks cut.

No stack needed; the packaged all-MiniLM-L6-v2 tokenizer (``LocalEmbedder``) and the service's
default chunk size and overlap (200 and 40 tokens):

    .venv/bin/python -m bench.experiments.sections [--pages docs/eval/docs-set/pages] [--json FILE]

Three ways of chunking every ``*.md`` page under ``--pages`` (``chunk_document`` each section):

- ``flat``: the page as one section, as before sectioning (no title, no heading path);
- ``sections, no fence rule``: ``markdown.markdown_sections``, with chunking's fenced-block rule
  switched off (``splitter.fenced_blocks`` patched to find none);
- ``sections``: as the service reads Markdown now.

For each: the chunks, the fenced code blocks (``markdown.fenced_blocks`` of each section), those
that fit in a chunk's text budget (their tokens at most ``max_tokens`` less the section's
context prefix, ``context.metadata_prefix``: what the packing gives the text), and of
those the ones no single chunk holds whole (cut in the middle).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from docqa.adapters.local_embedder import LocalEmbedder
from docqa.core.models import Section
from docqa.ingest.chunking import context, splitter
from docqa.ingest.formats.markdown import fenced_blocks, markdown_sections

MAX_TOKENS = 200
OVERLAP = 40


def measure(
    pages: list[Path], tokenizer: LocalEmbedder, read: Callable[[str], list[Section]], fences: bool
) -> dict[str, float]:
    found = splitter.fenced_blocks
    if not fences:
        splitter.fenced_blocks = lambda text: []
    chunks = blocks = fitting = cut = 0
    started = time.perf_counter()
    try:
        for page in pages:
            for section in read(page.read_text(encoding="utf-8")):
                made = splitter.chunk_document("d", [section], tokenizer, MAX_TOKENS, OVERLAP)
                chunks += len(made)
                spans = [(int(c.metadata["start"]), int(c.metadata["end"])) for c in made]
                prefix = context.metadata_prefix(dict(section.metadata))
                budget = MAX_TOKENS - (len(tokenizer.token_spans([prefix])[0]) if prefix else 0)
                for start, end in fenced_blocks(section.text):
                    blocks += 1
                    if len(tokenizer.token_spans([section.text[start:end]])[0]) <= budget:
                        fitting += 1
                        cut += not any(a <= start and end <= b for a, b in spans)
    finally:
        splitter.fenced_blocks = found
    return {
        "chunks": chunks,
        "fenced_blocks": blocks,
        "fitting": fitting,
        "fitting_cut": cut,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=Path("docs/eval/docs-set/pages"))
    parser.add_argument("--json", type=Path, help="write the figures there too")
    args = parser.parse_args()
    pages = sorted(args.pages.rglob("*.md"))
    tokenizer = LocalEmbedder()
    runs = {
        "flat": measure(pages, tokenizer, lambda text: [Section(text)], fences=False),
        "sections, no fence rule": measure(pages, tokenizer, markdown_sections, fences=False),
        "sections": measure(pages, tokenizer, markdown_sections, fences=True),
    }
    report = {"pages": len(pages), "max_tokens": MAX_TOKENS, "overlap": OVERLAP, "runs": runs}
    for name, figures in runs.items():
        print(
            f"{name:>24}: {figures['chunks']} chunks; {figures['fitting_cut']} of "
            f"{figures['fitting']} fenced blocks that fit cut ({figures['fenced_blocks']} blocks)"
            f" [{figures['seconds']} s]"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
