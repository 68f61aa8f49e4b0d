"""Chroma's conventions, shared by ``adapters.chroma``: connecting, meeting its errors, and
turning its records into docqa's types and back.

Facts this relies on (chromadb 1.5):
- ``HttpClient`` raises ``ValueError``/``ConnectionError`` variants when the server cannot be
  reached at construction, and httpx's transport errors on a lost connection later.
- A missing collection is an exception whose message says "does not exist" (or "not found",
  depending on the version); there is no dedicated class to catch.
- A record's metadata is flat (str, int, float, bool); docqa adds ``document_id`` and
  ``position`` to every chunk's, and the collection's metadata holds the embedding spec.
- ``get(include=["embeddings"])`` returns the vectors as numpy arrays. A cosine collection's
  vectors are normalised in float32 as they enter its HNSW index, and ``get`` hands back those
  copies: a vector read back is the one written to float32 rounding, not bit for bit
  (measured, chromadb 1.5.9: 300 unit vectors of 384 floats came back with 17,741 numbers
  moved in their last bits, at most 1.5e-8; written and read once more, 8,387 moved again).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import InternalError

from docqa.errors import Unavailable
from docqa.models import Chunk, EmbeddingSpec, Metadata

P = ParamSpec("P")
R = TypeVar("R")


def connect(url: str) -> ClientAPI:
    """A Chroma HttpClient for ``http(s)://host:port``; raises ``Unavailable`` if unreachable."""
    parts = urlsplit(url)
    try:
        return chromadb.HttpClient(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (443 if parts.scheme == "https" else 8000),
            ssl=parts.scheme == "https",
            settings=ChromaSettings(anonymized_telemetry=False),
        )
    except Exception as exc:  # chromadb raises ValueError/ConnectionError variants
        raise Unavailable(f"Chroma at {url} is unreachable: {exc}", service="chroma") from exc


def spec_metadata(spec: EmbeddingSpec) -> dict[str, Any]:
    return {
        "docqa_model": spec.model_id,
        "docqa_dimension": spec.dimension,
        "docqa_normalized": spec.normalized,
        "docqa_max_input_tokens": spec.max_input_tokens,
    }


def spec_of(meta: Mapping[str, Any]) -> EmbeddingSpec:
    return EmbeddingSpec(
        model_id=str(meta["docqa_model"]),
        dimension=int(meta["docqa_dimension"]),
        normalized=bool(meta["docqa_normalized"]),
        max_input_tokens=int(meta["docqa_max_input_tokens"]),
    )


def where(filters: Metadata | None) -> dict[str, Any] | None:
    if not filters:
        return None
    clauses = [{key: value} for key, value in filters.items()]
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def as_chunk(text: str | None, meta: dict[str, Any]) -> Chunk:
    """A stored record as a ``Chunk`` (``meta`` is consumed: a copy of Chroma's)."""
    return Chunk(
        document_id=str(meta.pop("document_id")),
        position=int(meta.pop("position")),
        text=text or "",
        metadata=cast(Metadata, meta),
    )


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """What Chroma stores as a chunk's metadata: its own, its document id and position."""
    return {**chunk.metadata, "document_id": chunk.document_id, "position": chunk.position}


def reachable(method: Callable[P, R]) -> Callable[P, R]:
    """Turn a lost connection to Chroma (refused, reset, timed out) into ``Unavailable``, so
    the API answers 503 and an ingest job is retried instead of failing for good.

    So is the server's own 500, ``chromadb.errors.InternalError``: Chroma 1.x answers a query
    with "Error creating hnsw segment reader: Nothing found on disk" now and then, when a
    collection's vector segment is being written (seen here under schemathesis, which deletes and
    writes while it searches; chroma-core/chroma#4212). The store failed, not docqa: a 503 that
    names it, and a retry, rather than a 500."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (httpx.TransportError, ConnectionError, TimeoutError, InternalError) as exc:
            raise unavailable(exc) from exc

    return wrapper


def is_missing(exc: Exception) -> bool:
    text = str(exc).lower()
    return "does not exist" in text or "not found" in text


def unavailable(exc: Exception) -> Unavailable:
    return Unavailable(f"Chroma is unavailable: {exc}", service="chroma")


def vectors(embeddings: Any) -> list[list[float]]:
    """``get``'s embeddings (numpy rows, or lists) as lists of Python floats."""
    if embeddings is None:
        return []
    return [
        row.tolist() if hasattr(row, "tolist") else [float(x) for x in row] for row in embeddings
    ]
