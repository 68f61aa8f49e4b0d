"""The Redis keyword index's own logic: the settings' database rule, and the engine's refusals
mapped to docqa's errors (typed filter values and the hash a chunk becomes: test_redisearch.py;
against the real engine: tests/integration/test_keyword_index.py)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from docqa.adapters.keyword import RedisKeywordIndex
from docqa.core.config import Settings
from docqa.core.errors import InvalidInput, Unavailable


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
