"""docqa check on the fakes: a collection indexed by the real pipeline agrees with itself; each
kind of difference, made by hand, is found (and nothing else), and its repair leaves a store
that agrees again, once any job it queued has run."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from docqa.core.errors import Unavailable
from docqa.core.models import DocumentRecord, IngestJob, JobState, JobView, PendingDocument
from docqa.ingest.consistency import PAGE, Stores, check
from docqa.ingest.differences import Difference, Summary, compare, position
from docqa.ingest.indexing import DELETE_CUT_OFF, Chunker, index_documents, remove_document
from docqa.ingest.repair import repair
from support.fakes import FakeEmbedder
from support.listed_fakes import ListedCatalog, ListedKeywords, ListedStore, PayloadQueue

C = "c"


def body(tag: str, words: int = 30) -> str:
    return " ".join(f"{tag}{i}" for i in range(words)) + "."


class World:
    """A collection indexed by ``index_documents`` on listed fakes, and ``docqa check`` on it."""

    def __init__(self) -> None:
        self.embedder = FakeEmbedder()
        self.store = ListedStore()
        self.keywords = ListedKeywords()
        self.queue = PayloadQueue()
        self.catalog = ListedCatalog(self.queue)
        self.stores = Stores(self.catalog, self.store, self.keywords, self.queue)
        self.chunker = Chunker(self.embedder, max_tokens=8, overlap=0, store=self.store)

    def post(self, document_id: str, text: str, run: bool = True) -> PendingDocument:
        digest = hashlib.sha256(text.encode()).hexdigest()
        document = PendingDocument(C, document_id, digest, data=text)
        job = IngestJob(f"job-{document_id}-{digest[:6]}", [document])
        old = self.catalog.get(C, document_id)  # a new version keeps its created_at (accept)
        record = DocumentRecord(
            document_id,
            C,
            None,
            {},
            "text",
            digest,
            "queued",
            job.id,
            created_at=old.created_at if old is not None else 0.0,
        )
        self.catalog.submit([record], job)
        if run:
            self.run_jobs()
        return document

    def run_jobs(self) -> None:
        while (job := self.queue.take()) is not None:
            index_documents(
                job.documents,
                embedder=self.embedder,
                store=self.store,
                keywords=self.keywords,
                catalog=self.catalog,
                chunker=self.chunker,
                progress=lambda *_: None,
            )
            self.queue.dropped.add(job.id)  # a job that succeeded drops its documents
            self.queue.views[job.id] = _ended(self.queue.views[job.id], "finished")

    def check(self, fix: bool = False) -> tuple[list[Difference], Summary]:
        found: list[Difference] = []

        def seen(difference: Difference) -> int:
            found.append(difference)
            return repair(self.stores, difference).deleted if fix else 0

        return found, check(self.stores, None, seen)

    def vector_ids(self, document_id: str) -> list[str]:
        return [i for i, _ in self.store.chunks(C, document_id)]

    def keyword_ids(self, document_id: str) -> set[str]:
        return self.keywords.chunk_ids(C, [document_id])[document_id]


def _ended(view: JobView, state: JobState) -> JobView:
    return replace(view, state=state)


def kinds(found: list[Difference]) -> list[tuple[str, str]]:
    return sorted((d.kind, d.document_id) for d in found)


@pytest.fixture
def world() -> World:
    w = World()
    for name in ("a", "b", "c"):
        w.post(name, body(name))
    return w


def repaired_and_clean(world: World) -> list[Difference]:
    """Repair, run what it queued, and return what a second check finds (nothing, if fixed)."""
    world.check(fix=True)
    world.run_jobs()
    return world.check()[0]


def test_an_indexed_collection_agrees_and_is_counted(world: World) -> None:
    found, summary = world.check()
    assert found == []
    assert summary.collections == [C]
    assert summary.documents == 3
    assert summary.vectors == summary.keywords == sum(len(world.vector_ids(d)) for d in "abc")
    assert summary.vectors > 3


def test_a_new_version_and_a_deletion_leave_nothing_to_report(world: World) -> None:
    world.post("a", body("a2", 12))
    remove_document(C, "b", store=world.store, keywords=world.keywords, catalog=world.catalog)
    assert world.check()[0] == []


def test_chunks_deleted_from_the_vector_store_are_missing_and_fail_the_document(
    world: World,
) -> None:
    world.store.delete(C, world.vector_ids("a")[:2])
    assert kinds(world.check()[0]) == [("missing_vectors", "a")]
    assert repaired_and_clean(world) == []
    record = world.catalog.get(C, "a")
    assert record is not None and record.status == "failed"
    assert record.error is not None and "post the document again" in record.error


def test_chunks_missing_from_the_keyword_index_are_written_again_from_the_store(
    world: World,
) -> None:
    lost = sorted(world.keyword_ids("b"))[:3]
    world.keywords.delete(C, lost)
    found = world.check()[0]
    assert kinds(found) == [("missing_keywords", "b")]
    assert set(found[0].chunk_ids) == set(lost)
    assert repaired_and_clean(world) == []
    assert world.keyword_ids("b") == set(world.vector_ids("b"))
    record = world.catalog.get(C, "b")
    assert record is not None and record.status == "indexed"


def test_orphans_in_either_store_are_deleted(world: World) -> None:
    world.catalog.delete(C, "c")  # a lost record: its chunks belong to no document
    assert kinds(world.check()[0]) == [("orphan_keywords", "c"), ("orphan_vectors", "c")]
    assert repaired_and_clean(world) == []
    assert world.vector_ids("c") == [] and world.keyword_ids("c") == set()


def test_orphans_beyond_a_page_are_all_deleted(world: World) -> None:
    many = PAGE + 40
    world.post("big", body("big", many * 8))  # 8 words a chunk
    assert len(world.vector_ids("big")) > PAGE
    world.catalog.delete(C, "big")
    found, _ = world.check(fix=True)
    assert sum(len(d.chunk_ids) for d in found if d.kind == "orphan_vectors") > PAGE
    assert world.vector_ids("big") == [] and world.keyword_ids("big") == set()
    assert world.check()[0] == []


def test_a_superseded_versions_chunks_are_deleted_from_both_stores(world: World) -> None:
    longer = [c for _, c in world.store.chunks(C, "a")]
    world.post("a", body("a2", 9))  # a shorter version: fewer chunks, the rest deleted
    shorter = len(world.vector_ids("a"))
    old_chunks = [c for c in longer if c.position >= shorter]
    old = [c.id for c in old_chunks]
    vectors = world.embedder.embed([c.text for c in old_chunks])
    assert old and set(old).isdisjoint(world.vector_ids("a"))
    world.store.upsert(C, old_chunks, vectors)  # as if their deletion never happened
    world.keywords.upsert(C, old_chunks)
    found = world.check()[0]
    assert kinds(found) == [("superseded_keywords", "a"), ("superseded_vectors", "a")]
    assert set(found[0].chunk_ids) == set(old)
    assert repaired_and_clean(world) == []
    assert set(world.vector_ids("a")).isdisjoint(old)


def test_two_versions_in_both_stores_are_a_count_mismatch(world: World) -> None:
    old_chunks = [c for _, c in world.store.chunks(C, "a")]
    world.post("a", body("a2"))  # as many chunks, other text: other ids at the same places
    world.store.upsert(C, old_chunks, world.embedder.embed([c.text for c in old_chunks]))
    world.keywords.upsert(C, old_chunks)
    assert kinds(world.check()[0]) == [("count_mismatch", "a")]
    assert repaired_and_clean(world) == []
    record = world.catalog.get(C, "a")
    assert record is not None and record.status == "failed"


def test_a_pending_document_whose_job_expired_is_marked_failed(world: World) -> None:
    document = world.post("d", body("d"), run=False)
    job_id = world.queue.take()
    assert job_id is not None
    del world.queue.views[job_id.id]  # expired from the queue's Redis, with its documents
    world.queue.dropped.add(job_id.id)
    assert kinds(world.check()[0]) == [("job_missing", "d")]
    assert repaired_and_clean(world) == []
    record = world.catalog.get(C, document.id)
    assert record is not None and record.status == "failed"
    assert record.error is not None and "no longer kept" in record.error


def test_a_pending_document_of_a_failed_job_that_kept_it_is_requeued(world: World) -> None:
    world.post("e", body("e"), run=False)
    job = world.queue.take()
    assert job is not None
    world.queue.views[job.id] = _ended(world.queue.views[job.id], "failed")
    found = world.check()[0]
    assert kinds(found) == [("pending_without_job", "e")]
    assert "has failed" in found[0].detail
    assert repaired_and_clean(world) == []
    record = world.catalog.get(C, "e")
    assert record is not None and record.status == "indexed" and record.chunks > 0
    assert set(world.vector_ids("e")) == world.keyword_ids("e")


def test_a_queued_document_with_a_live_job_is_not_a_difference(world: World) -> None:
    world.post("f", body("f"), run=False)
    assert world.check()[0] == []


def test_a_record_that_changed_since_the_check_is_not_repaired(world: World) -> None:
    world.store.delete(C, world.vector_ids("a")[:1])
    [difference] = world.check()[0]
    world.post("a", body("a3"))  # posted again meanwhile, and indexed
    done = repair(world.stores, difference)
    assert not done.done
    record = world.catalog.get(C, "a")
    assert record is not None and record.status == "indexed"


def test_compare_reads_positions_from_ids_with_colons_in_document_ids() -> None:
    assert position("doc:with:colons:3:0123456789abcdef") == 3
    assert position("foreign") == -1
    record = DocumentRecord("x:y", C, None, {}, "text", "h", "indexed", None, chunks=2)
    ids = {"x:y:0:aaaa", "x:y:1:bbbb"}
    assert compare(record, ids, ids) == []
    [lost] = compare(record, {"x:y:0:aaaa"}, ids)
    assert lost.kind == "missing_vectors" and "positions 1" in lost.detail


def test_a_deletion_cut_off_half_way_leaves_a_failed_record_whose_stores_disagree(
    world: World,
) -> None:
    """Found by the chaos soak: a DELETE answered 503 after the keyword index had dropped the
    document's chunks left it "indexed" with its keyword chunks gone (missing_keywords); now
    it is failed, saying so, and its chunks left in Chroma are failed_stores_disagree."""

    def stopped(collection: str, document_id: str) -> None:
        raise Unavailable("Chroma stopped", service="chroma")

    world.store.delete_document = stopped  # type: ignore[method-assign]
    # Chroma answered the check, the keyword index is cleaned, then Chroma stops
    with pytest.raises(Unavailable):
        remove_document(C, "a", store=world.store, keywords=world.keywords, catalog=world.catalog)
    del world.store.delete_document
    left = set(world.vector_ids("a"))
    assert world.keyword_ids("a") == set() and left
    record = world.catalog.get(C, "a")
    assert record is not None and record.status == "failed"
    assert record.error == DELETE_CUT_OFF
    [found] = world.check()[0]
    assert found.kind == "failed_stores_disagree" and set(found.chunk_ids) == left
    assert repaired_and_clean(world) == []
    assert world.vector_ids("a") == []
    record = world.catalog.get(C, "a")
    assert record is not None and record.error == DELETE_CUT_OFF  # still: delete it again
    remove_document(C, "a", store=world.store, keywords=world.keywords, catalog=world.catalog)
    assert world.catalog.get(C, "a") is None and world.vector_ids("a") == []


def test_a_deletion_while_a_store_is_down_changes_nothing(world: World) -> None:
    """Found by the chaos soak (40 min): deletions cut off by a Chroma outage under way when
    they began left 98 chunks in Chroma whose keyword chunks were gone; the stores are now
    asked first, and such a deletion is answered Unavailable with the document as it was."""
    before = (set(world.vector_ids("a")), world.keyword_ids("a"))
    for down in (world.store, world.keywords):
        down.down = "stopped"
        with pytest.raises(Unavailable):
            remove_document(
                C, "a", store=world.store, keywords=world.keywords, catalog=world.catalog
            )
        down.down = None
        assert (set(world.vector_ids("a")), world.keyword_ids("a")) == before
        record = world.catalog.get(C, "a")
        assert record is not None and record.status == "indexed"
    assert world.check()[0] == []


def _fail(world: World, document_id: str, reason: str) -> None:
    record = world.catalog.get(C, document_id)
    assert record is not None
    world.catalog.update(C, document_id, record.content_hash, status="failed", error=reason)


def test_a_failed_document_holding_one_version_in_both_stores_is_not_a_difference(
    world: World,
) -> None:
    _fail(world, "a", "the embedder is unreachable")  # its version 1 stays searchable
    world.post("n", body("n"), run=False)
    world.queue.take()
    _fail(world, "n", "the embedder is unreachable")  # never indexed: no chunk anywhere
    assert world.check()[0] == []


def test_a_failed_versions_chunks_in_one_store_only_are_deleted_from_both(
    world: World,
) -> None:
    v1 = set(world.vector_ids("a"))
    digest = hashlib.sha256(body("v2").encode()).hexdigest()
    v2 = world.chunker(PendingDocument(C, "a", digest, data=body("v2")))
    world.keywords.upsert(C, v2)  # a failed version 2 wrote its keyword chunks, not Chroma's
    _fail(world, "a", "the embedder is unreachable")
    [found] = world.check()[0]
    assert found.kind == "failed_stores_disagree"
    assert set(found.chunk_ids) == {c.id for c in v2} and v1.isdisjoint(found.chunk_ids)
    assert repaired_and_clean(world) == []
    assert world.keyword_ids("a") == set(world.vector_ids("a")) == v1  # version 1 kept
    record = world.catalog.get(C, "a")
    assert record is not None and record.error == "the embedder is unreachable"


def test_a_failed_documents_chunks_of_two_versions_are_all_deleted(world: World) -> None:
    digest = hashlib.sha256(body("v2").encode()).hexdigest()
    v2 = world.chunker(PendingDocument(C, "a", digest, data=body("v2")))
    world.store.upsert(C, v2, world.embedder.embed([c.text for c in v2]))
    world.keywords.upsert(C, v2)  # both stores: versions 1 and 2 at the same positions
    _fail(world, "a", "the embedder is unreachable")
    [found] = world.check()[0]
    assert found.kind == "failed_stores_disagree" and "not one version" in found.detail
    assert repaired_and_clean(world) == []
    assert world.vector_ids("a") == [] and world.keyword_ids("a") == set()
    record = world.catalog.get(C, "a")
    assert record is not None and record.status == "failed"
    assert record.error is not None and record.error.startswith("the embedder is unreachable")
    assert "post the document again" in record.error


def test_a_catalog_longer_than_a_page_is_read_whole() -> None:
    world = World()
    for n in range(PAGE + 7):
        world.post(f"d{n}", f"Short document number {n}.")
    world.store.delete(C, world.vector_ids(f"d{PAGE + 3}"))  # on the second page
    found, summary = world.check()
    assert summary.documents == PAGE + 7
    assert kinds(found) == [("missing_vectors", f"d{PAGE + 3}")]


def test_a_cut_off_versions_keyword_chunks_go_when_a_newer_version_is_indexed(
    world: World,
) -> None:
    """Found by the chaos soak (15 min, seed 7): an attempt at version 2 wrote its keyword
    chunks, Chroma failed, version 3 came: its job cleaned only what Chroma held (version 1),
    and version 2's keyword chunks stayed (superseded_keywords; its phrase still found)."""
    digest = hashlib.sha256(body("v2").encode()).hexdigest()
    cut_off = world.chunker(PendingDocument(C, "a", digest, data=body("v2")))
    world.keywords.upsert(C, cut_off)  # what the cut-off attempt left
    world.post("a", body("v3"))
    assert world.keyword_ids("a") == set(world.vector_ids("a"))
    assert world.check()[0] == []


