"""Domain types shared by both data paths (document in; question out)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal

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

    @property
    def id(self) -> str:
        """Deterministic: the same document, place, text and metadata always give the same id,
        so re-ingesting identical content rewrites nothing and any change replaces the chunk."""
        content = json.dumps([self.text, self.metadata], sort_keys=True)
        return f"{self.document_id}:{self.position}:{content_hash(content)[:16]}"


@dataclass(frozen=True)
class PendingDocument:
    """An accepted document on its way to the index: what an ingest job carries.

    ``kind`` is "text" for JSON text (``data`` is the text), the sniffed kind of an upload
    ("text", "markdown", "html", "pdf"; ``data`` is its bytes), or "copy" to re-index the
    chunks the document has in another collection (``data`` names that collection).
    """

    collection: str
    id: str
    content_hash: str
    kind: str
    data: str | bytes
    title: str | None = None
    metadata: Metadata = field(default_factory=dict)
    source: str = "text"


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
