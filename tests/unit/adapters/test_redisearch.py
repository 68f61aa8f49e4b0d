"""_redisearch: typed filter values as Chroma compares them, and the hash a chunk becomes (the
index over them: test_keyword.py; against the real engine: tests/integration/test_keyword_index.py).
"""

from __future__ import annotations

import json

from docqa.adapters._redisearch import chunk_fields, filter_tag, typed
from docqa.core.models import Chunk


def test_typed_values_compare_as_chromas_where() -> None:
    assert typed(1) == typed(1.0) == "n:1"  # Chroma: 1 matches 1.0
    assert typed(1.5) == "n:1.5"
    assert typed(True) == "b:true" and typed(False) == "b:false"
    assert typed("1") == "s:1"
    assert len({typed(1), typed(True), typed("1"), typed(1.5)}) == 4
    assert filter_tag("k", 1) == filter_tag("k", 1.0) != filter_tag("k", True)
    assert filter_tag("a", "b=c") != filter_tag("a=b", "c")  # the pair is typed, keys too
    assert all(c in "0123456789abcdef" for c in filter_tag("Ключ,{x}", "a b|c"))


def test_a_chunk_is_stored_with_stems_text_ids_and_typed_filters() -> None:
    chunk = Chunk("doc", 3, "The Foxes ran to the café.", {"lang": "en", "n": 2})
    fields = chunk_fields(chunk, chunk.text)
    assert fields["terms"] == "the fox ran to the cafe"
    assert fields["text"] == chunk.text and fields["chunk_id"] == chunk.id
    assert fields["document_id"] == "doc"
    assert json.loads(str(fields["metadata"])) == {"lang": "en", "n": 2, "position": 3}
    tags = str(fields["filters"]).split(",")
    assert set(tags) == {
        filter_tag("document_id", "doc"),
        filter_tag("lang", "en"),
        filter_tag("n", 2),
        filter_tag("position", 3),
    }


def test_a_chunk_is_searched_by_its_indexed_text_and_returns_its_own() -> None:
    chunk = Chunk("doc", 0, "The Foxes ran to the café.", {"title": "Wildlife"})
    fields = chunk_fields(
        chunk, "Wildlife \u203a Foxes\n\n" + chunk.text
    )  # with its context prefix
    assert fields["terms"] == "wildlif fox the fox ran to the cafe"
    assert fields["text"] == chunk.text  # what a hit returns: the slice
