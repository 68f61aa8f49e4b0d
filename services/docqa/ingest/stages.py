"""The indexing pipeline's four stages: chunk, plan (lock, read what is stored), embed, write.

``ingest.indexing`` runs them in threads joined by bounded queues (``ingest.pipeline``); the
rules they keep are in its docstring. Items: a ``Group`` (documents of one collection, at most
``batch`` chunks between them, a longer document alone) from chunking to planning; a ``Batch``
(at most ``batch`` chunks of one group, the group's first and last marked) from planning on.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import groupby

from docqa.core.errors import DocqaError, Unavailable
from docqa.core.metrics import WRITE_ROWS
from docqa.core.models import Chunk, DocumentRecord, PendingDocument
from docqa.core.ports import Catalog, Embedder, KeywordIndex, VectorStore
from docqa.ingest.chunking.chunker import Chunker
from docqa.ingest.pipeline import Emit
from docqa.ingest.tally import Held, Holds, Tally

Planned = list[tuple[PendingDocument, list[Chunk]]]


@dataclass
class Group:
    """Chunked documents of one collection, and the indexed texts chunking counted for them."""

    collection: str
    documents: Planned = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # chunk id -> indexed text

    @property
    def chunks(self) -> int:
        return sum(len(chunks) for _, chunks in self.documents)

    def split_tail(self, limit: int) -> list[Group]:
        """This group as its last documents of at most ``limit`` chunks between them (its last
        document at least) after the others, when there are others."""
        cut = len(self.documents) - 1
        while cut > 0 and sum(len(c) for _, c in self.documents[cut - 1 :]) <= limit:
            cut -= 1
        parts = [self.documents[:cut], self.documents[cut:]]
        return [
            Group(
                self.collection,
                part,
                {c.id: self.texts[c.id] for _, cs in part for c in cs if c.id in self.texts},
            )
            for part in parts
            if part
        ]


@dataclass
class Plan:
    """A group under its locks: its current documents, what each has stored in each index,
    and every chunk's indexed text."""

    collection: str
    documents: Planned
    stored: dict[str, set[str]]
    in_keywords: dict[str, set[str]]
    texts: dict[str, str]
    held: Held


@dataclass
class Batch:
    plan: Plan
    chunks: list[Chunk]
    first: bool
    last: bool
    vectors: list[list[float]] = field(default_factory=list)


def untouched(record: DocumentRecord) -> bool:
    """Nothing can be stored for the document: its record was written once, when it was
    accepted for an id without a record, and never since (see ``ingest.indexing``)."""
    return record.status == "queued" and record.updated_at == record.created_at


