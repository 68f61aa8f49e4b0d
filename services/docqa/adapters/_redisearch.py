"""RediSearch as the keyword index (``adapters.keyword``) uses it: the hash a chunk is stored as,
the TAG digests its filters and document become, the queries sent, the hits read back, and the
engine's refusals as docqa's errors. The engine's facts are recorded in ``adapters.keyword``'s
docstring."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from redis.commands.search.query import Query
from redis.exceptions import ResponseError
from redis.typing import EncodableT, FieldT

from docqa.adapters import _redis
from docqa.core.errors import InvalidInput, Unavailable
from docqa.core.models import Chunk, Hit, Metadata, MetadataValue
from docqa.search.terms import document_terms

SERVICE = "keyword_index"
RETURNED = ("chunk_id", "document_id", "text", "metadata")


def typed(value: MetadataValue) -> str:
    """A metadata value with its type, as Chroma's equality tells them apart: ``b:`` booleans,
    ``n:`` numbers (int and float alike, integral floats written as ints), ``s:`` strings."""
    if isinstance(value, bool):
        return f"b:{str(value).lower()}"
    if isinstance(value, int):
        return f"n:{value}"
    if isinstance(value, float):
        return f"n:{int(value)}" if value.is_integer() else f"n:{value!r}"
    return f"s:{value}"


def filter_tag(key: str, value: MetadataValue) -> str:
    """The TAG value standing for ``key == value``: hex, so it needs no escaping in a query."""
    return hashlib.sha256(f"{key}={typed(value)}".encode()).hexdigest()[:32]


def document_tag(document_id: str) -> str:
    return hashlib.sha256(document_id.encode()).hexdigest()[:32]


@contextmanager
def answering() -> Iterator[None]:
    """Outages → ``Unavailable``; a query past the engine's timeout, or an engine without the
    search module, too (503); a query the parser refuses → ``InvalidInput`` (422)."""
    with _redis.reachable(SERVICE):
        try:
            yield
        except ResponseError as exc:
            message = str(exc)
            if "timeout" in message.lower():
                raise Unavailable(
                    f"the keyword index timed out: {message}", service=SERVICE
                ) from exc
            if "unknown command" in message.lower():
                raise Unavailable(
                    f"the keyword Redis has no search module: {message}", service=SERVICE
                ) from exc
            if "syntax error" in message.lower():
                raise InvalidInput(
                    f"the question cannot be searched by keywords: {message}"
                ) from exc
            raise


def chunk_fields(chunk: Chunk, indexed: str) -> dict[FieldT, EncodableT]:
    metadata = {**chunk.metadata, "position": chunk.position}
    tags = {"document_id": chunk.document_id, **metadata}
    return {
        "terms": document_terms(indexed),
        "text": chunk.text,
        "chunk_id": chunk.id,
        "document_id": chunk.document_id,
        "metadata": json.dumps(metadata),
        "document": document_tag(chunk.document_id),
        "filters": ",".join(filter_tag(key, value) for key, value in tags.items()),
    }


def document_query(document_id: str, page: int) -> Query:
    """The keys of a document's chunks, ``page`` at a time."""
    return (
        Query(f"@document:{{{document_tag(document_id)}}}").no_content().paging(0, page).dialect(2)
    )


def search_query(match: str, where: Metadata | None, top_k: int, timeout_ms: int) -> Query:
    """The ``top_k`` chunks best matching ``match`` by BM25STD among those whose filters hold
    every pair of ``where``, with the fields a hit needs."""
    filters = "".join(
        f" @filters:{{{filter_tag(key, value)}}}" for key, value in (where or {}).items()
    )
    return (
        Query(f"({match}){filters}")
        .scorer("BM25STD")
        .with_scores()
        .verbatim()
        .return_fields(*RETURNED)
        .paging(0, top_k)
        .timeout(timeout_ms)
        .dialect(2)
    )


def hits(found: Any) -> list[Hit]:
    return [
        Hit(
            chunk_id=str(doc.chunk_id),
            document_id=str(doc.document_id),
            text=str(doc.text),
            score=float(doc.score),
            metadata=cast(Metadata, json.loads(doc.metadata)),
        )
        for doc in found.docs
    ]


def no_index(exc: ResponseError) -> bool:
    message = str(exc).lower()
    return "no such index" in message or "unknown index" in message
