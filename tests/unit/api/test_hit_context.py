"""Every hit names its document's title and its section as fields of its own: /search hits,
/ask sources (JSON and the SSE ``sources`` event), /v1/chat/completions sources (plain and
streamed), and the OpenAPI schema; the text stays the chunk's slice (over fakes)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from docqa.api.app import create_app
from docqa.core.config import Settings
from docqa.core.models import Section
from docqa.ingest.chunking.splitter import chunk_document
from docqa.ingest.indexing import Chunker
from docqa.wiring import Services
from support.fakes import ScriptedGenerator, fake_services

SECTION = "Mount Karsk \u203a Eruptions"
TEXT = "Mount Karsk is a volcano that last erupted in 1911."


@pytest.fixture
def client() -> TestClient:
    services: Services = fake_services(
        Settings(min_score=0.0), generator=ScriptedGenerator("In 1911 [1].")
    )
    embedder = services.embedder
    services.store.ensure_collection("volcanoes", embedder.spec)
    sections = [Section(TEXT, {"section": SECTION, "heading_level": 2}), Section("No heading.")]
    chunks = chunk_document("karsk", sections, embedder, 40, 4, title="Volcanoes of the north")
    texts = Chunker(embedder, 40, 4).indexed_texts(chunks)
    services.store.upsert("volcanoes", chunks, embedder.embed(texts))
    services.keywords.upsert("volcanoes", chunks, texts)
    return TestClient(create_app(services.settings, services=services))


def check_hit(hit: dict[str, Any]) -> None:
    assert hit["title"] == "Volcanoes of the north"
    assert hit["section"] == SECTION
    assert hit["text"] == TEXT  # the slice, not the prefixed text
    assert hit["metadata"]["section"] == SECTION  # kept where clients read it before


@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
def test_search_hits_carry_title_and_section_in_every_mode(client: TestClient, mode: str) -> None:
    response = client.post(
        "/search",
        json={"question": "Karsk volcanoes", "collection": "volcanoes", "mode": mode},
    )
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    check_hit(hits[0])
    # found by keyword through its title alone: the keyword index sees the prefix
    untitled = [hit for hit in hits if hit["text"] == "No heading."]
    assert untitled and untitled[0]["section"] is None
    assert untitled[0]["title"] == "Volcanoes of the north"


def test_ask_sources_carry_title_and_section(client: TestClient) -> None:
    body = {"question": "When did Karsk erupt?", "collection": "volcanoes", "max_tokens": 8}
    response = client.post("/ask", json=body)
    assert response.status_code == 200, response.text
    check_hit(response.json()["sources"][0])

    streamed = client.post("/ask", json={**body, "stream": True})
    events = [block.split("\n", 1) for block in streamed.text.split("\n\n") if block]
    [sources] = [
        json.loads(data.removeprefix("data: ")) for name, data in events if name == "event: sources"
    ]
    check_hit(sources["sources"][0])


def test_chat_completion_sources_carry_title_and_section(client: TestClient) -> None:
    messages = [{"role": "user", "content": "When did Mount Karsk last erupt?"}]
    body = {"model": "docqa/volcanoes", "messages": messages, "max_tokens": 8}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    check_hit(response.json()["sources"][0])

    streamed = client.post("/v1/chat/completions", json={**body, "stream": True})
    lines = [line.removeprefix("data: ") for line in streamed.text.split("\n") if line]
    last = json.loads(lines[-2])  # before [DONE]
    check_hit(last["sources"][0])


def test_the_schema_declares_title_and_section_on_hits_and_sources() -> None:
    schemas = create_app(Settings()).openapi()["components"]["schemas"]
    for name in ("SearchHit", "Source"):
        properties = schemas[name]["properties"]
        assert {"title", "section"} <= set(schemas[name]["required"])
        for field in ("title", "section"):
            assert {"type": "null"} in properties[field]["anyOf"]
            assert properties[field]["description"]
        assert "\u203a" in properties["section"]["description"]
