"""Bodies of the operators' consistency checks (``POST /admin/checks``, ``GET
/admin/checks/{id}``): what to check, and a check's state, progress and report, the report in
the shape ``docqa check --json`` prints (``docqa.ingest.check_report``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from docqa.api.schemas.fields import CollectionName, Flag, Strict
from docqa.core.ports import CheckState
from docqa.ingest.differences import Kind


class CheckRequest(Strict):
    collection: CollectionName | None = Field(
        default=None, description="Only this collection; absent or null: every collection"
    )
    repair: Flag = Field(
        default=False,
        description="Put each difference right, from the catalog (as `docqa check --repair`)",
    )


class DifferenceOut(BaseModel):
    kind: Kind
    collection: str
    document_id: str
    chunk_ids: list[str] = Field(description="The chunks concerned (for orphans, superseded)")
    detail: str
    repair: str | None = Field(description="What the repair did; null when not repairing")


class CheckSummary(BaseModel):
    collections: list[str]
    documents: int = Field(description="Catalog records read")
    vectors: int = Field(description="Chunks read from the vector store")
    keywords: int = Field(description="Chunks read from the keyword index")
    differences: int = Field(description="Differences found, all of them")
    found: dict[str, int] = Field(description="Differences found, by kind")
    repaired: dict[str, int] = Field(description="Differences repaired, by kind")


class CheckReport(BaseModel):
    summary: CheckSummary
    differences: list[DifferenceOut] = Field(
        description="The differences, as found (the first 1000; the summary counts them all)"
    )


class CheckProgress(BaseModel):
    stage: str = Field(description="What the check reads now ('<collection>: catalog', ...)")
    done: int
    total: int | None = Field(description="null when not known ahead (a store's listing)")


class CheckOut(BaseModel):
    id: str
    state: CheckState
    collections: list[str] | None = Field(description="Those checked; null: every collection")
    repair: bool
    progress: CheckProgress
    report: CheckReport | None = Field(description="Once done: what `docqa check --json` says")
    error: str | None = Field(description="Once failed: why (a store out of reach, say)")
    enqueued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
