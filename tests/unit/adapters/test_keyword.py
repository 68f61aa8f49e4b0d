"""The SQLite FTS5 keyword index: BM25 ranking, filters, replace/delete, persistence, and
a reader in one process while a writer works in another."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from docqa.adapters.keyword import SqliteKeywordIndex, match_query
from docqa.models import Chunk

CHUNKS = [
    Chunk("fox", 0, "The quick brown fox jumps over the lazy dog.", {"lang": "en", "n": 1}),
    Chunk("fox", 1, "Foxes are small omnivorous mammals.", {"lang": "en", "flag": True}),
    Chunk("paris", 0, "Paris is the capital of France.", {"lang": "fr"}),
]


@pytest.fixture
def index(tmp_path: Path) -> SqliteKeywordIndex:
    found = SqliteKeywordIndex(tmp_path / "keyword.sqlite3")
    found.upsert("c", CHUNKS)
    return found


def ids(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [hit.chunk_id for hit in hits]


def test_match_query_quotes_words_and_drops_stopwords() -> None:
    assert match_query("What is the capital of France?") == '"capital" OR "france"'
    assert match_query('fox" AND NEAR(x') == '"fox" OR "near" OR "x"'
    assert match_query("what is the") == '"what" OR "is" OR "the"'  # only stopwords: keep them
    assert match_query("?!") is None


def test_ranks_by_bm25_with_stemming(index: SqliteKeywordIndex) -> None:
    hits = index.search("c", "Which foxes jumped?", 5)
    assert ids(hits) == [CHUNKS[0].id, CHUNKS[1].id]  # "jumped" stems to "jump"
    assert hits[0].score > hits[1].score > 0
    assert hits[0].document_id == "fox"
    assert hits[0].metadata == {"lang": "en", "n": 1, "position": 0}
    assert hits[0].similarity is None


def test_filters_on_metadata(index: SqliteKeywordIndex) -> None:
    assert ids(index.search("c", "fox", 5, {"lang": "fr"})) == []
    assert ids(index.search("c", "fox", 5, {"flag": True})) == [CHUNKS[1].id]
    assert ids(index.search("c", "capital", 5, {"lang": "fr"})) == [CHUNKS[2].id]


def test_collections_are_separate(index: SqliteKeywordIndex) -> None:
    index.upsert("other", [Chunk("x", 0, "a fox in another collection")])
    assert ids(index.search("c", "another", 5)) == []
    assert ids(index.search("other", "fox", 5)) == [Chunk("x", 0, "a fox in another collection").id]
    assert index.search("missing", "fox", 5) == []


def test_upsert_is_idempotent_and_delete_removes(index: SqliteKeywordIndex) -> None:
    index.upsert("c", CHUNKS)
    assert index.count("c") == 3
    index.delete("c", [CHUNKS[0].id, "not-there"])
    assert ids(index.search("c", "fox", 5)) == [CHUNKS[1].id]
    index.delete_document("c", "paris")
    assert index.search("c", "capital", 5) == []
    assert index.count("c") == 1
    index.delete("missing", ["x"])  # a collection never written: nothing to do
    index.delete_document("missing", "x")


def test_survives_a_restart(index: SqliteKeywordIndex, tmp_path: Path) -> None:
    again = SqliteKeywordIndex(tmp_path / "keyword.sqlite3")
    assert ids(again.search("c", "capital", 5)) == [CHUNKS[2].id]


def _write(path: Path, start: int, count: int) -> None:
    writer = SqliteKeywordIndex(path)
    for n in range(start, start + count, 10):
        writer.upsert("c", [Chunk(f"doc{i}", 0, f"common word{i}") for i in range(n, n + 10)])


def test_reads_while_other_processes_write(tmp_path: Path) -> None:
    path = tmp_path / "keyword.sqlite3"
    reader = SqliteKeywordIndex(path)
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_write, args=(path, start, 200)) for start in (0, 200)]
    for writer in writers:
        writer.start()
    seen = 0
    while any(writer.is_alive() for writer in writers):
        hits = reader.search("c", "common", 1000)
        assert len(hits) % 10 == 0  # each upsert lands whole
        seen = max(seen, len(hits))
    for writer in writers:
        writer.join()
        assert writer.exitcode == 0
    assert reader.count("c") == 400
    assert len(reader.search("c", "common", 1000)) == 400
