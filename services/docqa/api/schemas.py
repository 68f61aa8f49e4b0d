"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from docqa import document_ids
from docqa.adapters.queue import JobState
from docqa.models import DocumentStatus, Hit, MetadataValue
from docqa.retrieval import Mode

COLLECTION_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$"
DOCUMENT_ID_PATTERN = document_ids.PATTERN
METADATA_KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
# Keys the service writes into each chunk's metadata itself.
RESERVED_KEYS = frozenset(
    {"document_id", "position", "source", "title", "page", "slide", "section", "heading_level"}
    | {"start", "end"}
)

CollectionName = Annotated[
    str, StringConstraints(pattern=COLLECTION_PATTERN), Field(examples=["default"])
]
# Checked by ``document_ids.check`` (whose message says what is wrong), declared as the pattern.
DocumentId = Annotated[
    str,
    AfterValidator(document_ids.check),
    Field(
        json_schema_extra={"pattern": DOCUMENT_ID_PATTERN, "maxLength": document_ids.MAX_LENGTH},
        description="A document id: '/'-separated segments, none empty, '.' or '..', no "
        "control character, at most 512 characters, not ending in '/chunks'",
    ),
]
MetadataKey = Annotated[str, StringConstraints(pattern=METADATA_KEY_PATTERN)]
# Text with something in it besides whitespace, as declared: one character that is not
# ``str.isspace`` (Python's re spells it \S; \x1c-\x1f for engines whose \s leaves them out).
NOT_BLANK_PATTERN = r"[^\s\x1c-\x1f]"


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("empty or only whitespace")
    return text


# Checked by ``_not_blank`` (whose message says what is wrong), declared as the pattern.
NotBlank = Annotated[
    str, AfterValidator(_not_blank), Field(json_schema_extra={"pattern": NOT_BLANK_PATTERN})
]
# As declared in OpenAPI: keys outside the pattern are refused (``additionalProperties``).
_KEYS_ONLY = {"additionalProperties": False}
Filter = Annotated[dict[MetadataKey, MetadataValue], Field(json_schema_extra=_KEYS_ONLY)]


def check_metadata(metadata: dict[str, MetadataValue]) -> dict[str, MetadataValue]:
    reserved = sorted(RESERVED_KEYS & metadata.keys())
    if reserved:
        raise ValueError(f"metadata keys {reserved} are reserved by the service")
    return metadata


Metadata = Annotated[
    dict[MetadataKey, MetadataValue],
    Field(max_length=32),  # before the validator: maxProperties (after it, a wrong maxLength)
    AfterValidator(check_metadata),
    Field(
        json_schema_extra={
            **_KEYS_ONLY,
            # (a lookahead, not {"not": {"enum": ...}}, which schemathesis cannot generate for)
            "propertyNames": {"pattern": f"^(?!({'|'.join(sorted(RESERVED_KEYS))})$)"},
            "description": f"Flat metadata; the service writes {sorted(RESERVED_KEYS)} itself",
        },
    ),
]


def _json_integer(value: object) -> object:
    if isinstance(value, bool | str):
        raise ValueError("Input should be an integer")
    return value


# As JSON Schema reads the declared types: an integer may be written 77.0, but true is not 1,
# and "5" is no number (pydantic's lax mode would take both).
Integer = Annotated[int, BeforeValidator(_json_integer)]
Number = Annotated[float, Field(strict=True)]
Flag = StrictBool


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


# Its length is checked as sent (as declared), then it is stripped.
Question = Annotated[NotBlank, StringConstraints(max_length=4000), AfterValidator(str.strip)]


class SearchRequest(Strict):
    question: Question
    collection: CollectionName = "default"
    top_k: Integer = Field(default=5, ge=1, le=100)
    filter: Filter | None = Field(default=None, description="Metadata equality, all must match")
    mode: Mode | None = Field(
        default=None,
        description="dense: by meaning (embeddings); keyword: BM25; hybrid: both, fused as "
        "DOCQA_FUSION says (scores by default, or reciprocal rank). Default: the service's "
        "DOCQA_SEARCH_MODE (hybrid unless configured)",
    )
    rerank: Flag | None = Field(
        default=None,
        description="Re-score the first candidates with the cross-encoder (DOCQA_RERANKER must "
        "be configured). Default: DOCQA_RERANK_BY_DEFAULT",
    )


