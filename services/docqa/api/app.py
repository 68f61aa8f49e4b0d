"""The HTTP API: ``create_app()`` builds settings, clients (in the lifespan) and routes.

Run with ``uvicorn docqa.api.app:create_app --factory``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import httpx
from fastapi import FastAPI

from docqa import __version__, runtime
from docqa.adapters.feedback import RedisFeedbackLog
from docqa.adapters.openai import OpenAIGenerator
from docqa.api import openapi, problems, security
from docqa.api.deps import Lazy, Services
from docqa.api.middleware import RequestMetrics
from docqa.api.openai_errors import OpenAIErrors
from docqa.api.routes import (
    answers,
    chat,
    collections,
    documents,
    feedback,
    health,
    jobs,
    listing,
    metrics,
    ui,
)
from docqa.api.schemas import IngestRequest
from docqa.config import Settings
from docqa.observability import MeteredGenerator, configure_logging
from docqa.ports import Reranker


def _reranker(settings: Settings) -> Lazy[Reranker] | None:
    if settings.reranker == "none":
        return None
    return Lazy(lambda: cast(Reranker, runtime.reranker(settings)), service="reranker")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = runtime.redis_client(settings)
        http = httpx.AsyncClient(timeout=settings.generator_timeout_s)
        app.state.services = Services(
            settings=settings,
            redis=redis,
            store=runtime.chroma_store(settings),
            catalog=runtime.catalog(redis),
            queue=runtime.ingest_queue(settings, redis),
            keywords=runtime.keyword_index(settings),
            embedder=Lazy(lambda: runtime.embedder(settings)),
            reranker=_reranker(settings),
            generator=MeteredGenerator(
                OpenAIGenerator.from_settings(settings, http), settings.generator_mode
            ),
            feedback=RedisFeedbackLog(redis),
        )
        yield
        await http.aclose()
        redis.close()

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
    app.add_middleware(OpenAIErrors)  # outside the guard: /v1 errors in OpenAI's shape
    app.add_middleware(RequestMetrics)
    openapi.install(app, settings, schemas=[IngestRequest])  # the upload's body, by hand
    return app
