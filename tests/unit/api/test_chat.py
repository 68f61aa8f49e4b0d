"""The OpenAI-compatible routes over fakes (``tests/support/fakes.py``): what reaches the generator
(the self-contained question, the client's instructions first in the one user turn), OpenAI's
shapes plain and streamed, and errors, also one that comes after the stream began."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from docqa.answer.answering import CLOSEST_NOTE, NOTHING_RELEVANT
from docqa.api.app import create_app
from docqa.core.config import Settings
from docqa.core.models import Chunk
from docqa.wiring import Services
from support.fakes import FakeRequestCounter, ScriptedGenerator, fake_services

TEXTS = {
    "pelora": "Mount Pelora is a volcano that last erupted in 1742.",
    "karsk": "Mount Karsk is a volcano that last erupted in 1911.",
}


@pytest.fixture
def services() -> Services:
    made = fake_services(Settings(min_score=0.0), generator=ScriptedGenerator("In 1911 [1]."))
    embedder = made.embedder
    made.store.ensure_collection("volcanoes", embedder.spec)
    chunks = [Chunk(doc, 0, text, {"title": doc.title()}) for doc, text in TEXTS.items()]
    made.store.upsert("volcanoes", chunks, embedder.embed([c.text for c in chunks]))
    made.keywords.upsert("volcanoes", chunks)
    return made


def client_for(services: Services) -> TestClient:
    return TestClient(create_app(services.settings, services=services))


def chat(*turns: tuple[str, str], **extra: Any) -> dict[str, Any]:
    messages = [{"role": role, "content": content} for role, content in turns]
    return {"model": "docqa/volcanoes", "messages": messages, "max_tokens": 8, **extra}


def test_the_generator_gets_the_follow_up_made_whole_and_the_instructions_first(
    services: Services,
) -> None:
    body = chat(
        ("system", "Answer like a pirate."),
        ("user", "What is Mount Karsk like?"),
        ("assistant", "A volcano [1]."),
        ("user", "When did it last erupt?"),
    )
    response = client_for(services).post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    completion = response.json()
    assert completion["object"] == "chat.completion"
    assert completion["model"] == "docqa/volcanoes"
    assert completion["choices"][0]["message"] == {"role": "assistant", "content": "In 1911 [1]."}
    assert completion["choices"][0]["finish_reason"] == "stop"
    assert completion["sources"][0]["document_id"] == "karsk"
    generator = services.generator
    assert isinstance(generator, ScriptedGenerator)
    (prompt,) = generator.prompts
    assert [m.role for m in prompt.messages] == ["user"]
    assert prompt.messages[0].content.startswith("Answer like a pirate.\n\nAnswer the question")
    assert prompt.text.startswith("Answer like a pirate.\n\n")
    assert "Question: What is Mount Karsk like? When did it last erupt?" in prompt.text


def test_a_stream_is_openais_chunks_with_sources_last_then_done(services: Services) -> None:
    body = chat(("user", "When did Mount Karsk last erupt?"), stream=True)
    response = client_for(services).post("/v1/chat/completions", json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    lines = [line for line in response.text.split("\n") if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "In 1911 [1]."
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["sources"][0]["document_id"] == "karsk"
    assert chunks[-1]["usage"]["completion_tokens"] == 3


def test_a_failure_after_the_stream_began_is_an_error_line_before_done(
    services: Services,
) -> None:
    generator = services.generator
    assert isinstance(generator, ScriptedGenerator)
    generator.down = "out of memory"
    body = chat(("user", "When did Mount Karsk last erupt?"), stream=True)
    lines = [
        line
        for line in client_for(services).post("/v1/chat/completions", json=body).text.split("\n")
        if line
    ]
    assert lines[-1] == "data: [DONE]"
    error = json.loads(lines[-2].removeprefix("data: "))["error"]
    assert error["type"] == "api_error" and "out of memory" in error["message"]


def test_models_and_errors_in_openais_shape(services: Services) -> None:
    client = client_for(services)
    assert client.get("/v1/models").json() == {
        "object": "list",
        "data": [{"id": "docqa/volcanoes", "object": "model", "created": 0, "owned_by": "docqa"}],
    }
    missing = client.post("/v1/chat/completions", json=chat(("user", "Hi?")) | {"model": "nope"})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"].startswith("model 'nope': there is no collection")
    ends_with_answer = client.post(
        "/v1/chat/completions", json=chat(("user", "Hi?"), ("assistant", "Hello."))
    )
    assert ends_with_answer.status_code == 422
    assert ends_with_answer.json()["error"]["message"] == (
        "messages: the last message must be the user's question"
    )
    image = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}
    refused = client.post(
        "/v1/chat/completions", json={"model": "docqa/volcanoes", "messages": [image]}
    )
    assert refused.status_code == 422 and refused.json()["error"]["param"]


def test_the_rate_limit_answers_in_openais_shape() -> None:
    services = fake_services(Settings(rate_limit_per_minute=1), counter=FakeRequestCounter())
    client = client_for(services)
    assert client.get("/v1/models").status_code == 200
    limited = client.get("/v1/models")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["type"] == "rate_limit_error"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"


def test_a_search_without_its_keyword_half_says_so(services: Services) -> None:
    keywords = services.keywords
    keywords.down = "restarting"  # type: ignore[attr-defined]
    body = chat(("user", "When did Mount Karsk last erupt?"))
    completion = client_for(services).post("/v1/chat/completions", json=body).json()
    assert completion["degraded"] == ["keyword"]
    assert completion["sources"][0]["document_id"] == "karsk"  # by meaning alone
    streamed = client_for(services).post("/v1/chat/completions", json=body | {"stream": True})
    last = json.loads(streamed.text.split("data: ")[-2])
    assert last["degraded"] == ["keyword"] and last["sources"]
    keywords.down = None  # type: ignore[attr-defined]
    assert client_for(services).post("/v1/chat/completions", json=body).json()["degraded"] == []


def test_the_completion_and_the_last_chunk_carry_each_sentences_support(
    services: Services,
) -> None:
    generator = services.generator
    assert isinstance(generator, ScriptedGenerator)
    generator.answers = ["Mount Karsk last erupted in 1911 [2]. Bananas are yellow [1]."]
    client = client_for(services)
    body = chat(("user", "When did Mount Karsk last erupt?"), max_tokens=64)
    completion = client.post("/v1/chat/completions", json=body).json()
    sources = [source["document_id"] for source in completion["sources"]]
    karsk = sources.index("karsk") + 1
    first, second = completion["sentences"]
    assert first["supported"] and first["source"] == karsk
    assert not second["supported"]
    assert 0 < completion["grounded"] < 1
    content = completion["choices"][0]["message"]["content"]
    assert content[first["start"] : first["end"]] == first["text"]
    span = first["span"]
    assert completion["sources"][karsk - 1]["text"][span["start"] : span["end"]] == TEXTS["karsk"]
    assert span["document_start"] is None  # these chunks were stored without their offsets
    lines = [
        line
        for line in client.post("/v1/chat/completions", json={**body, "stream": True}).text.split(
            "\n"
        )
        if line and line != "data: [DONE]"
    ]
    last = json.loads(lines[-1].removeprefix("data: "))
    assert last["sentences"] == completion["sentences"]
    assert last["grounded"] == completion["grounded"] and last["answer"] == content


def test_an_extractive_completion_quotes_its_sources(services: Services) -> None:
    body = chat(("user", "When did Mount Karsk last erupt?"), answer_mode="extract")
    completion = client_for(services).post("/v1/chat/completions", json=body).json()
    assert completion["answered_by"] == "extract" and completion["grounded"] == 1.0
    content = completion["choices"][0]["message"]["content"]
    first = completion["sentences"][0]
    assert content.startswith(first["text"])
    assert first["text"] == f"{TEXTS['karsk']} [{first['source']}]"
    generator = services.generator
    assert isinstance(generator, ScriptedGenerator) and generator.prompts == []


def test_a_refusal_lists_the_closest_passages_as_such_plain_and_streamed(
    services: Services,
) -> None:
    # the cosine cut refuses (the evidence rule, the default, is tested with /ask)
    update = {"min_score": 0.99, "abstention": "min_score"}
    services.settings = services.settings.model_copy(update=update)
    client = client_for(services)
    body = chat(("user", "Which volcano erupted?"))
    completion = client.post("/v1/chat/completions", json=body).json()
    assert completion["answered_by"] == "none"
    assert completion["choices"][0]["message"]["content"] == NOTHING_RELEVANT + CLOSEST_NOTE
    assert {s["document_id"] for s in completion["sources"]} == set(TEXTS)
    streamed = client.post("/v1/chat/completions", json={**body, "stream": True}).text
    lines = [line for line in streamed.split("\n") if line and line != "data: [DONE]"]
    last = json.loads(lines[-1].removeprefix("data: "))
    assert last["answered_by"] == "none" and last["sources"] == completion["sources"]
    generator = services.generator
    assert isinstance(generator, ScriptedGenerator) and generator.prompts == []
