"""The MCP server at ``/mcp`` (streamable HTTP, the official ``mcp`` SDK): docqa's search, ask,
collections and documents as tools an agent calls, under the API's keys and scopes.

``install(app)`` adds the endpoint (outside OpenAPI) and returns it; the app's lifespan runs
it. Requests to ``/mcp`` pass ``security.Guard`` like any route, so
a missing or wrong key is refused with 401 before MCP sees it; each tool then reads the caller's
``Principal`` from its HTTP request: a read-only key is not shown the write tools (and is refused
them), a key scoped to collections sees and reaches only those. Stateless and JSON-answered, so
that any API replica serves any request. The tools' work is in ``mcp_tools``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import Field
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from docqa import __version__
from docqa.api import mcp_tools, problems
from docqa.api.keys import Principal
from docqa.core.errors import Unavailable
from docqa.wiring import Services

PATH = "/mcp"
WRITE_TOOLS = frozenset({"add_document", "delete_document"})
INSTRUCTIONS = (
    "docqa answers questions from the user's own documents, kept in named collections. "
    "Start with list_collections to learn which collections exist. Use search to find the "
    "passages that mention something (it returns the passages, with their document, title, "
    "section and score), ask for a written answer that cites its sources as [n], and "
    "read_document to read a whole document or the text around a passage that search or ask "
    "returned."
)

Collection = Annotated[
    str, Field(description="The collection to use (see list_collections); default 'default'")
]
Question = Annotated[str, Field(description="The question or search terms, in plain words")]
TopK = Annotated[int, Field(description="How many passages to return (1-100)")]
Mode = Annotated[
    Literal["hybrid", "dense", "keyword"] | None,
    Field(
        description="dense: by meaning; keyword: exact words (BM25), best for names, codes "
        "and error messages; hybrid: both. Default: the service's setting (hybrid)"
    ),
]
Filter = Annotated[
    dict[str, str | int | float | bool] | None,
    Field(description="Only passages whose metadata equals all of these, e.g. {'lang': 'en'}"),
]
DocumentId = Annotated[str, Field(description="The document's id, as search or ask gave it")]
READ = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


def _principal(ctx: Context) -> Principal:
    request = ctx.request_context.request
    principal = getattr(request, "scope", {}).get("state", {}).get("principal")
    if not isinstance(principal, Principal):  # not through the guard: refuse, never assume
        raise ToolError("401 Unauthorized: the caller was not identified")
    return principal


async def _hide_write_tools(ctx: ServerRequestContext[Any], call_next: CallNext) -> HandlerResult:
    """A read-only key's tool list leaves out the tools that write."""
    result = await call_next(ctx)  # the answer as sent: {"tools": [{"name": ...}, ...]}
    if ctx.method == "tools/list" and isinstance(result, dict):
        principal = getattr(ctx.request, "scope", {}).get("state", {}).get("principal")
        if not isinstance(principal, Principal) or principal.access == "read":
            tools = result.get("tools", [])
            result["tools"] = [t for t in tools if t.get("name") not in WRITE_TOOLS]
    return result


