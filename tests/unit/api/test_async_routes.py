"""No route blocks the event loop: while one request waits on a slow part (a blocking
``time.sleep`` in a fake, as a Redis or Chroma call blocks), ``/healthz`` on the same event loop
still answers at once. An ``async def`` route that calls a blocking part on the loop fails here.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest

from docqa.api.app import create_app
from docqa.core.config import Settings
from support.fakes import fake_services

DELAY_S = 1.5


class Slow:
    """``inner`` with its method ``name`` blocking for ``DELAY_S`` before it runs."""

    def __init__(self, inner: Any, name: str) -> None:
        self.inner = inner
        self.name = name
        self.entered = threading.Event()
        self.left_at = float("inf")

    def __getattr__(self, attribute: str) -> Any:
        found = getattr(self.inner, attribute)
        if attribute != self.name:
            return found

        def slow(*args: Any, **kwargs: Any) -> Any:
            self.entered.set()
            time.sleep(DELAY_S)  # blocks the calling thread, like a socket read
            self.left_at = time.monotonic()
            return found(*args, **kwargs)

        return slow


@dataclass(frozen=True)
class Case:
    part: str  # the Services field made slow
    method: str
    request: tuple[str, str, dict[str, Any] | None]  # HTTP method, path, JSON body
    status: int


CASES = {
    "add_documents": Case(
        "catalog",
        "get_many",
        ("POST", "/documents", {"documents": [{"id": "a", "text": "Owls hunt at night."}]}),
        202,
    ),
    "ask": Case("store", "collection_spec", ("POST", "/ask", {"question": "Owls?"}), 200),
    "search": Case("store", "collection_spec", ("POST", "/search", {"question": "Owls?"}), 200),
    "chat_completion": Case(
        "store",
        "collection_spec",
        (
            "POST",
            "/v1/chat/completions",
            {"model": "docqa/default", "messages": [{"role": "user", "content": "Owls?"}]},
        ),
        200,
    ),
    "metrics": Case("queue", "counts", ("GET", "/metrics", None), 200),
    "list_documents": Case("catalog", "page", ("GET", "/documents", None), 200),
    "reindex": Case(
        "catalog", "page", ("POST", "/collections/default/reindex", {"target": "v2"}), 202
    ),
    "readiness": Case("store", "check", ("GET", "/readyz", None), 200),
    "import_collection": Case(
        "store",
        "collection_spec",
        (
            "POST",
            "/collections/default/import",
            {"spec": {"model_id": "fake", "dimension": 32, "normalized": True}, "documents": []},
        ),
        200,
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_healthz_answers_while_a_route_waits_on_a_slow_part(name: str) -> None:
    case = CASES[name]
    services = fake_services(Settings())
    services.store.ensure_collection("default", services.embedder.spec)
    slow = Slow(getattr(services, case.part), case.method)
    setattr(services, case.part, slow)
    app = create_app(services.settings, services=services)
    answered: dict[str, float | int] = {}

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://docqa") as client:

            async def slow_request() -> None:
                method, path, body = case.request
                response = await client.request(method, path, json=body)
                answered["slow"] = response.status_code

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(slow_request)
                # Waits in a thread: with the loop blocked, this returns only once it is free.
                await anyio.to_thread.run_sync(slow.entered.wait, 10.0)
                health = await client.get("/healthz")
                answered["health_at"] = time.monotonic()
                answered["health"] = health.status_code

    anyio.run(scenario)
    assert slow.entered.is_set(), f"{name} never reached {case.part}.{case.method}"
    assert answered["health"] == 200 and answered["slow"] == case.status, answered
    assert answered["health_at"] < slow.left_at, (
        f"/healthz waited for {name}'s slow {case.part}.{case.method}: the event loop was blocked"
    )
