"""Bodies of what the service reports on its work and itself: a background job's state and
progress (``GET /jobs/{job_id}``), liveness and readiness (``/healthz``, ``/readyz``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from docqa.core.models import JobState


class Progress(BaseModel):
    done: int = Field(description="Chunks embedded (or found already stored)")
    total: int = Field(description="Chunks in the job; 0 until the worker has chunked it")


class JobOut(BaseModel):
    id: str
    state: JobState
    progress: Progress
    documents: list[str] = Field(description="collection/document-id of each document in the job")
    error: str | None
    retries_left: int
    enqueued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str] = Field(description="'ok', or what is wrong, for each dependency")
