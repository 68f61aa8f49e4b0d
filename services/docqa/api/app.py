"""The HTTP API: ``create_app()`` builds settings, clients (in the lifespan) and routes.

Run with ``uvicorn docqa.api.app:create_app --factory``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from docqa import __version__, runtime
from docqa.api import problems
from docqa.api.deps import LazyEmbedder, Services
from docqa.api.routes import documents, health, jobs
from docqa.config import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = runtime.redis_client(settings)
        app.state.services = Services(
            settings=settings,
            redis=redis,
            store=runtime.chroma_store(settings),
            catalog=runtime.catalog(redis),
            queue=runtime.ingest_queue(settings, redis),
            embedder=LazyEmbedder(lambda: runtime.embedder(settings)),
        )
        yield
        redis.close()

    app = FastAPI(
        title="docqa",
        version=__version__,
        summary="Answers questions about your own documents, with cited sources.",
        lifespan=lifespan,
    )
    problems.install(app)
    for module in (documents, jobs, health):
        app.include_router(module.router)
    return app
