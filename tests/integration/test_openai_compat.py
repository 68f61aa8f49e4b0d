"""The OpenAI-compatible routes through the official ``openai`` client, against the stack:
models, plain and streamed completions with their sources, follow-ups made self-contained,
and errors in OpenAI's shape (keys and scopes on a private stack with API keys)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from support.api import ingest
from support.stacks import private_stack

MAX_TOKENS = 16
NOTHING_RELEVANT = "Your documents do not answer this question."
CLOSEST_NOTE = " The closest passages they hold are listed as sources: they do not answer it."
DOCUMENTS: list[dict[str, Any]] = [
    {
        "id": "pelora",
        "title": "Mount Pelora",
        "text": "Mount Pelora is a volcano in the north that last erupted in 1742, "
        "burying the valley town of Vessen under ash.",
    },
    {
        "id": "karsk",
        "title": "Mount Karsk",
        "text": "Mount Karsk is a volcano on the southern coast that last erupted in 1911, "
        "sending lava into the harbour of Lindo.",
    },
    {
        "id": "cake",
        "title": "Plum cake",
        "text": "Grandma Ilse's plum cake is baked at 180 degrees Celsius for 45 minutes.",
    },
]


@pytest.fixture(scope="module")
def corpus(api: httpx.Client) -> str:
    name = f"chat{uuid.uuid4().hex[:8]}"
    assert ingest(api, name, *DOCUMENTS)["state"] == "finished"
    return name


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{base_url}/v1", api_key="unused-without-keys", max_retries=0) as made:
        yield made


def user(text: str) -> ChatCompletionMessageParam:
    return {"role": "user", "content": text}


def sources(completion: Any) -> list[dict[str, Any]]:
    """docqa's extra field, which the client keeps in ``model_extra``."""
    return list(completion.model_extra["sources"])


def assert_checked(extra: dict[str, Any], answer: str) -> None:
    """docqa's support fields: each sentence indexes ``answer`` and names one of the sources;
    ``grounded`` is the share of their characters that are supported."""
    assert extra["answered_by"] == "generate"
    lengths = {True: 0, False: 0}
    for sentence in extra["sentences"]:
        assert answer[sentence["start"] : sentence["end"]] == sentence["text"]
        assert 1 <= sentence["source"] <= len(extra["sources"])
        lengths[sentence["supported"]] += sentence["end"] - sentence["start"]
    if extra["sentences"]:
        assert extra["grounded"] == round(lengths[True] / sum(lengths.values()), 4)
    else:  # the model said the sources lack the answer: nothing to check
        assert extra["grounded"] is None


def test_models_are_the_readable_collections(
    client: OpenAI, corpus: str, api: httpx.Client
) -> None:
    models = {model.id: model for model in client.models.list()}
    assert f"docqa/{corpus}" in models
    assert models[f"docqa/{corpus}"].owned_by == "docqa"
    listed = {c["name"]: c for c in api.get("/collections").json()["items"]}
    assert {f"docqa/{name}" for name in listed} == set(models)
    assert listed[corpus]["model"] and listed[corpus]["dimension"] > 0
    if not os.environ.get("BASE_URL"):
        assert listed[corpus]["rerank"] is False  # the stack the tests start has no reranker


def test_a_completion_answers_from_the_collection_with_its_sources(
    client: OpenAI, corpus: str
) -> None:
    completion = client.chat.completions.create(
        model=f"docqa/{corpus}",
        messages=[user("When did Mount Karsk last erupt?")],
        max_tokens=MAX_TOKENS,
    )
    assert completion.object == "chat.completion"
    assert completion.model == f"docqa/{corpus}"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content and choice.message.content != NOTHING_RELEVANT
    assert choice.finish_reason in ("stop", "length")
    assert completion.usage is not None and 0 < completion.usage.completion_tokens <= MAX_TOKENS
    found = sources(completion)
    assert found[0]["document_id"] == "karsk" and found[0]["n"] == 1
    assert "1911" in found[0]["text"]
    assert completion.model_extra is not None
    assert_checked(completion.model_extra, choice.message.content)


def test_a_streamed_completion_is_openais_chunks_then_done(
    client: OpenAI, corpus: str, base_url: str
) -> None:
    body: dict[str, Any] = {
        "model": f"docqa/{corpus}",
        "messages": [user("When did Mount Pelora last erupt?")],
        "max_tokens": MAX_TOKENS,
        "stream": True,
    }
    chunks = list(client.chat.completions.create(**body))
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text.strip()
    assert sum(1 for chunk in chunks if chunk.choices[0].delta.content) >= 2  # streamed
    last = chunks[-1]
    assert last.choices[0].finish_reason in ("stop", "length")
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert sources(last)[0]["document_id"] == "pelora"
    assert last.model_extra is not None
    assert_checked(last.model_extra, last.model_extra["answer"])
    # On the wire: server-sent events ending with OpenAI's sentinel.
    with httpx.stream("POST", f"{base_url}/v1/chat/completions", json=body, timeout=120) as raw:
        assert raw.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in raw.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines)
    assert json.loads(lines[-2][6:])["sources"][0]["document_id"] == "pelora"


