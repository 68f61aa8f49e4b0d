"""Private stacks: the one way integration tests start a ``docqa.stack.local.Stack`` of their own.

The session's shared stack (``conftest.stack``) is one; tests that stop services, kill
processes or need other settings (short job retries, a TEI stub as the embedder) start another
through ``private_stack``, and are skipped where the suite runs against ``BASE_URL``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from docqa.core.config import Settings
from docqa.stack.local import Stack
from docqa.stack.processes import free_port

MODEL_CACHE = Path.home() / ".cache" / "docqa" / "models"  # the assembled GGUF, kept across runs

# Jobs cut off by an outage are retried within seconds rather than RQ's default minutes.
QUICK_RETRIES = {"DOCQA_JOB_RETRY_INTERVALS_S": "[1, 2, 3]", "DOCQA_JOB_RETRIES": "8"}


@contextmanager
def private_stack(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    *,
    why: str,
    extra_env: dict[str, str] | None = None,
    generator: bool = True,
) -> Iterator[Stack]:
    """A stack of its own in a fresh ``name`` directory, on free ports, its logs in
    ``data_dir/logs``; stopped on exit. ``why`` says what it needs one for (the skip reason
    under ``BASE_URL``)."""
    if os.environ.get("BASE_URL"):
        pytest.skip(f"needs a stack started by the tests (not BASE_URL): {why}")
    stack = Stack(
        data_dir=tmp_path_factory.mktemp(name),
        api_port=free_port(),
        quiet=True,
        model_cache=MODEL_CACHE,
        extra_env=extra_env or {},
        generator=generator,
    )
    with stack as running:
        yield running


@contextmanager
def tei_stub_stack(
    tmp_path_factory: pytest.TempPathFactory, name: str, tei_url: str, *, why: str, retries: int
) -> Iterator[Stack]:
    """A ``private_stack`` without a generator whose worker embeds through the TEI stub at
    ``tei_url``, a failed job retried ``retries`` times after 1, 2, 3 s (and 3 s after those)."""
    env = {
        "DOCQA_EMBEDDER": "tei",
        "DOCQA_TEI_URL": tei_url,
        "DOCQA_JOB_RETRY_INTERVALS_S": "[1, 2, 3]",
        "DOCQA_JOB_RETRIES": str(retries),
    }
    with private_stack(tmp_path_factory, name, why=why, generator=False, extra_env=env) as running:
        yield running


def settings_for(stack: Stack, **overrides: Any) -> Settings:
    """Settings that reach ``stack``'s Redis, keyword Redis, Chroma and generator, for an app or
    a worker built in the test's own process; ``overrides`` replace any of them."""
    env = stack.env
    reach: dict[str, Any] = {
        "redis_url": env["DOCQA_REDIS_URL"],
        "keyword_redis_url": env["DOCQA_KEYWORD_REDIS_URL"],
        "chroma_url": env["DOCQA_CHROMA_URL"],
        "generator_url": env["DOCQA_GENERATOR_URL"],
    }
    return Settings(**(reach | overrides))
