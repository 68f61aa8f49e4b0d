"""The ``docqa`` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docqa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the whole service with embedded defaults")
    run.add_argument("--data-dir", type=Path, default=Path("data"))
    run.add_argument("--port", type=int, default=8000)
    sub.add_parser("worker", help="run an embedding worker")
    llm = sub.add_parser("llm-server", help="serve the embedded generator (llama.cpp)")
    llm.add_argument("--port", type=int, default=8081)
    llm.add_argument("--cache-dir", type=Path, default=Path("data/models"))
    llm.add_argument("--context", type=int, default=4096)
    sub.add_parser("openapi", help="print the API's OpenAPI document")
    check = sub.add_parser("healthcheck", help="exit 0 when the component is healthy")
    check.add_argument("component", choices=["worker"])
    _add_eval(sub)
    args = parser.parse_args(argv)

    if args.command == "run":
        from docqa.stack import run as run_stack

        run_stack(args.data_dir, args.port)
    elif args.command == "worker":
        from docqa.worker.main import main as worker_main

        worker_main()
    elif args.command == "llm-server":
        from docqa.llm_server import serve

        serve(args.port, args.cache_dir, args.context)
    elif args.command == "openapi":
        import json

        from docqa.api.app import create_app

        print(json.dumps(create_app().openapi(), indent=2, sort_keys=False))
    elif args.command == "healthcheck":
        from docqa.worker.main import is_registered

        return 0 if is_registered() else 1
    elif args.command == "eval":
        return _run_eval(args)
    return 0


def _add_eval(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evaluate = sub.add_parser(
        "eval", help="measure retrieval or answer quality on a SQuAD-shaped file, over HTTP"
    )
    kinds = evaluate.add_subparsers(dest="evaluation", required=True)
    retrieval = kinds.add_parser(
        "retrieval", help="Recall@k, MRR@10, nDCG@10 of each question's own paragraph"
    )
    answers = kinds.add_parser("answers", help="SQuAD EM/F1 of /ask, with and without retrieval")
    for kind in (retrieval, answers):
        kind.add_argument("--squad", type=Path, required=True, help="SQuAD v1.1-shaped JSON file")
        kind.add_argument("--base-url", default="http://127.0.0.1:8000", help="the docqa API")
        kind.add_argument(
            "--collection", help="default: squad-<hash of the paragraphs> (re-used when complete)"
        )
        kind.add_argument("--concurrency", type=int, default=4, help="requests in flight")
        kind.add_argument("--json", type=Path, dest="json_out", help="also write every figure here")
        kind.add_argument("--no-progress", action="store_true", help="no progress bars")
    retrieval.add_argument("--questions", type=int, help="ask the first N (default: all)")
    retrieval.add_argument(
        "--mode", choices=["dense", "keyword", "hybrid"], help="/search's mode (default: not sent)"
    )
    retrieval.add_argument(
        "--rerank", action="store_true", help="re-score with the service's reranker"
    )
    answers.add_argument("--questions", type=int, required=True, help="ask the first N")
    answers.add_argument("--top-k", type=int, default=5, help="sources /ask retrieves")
    answers.add_argument("--max-tokens", type=int, default=32, help="answer length limit")


def _run_eval(args: argparse.Namespace) -> int:
    from docqa import evaluation
    from docqa.evaluation.squad import SquadFormatError

    common = {
        "base_url": args.base_url,
        "collection": args.collection,
        "concurrency": args.concurrency,
        "json_out": args.json_out,
        "progress": not args.no_progress,
    }
    try:
        if args.evaluation == "retrieval":
            evaluation.retrieval(
                args.squad, questions=args.questions, mode=args.mode, rerank=args.rerank, **common
            )
        else:
            evaluation.answers(
                args.squad,
                questions=args.questions,
                top_k=args.top_k,
                max_tokens=args.max_tokens,
                **common,
            )
    except (evaluation.EvalError, SquadFormatError, OSError) as exc:
        print(f"docqa eval: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