def test_a_follow_up_by_pronoun_retrieves_what_the_explicit_question_does(
    client: OpenAI, corpus: str
) -> None:
    def top_source(messages: list[ChatCompletionMessageParam]) -> str:
        completion = client.chat.completions.create(
            model=f"docqa/{corpus}",
            messages=messages,
            max_tokens=4,
        )
        return str(sources(completion)[0]["document_id"])

    # The same follow-up could mean either volcano: the earlier turn decides, both ways.
    for volcano, expected in (("Mount Karsk", "karsk"), ("Mount Pelora", "pelora")):
        explicit = top_source([user(f"When did {volcano} last erupt?")])
        assert explicit == expected
        follow_up: list[ChatCompletionMessageParam] = [
            user(f"Tell me about {volcano}."),
            {"role": "assistant", "content": f"{volcano} is a volcano [1]."},
            user("When did it last erupt?"),
        ]
        assert top_source(follow_up) == explicit, volcano


def test_a_system_message_is_folded_in_and_a_changed_subject_stands_alone(
    client: OpenAI, corpus: str
) -> None:
    completion = client.chat.completions.create(
        model=f"docqa/{corpus}",
        messages=[
            {"role": "system", "content": "You are a terse assistant."},
            user("When did Mount Pelora last erupt?"),
            {"role": "assistant", "content": "In 1742 [1]."},
            user("How long is the plum cake baked?"),
        ],
        max_tokens=4,
    )
    assert sources(completion)[0]["document_id"] == "cake"


def test_nothing_relevant_and_unknown_models(client: OpenAI, corpus: str) -> None:
    completion = client.chat.completions.create(
        model=f"docqa/{corpus}", messages=[user("How do I reset my router password?")]
    )
    assert completion.choices[0].message.content == NOTHING_RELEVANT + CLOSEST_NOTE
    assert 1 <= len(sources(completion)) <= 3  # the closest passages, listed as such
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="docqa/no-such-collection", messages=[user("Hi?")])
    assert missing.value.body["message"].startswith("model 'docqa/no-such-collection'")  # type: ignore[index]
    assert missing.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(openai.UnprocessableEntityError) as invalid:
        client.chat.completions.create(model=f"docqa/{corpus}", messages=[])
    assert "messages" in invalid.value.message


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A stack of its own with API keys (no generator: these answers need none)."""
    keys = {name: f"{name}-{uuid.uuid4().hex}" for name in ("writer", "reader", "other")}
    specs = [
        {"key": keys["writer"], "name": "writer", "collections": ["kept"], "access": "write"},
        {"key": keys["reader"], "name": "reader", "collections": ["kept"], "access": "read"},
        {"key": keys["other"], "name": "other", "collections": ["elsewhere"], "access": "read"},
    ]
    with private_stack(
        tmp_path_factory,
        "keyed",
        why="it configures API keys",
        extra_env={"DOCQA_API_KEYS": json.dumps(specs)},
        generator=False,
    ) as stack:
        with httpx.Client(base_url=stack.base_url, timeout=120) as writer:
            writer.headers["Authorization"] = f"Bearer {keys['writer']}"
            assert ingest(writer, "kept", DOCUMENTS[0])["state"] == "finished"
        yield stack.base_url, keys


def test_keys_and_scopes_with_the_openai_client(keyed: tuple[str, dict[str, str]]) -> None:
    base_url, keys = keyed

    def as_key(key: str) -> OpenAI:
        return OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0)

    with pytest.raises(openai.AuthenticationError) as refused:
        as_key("not-a-key-0123456789").models.list()
    assert refused.value.body["type"] == "authentication_error"  # type: ignore[index]
    assert [m.id for m in as_key(keys["reader"]).models.list()] == ["docqa/kept"]
    assert [m.id for m in as_key(keys["other"]).models.list()] == []
    for name, expected in (("reader", ["kept"]), ("other", [])):
        listed = httpx.get(
            f"{base_url}/collections", headers={"Authorization": f"Bearer {keys[name]}"}
        )
        assert [c["name"] for c in listed.json()["items"]] == expected, name
    with pytest.raises(openai.PermissionDeniedError) as outside:
        as_key(keys["other"]).chat.completions.create(
            model="docqa/kept", messages=[user("When did Mount Pelora last erupt?")]
        )
    assert "may not read collection 'kept'" in outside.value.body["message"]  # type: ignore[index]
    answered = as_key(keys["reader"]).chat.completions.create(
        model="docqa/kept", messages=[user("How do I reset my router password?")]
    )
    assert answered.choices[0].message.content == NOTHING_RELEVANT + CLOSEST_NOTE
