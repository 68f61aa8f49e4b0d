"""``docqa mcp``: an MCP server on stdio for desktop agents, passing every tool call to a running
docqa API's ``/mcp`` over HTTP with the configured key.

The tools, their descriptions and what a key may see are the API's own (listed from it, not
copied here), so a stdio client and an HTTP client see the same tools. Each request opens its
own short HTTP connection to the API (its ``/mcp`` is stateless), so an API restarted between
two calls is simply reached again; an API that cannot be reached, or that refuses the key, is a
tool error (or a request error, for the tool list) saying so, and the bridge keeps running.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

INSTRUCTIONS = (
    "docqa answers questions from the user's own documents, kept in named collections. "
    "Start with list_collections; use search to find passages, ask for a cited answer, and "
    "read_document to read a document or the text around a passage."
)
UNREACHABLE = -32000  # a JSON-RPC server error: the API did not answer


class Upstream:
    """The API's ``/mcp``: ``base_url`` (``http://host:8000``) and an optional key."""

    def __init__(self, base_url: str, api_key: str | None, timeout_s: float = 300.0) -> None:
        self.url = base_url.rstrip("/") + "/mcp"
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = httpx2.Timeout(30.0, read=timeout_s)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[ClientSession]:
        """An initialized MCP session with the API; ``MCPError`` naming the URL when the API
        cannot be reached or refuses the request (401 without a valid key, 403, 5xx)."""
        refused: list[str] = []

        async def note(response: httpx2.Response) -> None:  # the API's own words for a refusal
            if response.status_code >= 400:
                await response.aread()
                refused.append(f"HTTP {response.status_code}{_detail(response)}")

        http = httpx2.AsyncClient(
            headers=self.headers, timeout=self.timeout, event_hooks={"response": [note]}
        )
        try:
            async with (
                http,
                streamable_http_client(self.url, http_client=http) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                yield session
        except MCPError:
            raise
        except Exception as exc:  # errors arrive wrapped in anyio's exception groups
            why = refused[-1] if refused else _reason(exc)
            raise MCPError(UNREACHABLE, f"docqa API at {self.url}: {why}") from exc


def _detail(response: httpx2.Response) -> str:
    try:
        detail = response.json().get("detail", "")
    except Exception:
        detail = response.text[:200]
    return f": {detail}" if detail else ""


def _reason(exc: BaseException) -> str:
    """The innermost cause: a connection error, or what the SDK raised."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, httpx2.TransportError):
        return f"not reachable ({type(exc).__name__}: {exc})"
    return f"{type(exc).__name__}: {exc}"


def bridge(upstream: Upstream) -> Server[Any]:
    """A server whose tool list and tool calls are the API's."""

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        async with upstream.session() as session:
            return await session.list_tools()

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        try:
            async with upstream.session() as session:
                return await session.call_tool(params.name, params.arguments or {})
        except MCPError as exc:  # the agent reads it as the tool's failure
            text = types.TextContent(type="text", text=exc.message)
            return types.CallToolResult(content=[text], is_error=True)

    return Server(
        "docqa",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_stdio(upstream: Upstream) -> None:
    server = bridge(upstream)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def run(base_url: str, api_key: str | None) -> None:
    """Serve on stdin/stdout until the client closes them."""
    anyio.run(serve_stdio, Upstream(base_url, api_key))
