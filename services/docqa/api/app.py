"""The HTTP API: ``create_app()`` builds settings, the service's parts (``wiring.services``,
in the lifespan) and routes.

``create_app(settings, services=...)`` takes parts made elsewhere (a test's fakes, as httpx
takes a ``transport=``): they are used as they are, from the start, and never closed here.
Run with ``uvicorn docqa.api.app:create_app --factory``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from docqa import __version__, wiring
from docqa.api import mcp, openapi, problems, security
from docqa.api.middleware import RequestMetrics
from docqa.api.openai_errors import OpenAIErrors
from docqa.api.routes import (
    answers,
    chat,
    checks,
    collections,
    documents,
    exports,
    feedback,
    health,
    jobs,
    listing,
    metrics,
    ui,
)
from docqa.api.schemas.documents import IngestRequest
from docqa.api.schemas.exports import ImportRequest
from docqa.core.config import Settings
from docqa.core.logs import configure_logging
from docqa.wiring import Services


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or (services.settings if services else Settings())
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with agents.running():  # /mcp
            if services is not None:
                yield
                return
            built = app.state.services = wiring.services(settings)
            try:
                yield
            finally:
                await built.aclose()

    app = FastAPI(
        title="docqa",
        version=__version__,
        summary="Answers questions about your own documents, with cited sources.",
        lifespan=lifespan,
    )
    problems.install(app)  # every error as problem+json
    security.install(app, settings)  # API keys, rate limit, body limits, CORS
    for module in (documents, collections, jobs, answers, feedback, health, metrics):
        app.include_router(module.router)
    for module in (listing, chat, ui):  # GET /collections, OpenAI's /v1, the web page
        app.include_router(module.router)
    app.include_router(exports.router)  # a collection's export and import, with its vectors
    app.include_router(checks.router)  # docqa check as the worker's job, for admin keys
    agents = mcp.install(app)  # the MCP server at /mcp, for agents (not in OpenAPI)
    app.add_middleware(OpenAIErrors)  # outside the guard: /v1 errors in OpenAI's shape
    app.add_middleware(RequestMetrics)
    # The bodies routes read themselves (an upload's, an import's), declared by hand.
    openapi.install(app, settings, schemas=[IngestRequest, ImportRequest])
    if services is not None:  # usable without the lifespan too (httpx's ASGITransport)
        app.state.services = services
    return app
