"""index_documents as a pipeline, on the shared fakes: writes in order per group, the embedder
busy while the store writes, a failure in each stage (raised, nothing marked indexed, no lock
or thread left), a document deleted meanwhile, bounded queues, and when stored chunks are read."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from docqa.core.errors import Unavailable
from docqa.core.models import Chunk, PendingDocument
from docqa.ingest import indexing
from support.fakes import FakeEmbedder, FakeKeywordIndex, FakeStore
from support.indexing_parts import (
    COLLECTION,
    FailingStore,
    Parts,
    accepted,
    pending,
    settle,
    text,
)


@pytest.fixture
def parts(monkeypatch: pytest.MonkeyPatch) -> Parts:
    monkeypatch.setattr(indexing, "EMBED_BATCH", 5)  # many batches from short documents
    return Parts()


def threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("docqa-pipeline-")]


def documents(count: int, words: int = 40) -> list[PendingDocument]:
    return [pending(f"d{n}", text(words, f"t{n}x")) for n in range(count)]


class Log:
    """Writes and marks, in the order they happened, across the fakes."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def add(self, what: str, document_id: str) -> None:
        with self.lock:
            self.lines.append((what, document_id))


class LoggedStore(FakeStore):
    def __init__(self, log: Log) -> None:
        super().__init__()
        self.log = log

    def upsert(
        self, collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> None:
        super().upsert(collection, chunks, vectors)
        for document_id in dict.fromkeys(c.document_id for c in chunks):
            self.log.add("store", document_id)


class LoggedKeywords(FakeKeywordIndex):
    def __init__(self, log: Log) -> None:
        super().__init__()
        self.log = log

    def upsert(
        self, collection: str, chunks: Sequence[Chunk], texts: Sequence[str] | None = None
    ) -> None:
        super().upsert(collection, chunks, texts)
        for document_id in dict.fromkeys(c.document_id for c in chunks):
            self.log.add("keywords", document_id)


def test_each_document_goes_to_keywords_then_chroma_and_is_indexed_only_when_whole(
    parts: Parts,
) -> None:
    log = Log()
    parts.store, parts.keywords = LoggedStore(log), LoggedKeywords(log)
    docs = documents(6, words=48)  # 6 chunks each, batches of 5: a group each, of 2 batches
    accepted(parts.catalog, *docs)
    marked: dict[str, list[str]] = {}
    update = parts.catalog.update

    def noting(collection: str, document_id: str, content_hash: str, **changes: object) -> bool:
        if changes.get("status") == "indexed":  # what both indexes hold at that moment
            marked[document_id] = parts.stored(document_id) + parts.in_keywords(document_id)
            log.add("indexed", document_id)
        return update(collection, document_id, content_hash, **changes)

    parts.catalog.update = noting  # type: ignore[method-assign]
    report = parts.index(*docs)
    assert report.indexed == {d.id: len(parts.chunker(d)) for d in docs}
    for document in docs:
        mine = [what for what, document_id in log.lines if document_id == document.id]
        assert mine[0] == "keywords" and mine[-1] == "indexed" and "store" in mine
        expected = [chunk.id for chunk in parts.chunker(document)]
        assert marked[document.id] == expected + expected  # all of it, in both
    assert [d for what, d in log.lines if what == "indexed"] == [d.id for d in docs]
    assert parts.progress[-1] == (report.done, report.done) and report.done == report.embedded
    assert threads() == [] and parts.catalog.held == {}


class WaitingStore(FakeStore):
    """A store whose first upsert waits until the embedder has embedded the next batch."""

    def __init__(self, embedded_next: threading.Event) -> None:
        super().__init__()
        self.embedded_next = embedded_next
        self.waited = False

    def upsert(
        self, collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> None:
        if not self.waited:
            self.waited = self.embedded_next.wait(5)
        super().upsert(collection, chunks, vectors)


class CountingEmbedder(FakeEmbedder):
    def __init__(self, after: int = 2) -> None:
        super().__init__()
        self.after, self.reached = after, threading.Event()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = super().embed(texts)
        if len(self.calls) >= self.after:
            self.reached.set()
        return vectors


def test_the_next_batch_is_embedded_while_one_is_written(parts: Parts) -> None:
    parts.embedder = CountingEmbedder(after=2)
    parts.store = WaitingStore(parts.embedder.reached)
    docs = documents(3)
    accepted(parts.catalog, *docs)
    parts.index(*docs)
    assert parts.store.waited  # one after the other, the first upsert would have timed out
    assert all(parts.stored(d.id) for d in docs)


def broken(parts: Parts, stage: str) -> None:
    """Make ``stage`` fail with ``Unavailable`` on the third document's group."""

    def fail_on(document_id: str) -> None:
        if document_id == "d2":
            raise Unavailable(f"{stage} went away", service=stage)

    if stage == "chunk":
        ensure = parts.store.ensure_collection
        calls = iter(range(100))

        def ensuring(collection: str, spec: object) -> None:
            fail_on(f"d{next(calls)}")
            ensure(collection, spec)  # type: ignore[arg-type]

        parts.store.ensure_collection = ensuring  # type: ignore[method-assign]
    elif stage == "plan":
        read = parts.keywords.chunk_ids

        def reading(collection: str, document_ids: Sequence[str]) -> dict[str, set[str]]:
            fail_on(document_ids[0])
            return read(collection, document_ids)

        parts.keywords.chunk_ids = reading  # type: ignore[method-assign]
    elif stage == "embed":
        embed = parts.embedder.embed

        def embedding(texts: Sequence[str]) -> list[list[float]]:
            if any(t.startswith("t2x") for t in texts):  # the third document's words
                fail_on("d2")
            return embed(texts)

        parts.embedder.embed = embedding  # type: ignore[method-assign]
    else:
        upsert = parts.store.upsert

        def upserting(
            collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
        ) -> None:
            for chunk in chunks:  # a write may gather several groups' batches
                fail_on(chunk.document_id)
            upsert(collection, chunks, vectors)

        parts.store.upsert = upserting  # type: ignore[method-assign]


@pytest.mark.parametrize("stage", ["chunk", "plan", "embed", "write"])
def test_an_outage_in_any_stage_raises_and_leaves_nothing_half_done(
    parts: Parts, stage: str
) -> None:
    docs = documents(8, words=16)  # 2 chunks each
    accepted(parts.catalog, *docs)
    if stage == "plan":  # reads only for a document attempted before: attempt each once
        for document in docs:
            parts.catalog.update(COLLECTION, document.id, document.content_hash)
    broken(parts, stage)
    started = time.monotonic()
    with pytest.raises(Unavailable, match=f"{stage} went away"):
        parts.index(*docs)
    assert time.monotonic() - started < 5  # the other stages stopped, none hung
    assert threads() == [] and parts.catalog.held == {}  # every lock freed
    for document in docs:
        record = parts.catalog.get(COLLECTION, document.id)
        assert record is not None
        if record.status == "indexed":  # only whole documents, and never the third one
            assert document.id != "d2"
            expected = [chunk.id for chunk in parts.chunker(document)]
            assert parts.stored(document.id) == expected == parts.in_keywords(document.id)
        else:
            assert record.status == "queued"  # for RQ to run again
    assert parts.stored("d7") == []  # the documents after it were stopped, not written


class DeletingEmbedder(FakeEmbedder):
    """Deletes a document (its record) once the first batch is embedded: the API's DELETE
    landing while the job runs (before the document's group was planned)."""

    def __init__(self, parts: Parts, victim: str) -> None:
        super().__init__()
        self.parts, self.victim = parts, victim

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not self.calls:
            self.parts.catalog.delete(COLLECTION, self.victim)
        return super().embed(texts)


def test_a_document_deleted_while_others_are_indexed_is_skipped(parts: Parts) -> None:
    docs = documents(12, words=16)
    accepted(parts.catalog, *docs)
    parts.embedder = DeletingEmbedder(parts, "d11")
    report = parts.index(*docs)
    assert report.skipped == ["d11"] and "d11" not in report.indexed
    assert parts.stored("d11") == [] and parts.in_keywords("d11") == []
    assert set(report.indexed) == {d.id for d in docs[:11]}


def test_a_stuck_store_holds_back_a_bounded_number_of_batches(parts: Parts) -> None:
    release = threading.Event()
    upsert = parts.store.upsert
    stuck_with: list[int] = []

    def stuck(collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        stuck_with.append(len(chunks))
        assert release.wait(10)
        upsert(collection, chunks, vectors)

    parts.store.upsert = stuck  # type: ignore[method-assign]
    docs = documents(40, words=16)  # 2 chunks each: groups (and batches) of 2 documents
    accepted(parts.catalog, *docs)
    runner = threading.Thread(target=parts.index, args=docs)
    runner.start()
    # the batches in the stuck upsert, WRITE_QUEUE queued for it, one embedded and waiting
    settle(lambda: bool(stuck_with))
    bound = stuck_with[0] // 4 + indexing.WRITE_QUEUE + 1
    settle(lambda: len(parts.embedder.calls) >= bound)
    assert len(parts.embedder.calls) == bound  # and no more, while the store is stuck
    release.set()
    runner.join(10)
    assert not runner.is_alive() and len(parts.embedder.calls) == 20


class ReadCounting:
    def __init__(self, parts: Parts) -> None:
        self.reads: list[list[str]] = []
        read = parts.store.chunk_ids

        def counting(collection: str, document_ids: Sequence[str]) -> dict[str, set[str]]:
            self.reads.append(list(document_ids))
            return read(collection, document_ids)

        parts.store.chunk_ids = counting  # type: ignore[method-assign]


def test_stored_chunks_are_read_only_where_an_earlier_attempt_or_version_can_have_left_some(
    parts: Parts,
) -> None:
    reads = ReadCounting(parts)
    new, other = pending("new", text(16, "a")), pending("other", text(16, "b"))
    accepted(parts.catalog, new, other)
    parts.index(new, other)
    assert reads.reads == []  # first versions, first attempt: nothing stored, nothing read

    parts.index(new)  # the same job again (a retry): its first attempt is in the record
    assert reads.reads == [["new"]]

    newer = pending("new", text(16, "c"))
    accepted(parts.catalog, newer)  # a new version keeps the record's created_at
    parts.index(newer)
    assert reads.reads[-1] == ["new"]
    assert parts.stored("new") == [c.id for c in parts.chunker(newer)] == parts.in_keywords("new")


def test_a_first_attempt_cut_off_after_the_keyword_index_is_cleaned_by_the_next_version(
    parts: Parts,
) -> None:
    """The chaos soak's case, on a document's first version: its keyword chunks written, Chroma
    down, then a newer version posted: the newer one's job removes them."""
    parts.store = FailingStore(upserts=0)
    first = pending("d", text(16, "old"))
    accepted(parts.catalog, first)
    with pytest.raises(Unavailable):
        parts.index(first)
    assert parts.in_keywords("d") and parts.stored("d") == []
    parts.store.upserts_left = -1  # back, for good
    second = pending("d", text(16, "new"))
    accepted(parts.catalog, second)
    parts.index(second)
    assert parts.in_keywords("d") == [c.id for c in parts.chunker(second)] == parts.stored("d")


class SizedStore(FakeStore):
    """Keeps the size of each upsert; the first waits until ``ready`` is set (a slow Chroma)."""

    def __init__(self, ready: threading.Event) -> None:
        super().__init__()
        self.ready, self.sizes = ready, list[int]()

    def upsert(
        self, collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> None:
        self.sizes.append(len(chunks))
        assert self.ready.wait(10)
        super().upsert(collection, chunks, vectors)


def test_batches_waiting_for_a_slow_store_are_written_together(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexing, "WRITE_ROWS", 12)  # three batches of 4 chunks
    # the first write holds 1 to 3 batches: at this many embedded, at least 3 wait behind it
    parts.embedder = CountingEmbedder(after=2 + indexing.WRITE_QUEUE)
    parts.store = SizedStore(parts.embedder.reached)
    docs = documents(40, words=16)  # 2 chunks each: groups (and batches) of 2 documents
    accepted(parts.catalog, *docs)
    report = parts.index(*docs)
    # the first write takes what had come (one batch or a few); while it is held the queue
    # fills, so the next gathers three batches, and no write more than that
    assert parts.store.sizes[1] == 12 and max(parts.store.sizes) == 12
    assert sum(parts.store.sizes) == 80
    assert report.indexed == {d.id: 2 for d in docs} and parts.catalog.held == {}
    for document in docs:
        expected = [chunk.id for chunk in parts.chunker(document)]
        assert parts.stored(document.id) == expected == parts.in_keywords(document.id)


class SlowEmbedder(FakeEmbedder):
    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        time.sleep(0.2)
        return super().embed(texts)


def test_while_the_embedder_is_slower_each_batch_is_written_as_it_comes(parts: Parts) -> None:
    parts.embedder = SlowEmbedder()
    sizes: list[int] = []
    upsert = parts.store.upsert

    def sized(collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        sizes.append(len(chunks))
        upsert(collection, chunks, vectors)

    parts.store.upsert = sized  # type: ignore[method-assign]
    docs = documents(10, words=16)
    accepted(parts.catalog, *docs)
    parts.index(*docs)
    assert sizes == [4] * 5  # nothing waited for a batch still being embedded
