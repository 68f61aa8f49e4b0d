"""The commands of ``docqa`` that run the service or a part of it: ``run`` (the whole local
stack, ``docqa.stack.local.Stack``, until Ctrl-C), ``worker``, ``llm-server`` (llama.cpp on the
embedded generator), ``openapi`` (print the API's document) and ``healthcheck``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

COMMANDS = ("run", "worker", "llm-server", "openapi", "healthcheck")


def add_service(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def run_service(args: argparse.Namespace) -> int:
    if args.command == "run":
        return run_stack(args.data_dir, args.port)
    elif args.command == "worker":
        from docqa.worker.main import main as worker_main

        worker_main()
    elif args.command == "llm-server":
        from docqa.stack.llm_server import serve

        serve(args.port, args.cache_dir, args.context, host=args.host)
    elif args.command == "openapi":
        import json

        from docqa.api.app import create_app

        print(json.dumps(create_app().openapi(), indent=2, sort_keys=False))
    elif args.command == "healthcheck":
        from docqa.worker.main import is_registered

        return 0 if is_registered() else 1
    return 0


def run_stack(data_dir: Path, api_port: int) -> int:
    """Start everything, keep it running (a process that exits is started again, with a
    back-off: ``docqa.stack.supervision``) until Ctrl-C (or SIGTERM), then stop everything.
    1 when a process crashed too often and the supervisor gave up."""
    from docqa.stack.local import Stack
    from docqa.stack.supervision import GaveUp, Supervisor

    stack = Stack(data_dir=data_dir.resolve(), api_port=api_port)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        stack.start()
        print(f"docqa is ready at {stack.base_url} (docs: {stack.base_url}/docs). Ctrl-C stops it.")
        supervisor = Supervisor(stack)
        while True:
            supervisor.tick()
            time.sleep(0.5)
    except GaveUp as exc:
        print(f"docqa run: stopping: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping…", file=sys.stderr)
    finally:
        stack.stop()
    return 0