def build(app: FastAPI) -> MCPServer[Any]:
    """The server, its tools working on ``app.state.services`` for the calling key."""

    def services() -> Services:
        found: Services = app.state.services
        return found

    server: MCPServer[Any] = MCPServer(
        "docqa", version=__version__, instructions=INSTRUCTIONS, middleware=[_hide_write_tools]
    )

    @server.tool(annotations=READ)
    async def list_collections(ctx: Context) -> dict[str, Any]:
        """The collections you may read, each with the embedding model it was indexed with.
        Call this first when you do not know which collection holds the user's documents."""
        return await mcp_tools.guarded(
            lambda: mcp_tools.list_collections(_principal(ctx), services())
        )

    @server.tool(annotations=READ)
    async def search(
        question: Question,
        ctx: Context,
        collection: Collection = "default",
        top_k: TopK = 5,
        mode: Mode = None,
        filter: Filter = None,
    ) -> dict[str, Any]:
        """Find the passages of a collection that best match a question or search terms, best
        first. Each hit has the passage's text, its document_id, the document's title, the
        section (heading path) it is in, its chunk_id and a score. Use it to locate where
        something is said; use ask for a written answer, read_document for more context."""
        args = {"question": question, "collection": collection, "top_k": top_k}
        args |= {"mode": mode} if mode else {}
        args |= {"filter": filter} if filter else {}
        return await mcp_tools.guarded(lambda: mcp_tools.search(_principal(ctx), services(), args))

    @server.tool(annotations=READ)
    async def ask(
        question: Question,
        ctx: Context,
        collection: Collection = "default",
        top_k: Annotated[int, Field(description="How many passages the answer may draw on")] = 5,
        mode: Mode = None,
        filter: Filter = None,
        max_tokens: Annotated[int, Field(description="The longest answer, in tokens")] = 256,
    ) -> dict[str, Any]:
        """Answer a question from the documents of a collection: a short answer citing its
        sources as [n], with the numbered sources (document_id, title, section, text). When the
        documents hold nothing relevant it says so rather than guess."""
        args = {"question": question, "collection": collection, "top_k": top_k}
        args |= {"mode": mode} if mode else {}
        args |= {"filter": filter} if filter else {}
        args["max_tokens"] = max_tokens
        return await mcp_tools.guarded(lambda: mcp_tools.ask(_principal(ctx), services(), args))

    @server.tool(annotations=READ)
    async def list_documents(
        ctx: Context,
        collection: Collection = "default",
        offset: Annotated[int, Field(ge=0, description="How many to skip")] = 0,
        limit: Annotated[int, Field(ge=1, le=1000, description="How many to list")] = 100,
    ) -> dict[str, Any]:
        """The documents of a collection, oldest first, with their titles, sources and
        indexing status (queued, indexing, indexed, failed)."""
        return await mcp_tools.guarded(
            lambda: mcp_tools.list_documents(_principal(ctx), services(), collection, offset, limit)
        )

    @server.tool(annotations=READ)
    async def read_document(
        document_id: DocumentId,
        ctx: Context,
        collection: Collection = "default",
        chunk_id: Annotated[
            str | None,
            Field(description="A passage's chunk_id (from search or ask): read around it"),
        ] = None,
        around: Annotated[
            int, Field(ge=0, le=20, description="Passages to show before and after chunk_id")
        ] = 2,
    ) -> dict[str, Any]:
        """Read a document: its record (title, source, status) and its text, whole; or, with
        chunk_id, the passage and `around` passages before and after it, to see a search hit
        in its context."""
        return await mcp_tools.guarded(
            lambda: mcp_tools.read_document(
                _principal(ctx), services(), document_id, collection, chunk_id, around
            )
        )

    @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False))
    async def add_document(
        text: Annotated[str, Field(description="The document's text")],
        ctx: Context,
        collection: Collection = "default",
        id: Annotated[
            str | None, Field(description="Stable id; the same id again replaces it")
        ] = None,
        title: Annotated[str | None, Field(description="The document's title")] = None,
    ) -> dict[str, Any]:
        """Add a text to a collection (or replace the document with the same id); it is
        searchable once its indexing job has run, seconds later. Needs a key with write
        access."""
        args: dict[str, Any] = {"collection": collection, "text": text}
        args |= {k: v for k, v in (("id", id), ("title", title)) if v is not None}
        return await mcp_tools.guarded(
            lambda: mcp_tools.add_document(_principal(ctx), services(), args)
        )

    @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True))
    async def delete_document(
        document_id: DocumentId, ctx: Context, collection: Collection = "default"
    ) -> dict[str, Any]:
        """Delete a document and its passages from a collection. Needs a key with write
        access."""
        return await mcp_tools.guarded(
            lambda: mcp_tools.delete_document(_principal(ctx), services(), document_id, collection)
        )

    return server


class Endpoint:
    """``/mcp``: the server's session manager, made anew each time the app's lifespan enters
    ``running()`` (a manager runs once); 503 outside it."""

    def __init__(self, server: MCPServer[Any]) -> None:
        self.server = server
        self.manager: StreamableHTTPSessionManager | None = None
        self.route = Route(PATH, endpoint=self, methods=["GET", "POST", "DELETE"])

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self.server.streamable_http_app(  # makes a session manager; the routes are ours
            stateless_http=True,
            json_response=True,
            # Keys guard /mcp as they guard every route; the Host is whatever a proxy sends.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        manager = self.server.session_manager
        async with manager.run():
            self.manager = manager
            try:
                yield
            finally:
                self.manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self.route  # measured and logged as the route /mcp (middleware.py)
        if self.manager is None:
            error = Unavailable("the MCP endpoint is not started", service="mcp")
            await problems.from_error(error)(scope, receive, send)
            return
        await self.manager.handle_request(scope, receive, send)


def install(app: FastAPI) -> Endpoint:
    """Add ``/mcp`` to ``app`` (not in its OpenAPI document); the app's lifespan runs it
    (``async with endpoint.running()``)."""
    # The SDK logs each stateless request's transport closing at INFO: one line per call.
    logging.getLogger("mcp.server.streamable_http").setLevel(logging.WARNING)
    endpoint = Endpoint(build(app))
    app.router.routes.append(endpoint.route)
    return endpoint
