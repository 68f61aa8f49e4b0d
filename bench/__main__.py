"""``python -m bench``: run the measurements, print the table, write the JSON (see ``bench``)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench import ask, chaos, ingest, load, memory, scale, search
from bench.corpus import DEFAULT_SQUAD, REPO, Corpus
from bench.corpus import load as load_corpus
from bench.results import (
    Result,
    describe,
    load_average,
    machine,
    now,
    render,
    render_markdown,
    splice,
    write_json,
)
from bench.target import Target, open_target, post_documents
from docqa.core.ports import Embedder

MEASUREMENTS = (ingest.NAME, search.NAME, memory.NAME, ask.NAME, load.NAME)
ON_DEMAND = (scale.NAME, chaos.NAME)  # never in the default run: hours, or faults
DOCS = REPO / "docs" / "benchmarks.md"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--documents", type=int, default=200, help="documents to ingest")
    parser.add_argument("--questions", type=int, default=20, help="questions for search and ask")
    parser.add_argument(
        "--only",
        type=_measurements,
        default=MEASUREMENTS,
        help=f"comma-separated subset of {','.join(MEASUREMENTS)} (default: all)",
    )
    parser.add_argument("--base-url", help="measure this running stack instead of a private one")
    parser.add_argument(
        "--chroma-url", help="with --base-url: its Chroma server, for the raw search reference"
    )
    parser.add_argument(
        "--search-chunks",
        type=int,
        default=20000,
        help="chunks in the search collection (corpus paragraphs + random-vector filler)",
    )
    parser.add_argument(
        "--memory-chunks",
        type=_sizes,
        default=memory.DEFAULT_SIZES,
        help="comma-separated ingest sizes for the worker RSS measurement "
        "(default 1000,4000; the issue's sizes: 10000,100000); the worker embeds through the "
        "TEI stub (bench/tei_stub/)",
    )
    parser.add_argument(
        "--load-seconds",
        type=float,
        default=load.DEFAULT_SECONDS,
        help=f"how long the load runs (default {load.DEFAULT_SECONDS:g})",
    )
    parser.add_argument(
        "--load-clients",
        type=int,
        default=load.DEFAULT_CLIENTS,
        help=f"concurrent clients of the load (default {load.DEFAULT_CLIENTS})",
    )
    parser.add_argument(
        "--scale-sizes",
        type=_sizes,
        default=(100000, 300000, 1000000),
        help="checkpoints (chunks) of --only scale, one growing collection (bench/scale.py)",
    )
    parser.add_argument(
        "--scale-workers", type=int, default=1, help="--only scale: workers on the one host"
    )
    parser.add_argument(
        "--scale-in-process",
        action="store_true",
        help="--only scale: the workers tokenize in process with the stub's tokenizer.json "
        "(MiniLM's), as beside a real TEI; else through /tokenize",
    )
    parser.add_argument("--scale-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument(
        "--scale-resume",
        type=Path,
        default=None,
        help="the data folder of a --only scale run cut short: go on from it (bench/scale.py)",
    )
    parser.add_argument(
        "--scale-profile",
        type=int,
        default=0,
        help="after the last checkpoint, this many more chunks with the worker under cProfile",
    )
    parser.add_argument("--minutes", type=float, default=5, help="--only chaos: how long")
    parser.add_argument("--seed", type=int, default=1, help="--only chaos: the faults' seed")
    parser.add_argument(
        "--faults-per-kind",
        type=int,
        help="--only chaos: faults of each kind (default: 1 a kind in <= 5 minutes, else 2 a "
        "minute)",
    )
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD, help="SQuAD v1.1 JSON")
    parser.add_argument(
        "--json", type=Path, default=REPO / "bench" / "results.json", help="where to write JSON"
    )
    parser.add_argument("--docs", type=Path, default=DOCS, help="where to write the Markdown table")
    args = parser.parse_args(argv)
    if args.documents < 1 or args.questions < 1 or args.search_chunks < 1:
        parser.error("--documents, --questions and --search-chunks must be at least 1")
    if args.load_seconds <= 0 or args.load_clients < 1:
        parser.error("--load-seconds must be positive and --load-clients at least 1")
    return args


def _measurements(value: str) -> tuple[str, ...]:
    chosen = tuple(name.strip() for name in value.split(",") if name.strip())
    known = MEASUREMENTS + ON_DEMAND
    unknown = sorted(set(chosen) - set(known))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {','.join(known)}, not {value!r}")
    return tuple(name for name in known if name in chosen)


def _sizes(value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"positive comma-separated counts, not {value!r}")
    return tuple(sorted(set(sizes)))


def load_embedder() -> Embedder | None:
    """The service's local embedder, in this process, for the raw references."""
    try:
        from docqa.adapters.local_embedder import LocalEmbedder

        return LocalEmbedder()
    except Exception as exc:  # not installed, or no model: the bench runs without references
        print(f"raw references off: {exc}", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if chaos.NAME in args.only:  # its own stack and figures (build/chaos.json); alone
        return chaos.run(args)
    if scale.NAME in args.only:  # its own stack and its own part of the JSON and the page
        scale.run(args)
        args.only = tuple(name for name in args.only if name != scale.NAME)
        if not args.only:
            return 0

    corpus = load_corpus(args.squad, args.documents)
    questions = corpus.questions(args.questions)
    collection = f"bench-{uuid.uuid4().hex[:8]}"
    info, date = machine(), now()
    needs_raw = ingest.NAME in args.only or search.NAME in args.only
    embedder = load_embedder() if needs_raw else None

    results: list[Result] = []
    if any(name != memory.NAME for name in args.only):
        with (
            open_target(args.base_url, args.chroma_url) as target,
            httpx.Client(base_url=target.base_url, timeout=600) as api,
        ):
            _measure_on(target, api, args, corpus, questions, collection, embedder, results)
    if memory.NAME in args.only:  # a stack of its own: its worker embeds through the TEI stub
        _progress(f"memory: ingest {','.join(map(str, args.memory_chunks))} chunks")
        results.append(memory.run(args.base_url, collection, args.memory_chunks))
    results.sort(key=lambda result: MEASUREMENTS.index(result.name))

    setup = (
        f"target: {args.base_url or 'private stack'}; corpus: "
        f"{Path(corpus.source).name} ({len(corpus.paragraphs)} documents, "
        f"{len(questions)} questions); raw = same work in this process"
    )
    print(f"docqa bench  {describe(info, date)}\n{setup}; load after {load_average()}\n")
    print(render(results))
    notes = [f"{result.name}: {note}" for result in results for note in result.notes]
    if notes:
        print("\nnotes:", *(f"  - {note}" for note in notes), sep="\n")
    document: dict[str, Any] = {
        "date": date,
        "machine": info,
        "load_average_after": load_average(),
        "target": {"base_url": args.base_url, "private": not args.base_url},
        "corpus": {"source": corpus.source, "documents": len(corpus.paragraphs)},
        "raw_reference": _reference(embedder),
        "results": [result.to_json() for result in results],
    }
    write_json(args.json, document | scale.kept(args.json))
    args.docs.parent.mkdir(parents=True, exist_ok=True)
    existing = args.docs.read_text(encoding="utf-8") if args.docs.is_file() else None
    page = splice(existing, render_markdown(results, info, date, setup))
    args.docs.write_text(page, encoding="utf-8")
    print(f"\nwritten to {args.json} and {args.docs}")
    return 0


def _measure_on(
    target: Target,
    api: httpx.Client,
    args: argparse.Namespace,
    corpus: Corpus,
    questions: list[str],
    collection: str,
    embedder: Embedder | None,
    results: list[Result],
) -> None:
    """The measurements on the main stack (embedded defaults), appended to ``results``."""
    if ingest.NAME in args.only:
        _progress(f"ingest: {len(corpus.paragraphs)} documents into {collection}")
        results.append(ingest.measure(api, corpus, collection, embedder, target.chroma_url))
    elif ask.NAME in args.only:  # ask needs the documents, untimed
        documents = [paragraph.as_document() for paragraph in corpus.paragraphs]
        post_documents(api, collection, documents, ingest.job_timeout_s(len(documents)))
    if search.NAME in args.only:
        _progress(f"search: {args.search_chunks} chunks, {len(questions)} questions")
        results.append(
            search.measure(
                api,
                questions,
                corpus,
                f"{collection}-search",
                embedder,
                target.chroma_url,
                args.search_chunks,
                target.keyword_url,
            )
        )
    if ask.NAME in args.only:
        _progress(f"ask: {len(questions)} questions")
        results.append(ask.measure(api, questions, collection))
    if load.NAME in args.only:  # last: its writes leave the worker busy for a while
        _progress(f"load: {args.load_clients} clients for {args.load_seconds:g} s")
        results.append(
            load.measure(
                api,
                target.base_url,
                corpus,
                questions,
                collection,
                seconds=args.load_seconds,
                clients=args.load_clients,
            )
        )


def _reference(embedder: Embedder | None) -> dict[str, Any] | None:
    if embedder is None:
        return None
    import torch

    return {"model": embedder.spec.model_id, "torch_threads": torch.get_num_threads()}


def _progress(message: str) -> None:
    print(f"… {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