@dataclass
class Stages:
    embedder: Embedder
    store: VectorStore
    keywords: KeywordIndex
    catalog: Catalog
    chunker: Chunker
    tally: Tally
    holds: Holds
    batch: int
    first: int  # chunks in a run's first and last groups at most (see ``chunk``)

    def chunk(self, documents: Sequence[PendingDocument], emit: Emit) -> None:
        """Chunk each current document in order; a document that cannot be chunked (bad
        input) is failed alone. The total is reported once all are chunked. The first and the
        last group hold at most ``first`` chunks (a longer document alone), so the embedder
        starts soon and little is left to write once it has ended."""
        group: Group | None = None
        total, limit = 0, self.first
        for document in documents:
            if not _is_current(self.catalog, document):
                self.tally.skipped(document.id)
                continue
            try:
                self.store.ensure_collection(document.collection, self.embedder.spec)
                made = self.chunker.indexed(document)
            except Unavailable:
                raise
            except DocqaError as exc:
                self.tally.failed(document.id, exc.detail)
                self.catalog.update(
                    document.collection,
                    document.id,
                    document.content_hash,
                    status="failed",
                    error=exc.detail,
                )
                continue
            total += len(made)
            full = group is not None and group.chunks + len(made) > limit
            if group is not None and (full or document.collection != group.collection):
                emit(group)
                group, limit = None, self.batch
            group = group or Group(document.collection)
            group.documents.append((document, [chunk for chunk, _ in made]))
            group.texts.update((chunk.id, text) for chunk, text in made if text is not None)
        self.tally.total(total)
        for part in group.split_tail(self.first) if group is not None else []:
            emit(part)

    def plan(self, group: Group, emit: Emit) -> None:
        """Lock the group's documents, leave out those deleted or replaced meanwhile, read what
        the others have stored (where anything can be), and emit the chunks to embed."""
        locks = ExitStack()
        try:
            collection = group.collection
            leases = [  # in id order, so two workers never wait on each other's locks
                locks.enter_context(self.catalog.lock(collection, document.id))
                for document, _ in sorted(group.documents, key=lambda item: item[0].id)
            ]
            records = self.catalog.get_many(collection, [d.id for d, _ in group.documents])
            current: Planned = []
            unread: set[str] = set()
            for document, chunks in group.documents:
                record = records.get(document.id)
                if record is None or record.content_hash != document.content_hash:
                    self.tally.skipped(document.id, len(chunks))  # deleted or replaced
                elif not untouched(record):
                    current.append((document, chunks))
                # its first attempt, said in the record before anything is written
                elif self.catalog.update(collection, document.id, document.content_hash):
                    current.append((document, chunks))
                    unread.add(document.id)
                else:  # replaced or deleted since ``get_many``
                    self.tally.skipped(document.id, len(chunks))
            if not current:
                locks.close()
                return
            plan = self._read(collection, current, unread, group.texts, Held(locks, leases))
        except BaseException:
            locks.close()
            raise
        self.holds.add(plan.held)  # from here on the holds free its locks, whatever happens
        fresh = [c for d, chunks in current for c in chunks if c.id not in plan.stored[d.id]]
        self.tally.done(sum(len(chunks) for _, chunks in current) - len(fresh))
        for start in range(0, max(len(fresh), 1), self.batch):
            part = fresh[start : start + self.batch]
            emit(Batch(plan, part, first=start == 0, last=start + self.batch >= len(fresh)))

    def _read(
        self, collection: str, current: Planned, unread: set[str], texts: dict[str, str], held: Held
    ) -> Plan:
        read = [document.id for document, _ in current if document.id not in unread]
        stored = {document_id: set[str]() for document_id in unread}
        in_keywords = {document_id: set[str]() for document_id in unread}
        if read:
            stored |= self.store.chunk_ids(collection, read)
            # the keyword index's own: an attempt cut off between the two indexes, then
            # superseded by a newer version, left keyword chunks Chroma never had (chaos soak)
            in_keywords |= self.keywords.chunk_ids(collection, read)
        every = [chunk for _, chunks in current for chunk in chunks]
        missing = [chunk for chunk in every if chunk.id not in texts]  # chunking did not count
        texts = {chunk.id: texts[chunk.id] for chunk in every if chunk.id in texts}
        texts.update(zip([c.id for c in missing], self.chunker.indexed_texts(missing), strict=True))
        return Plan(collection, current, stored, in_keywords, texts, held)

    def embed(self, batch: Batch, emit: Emit) -> None:
        if batch.chunks:
            batch.vectors = self.embedder.embed([batch.plan.texts[c.id] for c in batch.chunks])
        emit(batch)

    def write(self, batches: list[Batch], emit: Emit) -> None:
        """Embedded batches waiting together (``pipeline.Gather``), one collection at a time:
        the keyword rows of each group starting among them, then one vector-store write of
        all their chunks, then each group whose last batch was among them is finished."""
        for collection, run in groupby(batches, key=lambda batch: batch.plan.collection):
            self._write(collection, list(run))

    def _write(self, collection: str, batches: list[Batch]) -> None:
        for batch in batches:
            if batch.first:
                every = [chunk for _, chunks in batch.plan.documents for chunk in chunks]
                texts = [batch.plan.texts[chunk.id] for chunk in every]
                self.keywords.upsert(collection, every, texts)
        chunks = [chunk for batch in batches for chunk in batch.chunks]
        if chunks:
            WRITE_ROWS.observe(len(chunks))
            self.store.upsert(collection, chunks, [v for batch in batches for v in batch.vectors])
            self.holds.renew(*{id(batch.plan): batch.plan.held for batch in batches}.values())
            self.tally.done(len(chunks), embedded=len(chunks))
        for batch in batches:
            if batch.last:
                self._finish(collection, batch.plan)

    def _finish(self, collection: str, plan: Plan) -> None:
        """Each document's stale chunks go (keyword index first), then it is marked indexed,
        then the group's locks are freed."""
        for document, chunks in plan.documents:
            now = {chunk.id for chunk in chunks}
            stale = sorted(plan.stored[document.id] - now)
            in_keywords = plan.in_keywords[document.id] - now
            self.keywords.delete(collection, sorted(set(stale) | in_keywords))
            self.store.delete(collection, stale)
            self.catalog.update(
                collection,
                document.id,
                document.content_hash,
                status="indexed",
                chunks=len(chunks),
                error=None,
            )
            self.tally.indexed(document.id, len(chunks))
        self.holds.release(plan.held)


def _is_current(catalog: Catalog, document: PendingDocument) -> bool:
    record = catalog.get(document.collection, document.id)
    return record is not None and record.content_hash == document.content_hash
