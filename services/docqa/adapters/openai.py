"""The Generator on an OpenAI-compatible server: vLLM in production, llama.cpp's server locally.

Protocol facts (vLLM ``entrypoints/openai``; llama.cpp ``tools/server``, checked on xllamacpp):

* mode "chat": ``POST /v1/chat/completions`` with ``messages``; mode "completion":
  ``POST /v1/completions`` with ``prompt``. Streams are SSE ``data: {chunk}`` lines, then
  ``data: [DONE]``; chat chunks carry ``choices[0].delta.content`` (null in the role-only first
  chunk), completion chunks ``choices[0].text``; ``stream_options.include_usage`` adds a last
  chunk with ``choices: []`` and ``usage``. ``: ...`` lines are keep-alives. vLLM reports an
  error mid-stream as a chunk ``{"error": {...}}``.
* ``GET /v1/models``: vLLM cards have ``max_model_len``; llama.cpp cards have ``meta.n_ctx`` (the
  per-slot context in use; older builds only ``meta.n_ctx_train``) and ``GET /props`` has
  ``default_generation_settings.n_ctx``.
* ``POST /tokenize`` (server root): vLLM ``{"model", "prompt"}`` -> ``{"count", "max_model_len",
  "tokens"}`` (it logs unknown fields, so each server gets only its own); llama.cpp
  ``{"content", "add_special"}`` -> ``{"tokens"}`` (it ignores ``prompt``: ``{"tokens": []}``).
* Errors: ``{"error": {"message", "type", "code"}}``; older vLLM flat ``{"object": "error",
  "message", "type", "code"}``. A prompt over the context is a 400 ("maximum context length is
  N tokens"; llama.cpp: "exceeds the available context size"): the message is kept.
* ``GET /health``: 200 when ready (llama.cpp: 503 while loading the model).
* Repetition controls: both take OpenAI's ``frequency_penalty`` and ``presence_penalty``
  (-2..2, 0 off). The multiplicative penalty (CTRL's, 1.0 off) is ``repetition_penalty`` on
  vLLM (an extra sampling field; over prompt and output tokens) and ``repeat_penalty`` on
  llama.cpp (over its last ``repeat_last_n`` tokens, 64 by default). Each is sent only when
  configured, so the server's own default holds otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import httpx

from docqa.adapters import _openai
from docqa.adapters._openai import SERVICE, Json, Mode
from docqa.answer.prompting import check_roles
from docqa.core.config import Settings
from docqa.core.errors import Unavailable, UpstreamError
from docqa.core.models import Generation, Prompt, Usage

log = logging.getLogger(__name__)
__all__ = ["Mode", "OpenAIGenerator"]


class OpenAIGenerator:
    """``ports.Generator`` over HTTP. The ``httpx.AsyncClient`` is the caller's (lifespan)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        mode: Mode = "chat",
        model: str | None = None,
        api_key: str | None = None,
        timeout_s: float | None = None,
        repetition_penalty: float | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
    ) -> None:
        self._root = base_url.rstrip("/").removesuffix("/v1")  # ".../v1" or the server root
        self._client = client
        self.mode: Mode = mode
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout_s
        self._card: Json | None = None
        self._context_window: int | None = None
        self._tokenize_works = True
        self._repetition_penalty = repetition_penalty
        self._penalties: Json = {
            name: value
            for name, value in (
                ("frequency_penalty", frequency_penalty),
                ("presence_penalty", presence_penalty),
            )
            if value is not None
        }

    @classmethod
    def from_settings(cls, settings: Settings, client: httpx.AsyncClient) -> OpenAIGenerator:
        return cls(
            client,
            base_url=str(settings.generator_url),
            mode=settings.generator_mode,
            model=settings.generator_model,
            api_key=settings.generator_api_key,
            timeout_s=settings.generator_timeout_s,
            repetition_penalty=settings.generator_repetition_penalty,
            frequency_penalty=settings.generator_frequency_penalty,
            presence_penalty=settings.generator_presence_penalty,
        )

    async def _send(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, *, stream: bool = False
    ) -> httpx.Response:
        """Send; transport failures become ``Unavailable``, error statuses ``UpstreamError``."""
        extra: Json = {} if self._timeout is None else {"timeout": self._timeout}
        request = self._client.build_request(
            method, self._root + path, json=body, headers=self._headers, **extra
        )
        try:
            response = await self._client.send(request, stream=stream)
            if response.status_code >= 400:
                await response.aread()
        except httpx.TimeoutException as exc:
            raise Unavailable(f"generator timed out ({path})", service=SERVICE) from exc
        except httpx.TransportError as exc:
            raise Unavailable(f"generator unreachable ({path}): {exc}", service=SERVICE) from exc
        if response.status_code >= 400:
            await response.aclose()
            raise _openai.upstream_error(response.status_code, response.text)
        return response

    async def _json(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Json:
        return _openai.json_object((await self._send(method, path, body)).text)

    async def _model_card(self) -> Json:
        """The configured model's card from ``/v1/models`` (the first one if none configured)."""
        if self._card is None:
            listing = await self._json("GET", "/v1/models")
            cards = [c for c in listing.get("data") or [] if isinstance(c, dict)]
            if not cards:
                raise UpstreamError("generator lists no models", service=SERVICE)
            named = [c for c in cards if self._model in (c.get("id"), *c.get("aliases", ()))]
            # llama.cpp answers to any model name, so an unknown name falls back to its model.
            self._card = named[0] if named else cards[0]
        return self._card

    async def model(self) -> str:
        """The model name sent in requests: the configured one, else the server's first."""
        return self._model or str((await self._model_card())["id"])

    async def context_window(self) -> int:
        if self._context_window is None:
            card = await self._model_card()
            meta = card.get("meta") if isinstance(card.get("meta"), dict) else None
            found = card.get("max_model_len") or (meta or {}).get("n_ctx")
            if not found and meta is not None:  # llama.cpp without meta.n_ctx: ask /props
                try:
                    props = await self._json("GET", "/props")
                    found = props["default_generation_settings"]["n_ctx"]
                except (UpstreamError, KeyError, TypeError):
                    found = meta.get("n_ctx_train")
            if not isinstance(found, int) or found <= 0:
                raise UpstreamError("generator did not report its context size", service=SERVICE)
            self._context_window = found
        return self._context_window

    async def count_tokens(self, text: str) -> int:
        if not self._tokenize_works:
            return _openai.estimate_tokens(text)
        try:
            card = await self._model_card()
            if "max_model_len" in card:  # vLLM
                body: Json = {"model": await self.model(), "prompt": text}
            else:  # llama.cpp (BOS included, as when it tokenizes a prompt)
                body = {"content": text, "add_special": True}
            result = await self._json("POST", "/tokenize", body)
            count = result.get("count")
            return count if isinstance(count, int) else len(result["tokens"])
        except (UpstreamError, KeyError, TypeError) as exc:
            if isinstance(exc, UpstreamError) and exc.status in (404, 405, 501):
                self._tokenize_works = False  # no such endpoint: stop asking
            log.warning("tokenize failed (%s); estimating token counts", exc)
            return _openai.estimate_tokens(text)

    async def _request(
        self, prompt: Prompt, max_tokens: int, temperature: float, stream: bool
    ) -> tuple[str, Json]:
        body: Json = {"model": await self.model(), "max_tokens": max_tokens}
        body |= {"temperature": temperature, "stream": stream} | self._penalties
        if self._repetition_penalty is not None:
            vllm = "max_model_len" in await self._model_card()
            body["repetition_penalty" if vllm else "repeat_penalty"] = self._repetition_penalty
        if stream:
            body["stream_options"] = {"include_usage": True}
        if self.mode == "chat":
            check_roles(prompt.messages)  # no system role; user/assistant alternate
            body["messages"] = [{"role": m.role, "content": m.content} for m in prompt.messages]
            return "/v1/chat/completions", body
        body["prompt"] = prompt.text
        if prompt.stop:
            body["stop"] = list(prompt.stop)
        return "/v1/completions", body

    async def generate(
        self, prompt: Prompt, *, max_tokens: int, temperature: float = 0.0
    ) -> Generation:
        path, body = await self._request(prompt, max_tokens, temperature, stream=False)
        result = await self._json("POST", path, body)
        choices = result.get("choices") or [None]
        if not isinstance(choices[0], dict):
            raise UpstreamError("generator answered with no choices", service=SERVICE)
        return Generation(
            text=_openai.piece(choices[0], self.mode),
            usage=_openai.usage(result.get("usage")),
            finish_reason=choices[0].get("finish_reason"),
        )

    async def stream(
        self, prompt: Prompt, *, max_tokens: int, temperature: float = 0.0
    ) -> AsyncGenerator[str | Generation, None]:
        path, body = await self._request(prompt, max_tokens, temperature, stream=True)
        response = await self._send("POST", path, body, stream=True)
        pieces: list[str] = []
        usage: Usage | None = None
        finish: str | None = None
        try:  # closing this generator early closes the response: the server stops generating
            async for line in response.aiter_lines():
                data = _openai.sse_data(line)
                if data is None:
                    continue
                if data.strip() == "[DONE]":
                    break
                chunk = _openai.stream_chunk(data)
                usage = _openai.usage(chunk.get("usage")) or usage
                for choice in chunk.get("choices") or []:
                    finish = choice.get("finish_reason") or finish
                    if piece := _openai.piece(choice, self.mode):
                        pieces.append(piece)
                        yield piece
        except httpx.TimeoutException as exc:
            raise Unavailable("generator stream timed out", service=SERVICE) from exc
        except httpx.TransportError as exc:
            raise Unavailable(f"generator stream broke: {exc}", service=SERVICE) from exc
        finally:
            await response.aclose()
        yield Generation(text="".join(pieces), usage=usage, finish_reason=finish)

    async def check(self) -> None:
        try:
            await self._send("GET", "/health")
        except Unavailable:
            raise
        except UpstreamError as exc:
            raise Unavailable(exc.detail, service=SERVICE, status=exc.status) from exc
