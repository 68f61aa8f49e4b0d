"""``GET /metrics``: the API process's metrics in Prometheus's text format.

Ingest jobs by state and the queue's depth are read from Redis at scrape time. Embedding batch
sizes and latencies of ingest jobs are the worker's: it serves its own ``/metrics`` on
``DOCQA_WORKER_METRICS_PORT``.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import REGISTRY, generate_latest

from docqa.api.deps import QueueDep
from docqa.api.problems import responses
from docqa.core.metrics import INGEST_JOBS, QUEUE_DEPTH
from docqa.core.ports import JobQueue

router = APIRouter(tags=["metrics"])

# Prometheus's text format, as ``generate_latest`` writes it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _scrape(queue: JobQueue) -> bytes:
    counts = queue.counts()  # Redis down: Unavailable (503), from the adapter
    for state, count in counts.items():
        INGEST_JOBS.labels(state).set(count)
    QUEUE_DEPTH.set(counts["queued"])
    return generate_latest(REGISTRY)


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics: request latency, ingest jobs by state, queue depth, generation",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4",
            "content": {"text/plain; version=0.0.4": {"schema": {"type": "string"}}},
        },
        **responses(401, 429, 503),
    },
)
async def metrics(queue: QueueDep) -> Response:
    body = await run_in_threadpool(_scrape, queue)
    return Response(body, media_type=CONTENT_TYPE)
