"""Bodies of the document routes (``/documents``, ``routes/documents.py``): texts sent to add
(``IngestRequest``; files come as multipart, ``api/uploads.py``), what was accepted, a
document's record, its chunks, a page of a collection's documents; and a collection's reindex
into another (``routes/collections.py``), its documents embedded anew."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from docqa.api.schemas.fields import CollectionName, DocumentId, Metadata, NotBlank, Strict
from docqa.core.models import DocumentStatus, MetadataValue


class DocumentIn(Strict):
    id: DocumentId | None = Field(
        default=None,
        description="Stable id; re-posting an id replaces that document. "
        "Default: derived from the text, so identical text is stored once.",
    )
    text: NotBlank = Field(description="The document's text (UTF-8), not only whitespace")
    title: Annotated[str, StringConstraints(max_length=500)] | None = None
    metadata: Metadata = Field(default_factory=dict)


class IngestRequest(Strict):
    collection: CollectionName = "default"
    documents: list[DocumentIn] = Field(min_length=1, max_length=10_000)


class DocumentAccepted(BaseModel):
    id: str
    status: Literal["queued", "unchanged"]


class IngestAccepted(BaseModel):
    job_id: str | None = Field(description="The ingest job; null when every document was unchanged")
    collection: str
    documents: list[DocumentAccepted]


class ReindexRequest(Strict):
    target: CollectionName = Field(description="The new collection (empty, or of this model)")


class ReindexAccepted(BaseModel):
    source: str
    target: str
    jobs: list[str] = Field(description="The ingest jobs that embed the chunks anew")
    documents: int = Field(description="Documents queued (indexed in the source, not yet copied)")
    skipped: int = Field(description="Documents of the source not indexed (queued or failed)")


class DocumentOut(BaseModel):
    id: str
    collection: str
    title: str | None
    metadata: dict[str, MetadataValue]
    source: str
    content_hash: str = Field(
        description="Hex sha256 of the content as sent. Text (JSON): of json.dumps([text, "
        "title, metadata], sort_keys=True) in UTF-8. A file: of its bytes followed by "
        "json.dumps([file name, metadata], sort_keys=True) in UTF-8 (the id, explicit or not, "
        "is not part of it). Python's json.dumps defaults: ', ' and ': ' separators, non-ASCII "
        "escaped. Re-sending the same content under the same id is a no-op (unchanged)."
    )
    status: DocumentStatus
    job_id: str | None
    chunks: int
    error: str | None
    created_at: datetime
    updated_at: datetime


class ChunkOut(BaseModel):
    id: str
    position: int
    text: str
    metadata: dict[str, MetadataValue]


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    total: int
    offset: int
    limit: int
