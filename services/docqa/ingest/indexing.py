"""The document path, top-down: accepted document → sections → chunks → vectors → Chroma,
and the same chunks' text → the keyword index.

Each document is indexed idempotently. Its chunks have deterministic ids, so:
- chunks already in the store are not embedded again (re-posting identical content is a no-op),
- new chunks are upserted first and stale ones deleted after, so a replaced document is never
  absent from search, and a run killed half-way is finished by simply running it again.
- the keyword index is written before Chroma and cleaned before it: what Chroma holds decides
  what a re-run redoes, so a run killed between the two leaves nothing that is never repaired.
A document whose catalog record no longer has this content (deleted, or posted again with other
content since) is skipped: the newer job owns it.

A pipeline (``ingest.pipeline``, stages in ``ingest.stages``): four threads joined by queues,
so the embedder (TEI on a GPU) never waits for Chroma, nor Chroma for it:
1. chunk: each document in order (a document that cannot be chunked fails alone), into groups
   of one collection and at most ``EMBED_BATCH`` chunks (``FIRST_GROUP`` in the first and the
   last, so the embedder starts early and little is written after it; a longer document alone);
   the job's total is reported once all are chunked. This queue is not bounded: it holds the
   job's chunks, as the run always did, so that the total is known early.
2. plan: lock the group's documents (in id order), leave out those deleted or replaced since,
   read what the others have stored (the rule below), tokenize the texts chunking did not count;
   emit the chunks not stored, ``EMBED_BATCH`` at a time (a group with none emits one empty batch).
3. embed each batch.
4. write: the embedded batches waiting together (``pipeline.Gather``, up to ``WRITE_ROWS``
   chunks): the keyword rows of each group starting among them, then one Chroma write of them
   all; after a group's last batch each of its documents' stale chunks are deleted (keyword index
   first) and it is marked indexed, then its locks are freed. Chroma spends about 30 % more
   CPU per row on 100-row requests than on 500 and more (docs/benchmarks.md, "Chroma: upsert
   batch"), so while the embedder is ahead (TEI on a GPU) its batches are written 500 at a time;
   while it is behind (the local model) each is written as soon as it comes, as before.
Queue 2→3 holds ``QUEUE_DEPTH`` batches, 3→4 ``WRITE_QUEUE``, so at most ``QUEUE_DEPTH + 2 *
WRITE_QUEUE + 3`` batches of texts and vectors are in memory beyond the job's chunks. Locks are
renewed after each write: those of the groups written, and any other held group's not renewed for
``tally.RENEW_AFTER_S``. The
first exception in any stage stops the others at their next step and is raised once all have
ended (``pipeline.run``), after every lock still held is freed; a document is never marked
indexed unless its write stage finished it, so ``Unavailable`` still lets RQ run the job again.

When the stored chunks are read (``stages.untouched``). Nothing can be stored for a document,
and neither index is asked, when its catalog record is ``queued`` with ``updated_at ==
created_at``: ``Catalog.put`` gives a record both from one clock reading only when it had no
``created_at``, which ``intake.accept`` leaves so only for an id without a record (a new version
keeps its predecessor's; so does ``repair``'s re-queue; an import writes ``indexed``); and every
``Catalog.update`` moves ``updated_at`` (the adapter's and the fake's). A deleted document's
chunks are gone before its record is (``remove_document``). Before writing anything for such a
document, the plan stage marks its attempt (``Catalog.update`` with no change, under the lock;
False: replaced or deleted, skipped), so a retried or re-queued job, a job cut off half-way and
every later version do read both indexes, which removes what an earlier attempt or version left
(the superseded keyword chunks the chaos soak found included). Not covered: an import
(``vector_transfer``) cut off after writing chunks and before its record, then a new post of that
id, leaves those chunks to ``docqa check --repair``.

The embedder and the keyword index get each chunk's text prefixed by its title and heading path
(``Chunker.indexed_texts``, rule in ``docqa.ingest.chunking.context``); Chroma and the keyword
index store and return the chunk's own text (the slice of the document). Chunking a document counts
that text already (``chunking.indexed_chunks``), so only the chunks it did not count are tokenized
for it again. A copy (reindex) rebuilds the prefix from the stored chunk's metadata, for the
new model.

Deleting (``remove_document``) follows the same order under the document's lock: keyword index,
then Chroma, then the catalog record, so a failure half-way keeps the record, to delete again;
the record is marked failed first (``DELETE_CUT_OFF``), so that one cut off half-way does not
claim an indexed document whose chunks are gone from one store (found by the chaos soak). Both
stores are asked whether they answer before anything is changed, so an outage already under way
(the usual case: a store down or paused for seconds) leaves the document as it was, answered
503; only one that starts mid-deletion leaves chunks in one store, which ``docqa check`` reports
(``failed_stores_disagree``) until the document is deleted again or the check repairs it (the
40-minute chaos soak left 98 such chunks in Chroma).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from docqa.core.errors import NotFound
from docqa.core.models import PendingDocument
from docqa.core.ports import Catalog, Embedder, KeywordIndex, VectorStore
from docqa.ingest import pipeline
from docqa.ingest.chunking.chunker import Chunker
from docqa.ingest.stages import Stages
from docqa.ingest.tally import Holds, IndexReport, Progress, Tally

__all__ = [
    "DELETE_CUT_OFF",
    "EMBED_BATCH",
    "FIRST_GROUP",
    "QUEUE_DEPTH",
    "WRITE_QUEUE",
    "WRITE_ROWS",
    "Chunker",
    "IndexReport",
    "Progress",
    "index_documents",
    "remove_document",
]

DELETE_CUT_OFF = "its deletion was cut off by an outage; delete it again"
EMBED_BATCH = 128  # one encode call sorts its texts by length: less padding than 32s
# A run's first and last groups: embedding starts once 16 chunks are chunked and locked, not
# 128, and after it ends 16 chunks' documents are left to write and finish, not 128 (about 0.1 s
# each per job of short documents, with the embedded model on 2 cores).
FIRST_GROUP = 16
QUEUE_DEPTH = 2  # batches waiting to be embedded
WRITE_ROWS = 512  # chunks gathered into one Chroma write from the embedded batches waiting
WRITE_QUEUE = WRITE_ROWS // EMBED_BATCH + 1  # embedded batches waiting: groups fall short of full


def index_documents(
    documents: Sequence[PendingDocument],
    *,
    embedder: Embedder,
    store: VectorStore,
    keywords: KeywordIndex,
    catalog: Catalog,
    chunker: Chunker,
    progress: Progress,
) -> IndexReport:
    """Index ``documents`` through the pipeline (module docstring); what became of each."""
    tally, holds = Tally(progress), Holds()
    stages = Stages(
        embedder,
        store,
        keywords,
        catalog,
        chunker,
        tally,
        holds,
        EMBED_BATCH,
        min(FIRST_GROUP, EMBED_BATCH),
    )
    try:
        pipeline.run(
            partial(stages.chunk, documents),
            stages.plan,
            stages.embed,
            pipeline.Gather(stages.write, lambda batch: len(batch.chunks), WRITE_ROWS),
            depths=(0, QUEUE_DEPTH, WRITE_QUEUE),
        )
    finally:
        holds.release_all()  # a run stopped half-way: the groups it had planned
    tally.finished()
    return tally.report


def remove_document(
    collection: str,
    document_id: str,
    *,
    store: VectorStore,
    keywords: KeywordIndex,
    catalog: Catalog,
) -> None:
    """Delete a document: its chunks, keyword index before Chroma, then its record, under its
    lock (never while a job indexes it). ``NotFound`` when the catalog does not have it."""
    with catalog.lock(collection, document_id):
        record = catalog.get(collection, document_id)
        if record is None:
            raise NotFound(f"document {document_id!r} is not in collection {collection!r}")
        keywords.check()  # an outage known now changes nothing (Unavailable: 503)
        store.check()
        # first said in its record: a deletion cut off half-way (an outage) leaves the document
        # failed with the reason, not "indexed" with its chunks gone from one store
        catalog.update(
            collection, document_id, record.content_hash, status="failed", error=DELETE_CUT_OFF
        )
        keywords.delete_document(collection, document_id)
        store.delete_document(collection, document_id)
        catalog.delete(collection, document_id)
