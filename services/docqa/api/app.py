"""The HTTP API: ``create_app()`` builds settings, clients (in the lifespan) and routes.

Run with ``uvicorn docqa.api.app:create_app --factory``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from docqa import __version__, runtime
from docqa.adapters.openai import OpenAIGenerator
from docqa.api import problems
from docqa.api.deps import LazyEmbedder, Services
from docqa.api.routes import answers, documents, health, jobs
from docqa.api.schemas import IngestRequest
from docqa.config import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

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
            embedder=LazyEmbedder(lambda: runtime.embedder(settings)),
            generator=OpenAIGenerator.from_settings(settings, http),
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
    problems.install(app, schemas=[IngestRequest])  # the upload route's body, declared by hand
    for module in (documents, jobs, answers, health):
        app.include_router(module.router)
    return app
