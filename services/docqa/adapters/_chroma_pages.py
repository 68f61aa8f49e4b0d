"""Chroma read in pages, for ``adapters.chroma``: the collections docqa made, every id of a
collection, and a set of documents' chunks with their vectors, each a page of the server's max
batch size at a time, so that no single answer of Chroma's is larger."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from docqa.adapters import _chroma
from docqa.core.models import EmbeddingSpec
from docqa.core.ports import StoredChunk


def collection_specs(client: ClientAPI, prefix: str) -> dict[str, EmbeddingSpec]:
    """The collections named ``<prefix>*`` that hold a spec (others on the server are not
    ours), by their name without the prefix, sorted, each with its spec."""
    found: dict[str, EmbeddingSpec] = {}
    page = client.get_max_batch_size()
    offset = 0
    while True:
        listed = client.list_collections(limit=page, offset=offset)
        for item in listed:
            meta = item.metadata or {}
            if item.name.startswith(prefix) and "docqa_model" in meta:
                found[item.name[len(prefix) :]] = _chroma.spec_of(meta)
        if len(listed) < page:
            return dict(sorted(found.items()))
        offset += page


def all_ids(target: Collection, page: int) -> list[str]:
    """Every id stored in ``target``, in Chroma's order."""
    ids: list[str] = []
    while True:
        found = target.get(limit=page, offset=len(ids), include=[])
        ids += found["ids"]
        if len(found["ids"]) < page:
            return ids


def stored_chunks(target: Collection, document_ids: Sequence[str], step: int) -> list[StoredChunk]:
    """The chunks of ``document_ids`` stored in ``target`` with their ids and vectors, by
    document (in the order given) then position: one ``$in`` filter, ``limit``/``offset``."""
    where = {"document_id": {"$in": list(document_ids)}}
    found: dict[str, StoredChunk] = {}  # by id: a write between pages may repeat one
    while True:
        page = _chroma.once_indexed(
            functools.partial(
                target.get,
                where=cast(Any, where),
                limit=step,
                offset=len(found),
                include=["documents", "metadatas", "embeddings"],
            )
        )
        rows = zip(
            page["ids"],
            page["documents"] or [],
            page["metadatas"] or [],
            _chroma.vectors(page["embeddings"]),
            strict=True,
        )
        before = len(found)
        for chunk_id, text, meta, vector in rows:
            found[chunk_id] = (chunk_id, _chroma.as_chunk(text, dict(meta)), vector)
        if len(page["ids"]) < step or len(found) == before:
            break
    order = {document_id: i for i, document_id in enumerate(document_ids)}
    return sorted(found.values(), key=lambda s: (order[s[1].document_id], s[1].position))
