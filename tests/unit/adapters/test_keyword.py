"""The Redis keyword index's own logic: typed filter values as Chroma compares them, the hash a
chunk becomes, the settings' database rule, and the engine's refusals mapped to docqa's errors
(against the real engine: tests/integration/test_keyword_index.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from docqa.adapters.keyword import RedisKeywordIndex, _fields, filter_tag, typed
from docqa.config import Settings
from docqa.errors import InvalidInput, Unavailable
from docqa.models import Chunk


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
    fields = _fields(chunk, chunk.text)
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
    fields = _fields(chunk, "Wildlife \u203a Foxes\n\n" + chunk.text)  # with its context prefix
    assert fields["terms"] == "wildlif fox the fox ran to the cafe"
    assert fields["text"] == chunk.text  # what a hit returns: the slice


def test_settings_refuse_a_keyword_redis_database_other_than_zero() -> None:
    assert str(Settings().keyword_redis_url) == "redis://127.0.0.1:6380/0"
    Settings(keyword_redis_url="redis://search:6379")
    with pytest.raises(ValidationError, match="database 0"):
        Settings(keyword_redis_url="redis://search:6379/2")


class _Refusing:
    """A Redis whose every search fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def execute_command(self, *args: Any) -> Any:
        return b"OK"

    def ft(self, name: str) -> _Refusing:
        return self

    def search(self, query: Any) -> Any:
        raise self.error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ResponseError("Timeout limit was reached"), Unavailable),
        (RedisConnectionError("Connection refused"), Unavailable),
        (ResponseError("unknown command 'FT.SEARCH'"), Unavailable),
        (ResponseError("Syntax error at offset 2 near a"), InvalidInput),
    ],
)
def test_engine_errors_become_docqas(error: Exception, expected: type[Exception]) -> None:
    index = RedisKeywordIndex(_Refusing(error))  # type: ignore[arg-type]
    with pytest.raises(expected) as caught:
        index.search("c", "fox", 5)
    if isinstance(caught.value, Unavailable):
        assert caught.value.service == "keyword_index"


def test_a_missing_index_is_an_empty_collection() -> None:
    index = RedisKeywordIndex(_Refusing(ResponseError("idx: no such index")))  # type: ignore[arg-type]
    assert index.search("c", "fox", 5) == []
    assert index.search("c", "?!", 5) == []  # no words: the engine is not asked
