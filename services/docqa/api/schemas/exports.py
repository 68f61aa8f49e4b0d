"""Bodies of a collection's export (``GET /collections/{c}/export``) and import (``POST
/collections/{c}/import``): documents with their catalog fields and their chunks' vectors.

What JSON Schema cannot say is checked by ``docqa.ingest.vector_transfer`` (422, naming the
document and chunk): positions 0..n-1 in order, an embedding as long as the spec's dimension, of
unit length when the spec says normalised; a spec other than the collection's is a 409.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StringConstraints

from docqa.api.schemas.fields import DocumentId, Integer, Metadata, MetadataKey, Strict
from docqa.core.models import MetadataValue

MAX_DIMENSION = 65_536
ChunkMetadata = Annotated[
    dict[MetadataKey, MetadataValue],
    Field(
        max_length=64,
        json_schema_extra={"additionalProperties": False},
        description="The chunk's flat metadata as stored (the service's keys, like source, "
        "title, page, included; document_id and position are not)",
    ),
]
Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Embedding = Annotated[
    list[Finite],
    Field(min_length=1, max_length=MAX_DIMENSION, description="The chunk's vector"),
]
ContentHash = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{64}$"),
    Field(description="The document's content hash as its origin computed it (hex sha256)"),
]
Title = Annotated[str, StringConstraints(max_length=500)]
Source = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class VectorsSpecIn(Strict):
    model_id: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="The embedding model the vectors are of"
    )
    dimension: Integer = Field(ge=1, le=MAX_DIMENSION)
    normalized: StrictBool = Field(description="Whether every vector has length 1")


class SpecOut(BaseModel):
    model_id: str
    dimension: int
    normalized: bool
    max_input_tokens: int


class ChunkIn(Strict):
    position: Integer = Field(ge=0, le=10_000_000)
    text: Annotated[str, StringConstraints(max_length=1_000_000)]
    metadata: ChunkMetadata = Field(default_factory=dict)
    embedding: Embedding


class DocumentImport(Strict):
    id: DocumentId
    title: Title | None = None
    source: Source = "import"
    metadata: Metadata = Field(default_factory=dict)
    content_hash: ContentHash
    chunks: list[ChunkIn] = Field(min_length=1, max_length=100_000)


class ImportRequest(Strict):
    """Documents to restore, each with all its chunks; with no documents, only the spec is
    checked against the collection's (how a client asks before sending)."""

    spec: VectorsSpecIn
    documents: list[DocumentImport] = Field(default_factory=list, max_length=10_000)


class ImportedOut(BaseModel):
    id: str
    status: Literal["imported", "unchanged"]


class ImportResult(BaseModel):
    collection: str
    documents: list[ImportedOut]
    chunks: int = Field(description="Chunks written (those of the imported documents)")


class ChunkExport(BaseModel):
    id: str
    position: int
    text: str
    metadata: dict[str, MetadataValue]
    embedding: list[float]


class DocumentExport(BaseModel):
    id: str
    title: str | None
    source: str
    metadata: dict[str, MetadataValue]
    content_hash: str
    chunks: list[ChunkExport]


class ExportPage(BaseModel):
    collection: str
    format: int = Field(description="docqa's export format version")
    spec: SpecOut
    offset: int
    limit: int
    total: int = Field(description="Documents in the collection's catalog, indexed or not")
    next_offset: int | None = Field(description="The next page's offset; null after the last")
    documents: list[DocumentExport]
    skipped: list[str] = Field(
        description="Documents of this page not exported: not indexed now (queued, failed, "
        "or being replaced)"
    )
