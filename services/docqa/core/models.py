"""Domain types shared by both data paths (document in; question out)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

# Flat metadata, as Chroma stores it.
MetadataValue = str | int | float | bool
Metadata = dict[str, MetadataValue]

DocumentStatus = Literal["queued", "indexed", "failed"]


def content_hash(data: str | bytes) -> str:
    """Hex sha256 of text (utf-8) or bytes: the identity of a document's or chunk's content."""
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class EmbeddingSpec:
    """What a vector means. Stored with each collection; indexing and querying must agree."""

    model_id: str
    dimension: int
    normalized: bool
    max_input_tokens: int


@dataclass(frozen=True)
class Section:
    """A stretch of a document's text with its own metadata (a PDF page, say)."""

    text: str
    metadata: Metadata = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    document_id: str
    position: int
    text: str
    metadata: Metadata = field(default_factory=dict)

    @cached_property
    def id(self) -> str:
        """Deterministic: the same document, place, text and metadata always give the same id,
        so re-ingesting identical content rewrites nothing and any change replaces the chunk.
        Computed once per chunk (indexing reads it a dozen times); a chunk is never changed."""
        content = json.dumps([self.text, self.metadata], sort_keys=True)
        return f"{self.document_id}:{self.position}:{content_hash(content)[:16]}"


@dataclass(frozen=True)
class PendingDocument:
    """An accepted document on its way to the index: what an ingest job carries.

    ``kind`` is "text" for JSON text (``data`` is the text) or the sniffed kind of an upload
    ("text", "markdown", "html", "pdf"; ``data`` is its bytes). A copy (``copy_from`` set)
    re-indexes the chunks the document has in the collection ``copy_from`` names, as they are
    stored there; it carries no content of its own (``data`` is empty).
    """

    collection: str
    id: str
    content_hash: str
    kind: str = "text"
    data: str | bytes = ""
    title: str | None = None
    metadata: Metadata = field(default_factory=dict)
    source: str = "text"
    copy_from: str | None = None

    def to_job(self) -> dict[str, Any]:
        """The job payload (``asdict``); ``copy_from`` only when set, so a worker of the
        previous release, still running during a rolling update, runs the new jobs of text."""
        payload = asdict(self)
        if self.copy_from is None:
            del payload["copy_from"]
        return payload

    @classmethod
    def from_job(cls, payload: dict[str, Any]) -> PendingDocument:
        """A payload of ``to_job``, or of the previous release, which said "copy" with
        ``kind="copy"`` and the source collection in ``data`` (jobs it left in the queue)."""
        if payload.get("kind") == "copy" and payload.get("copy_from") is None:
            payload = {**payload, "kind": "text", "data": "", "copy_from": payload["data"]}
        return cls(**payload)


@dataclass
class DocumentRecord:
    """What the service knows of an accepted document, whatever its indexing state."""

    id: str
    collection: str
    title: str | None
    metadata: Metadata
    source: str  # "text" or the uploaded file's name
    content_hash: str
    status: DocumentStatus
    job_id: str | None
    chunks: int = 0
    error: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass(frozen=True)
class IngestJob:
    """One ingest job: the documents it indexes, and the request that sent them (for logs)."""

    id: str
    documents: list[PendingDocument]
    request_id: str | None = None


JobState = Literal["queued", "started", "finished", "failed"]


@dataclass(frozen=True)
class JobView:
    """An ingest job as a user sees it: state, progress (chunks done / total) and error."""

    id: str
    state: JobState
    done: int
    total: int
    documents: list[str]  # "<collection>/<id>" of each
    error: str | None
    retries_left: int
    enqueued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    document_id: str
    text: str
    score: float
    metadata: Metadata
    similarity: float | None = None  # cosine of question and chunk, when found by meaning


# --- Generation (the Generator port) ---

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One chat turn. There is no "system" role: Mistral's template rejects it."""

    role: Role
    content: str


@dataclass(frozen=True)
class Prompt:
    """One prompt in both renderings; the generator's mode picks one.

    ``messages`` is for chat servers (first turn is ``user``, roles alternate); ``text`` is for
    plain completion of a base model; ``stop`` ends a completion that runs on past its answer.
    """

    messages: tuple[Message, ...]
    text: str
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Generation:
    """A finished answer; ``usage`` is None when the server did not report it."""

    text: str
    usage: Usage | None = None
    finish_reason: str | None = None


# --- Feedback (the FeedbackLog port) ---


@dataclass(frozen=True)
class MarkedChunk:
    chunk_id: str
    document_id: str
    text: str


@dataclass(frozen=True)
class FeedbackRecord:
    """A question and the chunks a user marked relevant or irrelevant to it."""

    id: str
    collection: str
    question: str
    relevant: tuple[MarkedChunk, ...]
    irrelevant: tuple[MarkedChunk, ...]
    answer: str | None = None
    comment: str | None = None
    caller: str | None = None  # the API key's name
    created_at: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> FeedbackRecord:
        data: dict[str, Any] = json.loads(raw)
        for side in ("relevant", "irrelevant"):
            data[side] = tuple(MarkedChunk(**chunk) for chunk in data[side])
        return cls(**data)
