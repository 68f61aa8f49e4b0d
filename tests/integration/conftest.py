"""The integration suite runs over HTTP against a running stack.

By default it starts its own (``docqa.stack.local.Stack``: real redis-server, Chroma server, API and
worker on free ports). With ``BASE_URL`` set it runs against that stack instead (for example the
docker-compose one on a GPU host); tests that must control processes (kill the worker) then
need the local stack and say so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest

from docqa.stack.local import Stack
from support.stacks import private_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack | None]:
    if os.environ.get("BASE_URL"):
        yield None
        return
    with private_stack(tmp_path_factory, "stack", why="the session's stack") as running:
        yield running


@pytest.fixture(scope="session")
def base_url(stack: Stack | None) -> str:
    return os.environ.get("BASE_URL") or (stack.base_url if stack else "")


@pytest.fixture(scope="session")
def api(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=120) as client:
        yield client


@pytest.fixture
def local_stack(stack: Stack | None) -> Stack:
    if stack is None:
        pytest.skip("needs the stack started by the tests (not BASE_URL): it controls processes")
    return stack


@pytest.fixture
def collection() -> str:
    """A fresh collection for each test, so tests never see each other's documents."""
    return f"t{uuid.uuid4().hex[:12]}"
