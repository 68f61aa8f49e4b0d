"""The MCP server at /mcp, driven by the SDK's own client over streamable HTTP (in process, on
httpx2's ASGI transport, the app's lifespan entered), over fakes: the tool list per key, search,
ask, reading around a passage, adding, and the errors an agent sees (a bad collection, a key out
of scope or read-only, no key)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult

from docqa.api.app import create_app
from docqa.core.config import Settings
from docqa.wiring import Services
from support.fakes import ScriptedGenerator, fake_services
from support.indexed import index_text

ADMIN = "admin-key-0123456789abcdef"
READER = "reader-key-0123456789abcdef"  # read-only, collection "birds" only
KEYS: list[dict[str, Any]] = [
    {"key": ADMIN, "name": "admin"},
    {"key": READER, "name": "reader", "collections": ["birds"], "access": "read"},
]
TEXT = (
    "Owls hunt at night and see well in the dark. "
    "Swifts sleep while flying and rarely land. "
    "Herons wade in shallow water to catch fish. "
    "Penguins cannot fly but swim fast."
)
READ_TOOLS = ["list_collections", "search", "ask", "list_documents", "read_document"]
Connect = Callable[[str | None], AbstractAsyncContextManager[ClientSession]]


statuses: list[int] = []  # the HTTP statuses /mcp answered, as the agent's HTTP client saw them


async def seen(response: httpx2.Response) -> None:
    statuses.append(response.status_code)


def make_connect(keys: list[dict[str, Any]] | None) -> tuple[Services, Callable[[], Any], Connect]:
    settings = Settings(api_keys=json.dumps(keys) if keys else None, min_score=0.0)
    services = fake_services(settings, generator=ScriptedGenerator("Owls hunt at night [1]."))
    app = create_app(settings, services=services)
    index_text(services, "birds", "birds.md", TEXT, title="Birds")
    index_text(services, "fish", "fish.md", "Salmon swim upstream to spawn.")

    @asynccontextmanager
    async def connect(key: str | None) -> AsyncIterator[ClientSession]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        transport = httpx2.ASGITransport(app)
        async with (
            httpx2.AsyncClient(
                transport=transport,
                base_url="http://t",
                headers=headers,
                event_hooks={"response": [seen]},
            ) as http,
            streamable_http_client("http://t/mcp", http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session

    return services, lambda: app.router.lifespan_context(app), connect


@asynccontextmanager
async def running(keys: list[dict[str, Any]] | None) -> AsyncIterator[tuple[Services, Connect]]:
    """The app's lifespan entered (the MCP session manager runs in it) in the test's own task."""
    services, lifespan, connect = make_connect(keys)
    async with lifespan():
        yield services, connect


def text_of(result: CallToolResult) -> str:
    return "".join(c.text for c in result.content if c.type == "text")


@pytest.mark.asyncio
async def test_tool_list_follows_the_key() -> None:
    async with running(KEYS) as (_, connect):
        async with connect(ADMIN) as session:
            tools = {t.name: t for t in (await session.list_tools()).tools}
        assert sorted(tools) == sorted([*READ_TOOLS, "add_document", "delete_document"])
        assert "question" in tools["search"].input_schema["required"]
        assert "passages" in (tools["search"].description or "")
        assert (
            tools["search"].annotations is not None and tools["search"].annotations.read_only_hint
        )
        async with connect(READER) as session:
            names = [t.name for t in (await session.list_tools()).tools]
        assert names == READ_TOOLS  # a read-only key is not shown the tools that write


@pytest.mark.asyncio
async def test_search_ask_and_read_around_a_passage() -> None:
    async with running(KEYS) as (_, connect), connect(ADMIN) as session:
        found = await session.call_tool(
            "search",
            {"question": "penguins", "collection": "birds", "top_k": 2, "mode": "keyword"},
        )
        assert not found.is_error, text_of(found)
        hits = found.structured_content["hits"]
        assert hits[0]["document_id"] == "birds.md" and "Penguins" in hits[0]["text"]
        assert hits[0]["title"] == "Birds" and {"score", "section", "chunk_id"} <= set(hits[0])
        assert len(hits) == 1  # keyword: only the passage naming penguins

        answered = await session.call_tool(
            "ask", {"question": "When do owls hunt?", "collection": "birds", "mode": "keyword"}
        )
        assert not answered.is_error, text_of(answered)
        body = answered.structured_content
        assert body is not None and body["answer"] == "Owls hunt at night [1]."
        assert body["sources"][0]["n"] == 1 and body["sources"][0]["document_id"] == "birds.md"

        owls = await session.call_tool(
            "search",
            {"question": "owls", "collection": "birds", "top_k": 1, "mode": "keyword"},
        )
        chunk = owls.structured_content["hits"][0]
        around = await session.call_tool(
            "read_document",
            {
                "document_id": "birds.md",
                "collection": "birds",
                "chunk_id": chunk["chunk_id"],
                "around": 1,
            },
        )
        assert not around.is_error, text_of(around)
        shown = around.structured_content
        assert shown is not None and chunk["text"] in shown["text"]
        assert 1 < len(shown["passages"]) <= 3 and not shown["whole"]
        whole = await session.call_tool(
            "read_document", {"document_id": "birds.md", "collection": "birds"}
        )
        assert whole.structured_content["text"] == TEXT  # overlaps once
        assert whole.structured_content["document"]["id"] == "birds.md"


@pytest.mark.asyncio
async def test_errors_an_agent_reads() -> None:
    async with running(KEYS) as (_, connect):
        async with connect(ADMIN) as session:
            missing = await session.call_tool("search", {"question": "q", "collection": "nope"})
            assert missing.is_error
            assert "404" in text_of(missing) and "collection 'nope' does not exist" in text_of(
                missing
            )
            bad = await session.call_tool("search", {"question": "q", "collection": "Bad Name!"})
            assert bad.is_error and "422" in text_of(bad) and "collection" in text_of(bad)
            gone = await session.call_tool(
                "read_document", {"document_id": "x", "collection": "birds"}
            )
            assert gone.is_error and "404" in text_of(gone)
        async with connect(READER) as session:
            outside = await session.call_tool(
                "search", {"question": "salmon", "collection": "fish"}
            )
            assert outside.is_error
            assert "403" in text_of(outside) and "may not read collection 'fish'" in text_of(
                outside
            )
            listed = await session.call_tool("list_collections", {})
            names = [c["name"] for c in listed.structured_content["items"]]
            assert names == ["birds"]  # a scoped key sees only its collections
            write = await session.call_tool("add_document", {"text": "x", "collection": "birds"})
            assert write.is_error and "403" in text_of(write) and "read-only" in text_of(write)


@pytest.mark.asyncio
async def test_no_key_or_a_wrong_key_is_refused_before_mcp() -> None:
    async with running(KEYS) as (_, connect):
        for key in (None, "wrong-key-0123456789abcdef"):
            statuses.clear()
            with pytest.raises(BaseException) as raised:  # the SDK client cannot even start
                async with connect(key):
                    pass
            assert any(isinstance(e, MCPError) for e in _leaves(raised.value)), raised.value
            assert statuses == [401]  # the guard's answer, as for any route


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


@pytest.mark.asyncio
async def test_without_keys_every_tool_and_collection() -> None:
    async with running(None) as (services, connect), connect(None) as session:
        names = [t.name for t in (await session.list_tools()).tools]
        assert "add_document" in names and "delete_document" in names
        listed = await session.call_tool("list_collections", {})
        items = listed.structured_content["items"]
        assert sorted(c["name"] for c in items) == ["birds", "fish"]
        added = await session.call_tool(
            "add_document",
            {"text": "Kiwis are nocturnal.", "collection": "birds", "id": "kiwi"},
        )
        assert not added.is_error, text_of(added)
        assert added.structured_content == {
            "job_id": added.structured_content["job_id"],
            "collection": "birds",
            "id": "kiwi",
            "status": "queued",
        }
        record = services.catalog.get("birds", "kiwi")
        assert record is not None and record.status == "queued"  # as POST /documents leaves it
        listed_docs = await session.call_tool("list_documents", {"collection": "birds"})
        ids = [d["id"] for d in listed_docs.structured_content["items"]]
        assert ids == ["birds.md", "kiwi"]


def test_mcp_is_not_in_openapi() -> None:
    paths = create_app(Settings()).openapi()["paths"]
    assert "/mcp" not in paths and not any(p.startswith("/mcp") for p in paths)


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream"}


def test_mcp_runs_each_time_the_app_starts_and_is_503_outside() -> None:
    app = create_app(Settings(), services=fake_services())
    outside = TestClient(app).post("/mcp", json=INITIALIZE, headers=ACCEPT)
    assert outside.status_code == 503 and "mcp" in outside.json()["detail"].lower()
    for _ in range(2):  # a session manager runs once: the lifespan makes a new one each time
        with TestClient(app) as client:
            answered = client.post("/mcp", json=INITIALIZE, headers=ACCEPT)
            assert answered.status_code == 200, answered.text
            assert answered.json()["result"]["serverInfo"]["name"] == "docqa"


def test_every_route_the_tools_call_gets_all_it_asks_for() -> None:
    """A route that gains a dependency the tools cannot give fails here, by name."""
    from docqa.api import mcp_tools
    from docqa.api.keys import OPEN
    from docqa.api.routes import answers, documents, listing

    services = fake_services()
    routes: list[Callable[..., object]] = [
        answers.search,
        answers.ask,
        listing.list_collections,
        documents.list_documents,
        documents.get_document,
        documents.get_document_chunks,
        documents.delete_document,
    ]
    given = {"body": None, "document_id": "x", "collection": "c"}
    for route in routes:
        mcp_tools._route_call(route, services, OPEN, **given)  # raises TypeError naming it
