"""``docqa.ingest.vector_transfer``: export pages and imports without the embedder, on the fakes."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from docqa.core.errors import Conflict, InvalidInput, NotFound
from docqa.core.models import Chunk, DocumentRecord
from docqa.ingest import vector_transfer
from docqa.ingest.import_checks import ImportedChunk, ImportedDocument, VectorsSpec
from support.fakes import FakeCatalog, FakeEmbedder, FakeKeywordIndex, FakeStore

EMBEDDER = FakeEmbedder(dimension=4)
SPEC = VectorsSpec.of(EMBEDDER.spec)
HASH = "a" * 64


def unit(*values: float) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def document(document_id: str = "a/b.md", chunks: int = 2, **changes: Any) -> ImportedDocument:
    fields: dict[str, Any] = {
        "content_hash": HASH,
        "title": "B",
        "source": "b.md",
        "metadata": {"team": "x"},
    }
    return ImportedDocument(
        id=document_id,
        chunks=[
            ImportedChunk(i, f"text {i} of {document_id}", {"source": "b.md"}, unit(1, i, 0, 1))
            for i in range(chunks)
        ],
        **(fields | changes),
    )


class Recorder:
    """A part whose write calls are logged, in order, into ``log``."""

    def __init__(self, inner: Any, name: str, log: list[str]) -> None:
        self.inner, self.name, self.log = inner, name, log

    def __getattr__(self, attribute: str) -> Any:
        found = getattr(self.inner, attribute)
        if attribute in ("upsert", "delete", "put", "ensure_collection"):

            def logged(*args: Any, **kwargs: Any) -> Any:
                self.log.append(f"{self.name}.{attribute}")
                return found(*args, **kwargs)

            return logged
        return found


class Parts:
    def __init__(self) -> None:
        self.store, self.keywords, self.catalog = FakeStore(), FakeKeywordIndex(), FakeCatalog()
        self.embedder = FakeEmbedder(dimension=4)
        self.log: list[str] = []

    def load(
        self, *documents: ImportedDocument, spec: VectorsSpec = SPEC
    ) -> vector_transfer.Imported:
        return vector_transfer.import_documents(
            "c",
            spec,
            list(documents),
            store=Recorder(self.store, "store", self.log),
            keywords=Recorder(self.keywords, "keywords", self.log),
            catalog=Recorder(self.catalog, "catalog", self.log),
            embedder=self.embedder,
        )

    def nothing_written(self) -> bool:
        return not (self.store.collections_ or self.keywords.chunks or self.catalog.records)


def test_an_import_writes_keywords_then_chroma_then_the_catalog_without_embedding() -> None:
    parts = Parts()
    done = parts.load(document())
    writes = ["store.ensure_collection", "keywords.upsert", "store.upsert", "keywords.delete"]
    assert parts.log == [*writes, "store.delete", "catalog.put"]
    assert parts.embedder.calls == []
    expected = Chunk("a/b.md", 0, "text 0 of a/b.md", {"source": "b.md"})
    stored = parts.store.vectors("c", ["a/b.md"])
    assert [chunk_id for chunk_id, _, _ in stored] == [
        expected.id,
        replace(expected, position=1, text="text 1 of a/b.md").id,
    ]
    assert stored[0][2] == unit(1, 0, 0, 1)
    assert set(parts.keywords.chunks["c"]) == {chunk_id for chunk_id, _, _ in stored}
    record = parts.catalog.get("c", "a/b.md")
    assert record is not None
    assert (record.status, record.chunks, record.content_hash, record.job_id) == (
        "indexed",
        2,
        HASH,
        None,
    )
    assert (record.title, record.source, record.metadata) == ("B", "b.md", {"team": "x"})
    assert (done.imported, done.unchanged, done.chunks) == (["a/b.md"], [], 2)


def test_the_same_document_again_is_unchanged_and_a_shorter_one_drops_its_stale_chunks() -> None:
    parts = Parts()
    parts.load(document())
    again = parts.load(document())
    assert (again.imported, again.unchanged, again.chunks) == ([], ["a/b.md"], 0)
    shorter = parts.load(document(chunks=1, content_hash="b" * 64))
    assert shorter.imported == ["a/b.md"]
    assert len(parts.store.vectors("c", ["a/b.md"])) == 1
    assert len(parts.keywords.chunks["c"]) == 1


@pytest.mark.parametrize(
    "spec",
    [
        VectorsSpec("other-model", 4, True),
        VectorsSpec("fake", 8, True),
        VectorsSpec("fake", 4, False),
    ],
)
def test_vectors_of_another_spec_are_refused_before_anything_is_written(spec: VectorsSpec) -> None:
    parts = Parts()
    with pytest.raises(Conflict, match="the configured embedder has 'fake' \\(4-d, normalised\\)"):
        parts.load(document(), spec=spec)
    assert parts.nothing_written() and parts.log == []


def test_an_existing_collection_is_compared_with_its_own_spec_not_the_embedders() -> None:
    parts = Parts()
    parts.store.ensure_collection("c", replace(EMBEDDER.spec, model_id="older"))
    with pytest.raises(Conflict, match="collection 'c' has 'older'"):
        parts.load(document())
    assert parts.load(document(), spec=replace(SPEC, model_id="older")).imported == ["a/b.md"]


def bad(**changes: Any) -> ImportedDocument:
    return replace(document(), **changes)


def chunk(position: int = 0, **changes: Any) -> ImportedChunk:
    return replace(ImportedChunk(position, "t", {}, unit(1, 0, 0, 0)), **changes)


@pytest.mark.parametrize(
    ("documents", "says"),
    [
        ([bad(chunks=[chunk(0), chunk(2)])], "positions are \\[0, 2\\]; they must be 0..1"),
        ([bad(chunks=[chunk(1), chunk(0)])], "positions are \\[1, 0\\]"),
        ([bad(chunks=[])], "has no chunks"),
        ([bad(chunks=[chunk(embedding=[1.0, 0.0])])], "embedding has 2 numbers, not 4"),
        ([bad(chunks=[chunk(embedding=[math.nan, 0, 0, 0])])], "non-finite"),
        ([bad(chunks=[chunk(embedding=[2.0, 0, 0, 0])])], "length is 2; normalised is 1"),
        ([bad(chunks=[chunk(metadata={"position": 3})])], "\\['position'\\] are the store's own"),
        ([bad(content_hash="xyz")], "content_hash must be 64"),
        ([bad(id="a//b")], "invalid id"),
        ([document(), document()], "more than once"),
    ],
)
def test_malformed_documents_are_refused_before_anything_is_written(
    documents: list[ImportedDocument], says: str
) -> None:
    parts = Parts()
    good = document("good.md")
    with pytest.raises(InvalidInput, match=says):
        parts.load(good, *documents)
    assert parts.nothing_written() and parts.log == []


def test_no_documents_only_checks_the_spec() -> None:
    parts = Parts()
    assert parts.load().imported == []
    assert parts.nothing_written()


def test_an_export_page_holds_the_indexed_documents_and_names_the_others() -> None:
    parts = Parts()
    parts.load(document("one"), document("two", chunks=3))
    parts.catalog.put([DocumentRecord("late", "c", None, {}, "text", HASH, "queued", "job")])
    page = vector_transfer.export_page("c", 0, 10, store=parts.store, catalog=parts.catalog)
    assert (page.total, page.read, page.skipped) == (3, 3, ["late"])
    assert [(r.id, [c.position for _, c, _ in chunks]) for r, chunks in page.documents] == [
        ("one", [0, 1]),
        ("two", [0, 1, 2]),
    ]
    second = vector_transfer.export_page("c", 1, 1, store=parts.store, catalog=parts.catalog)
    assert [r.id for r, _ in second.documents] == ["two"]
    with pytest.raises(NotFound):
        vector_transfer.export_page("nope", 0, 10, store=parts.store, catalog=parts.catalog)


def test_a_document_whose_chunks_are_being_replaced_is_skipped() -> None:
    parts = Parts()
    parts.load(document("one"))
    parts.catalog.update("c", "one", HASH, chunks=3)  # the record says 3, the store holds 2
    page = vector_transfer.export_page("c", 0, 10, store=parts.store, catalog=parts.catalog)
    assert (page.documents, page.skipped) == ([], ["one"])
