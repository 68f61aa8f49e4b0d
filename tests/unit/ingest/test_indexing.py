"""indexing.py on the shared fakes: what is skipped, what is deleted, in which order the two
indexes are written, and a run cut off half-way that a second run completes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from docqa.core.errors import Unavailable
from docqa.core.models import Chunk, DocumentRecord, PendingDocument
from docqa.ingest import indexing
from docqa.ingest.chunking import context
from docqa.ingest.indexing import Chunker, remove_document
from support.fakes import FakeCatalog, FakeEmbedder, FakeKeywordIndex, FakeStore
from support.indexing_parts import (
    COLLECTION,
    WORDS_PER_CHUNK,
    FailingStore,
    Parts,
    accepted,
    pending,
    text,
)


@pytest.fixture
def parts() -> Parts:
    return Parts()


def test_a_document_is_written_to_both_indexes_and_its_record_says_indexed(
    parts: Parts,
) -> None:
    document = pending("d", text(40))
    accepted(parts.catalog, document)
    report = parts.index(document)
    expected = [chunk.id for chunk in parts.chunker(document)]
    assert len(expected) > 1
    assert parts.stored("d") == expected == parts.in_keywords("d")
    assert report.indexed == {"d": len(expected)} and report.embedded == len(expected)
    record = parts.catalog.get(COLLECTION, "d")
    assert record is not None and (record.status, record.chunks) == ("indexed", len(expected))
    assert parts.progress[0] == (0, len(expected)) and parts.progress[-1] == (len(expected),) * 2


def test_a_superseded_document_is_skipped(parts: Parts) -> None:
    old, new = pending("d", text(20, "old")), pending("d", text(20, "new"))
    accepted(parts.catalog, new)  # posted again with other content before this job ran
    report = parts.index(old)
    assert report.skipped == ["d"] and not report.indexed
    assert parts.stored("d") == [] and parts.in_keywords("d") == []
    assert parts.embedder.calls == []
    record = parts.catalog.get(COLLECTION, "d")
    assert record is not None and record.status == "queued"  # the newer job's to change


@dataclass(frozen=True)
class ReplacedWhileChunking(Chunker):
    """Chunks, then lets a newer version of the document be posted (as if it landed then)."""

    catalog: FakeCatalog = field(default_factory=FakeCatalog)
    newer: PendingDocument | None = None

    def indexed(self, document: PendingDocument) -> list[tuple[Chunk, str | None]]:
        made = super().indexed(document)
        if self.newer is not None:
            accepted(self.catalog, self.newer)
        return made


def test_a_document_replaced_while_it_was_chunked_is_skipped(parts: Parts) -> None:
    document, newer = pending("d", text(20, "old")), pending("d", text(20, "new"))
    accepted(parts.catalog, document)
    parts.chunker = ReplacedWhileChunking(
        parts.embedder, WORDS_PER_CHUNK, 0, catalog=parts.catalog, newer=newer
    )
    report = parts.index(document)
    assert report.skipped == ["d"] and not report.indexed
    assert parts.stored("d") == [] and parts.in_keywords("d") == []


def test_a_deleted_document_is_skipped(parts: Parts) -> None:
    report = parts.index(pending("d", text(20)))  # no record: deleted before the job ran
    assert report.skipped == ["d"]
    assert parts.store.collection_spec(COLLECTION) is None


def test_chunks_a_new_version_no_longer_has_are_deleted_from_both_indexes(
    parts: Parts,
) -> None:
    first = pending("d", text(40))
    accepted(parts.catalog, first)
    parts.index(first)
    before = set(parts.stored("d"))

    second = pending("d", text(24))  # the first 3 chunks unchanged, the rest gone
    accepted(parts.catalog, second)
    parts.embedder.calls.clear()
    report = parts.index(second)

    expected = [chunk.id for chunk in parts.chunker(second)]
    assert parts.stored("d") == expected == parts.in_keywords("d")
    kept = before & set(expected)
    assert kept and before - set(expected)  # some chunks kept, some stale
    assert report.embedded == len(expected) - len(kept)  # the kept ones are not embedded again
    assert sum(parts.embedder.calls) == report.embedded
    record = parts.catalog.get(COLLECTION, "d")
    assert record is not None and record.chunks == len(expected)


class RecordingStore(FakeStore):
    """A vector store that notes each write in ``log`` (shared with the keyword index)."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log
        self.removing = False

    def upsert(
        self, collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> None:
        self.log.append("store.upsert")
        super().upsert(collection, chunks, vectors)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        if not self.removing:  # the fake's delete_document deletes through delete
            self.log.append("store.delete")
        super().delete(collection, ids)

    def delete_document(self, collection: str, document_id: str) -> None:
        self.log.append("store.delete_document")
        self.removing = True
        super().delete_document(collection, document_id)
        self.removing = False


class RecordingKeywords(FakeKeywordIndex):
    """A keyword index that notes each write in ``log`` (shared with the vector store)."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log
        self.removing = False

    def upsert(
        self, collection: str, chunks: Sequence[Chunk], texts: Sequence[str] | None = None
    ) -> None:
        self.log.append("keywords.upsert")
        super().upsert(collection, chunks, texts)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        if not self.removing:  # the fake's delete_document deletes through delete
            self.log.append("keywords.delete")
        super().delete(collection, ids)

    def delete_document(self, collection: str, document_id: str) -> None:
        self.log.append("keywords.delete_document")
        self.removing = True
        super().delete_document(collection, document_id)
        self.removing = False


def test_the_keyword_index_is_written_and_cleaned_before_chroma(parts: Parts) -> None:
    log: list[str] = []
    parts.store, parts.keywords = RecordingStore(log), RecordingKeywords(log)
    for document in (pending("d", text(40)), pending("d", text(24))):
        accepted(parts.catalog, document)
        parts.index(document)
    remove_document(
        COLLECTION, "d", store=parts.store, keywords=parts.keywords, catalog=parts.catalog
    )
    assert log == [
        # the first version: written to the keyword index, then to Chroma; nothing stale
        "keywords.upsert",
        "store.upsert",
        "keywords.delete",
        "store.delete",
        # the second: its (new) chunks the same way, then its stale ones cleaned, keywords first
        "keywords.upsert",
        "store.upsert",
        "keywords.delete",
        "store.delete",
        # removed: keywords, then Chroma (then the record)
        "keywords.delete_document",
        "store.delete_document",
    ]
    assert parts.catalog.get(COLLECTION, "d") is None


def test_a_run_cut_off_half_way_is_completed_by_running_it_again(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexing, "EMBED_BATCH", 5)  # several batches from a short document
    monkeypatch.setattr(indexing, "WRITE_ROWS", 1)  # each written alone, however many wait
    parts.store = FailingStore(upserts=2)
    document = pending("d", text(160))
    expected = [chunk.id for chunk in parts.chunker(document)]
    assert len(expected) == 20
    accepted(parts.catalog, document)

    with pytest.raises(Unavailable):
        parts.index(document)
    assert len(parts.stored("d")) == 10  # two batches written, then the store went away
    record = parts.catalog.get(COLLECTION, "d")
    assert record is not None and record.status == "queued"  # not indexed: to run again

    parts.store.upserts_left = -1  # back, for good
    parts.embedder.calls.clear()
    report = parts.index(document)
    assert parts.stored("d") == expected == parts.in_keywords("d")  # each chunk exactly once
    assert report.embedded == 10 and sum(parts.embedder.calls) == 10  # only the missing ones
    assert report.done == 20 and report.indexed == {"d": 20}
    record = parts.catalog.get(COLLECTION, "d")
    assert record is not None and (record.status, record.chunks) == ("indexed", 20)


def titled(document_id: str, body: str, title: str, *, kind: str = "text") -> PendingDocument:
    digest = hashlib.sha256((body + title).encode()).hexdigest()
    return PendingDocument(COLLECTION, document_id, digest, kind=kind, data=body, title=title)


class RecordingEmbedder(FakeEmbedder):
    """An embedder that keeps every text it embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts += texts
        return super().embed(texts)


def test_the_embedder_and_the_keyword_index_get_the_prefix_and_chroma_the_slice(
    parts: Parts,
) -> None:
    parts.embedder = RecordingEmbedder()
    parts.chunker = Chunker(parts.embedder, max_tokens=WORDS_PER_CHUNK, overlap=0)
    document = titled("d", text(30), "Guide")
    accepted(parts.catalog, document)
    parts.index(document)
    chunks = [chunk for _, chunk in parts.store.chunks(COLLECTION, "d")]
    assert len(chunks) > 1
    assert all(chunk.metadata["title"] == "Guide" for chunk in chunks)
    assert "".join(chunk.text for chunk in chunks).replace(" ", "") == text(30).replace(" ", "")
    prefixed = ["Guide\n\n" + chunk.text for chunk in chunks]
    assert parts.embedder.texts == prefixed
    assert [parts.keywords.indexed[COLLECTION][chunk.id] for chunk in chunks] == prefixed
    assert [c.text for c in parts.keywords.chunks[COLLECTION].values()] == [c.text for c in chunks]
    # the prefix counts in the budget: 1 word of title, 7 of text
    assert {len(chunk.text.split()) for chunk in chunks[:-1]} == {WORDS_PER_CHUNK - 1}
    # a question on the title finds the chunks by keyword: each is indexed with it
    assert len(parts.keywords.search(COLLECTION, "guide", 10)) == len(chunks)


def upload(name: str, data: bytes, kind: str) -> PendingDocument:
    digest = hashlib.sha256(data).hexdigest()
    return PendingDocument(COLLECTION, name, digest, kind=kind, data=data, title=name, source=name)


def test_an_upload_is_indexed_after_its_own_title_and_heading_path(parts: Parts) -> None:
    parts.embedder = RecordingEmbedder()
    parts.chunker = Chunker(parts.embedder, max_tokens=20, overlap=0)
    page = (
        b"<html><head><title>Orchard</title></head><body><h1>Apples</h1><p>They grow.</p>"
        b"<h2>Pruning</h2><p>In winter.</p></body></html>"
    )
    document = upload("guide.html", page, "html")
    accepted(parts.catalog, document)
    parts.index(document)
    chunks = [chunk for _, chunk in parts.store.chunks(COLLECTION, "guide.html")]
    assert {c.metadata["title"] for c in chunks} == {"Orchard"}  # its own, not its file name
    assert chunks[-1].metadata["section"] == "Apples \u203a Pruning"
    expected = [
        context.prefix("Orchard", str(chunk.metadata["section"])) + chunk.text for chunk in chunks
    ]
    assert parts.embedder.texts == expected
    assert (
        parts.embedder.texts[-1] == "Orchard \u203a Apples \u203a Pruning\n\nPruning\n\nIn winter."
    )
    assert chunks[-1].text == "Pruning\n\nIn winter."  # stored: the slice

    plain = upload("notes.txt", b"Plain notes.", "text")  # no title of its own: the file name
    accepted(parts.catalog, plain)
    parts.index(plain)
    [(_, note)] = parts.store.chunks(COLLECTION, "notes.txt")
    assert note.metadata["title"] == "notes.txt"
    assert parts.embedder.texts[-1] == "notes.txt\n\nPlain notes."


def test_a_copy_is_embedded_with_the_prefix_rebuilt_from_its_stored_metadata(
    parts: Parts,
) -> None:
    document = titled("d", text(30), "Guide")
    accepted(parts.catalog, document)
    parts.index(document)
    stored = [chunk for _, chunk in parts.store.chunks(COLLECTION, "d")]

    # the new model's collection, as reindex fills it: a copy of each document
    embedder = RecordingEmbedder()
    parts.embedder = embedder
    parts.chunker = Chunker(embedder, max_tokens=WORDS_PER_CHUNK, overlap=0, store=parts.store)
    copy = PendingDocument("v2", "d", document.content_hash, copy_from=COLLECTION)
    parts.catalog.put(
        [DocumentRecord("d", "v2", "Guide", {}, "text", copy.content_hash, "queued", "j")]
    )
    report = parts.index(copy)
    assert report.indexed == {"d": len(stored)}
    copied = [chunk for _, chunk in parts.store.chunks("v2", "d")]
    assert [c.id for c in copied] == [c.id for c in stored]  # copied as stored
    assert embedder.texts == ["Guide\n\n" + c.text for c in stored]

    # a chunk cut for a larger model: its prefix is cut to fit the new model's input
    small = Chunker(FakeEmbedder(), max_tokens=WORDS_PER_CHUNK, overlap=0, limit=7)
    assert small.indexed_texts(stored[:1]) == [stored[0].text]


def test_the_same_titled_document_again_embeds_and_writes_nothing(parts: Parts) -> None:
    document = titled("d", text(30), "Guide")
    accepted(parts.catalog, document)
    parts.index(document)
    before = parts.stored("d")
    parts.embedder.calls.clear()
    report = parts.index(document)  # a job run again: the same chunks, ids and prefixes
    assert parts.stored("d") == before == parts.in_keywords("d")
    assert report.embedded == 0 and parts.embedder.calls == []


def test_the_requests_metadata_wins_over_the_files_front_matter() -> None:
    markdown = b"---\nlang: fr\naudience: admins\n---\n# Setup\n\nInstall it.\n"
    document = PendingDocument(
        COLLECTION, "s.md", "h", kind="markdown", data=markdown, metadata={"lang": "en"}
    )
    [chunk] = Chunker(FakeEmbedder(), max_tokens=50, overlap=0)(document)
    assert chunk.metadata["lang"] == "en"  # sent with the request
    assert chunk.metadata["audience"] == "admins"  # the file's own, where the request is silent
    assert chunk.metadata["section"] == "Setup" and chunk.metadata["source"] == "text"


def test_the_first_and_last_groups_are_small_and_those_between_full(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexing, "EMBED_BATCH", 6)
    monkeypatch.setattr(indexing, "FIRST_GROUP", 2)
    docs = [pending(f"d{n}", text(WORDS_PER_CHUNK, f"w{n}x")) for n in range(11)]  # 1 chunk each
    accepted(parts.catalog, *docs)
    report = parts.index(*docs)
    assert parts.embedder.calls == [2, 6, 1, 2]  # 3 left at the end: the last 2 alone
    assert report.indexed == {f"d{n}": 1 for n in range(11)}
