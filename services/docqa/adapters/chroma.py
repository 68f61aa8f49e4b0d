"""The vector store: a Chroma *server* reached through ``HttpClient``.

Facts this adapter handles (Chroma 1.x):
- The file-based PersistentClient is not safe across processes, so API and worker both talk to
  one ``chroma run`` server.
- Collections default to l2 distance; ours are created with cosine, and a hit's score is
  ``1 - cosine distance``.
- Embeddings are always passed explicitly (a text-only add makes Chroma fetch a model).
- Writes are ``upsert`` with deterministic chunk ids, in requests of ``chroma_upsert_batch``
  rows at most (and never more than the server's max batch size).
- A collection is created with the HNSW settings ``chroma_hnsw`` gives (core.config; measured
  in docs/benchmarks.md) and keeps them: Chroma fixes them at creation, so a change of the
  setting applies to collections created after it.
- Each collection records what its vectors mean (model id, dimension, normalisation); a
  collection is never filled or queried with another model's vectors.
- A collection's first write builds its HNSW index; reads that need it (``query``, ``get``
  with embeddings) wait for that (``_chroma.once_indexed``, chroma-core/chroma#4212).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from typing import Any, cast

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from docqa.adapters import _chroma, _chroma_pages
from docqa.adapters._chroma import connect, reachable
from docqa.core.config import SHIPPED
from docqa.core.errors import Conflict, NotFound
from docqa.core.models import Chunk, EmbeddingSpec, Hit, Metadata
from docqa.core.ports import StoredChunk

PREFIX = "docqa-"
__all__ = ["PREFIX", "ChromaStore", "connect"]


class ChromaStore:
    """``VectorStore`` over a Chroma server. Chroma's collection name is ``docqa-<collection>``.

    Connects on first use, so a process can start (and report itself not ready) while Chroma
    is still down. ``hnsw`` (what new collections are created with) and ``upsert_batch`` (rows
    per upsert request) default to the shipped settings.
    """

    def __init__(
        self,
        url: str,
        *,
        hnsw: Mapping[str, int | float] | None = None,
        upsert_batch: int | None = None,
    ) -> None:
        self._url = url
        self._connected: ClientAPI | None = None
        self._collections: dict[str, Collection] = {}
        self._hnsw = dict(SHIPPED["chroma_hnsw"] if hnsw is None else hnsw)
        self._upsert_batch: int = upsert_batch or SHIPPED["chroma_upsert_batch"]

    @property
    def _client(self) -> ClientAPI:
        if self._connected is None:
            self._connected = connect(self._url)
        return self._connected

    def _get(self, collection: str) -> Collection:
        if collection not in self._collections:
            try:
                found = self._client.get_collection(PREFIX + collection, embedding_function=None)
            except Exception as exc:
                if _chroma.is_missing(exc):
                    raise NotFound(f"collection {collection!r} does not exist") from exc
                raise _chroma.unavailable(exc) from exc
            self._collections[collection] = found
        return self._collections[collection]

    @reachable
    def ensure_collection(self, collection: str, spec: EmbeddingSpec) -> None:
        existing = self.collection_spec(collection)
        if existing is None:
            self._collections[collection] = self._client.get_or_create_collection(
                PREFIX + collection,
                metadata=_chroma.spec_metadata(spec),
                configuration=cast(Any, {"hnsw": {**self._hnsw, "space": "cosine"}}),
                embedding_function=None,
            )
            existing = self.collection_spec(collection)
        if existing != spec:
            raise Conflict(
                f"collection {collection!r} was indexed with {existing}, "
                f"not with {spec}; re-index into a new collection instead of mixing models"
            )

    @reachable
    def collection_spec(self, collection: str) -> EmbeddingSpec | None:
        try:
            meta = self._get(collection).metadata or {}
        except NotFound:
            return None
        return _chroma.spec_of(meta)

    @reachable
    def collections(self) -> dict[str, EmbeddingSpec]:
        """Chroma's collections named ``docqa-*`` (others on the server are not ours), by our
        name, each with its spec; read in pages of the server's max batch size."""
        return _chroma_pages.collection_specs(self._client, PREFIX)

    @reachable
    def chunk_ids(self, collection: str, document_ids: Sequence[str]) -> dict[str, set[str]]:
        """The stored chunk ids of each document, in one request."""
        found_ids: dict[str, set[str]] = {document_id: set() for document_id in document_ids}
        if not document_ids:
            return found_ids
        where = {"document_id": {"$in": list(document_ids)}}
        try:
            found = self._get(collection).get(where=cast(Any, where), include=["metadatas"])
        except NotFound:
            return found_ids
        for chunk_id, meta in zip(found["ids"], found["metadatas"] or [], strict=True):
            found_ids[str(meta["document_id"])].add(chunk_id)
        return found_ids

    @reachable
    def id_page(self, collection: str, offset: int, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` stored chunks' (id, document id) from ``offset`` on (``docqa check``)."""
        try:
            found = self._get(collection).get(limit=limit, offset=offset, include=["metadatas"])
        except NotFound:
            return []
        metas = found["metadatas"] or []
        return [(i, str(m["document_id"])) for i, m in zip(found["ids"], metas, strict=True)]

    @reachable
    def count(self, collection: str) -> int:
        """The collection's chunks (Chroma's ``count``: one request, whatever the size)."""
        try:
            return int(self._get(collection).count())
        except NotFound:
            return 0

    @reachable
    def chunks(self, collection: str, document_id: str) -> list[tuple[str, Chunk]]:
        """A document's stored chunks with their ids, in order."""
        try:
            found = self._get(collection).get(
                where={"document_id": document_id}, include=["documents", "metadatas"]
            )
        except NotFound:
            return []
        return _chroma.document_chunks(found)

    @reachable
    def chunks_by_id(self, collection: str, ids: Sequence[str]) -> dict[str, Chunk]:
        """The stored chunks among ``ids`` (ids not stored are left out), by id."""
        if not ids:
            return {}
        found = self._get(collection).get(ids=list(ids), include=["documents", "metadatas"])
        return {
            chunk_id: _chroma.as_chunk(text, dict(meta))
            for chunk_id, text, meta in zip(
                found["ids"], found["documents"] or [], found["metadatas"] or [], strict=True
            )
        }

    @reachable
    def vectors(self, collection: str, document_ids: Sequence[str]) -> list[StoredChunk]:
        """The stored chunks of ``document_ids`` with their ids and vectors, by document (in
        the order given) then position. Read in pages of the server's max batch size (one
        ``$in`` filter, ``limit``/``offset``), so no single answer of Chroma's is larger."""
        if not document_ids:
            return []
        try:
            target = self._get(collection)
        except NotFound:
            return []
        return _chroma_pages.stored_chunks(target, document_ids, self._client.get_max_batch_size())

    @reachable
    def sample(self, collection: str, n: int, seed: int = 0) -> list[tuple[str, Chunk]]:
        """Up to ``n`` stored chunks with their ids, picked at random: the same ``seed`` picks
        the same chunks while the collection is unchanged."""
        ids = _chroma_pages.all_ids(self._get(collection), self._client.get_max_batch_size())
        picked = random.Random(seed).sample(sorted(ids), min(n, len(ids)))
        chunks = self.chunks_by_id(collection, picked)
        return [(chunk_id, chunks[chunk_id]) for chunk_id in picked if chunk_id in chunks]

    @reachable
    def upsert(
        self, collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> None:
        target = self._get(collection)
        step = min(self._upsert_batch, self._client.get_max_batch_size())
        for start in range(0, len(chunks), step):
            part = chunks[start : start + step]
            target.upsert(
                ids=[chunk.id for chunk in part],
                embeddings=cast(Any, [list(v) for v in vectors[start : start + step]]),
                documents=[chunk.text for chunk in part],
                metadatas=[_chroma.chunk_metadata(chunk) for chunk in part],
            )

    @reachable
    def delete(self, collection: str, ids: Sequence[str]) -> None:
        if ids:
            self._get(collection).delete(ids=list(ids))

    @reachable
    def delete_document(self, collection: str, document_id: str) -> None:
        try:
            self._get(collection).delete(where={"document_id": document_id})
        except NotFound:
            return

    @reachable
    def query(
        self, collection: str, vector: Sequence[float], top_k: int, where: Metadata | None = None
    ) -> list[Hit]:
        found = _chroma.once_indexed(
            functools.partial(
                self._get(collection).query,
                query_embeddings=cast(Any, [list(vector)]),
                n_results=top_k,
                where=_chroma.where(where),
                include=["documents", "metadatas", "distances"],
            )
        )
        return _chroma.hits(found)

    def check(self) -> None:
        try:
            self._client.heartbeat()
        except Exception as exc:
            raise _chroma.unavailable(exc) from exc