class SearchHit(BaseModel):
    chunk_id: str
    document_id: str
    title: str | None = Field(
        description="The document's title: a text's as sent; an uploaded file's from its "
        "content (front matter, <title>, first heading), else its file name; null when none"
    )
    section: str | None = Field(
        description="The heading path of the chunk's section, headings joined by ' \u203a ' "
        "(Markdown, HTML, Word; a deck's slide title); null outside headed sections. Title and "
        "section are indexed with the chunk's text (documents indexed before are given them by "
        "reindex)"
    )
    text: str = Field(description="The chunk: the exact slice of the document's text")
    score: float = Field(
        description="The ranking score, higher is better: cosine similarity (dense), BM25 "
        "(keyword), the fused score (hybrid: 0.7 x cosine + 0.3 x the list's min-max BM25 by "
        "default, reciprocal rank fusion with DOCQA_FUSION=rrf), or with rerank the "
        "cross-encoder's score fused with the first-stage order (the raw score when "
        "DOCQA_RERANK_KEEP_WEIGHT is 0)"
    )
    metadata: dict[str, MetadataValue]


def hit_fields(hit: Hit) -> dict[str, Any]:
    """A hit's fields as ``SearchHit`` (and ``Source``) have them."""
    title, section = hit.metadata.get("title"), hit.metadata.get("section")
    return {
        "chunk_id": hit.chunk_id,
        "document_id": hit.document_id,
        "title": str(title) if title is not None else None,
        "section": str(section) if section is not None else None,
        "text": hit.text,
        "score": hit.score,
        "metadata": hit.metadata,
    }


def _degraded() -> Any:
    return Field(
        default_factory=list,
        description='parts of the search that were out and left out: ["keyword"] when the '
        "keyword index was unreachable and hybrid answered from the dense list alone",
    )


class SearchResults(BaseModel):
    hits: list[SearchHit]
    took_ms: float
    degraded: list[Literal["keyword"]] = _degraded()


class AskRequest(SearchRequest):
    use_retrieval: Flag = Field(default=True, description="false: the model answers alone")
    stream: Flag = Field(default=False, description="answer as Server-Sent Events")
    max_tokens: Integer = Field(default=256, ge=1, le=32768)
    temperature: Number = Field(default=0.0, ge=0.0, le=2.0)


class Source(SearchHit):
    n: int = Field(description="The number the answer cites as [n]")


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Timings(BaseModel):
    retrieval_ms: float
    generation_ms: float
    total_ms: float


class AskResponse(BaseModel):
    answer: str
    sources: list[Source]
    usage: UsageOut | None
    timings: Timings
    degraded: list[Literal["keyword"]] = _degraded()
    cut: bool = Field(
        default=False,
        description="The model began repeating itself: generation was stopped and the answer "
        "ends where the repetition began",
    )


ChunkId = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class FeedbackRequest(Strict):
    """Chunks shown for a question, marked: at least one, none both relevant and irrelevant."""

    model_config = ConfigDict(
        json_schema_extra={  # as declared: at least one chunk marked
            "anyOf": [
                {"required": [name], "properties": {name: {"minItems": 1}}}
                for name in ("relevant", "irrelevant")
            ]
        }
    )

    collection: CollectionName = "default"
    question: Question
    relevant: list[ChunkId] = Field(
        default_factory=list, max_length=100, description="Ids of chunks that answer the question"
    )
    irrelevant: list[ChunkId] = Field(
        default_factory=list, max_length=100, description="Ids of chunks that do not"
    )
    answer: Annotated[str, StringConstraints(max_length=32_000)] | None = Field(
        default=None, description="The answer the user was shown, if any"
    )
    comment: Annotated[str, StringConstraints(max_length=4000)] | None = None

    @model_validator(mode="after")
    def _marks_a_chunk(self) -> FeedbackRequest:
        if not self.relevant and not self.irrelevant:
            raise ValueError("mark at least one chunk, relevant or irrelevant")
        return self


class FeedbackAccepted(BaseModel):
    id: str = Field(description="The feedback record's id")
    collection: str
    relevant: int = Field(description="Chunks recorded as relevant")
    irrelevant: int = Field(description="Chunks recorded as irrelevant")
