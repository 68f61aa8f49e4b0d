"""The generator is down: /ask answers 503 problem+json, /search goes on working."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from docqa.api.app import create_app
from docqa.stack.local import Stack
from docqa.stack.processes import free_port
from support.api import assert_problem, ingest
from support.stacks import settings_for


@pytest.fixture
def app_without_generator(local_stack: Stack) -> Iterator[TestClient]:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = settings_for(local_stack, generator_url=nowhere)
    with TestClient(create_app(settings)) as client:
        yield client


def test_generator_down(
    api: httpx.Client, app_without_generator: TestClient, collection: str
) -> None:
    ingest(api, collection, {"id": "bees", "text": "Honey bees dance to show where flowers are."})
    question = {"question": "Why do bees dance?", "collection": collection, "max_tokens": 8}

    assert_problem(app_without_generator.post("/ask", json=question), 503, "generator")
    streamed = app_without_generator.post("/ask", json={**question, "stream": True})
    assert_problem(streamed, 503, "generator")

    search = app_without_generator.post("/search", json=question | {"max_tokens": None})
    assert search.status_code == 422  # /search takes no max_tokens: unknown fields are refused
    search = app_without_generator.post(
        "/search", json={"question": question["question"], "collection": collection}
    )
    assert search.status_code == 200
    assert search.json()["hits"][0]["document_id"] == "bees"
