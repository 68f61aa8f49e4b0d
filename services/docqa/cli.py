"""The ``docqa`` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from docqa.commands import bulk, evaluation, training


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docqa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the whole service with embedded defaults")
    run.add_argument("--data-dir", type=Path, default=Path("data"))
    run.add_argument("--port", type=int, default=8000)
    sub.add_parser("worker", help="run an embedding worker")
    llm = sub.add_parser("llm-server", help="serve the embedded generator (llama.cpp)")
    llm.add_argument("--port", type=int, default=8081)
    llm.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    llm.add_argument("--cache-dir", type=Path, default=Path("data/models"))
    llm.add_argument("--context", type=int, default=4096)
    sub.add_parser("openapi", help="print the API's OpenAPI document")
    check = sub.add_parser("healthcheck", help="exit 0 when the component is healthy")
    check.add_argument("component", choices=["worker"])
    evaluation.add_eval(sub)
    training.add_training(sub)
    bulk.add_ingest(sub)
    bulk.add_transfer(sub)
    args = parser.parse_args(argv)

    if args.command == "run":
        from docqa.stack import run as run_stack

        run_stack(args.data_dir, args.port)
    elif args.command == "worker":
        from docqa.worker.main import main as worker_main

        worker_main()
    elif args.command == "llm-server":
        from docqa.llm_server import serve

        serve(args.port, args.cache_dir, args.context, host=args.host)
    elif args.command == "openapi":
        import json

        from docqa.api.app import create_app

        print(json.dumps(create_app().openapi(), indent=2, sort_keys=False))
    elif args.command == "healthcheck":
        from docqa.worker.main import is_registered

        return 0 if is_registered() else 1
    elif args.command == "eval":
        return evaluation.run_eval(args)
    elif args.command == "ingest":
        return bulk.run_ingest(args)
    elif args.command in ("export", "import"):
        return bulk.run_transfer(args)
    elif args.command == "finetune":
        return training.run_finetune(args)
    elif args.command == "synth":
        return training.run_synth(args)
    elif args.command == "feedback":
        return training.run_feedback_export(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
