"""The local stack's servers, ``redis``, ``keyword-redis`` and ``chroma``: the command line each
runs with on its port and data dir, and the wait until each is up (a Redis: until it has read
its data back too)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from docqa.stack.processes import port_open, redis_answers, wait_ready
from docqa.stack.programs import StackError, chroma_args, redis_args

AOF_LOADING_S = 1800  # the longest a restarted Redis may take to read its data back


def server_args(name: str, data_dir: Path, address: str, port: int) -> list[str]:
    """The command line of ``redis``, ``keyword-redis`` or ``chroma``, listening on ``address``
    and ``port`` with its data under ``data_dir``: the same each time. Both Redis keep an
    append-only file."""
    if name in ("redis", "keyword-redis"):
        (data_dir / name).mkdir(parents=True, exist_ok=True)
        return redis_args(port, address, data_dir / name, keyword=name == "keyword-redis")
    if name == "chroma":
        return chroma_args(data_dir / "chroma", address, port)
    raise ValueError(f"no such restartable service: {name}")


def wait_server(
    name: str, proc: subprocess.Popen[bytes], address: str, port: int, log: Path | str
) -> None:
    """Until the server ``name`` (``proc``) answers on ``address`` and ``port``; a Redis that
    exits first is a ``StackError`` naming its output, ``log``."""
    if name in ("redis", "keyword-redis"):
        try:
            wait_ready(lambda: port_open(port, address), f"redis-server ({name})", 30, proc)
            # a restart reads the append-only file back first, answering LOADING until it
            # is done: minutes for a keyword index of a million chunks
            wait_ready(
                lambda: redis_answers(f"redis://{address}:{port}/0"),
                f"redis-server ({name})'s data",
                AOF_LOADING_S,
                proc,
            )
        except RuntimeError as exc:
            raise StackError(f"{exc}; its output: {log}") from exc
    else:
        wait_ready(
            lambda: httpx.get(f"http://{address}:{port}/api/v2/heartbeat").is_success,
            "chroma",
            60,
            proc,
        )
