"""Ingest jobs: state, progress and error. A check's job (``POST /admin/checks``) is not one:
404 here, as for an id no job has; ``GET /admin/checks/{id}`` reports it, to admin keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from docqa.api.deps import PrincipalDep, QueueDep
from docqa.api.problems import responses
from docqa.api.schemas.status import JobOut, Progress

# RQ job ids: the service makes uuid4 hex ones; anything else cannot name a job.
JobId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]

router = APIRouter(tags=["jobs"])


@router.get(
    "/jobs/{job_id}",
    operation_id="get_job",
    summary="An ingest job's state, progress (chunks embedded / total) and error",
    description=(
        "404 when no ingest job has this id: never queued, expired, or a check's "
        "(`POST /admin/checks`), which `GET /admin/checks/{id}` reports."
    ),
    responses=responses(401, 403, 404, 422, 429, 503),
)
def get_job(job_id: JobId, caller: PrincipalDep, queue: QueueDep) -> JobOut:
    view = queue.status(job_id)
    for collection in sorted({document.split("/", 1)[0] for document in view.documents}):
        caller.require(collection, "read")  # a job is seen by who may read all it touches
    return JobOut(
        id=view.id,
        state=view.state,
        progress=Progress(done=view.done, total=view.total),
        documents=view.documents,
        error=view.error,
        retries_left=view.retries_left,
        enqueued_at=view.enqueued_at,
        started_at=view.started_at,
        ended_at=view.ended_at,
    )
