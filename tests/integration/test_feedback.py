"""``POST /feedback`` records marked chunks with their texts; ``docqa feedback export`` turns
them into pairs; ``docqa synth`` turns sampled chunks into pairs with the stack's generator."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from docqa.adapters.chroma import ChromaStore
from docqa.api.app import create_app
from docqa.cli.main import main
from docqa.stack.local import Stack
from docqa.training.pairs import Pair, load
from support.api import assert_problem, chunks, ingest
from support.stacks import settings_for

TEXTS = {
    "etna": "Mount Etna on Sicily is one of the most active volcanoes in the world.",
    "bees": "Honey bees communicate the direction of flowers with a waggle dance.",
    "danube": "The Danube flows through ten countries before it reaches the Black Sea.",
}


@pytest.fixture
def chunk_ids(api: httpx.Client, collection: str) -> dict[str, str]:
    job = ingest(api, collection, *({"id": name, "text": text} for name, text in TEXTS.items()))
    assert job["state"] == "finished", job
    return {name: chunks(api, collection, name)[0]["id"] for name in TEXTS}


@pytest.fixture
def stack_env(local_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """The CLI reads its settings from the environment: point them at the test stack."""
    for name, value in local_stack.env.items():
        if name.startswith("DOCQA_"):
            monkeypatch.setenv(name, value)
    return local_stack


def test_feedback_is_recorded_and_exported_as_pairs(
    api: httpx.Client, collection: str, chunk_ids: dict[str, str], stack_env: Stack, tmp_path: Path
) -> None:
    body = {
        "collection": collection,
        "question": "Where is Mount Etna?",
        "relevant": [chunk_ids["etna"]],
        "irrelevant": [chunk_ids["bees"], chunk_ids["danube"]],
        "answer": "On Sicily [1].",
        "comment": "right source",
    }
    accepted = api.post("/feedback", json=body)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["relevant"] == 1 and accepted.json()["irrelevant"] == 2
    only_bad = {"collection": collection, "question": "Who won?", "irrelevant": [chunk_ids["bees"]]}
    assert api.post("/feedback", json=only_bad).status_code == 201
    assert accepted.json()["id"] != api.post("/feedback", json=only_bad).json()["id"]

    out = tmp_path / "feedback.jsonl"
    assert main(["feedback", "export", "--collection", collection, "--out", str(out)]) == 0
    assert load(out) == [
        Pair("Where is Mount Etna?", TEXTS["etna"], (TEXTS["bees"], TEXTS["danube"]))
    ]


def test_bad_feedback_is_a_problem(
    api: httpx.Client, collection: str, chunk_ids: dict[str, str]
) -> None:
    base = {"collection": collection, "question": "Where is Mount Etna?"}
    etna = chunk_ids["etna"]
    unknown = {**base, "relevant": [etna], "irrelevant": [f"{etna}x"]}
    assert_problem(api.post("/feedback", json=unknown), 404, f"no chunk '{etna}x'")
    assert_problem(api.post("/feedback", json=base), 422, "mark at least one chunk")
    both = {**base, "relevant": [etna], "irrelevant": [etna]}
    assert_problem(api.post("/feedback", json=both), 422, "both relevant and irrelevant")
    elsewhere = {**base, "collection": f"none{uuid.uuid4().hex[:8]}", "relevant": [etna]}
    assert_problem(api.post("/feedback", json=elsewhere), 404, "does not exist")
    extra = {**base, "relevant": [etna], "score": 5}
    assert_problem(api.post("/feedback", json=extra), 422, "score")


def test_feedback_needs_read_access_to_the_collection(
    local_stack: Stack, collection: str, chunk_ids: dict[str, str]
) -> None:
    reader, other = f"k-{uuid.uuid4().hex}", f"k-{uuid.uuid4().hex}"
    keys = [
        {"key": reader, "name": "reader", "collections": [collection], "access": "read"},
        {"key": other, "name": "other", "collections": ["elsewhere"], "access": "write"},
    ]
    settings = settings_for(local_stack, api_keys=json.dumps(keys))
    body = {"collection": collection, "question": "Where?", "relevant": [chunk_ids["etna"]]}
    with TestClient(create_app(settings)) as client:
        assert_problem(client.post("/feedback", json=body), 401, "key")
        refused = client.post("/feedback", json=body, headers={"Authorization": f"Bearer {other}"})
        assert_problem(refused, 403, "may not read")
        allowed = client.post("/feedback", json=body, headers={"Authorization": f"Bearer {reader}"})
        assert allowed.status_code == 201, allowed.text


def test_sampled_chunks_are_stored_ones_and_the_seed_repeats_them(
    local_stack: Stack, collection: str, chunk_ids: dict[str, str]
) -> None:
    store = ChromaStore(f"http://127.0.0.1:{local_stack.chroma_port}")
    two = store.sample(collection, 2, seed=3)
    assert len(two) == 2 and two == store.sample(collection, 2, seed=3)
    every = store.sample(collection, 10, seed=3)
    assert {chunk_id for chunk_id, _ in every} == set(chunk_ids.values())
    for chunk_id, chunk in every:
        assert chunk.id == chunk_id and chunk.text == TEXTS[chunk.document_id]


def test_synth_writes_pairs_from_the_generator(
    collection: str, chunk_ids: dict[str, str], stack_env: Stack, tmp_path: Path
) -> None:
    out = tmp_path / "synth.jsonl"
    args = ["synth", "--collection", collection, "--out", str(out), "--chunks", "3"]
    assert main([*args, "--no-progress"]) == 0
    text = out.read_text(encoding="utf-8")
    found = load(out) if text.strip() else []  # a small base model may write no question
    for pair in found:
        assert pair.positive in TEXTS.values()
        assert pair.question.endswith("?") and "\n" not in pair.question
