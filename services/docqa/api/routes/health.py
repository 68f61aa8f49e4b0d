"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from docqa.api.deps import ServicesDep
from docqa.api.schemas.status import Health, Readiness
from docqa.core.errors import DocqaError

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="health", summary="The process is alive")
def health() -> Health:
    return Health()


@router.get(
    "/readyz",
    operation_id="readiness",
    summary="Redis, Chroma, the keyword index and the models are reachable (503 names what not)",
    responses={
        200: {"model": Readiness},
        503: {
            "description": "Not ready: `checks` names what is not (not a problem+json body)",
            "model": Readiness,
            "content": {
                "application/json": {
                    "example": {
                        "status": "unavailable",
                        "checks": {
                            "redis": "ok",
                            "chroma": "Chroma at http://chroma:8000 is unreachable: timed out",
                            "keyword_index": "ok",
                            "embedder": "ok",
                        },
                    }
                }
            },
        },
    },
)
def readiness(services: ServicesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    for name, check in (
        ("redis", services.catalog.check),
        ("chroma", services.store.check),
        ("keyword_index", services.keywords.check),
        ("embedder", services.embedder.check),
        *([("reranker", reranker.check)] if (reranker := services.reranker) else []),
    ):
        try:
            check()
            checks[name] = "ok"
        except DocqaError as exc:
            checks[name] = exc.detail
        except Exception as exc:
            checks[name] = f"{type(exc).__name__}: {exc}"
    ready = all(value == "ok" for value in checks.values())
    body = Readiness(status="ready" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
