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
- A collection's HNSW index is built by its first write, after the collection has taken that
  write's dimension: a read that needs the index in between (``query``; ``get`` with
  embeddings) is answered "Error creating hnsw segment reader: Nothing found on disk", an
  ``InternalError``, and succeeds once the write has built it (see ``once_indexed``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.api.types import GetResult, QueryResult
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import InternalError

from docqa.core.errors import Unavailable
from docqa.core.models import Chunk, EmbeddingSpec, Hit, Metadata

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


def document_chunks(found: GetResult) -> list[tuple[str, Chunk]]:
    """A ``get`` of one document's records as its chunks with their ids, in order."""
    chunks = [
        (chunk_id, as_chunk(text, dict(meta)))
        for chunk_id, text, meta in zip(
            found["ids"], found["documents"] or [], found["metadatas"] or [], strict=True
        )
    ]
    return sorted(chunks, key=lambda pair: pair[1].position)


def hits(found: QueryResult) -> list[Hit]:
    """A ``query`` of one vector as hits, best first; a hit's score is ``1 - cosine distance``.

    A record answered without its metadata is left out: Chroma 1.5's vector index can still
    hold a record whose metadata a delete has removed (or, just restarted, not yet restored),
    and it is not a whole chunk (the chaos soak met one in a query during deletes and restarts:
    a 500 from ``meta["document_id"]`` on None)."""
    ids = found["ids"][0]
    texts = (found["documents"] or [[]])[0]
    metas = (found["metadatas"] or [[]])[0]
    distances = (found["distances"] or [[]])[0]
    return [
        Hit(
            chunk_id=chunk_id,
            document_id=str(meta["document_id"]),
            text=text or "",
            score=1.0 - float(distance),
            metadata=cast(Metadata, {k: v for k, v in meta.items() if k != "document_id"}),
        )
        for chunk_id, text, meta, distance in zip(ids, texts, metas, distances, strict=True)
        if meta is not None and "document_id" in meta
    ]


def reachable(method: Callable[P, R]) -> Callable[P, R]:
    """Turn a lost connection to Chroma (refused, reset, timed out) into ``Unavailable``, so
    the API answers 503 and an ingest job is retried instead of failing for good.

    So is the server's own 500, ``chromadb.errors.InternalError``: the store failed, not docqa,
    so a 503 that names it rather than a 500. The one such answer known to pass by itself, a
    collection's index not built yet, is waited out before (``once_indexed``)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (httpx.TransportError, ConnectionError, TimeoutError, InternalError) as exc:
            raise unavailable(exc) from exc

    return wrapper


# What Chroma says of a collection whose HNSW index its first write has not built yet, and how
# long docqa waits for that write: 4.75 s in all, about five times the longest wait measured.
NOT_INDEXED = "Nothing found on disk"
INDEX_WAITS_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 1.6)


def not_indexed(exc: BaseException) -> bool:
    return isinstance(exc, InternalError) and NOT_INDEXED in str(exc)


def once_indexed(read: Callable[[], R], waits: Sequence[float] = INDEX_WAITS_S) -> R:
    """``read()``, done again after each of ``waits`` while Chroma answers that the collection's
    HNSW index is not built yet; any other error at once, and that one too once ``waits`` are
    spent (``reachable`` makes it a 503 naming chroma).

    Chroma 1.5 (``chroma run``) records a collection's dimension when its first write arrives
    and builds the collection's HNSW index while it applies that write; a query (or a ``get``
    with embeddings) in between fails with "Error creating hnsw segment reader: Nothing found on
    disk" (chroma-core/chroma#4212). Measured on chromadb 1.5.9: queries sent during a fresh
    collection's first upsert of 2,000 vectors of 384 floats failed from 149 to 272 ms into its
    598 ms, of 5,461 (the server's max batch) from 0.5 to 1.0 s into 3.6 s; every query sent
    after the upsert returned succeeded, and no later write into the collection made one fail.
    docqa creates a collection before the worker's first upsert into it, so a search can land in
    that window (schemathesis's first /search on ``default`` did). A read retried is what the
    caller would have got a moment later; a state that lasts (an index lost on disk) still
    fails, after the waits."""
    for wait in waits:
        try:
            return read()
        except InternalError as exc:
            if not not_indexed(exc):
                raise
        time.sleep(wait)
    return read()


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
