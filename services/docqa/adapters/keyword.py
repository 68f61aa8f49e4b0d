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
  ``docqa.terms``: the module's English stemming costs 4 points of R@1 on SQuAD dev),
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
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import cast

from redis import Redis
from redis.commands.search.field import TagField, TextField
from redis.commands.search.index_definition import IndexDefinition, IndexType
from redis.commands.search.query import Query
from redis.exceptions import ResponseError
from redis.typing import EncodableT, FieldT

from docqa.adapters import _redis
from docqa.errors import InvalidInput, Unavailable
from docqa.models import Chunk, Hit, Metadata, MetadataValue
from docqa.terms import document_terms, match_query

SERVICE = "keyword_index"
PREFIX = "docqa:kw:"
BATCH = 500  # chunks per pipeline (one MULTI/EXEC each)
DELETE_PAGE = 1000  # keys found per search when deleting a document's chunks
TIMEOUT_MS = 2000
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
def _answering() -> Iterator[None]:
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
        with _answering():
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
                        write.hset(key, mapping=_fields(chunk, text))
                write.execute()

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        with _answering():
            for start in range(0, len(ids), BATCH):
                keys = [self._key(collection, chunk_id) for chunk_id in ids[start : start + BATCH]]
                self.redis.delete(*keys)

    def delete_document(self, collection: str, document_id: str) -> None:
        index = self._index(collection)
        query = (
            Query(f"@document:{{{document_tag(document_id)}}}")
            .no_content()
            .paging(0, DELETE_PAGE)
            .dialect(2)
        )
        with _answering():
            while True:
                try:
                    found = self.redis.ft(index).search(query)
                except ResponseError as exc:
                    if _no_index(exc):
                        return
                    raise
                keys = [doc.id for doc in found.docs]
                if not keys:
                    return
                self.redis.delete(*keys)

    def search(
        self, collection: str, query: str, top_k: int, where: Metadata | None = None
    ) -> list[Hit]:
        """Best first; ``Hit.score`` is BM25STD's (higher is better)."""
        match = match_query(query)
        if match is None or top_k <= 0:
            return []
        filters = "".join(
            f" @filters:{{{filter_tag(key, value)}}}" for key, value in (where or {}).items()
        )
        request = (
            Query(f"({match}){filters}")
            .scorer("BM25STD")
            .with_scores()
            .verbatim()
            .return_fields(*RETURNED)
            .paging(0, top_k)
            .timeout(self.timeout_ms)
            .dialect(2)
        )
        with _answering():
            self._fail_on_timeout()
            try:
                found = self.redis.ft(self._index(collection)).search(request)
            except ResponseError as exc:
                if _no_index(exc):
                    return []
                raise
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

    def count(self, collection: str) -> int:
        """Chunks indexed in ``collection`` (0 when it has none)."""
        with _answering():
            try:
                info = self.redis.ft(self._index(collection)).info()
            except ResponseError as exc:
                if _no_index(exc):
                    return 0
                raise
        return int(info["num_docs"])

    def drop(self, collection: str) -> None:
        """Remove the collection's index and every chunk in it."""
        with _answering():
            try:
                self.redis.ft(self._index(collection)).dropindex(delete_documents=True)
            except ResponseError as exc:
                if not _no_index(exc):
                    raise

    def check(self) -> None:
        """Reachable, and the search module answers."""
        with _answering():
            self.redis.execute_command("FT._LIST")


def _fields(chunk: Chunk, indexed: str) -> dict[FieldT, EncodableT]:
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


def _no_index(exc: ResponseError) -> bool:
    message = str(exc).lower()
    return "no such index" in message or "unknown index" in message
