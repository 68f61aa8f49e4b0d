"""_chroma.reachable: what of Chroma's failures becomes Unavailable (a 503 naming chroma)."""

from __future__ import annotations

import httpx
import pytest
from chromadb.errors import InternalError, NotFoundError

from docqa.adapters._chroma import reachable
from docqa.core.errors import Unavailable


def raising(exc: Exception) -> None:
    raise exc


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        ConnectionError("reset"),
        TimeoutError("timed out"),
        InternalError("Error creating hnsw segment reader: Nothing found on disk"),
    ],
)
def test_a_lost_connection_or_the_servers_own_error_is_unavailable(exc: Exception) -> None:
    with pytest.raises(Unavailable) as caught:
        reachable(raising)(exc)
    assert caught.value.service == "chroma"
    assert str(exc) in str(caught.value)


@pytest.mark.parametrize("exc", [NotFoundError("no collection"), ValueError("a bug")])
def test_other_errors_pass_through(exc: Exception) -> None:
    with pytest.raises(type(exc)):
        reachable(raising)(exc)
