"""``docqa mcp``, the stdio server, driven by the SDK's own stdio client as a desktop agent
would (the command run as a child process), against an API served over real HTTP on
127.0.0.1 (uvicorn in a thread, over fakes): the API's tools listed and called through it, a
key's scope kept, and an API refusing the key or not there at all read as errors."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult

from docqa.api.app import create_app
from docqa.core.config import Settings
from support.fakes import ScriptedGenerator, fake_services
from support.indexed import index_text
from support.served import Served, free_port

pytestmark = pytest.mark.asyncio
ROOT = Path(__file__).resolve().parents[3]
ADMIN = "admin-key-0123456789abcdef"
READER = "reader-key-0123456789abcdef"
KEYS = [
    {"key": ADMIN, "name": "admin"},
    {"key": READER, "name": "reader", "collections": ["birds"], "access": "read"},
]


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    """The API over fakes, "Owls hunt at night." indexed in "birds", on a real port."""
    # Every question answered by the scripted model: no cut, no evidence rule, no quoting.
    settings = Settings(
        api_keys=json.dumps(KEYS), min_score=0.0, abstention="min_score", answer_mode="generate"
    )
    services = fake_services(settings, generator=ScriptedGenerator("At night [1]."))
    index_text(services, "birds", "owls.md", "Owls hunt at night.")
    served = Served(create_app(settings, services=services)).start()
    yield served.url
    served.stop()


@asynccontextmanager
async def stdio(base_url: str, key: str | None) -> AsyncIterator[ClientSession]:
    args = ["-m", "docqa.cli.main", "mcp", "--base-url", base_url]
    env = {k: v for k, v in os.environ.items() if k != "DOCQA_API_KEY"}
    env["PYTHONPATH"] = str(ROOT / "services")
    params = StdioServerParameters(
        command=sys.executable, args=args + (["--api-key", key] if key else []), env=env
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def text_of(result: CallToolResult) -> str:
    return "".join(c.text for c in result.content if c.type == "text")


async def test_stdio_passes_the_apis_tools_through(api_url: str) -> None:
    async with stdio(api_url, ADMIN) as session:
        names = [t.name for t in (await session.list_tools()).tools]
        assert {"search", "ask", "list_collections", "read_document", "add_document"} <= set(names)
        found = await session.call_tool(
            "search", {"question": "owls", "collection": "birds", "mode": "keyword"}
        )
        assert not found.is_error, text_of(found)
        hit = found.structured_content["hits"][0]
        assert hit["document_id"] == "owls.md" and hit["text"] == "Owls hunt at night."
        answered = await session.call_tool("ask", {"question": "When?", "collection": "birds"})
        assert answered.structured_content["answer"] == "At night [1]."
        missing = await session.call_tool("search", {"question": "q", "collection": "nope"})
        assert missing.is_error and "404" in text_of(missing)


async def test_stdio_keeps_the_keys_scope(api_url: str) -> None:
    async with stdio(api_url, READER) as session:
        names = [t.name for t in (await session.list_tools()).tools]
        assert "add_document" not in names and "search" in names
        listed = await session.call_tool("list_collections", {})
        assert [c["name"] for c in listed.structured_content["items"]] == ["birds"]


async def test_stdio_says_when_the_api_refuses_or_is_away(api_url: str) -> None:
    async with stdio(api_url, "wrong-key-0123456789abcdef") as session:
        with pytest.raises(MCPError, match="401"):
            await session.list_tools()
        refused = await session.call_tool("search", {"question": "q"})
        assert refused.is_error and "401" in text_of(refused)
    away = f"http://127.0.0.1:{free_port()}"
    async with stdio(away, ADMIN) as session:  # the bridge starts, and says what is wrong
        called = await session.call_tool("search", {"question": "q"})
        assert called.is_error and "not reachable" in text_of(called)
        assert away in text_of(called)