class PagesCounted(ListedStore):
    """Counts the vector store's listing: the pages ``docqa check`` read."""

    def __init__(self) -> None:
        super().__init__()
        self.pages = 0

    def id_page(self, collection: str, offset: int, limit: int) -> list[tuple[str, str]]:
        self.pages += 1
        return super().id_page(collection, offset, limit)


@pytest.fixture
def counted() -> World:
    w = World()
    w.store = PagesCounted()
    w.stores = Stores(w.catalog, w.store, w.keywords, w.queue)
    w.chunker = Chunker(w.embedder, max_tokens=8, overlap=0, store=w.store)
    for name in ("a", "b"):
        w.post(name, body(name))
    return w


def test_a_store_whose_chunks_the_catalog_accounts_for_is_not_listed(counted: World) -> None:
    counted.post("a", body("a2", 40), run=False)  # queued: its version's chunks count too
    found, summary = counted.check()
    assert found == []
    assert isinstance(counted.store, PagesCounted) and counted.store.pages == 0
    assert summary.vectors == len(counted.vector_ids("a")) + len(counted.vector_ids("b"))


def test_chunks_the_catalog_does_not_account_for_are_listed_and_found(counted: World) -> None:
    counted.catalog.delete(C, "b")
    found, summary = counted.check()
    assert kinds(found) == [("orphan_keywords", "b"), ("orphan_vectors", "b")]
    assert isinstance(counted.store, PagesCounted) and counted.store.pages == 1
    assert summary.vectors == len(counted.vector_ids("a")) + len(counted.vector_ids("b"))
