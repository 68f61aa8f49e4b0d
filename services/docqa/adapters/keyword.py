"""Keyword search (BM25) over the same chunks as Chroma, in Redis's query engine (RediSearch).

Facts of the engine this relies on (RediSearch 2.10 as a module in development, the query
engine built into Redis 8 in production):
- It indexes hashes under a key prefix (``FT.CREATE … ON HASH PREFIX``), synchronously on
  ``HSET``/``DEL``, and only in database 0 (the settings refuse another).
- Term statistics (IDF, average length) are per index: one index per collection, each with its
  own key prefix, so one collection's scores never move when another is ingested.
- Defaults differ between versions, so everything is passed explicitly: ``STOPWORDS 0`` (with
  the default list, ``"In|the|10th|week"`` crashed the whole server in ``QueryNode_AddChildren``;
  docqa drops stop words itself), a ``NOSTEM`` field holding docqa's own Porter stems (see
  ``docqa.search.terms``: the module's English stemming costs 4 points of R@1 on SQuAD dev),
  ``VERBATIM``, ``SCORER BM25STD``, ``DIALECT 2`` and ``TIMEOUT``. A query that runs past the
  timeout must fail rather than return partial results: the server runs with ``ON_TIMEOUT FAIL``
  (module argument, or ``search-on-timeout fail`` in Redis 8), and the failure is answered 503.
- A TAG field's values are split on a separator, trimmed, lowercased unless ``CASESENSITIVE``,
  and need escaping in queries; metadata keys are arbitrary, so they cannot be declared at
  ``FT.CREATE``. Each ``key=typed value`` pair is therefore stored as a digest in one TAG field:
  equality on any key, nothing to escape, nothing folded.
- Chroma's ``where`` equality (chromadb 1.5, measured): ``1`` and ``1.0`` match each other,
  ``True`` matches only ``True``, ``"1"`` only ``"1"``; so numbers share one type here. (Chroma
  also lets a float ``1.5`` match an int ``1``, a truncation this index does not copy.)

Each chunk is a hash: the stems (``terms``) of the text it is indexed by (its text after its
title and heading path, as ``indexing`` passes it), its own text (what a hit returns), chunk
and document ids, the metadata as JSON (position included, as Chroma stores it), and the filter
digests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import suppress

from redis import Redis
from redis.commands.search.field import TagField, TextField
from redis.commands.search.index_definition import IndexDefinition, IndexType
from redis.exceptions import ResponseError

from docqa.adapters import _redis, _redisearch
from docqa.core.models import Chunk, Hit, Metadata
from docqa.search.terms import match_query

PREFIX = "docqa:kw:"
BATCH = 500  # chunks per pipeline (one MULTI/EXEC each)
DELETE_PAGE = 1000  # keys found per search when deleting a document's chunks
TIMEOUT_MS = 2000


class RedisKeywordIndex:
    """Implements ``ports.KeywordIndex``. ``prefix`` starts every key and index name (tests
    give each their own, since the engine indexes database 0 only)."""

    def __init__(self, redis: Redis, prefix: str = PREFIX, timeout_ms: int = TIMEOUT_MS) -> None:
        self.redis = redis
        self.prefix = prefix
        self.timeout_ms = timeout_ms
        self._policy_set = False

    def _fail_on_timeout(self) -> None:
        """Ask the server, once per process, to fail a query past its timeout rather than return
        partial results (the local stack starts it so; this covers a server that was not).
        A server that refuses ``FT.CONFIG`` (some managed offerings) keeps its own policy."""
        if not self._policy_set:
            with suppress(ResponseError):
                self.redis.execute_command("FT.CONFIG", "SET", "ON_TIMEOUT", "FAIL")
            self._policy_set = True

    @classmethod
    def from_url(cls, url: str, prefix: str = PREFIX) -> RedisKeywordIndex:
        return cls(_redis.client(url), prefix)

    def _index(self, collection: str) -> str:
        return self.prefix + hashlib.sha256(collection.encode()).hexdigest()[:20]

    def _key(self, collection: str, chunk_id: str) -> str:
        return f"{self._index(collection)}:{chunk_id}"

    def _create(self, index: str) -> None:
        """Create the collection's index unless it exists (each upsert asks: an index lost
        with a Redis that restarted empty is made again before its chunks are written).
        ``SKIPINITIALSCAN``: the chunks come after it; a scan of the keyspace running while
        they are written indexed them twice (measured: the index's term statistics doubled,
        and its scores moved as the engine's garbage collector caught up)."""
        try:
            self.redis.ft(index).create_index(
                [
                    TextField("terms", no_stem=True),
                    TagField("document", case_sensitive=True),
                    TagField("filters", case_sensitive=True),
                ],
                definition=IndexDefinition(prefix=[index + ":"], index_type=IndexType.HASH),
                stopwords=[],
                no_term_offsets=True,  # BM25 needs counts, not positions (no phrase queries)
                skip_initial_scan=True,
            )
        except ResponseError as exc:
            if "already exists" not in str(exc).lower():
                raise

    def upsert(
        self, collection: str, chunks: Sequence[Chunk], texts: Sequence[str] | None = None
    ) -> None:
        """Write the chunks not yet present, each indexed by ``texts[i]`` (default its text;
        a hit returns its own text). An id names its content, so a present id is current:
        rewriting it would only leave the engine garbage to collect, which weighs in the
        collection's term statistics until it does. Each batch of ``BATCH`` whole or not at
        all."""
        if not chunks:
            return
        indexed = [c.text for c in chunks] if texts is None else list(texts)
        if len(indexed) != len(chunks):
            raise ValueError("one indexed text per chunk")
        index = self._index(collection)
        with _redisearch.answering():
            self._fail_on_timeout()
            self._create(index)
            for start in range(0, len(chunks), BATCH):
                batch = {
                    self._key(collection, c.id): (c, text)
                    for c, text in zip(
                        chunks[start : start + BATCH], indexed[start : start + BATCH], strict=True
                    )
                }
                check = self.redis.pipeline(transaction=False)
                for key in batch:
                    check.exists(key)
                present = check.execute()
                write = self.redis.pipeline(transaction=True)
                for (key, (chunk, text)), found in zip(batch.items(), present, strict=True):
                    if not found:
                        write.hset(key, mapping=_redisearch.chunk_fields(chunk, text))
                write.execute()

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        with _redisearch.answering():
            for start in range(0, len(ids), BATCH):
                keys = [self._key(collection, chunk_id) for chunk_id in ids[start : start + BATCH]]
                self.redis.delete(*keys)

    def delete_document(self, collection: str, document_id: str) -> None:
        index = self._index(collection)
        query = _redisearch.document_query(document_id, DELETE_PAGE)
        with _redisearch.answering():
            while True:
                try:
                    found = self.redis.ft(index).search(query)
                except ResponseError as exc:
                    if _redisearch.no_index(exc):
                        return
                    raise
                keys = [doc.id for doc in found.docs]
                if not keys:
                    return
                self.redis.delete(*keys)

    def chunk_ids(self, collection: str, document_ids: Sequence[str]) -> dict[str, set[str]]:
        """The indexed chunk ids of each document (one search per document)."""
        index = self._index(collection)
        found: dict[str, set[str]] = {document_id: set() for document_id in document_ids}
        with _redisearch.answering():
            for document_id in document_ids:
                query = _redisearch.document_query(document_id, DELETE_PAGE)
                while True:
                    try:
                        page = self.redis.ft(index).search(query)
                    except ResponseError as exc:
                        if _redisearch.no_index(exc):
                            return found
                        raise
                    found[document_id] |= {doc.id[len(index) + 1 :] for doc in page.docs}
                    if len(page.docs) < DELETE_PAGE:
                        break
                    query.paging(len(found[document_id]), DELETE_PAGE)
        return found

    def id_pages(self, collection: str, size: int) -> Iterator[list[tuple[str, str]]]:
        """Every indexed chunk's (id, document id), about ``size`` at a time (``SCAN``: each
        key present throughout is returned, deletions meanwhile do not disturb it)."""
        index = self._index(collection)
        cursor: int = 0
        while True:
            with _redisearch.answering():
                cursor, keys = self.redis.scan(cursor, match=f"{index}:*", count=size)
            ids = [_redis_text(key)[len(index) + 1 :] for key in keys]
            if ids:
                yield [(chunk_id, chunk_id.rsplit(":", 2)[0]) for chunk_id in ids]
            if int(cursor) == 0:
                return

    def search(
        self, collection: str, query: str, top_k: int, where: Metadata | None = None
    ) -> list[Hit]:
        """Best first; ``Hit.score`` is BM25STD's (higher is better)."""
        match = match_query(query)
        if match is None or top_k <= 0:
            return []
        request = _redisearch.search_query(match, where, top_k, self.timeout_ms)
        with _redisearch.answering():
            self._fail_on_timeout()
            try:
                found = self.redis.ft(self._index(collection)).search(request)
            except ResponseError as exc:
                if _redisearch.no_index(exc):
                    return []
                raise
        return _redisearch.hits(found)

    def count(self, collection: str) -> int:
        """Chunks indexed in ``collection`` (0 when it has none)."""
        with _redisearch.answering():
            try:
                info = self.redis.ft(self._index(collection)).info()
            except ResponseError as exc:
                if _redisearch.no_index(exc):
                    return 0
                raise
        return int(info["num_docs"])

    def drop(self, collection: str) -> None:
        """Remove the collection's index and every chunk in it."""
        with _redisearch.answering():
            try:
                self.redis.ft(self._index(collection)).dropindex(delete_documents=True)
            except ResponseError as exc:
                if not _redisearch.no_index(exc):
                    raise

    def check(self) -> None:
        """Reachable, and the search module answers."""
        with _redisearch.answering():
            self.redis.execute_command("FT._LIST")


def _redis_text(raw: object) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)
