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
    check = sub.add_parser("healthcheck", help="exit 0 when the component is healthy")
    check.add_argument("component", choices=["worker"])
    args = parser.parse_args(argv)

    if args.command == "run":
        from docqa.stack import run as run_stack

        run_stack(args.data_dir, args.port)
    elif args.command == "worker":
        from docqa.worker.main import main as worker_main

        worker_main()
    elif args.command == "healthcheck":
        from docqa.worker.main import is_registered

        return 0 if is_registered() else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
