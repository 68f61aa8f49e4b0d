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
    return 0


if __name__ == "__main__":
    sys.exit(main())
