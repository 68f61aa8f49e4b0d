"""The OpenAI-compatible routes: any chat client that speaks OpenAI's API can use docqa.

- ``GET /v1/models``: the collections the caller's key may read, each as ``docqa/<collection>``.
- ``POST /v1/chat/completions``: the chat's question (``docqa.answer.conversation``: the last user
  message, made self-contained from earlier turns when it refers back; ``system`` messages
  folded into the first user turn) answered from that collection with ``/ask``'s retrieval,
  prompt and citations (``docqa.answer.asking``). ``stream: true`` answers in OpenAI's chunk
  format (``data: {"object": "chat.completion.chunk", ...}`` lines, then ``data: [DONE]``). The
  sources travel in an extra ``sources`` field of the completion and of the last chunk, with
  ``degraded`` (what the search left out because it was down, as ``/ask`` says), ``grounded``
  and ``sentences`` (each sentence's support, ``docqa.answer.support``); the last chunk also
  carries the whole ``answer`` as checked (citations corrected), which the sentences' spans
  index.

Errors are OpenAI's ``{"error": {...}}`` shape (``api/openai_errors.py``), the same keys and
scopes as every other route.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from functools import partial
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from docqa.answer import asking, conversation
from docqa.answer.answering import Answer
from docqa.api import openai_errors
from docqa.api.deps import (
    GeneratorDep,
    PrincipalDep,
    RetrieverDep,
    SettingsDep,
    StoreDep,
)
from docqa.api.problems import status_of
from docqa.api.routes.answers import weighs_evidence
from docqa.api.routes.listing import readable
from docqa.api.schemas.answers import Source, UsageOut, hit_fields
from docqa.api.schemas.chat import (
    MODEL_PREFIX,
    ChatCompletion,
    ChatMessageOut,
    ChatRequest,
    Choice,
    ModelList,
    ModelOut,
)
from docqa.api.schemas.support import support_fields
from docqa.core.errors import DocqaError, NotFound
from docqa.core.models import Hit
from docqa.search.retrieval import LeftOut

router = APIRouter(prefix="/v1", tags=["openai"])

DEFAULT_MAX_TOKENS = 256  # as /ask

_STREAM_DOC = (
    "With `stream: true`: `text/event-stream` of `data: <chat.completion.chunk>` lines (the "
    "first with the assistant role, then the text as the model writes it, the last with "
    "`finish_reason`, `usage` and docqa's `sources`, `grounded`, `sentences` and `answer`: the "
    "whole text as checked, citations corrected, which the sentences' spans index), then "
    "`data: [DONE]`. A failure after the "
    'stream began is a `data: {"error": {...}}` line before `[DONE]`.'
)


def collection_of(model: str) -> str:
    return model.removeprefix(MODEL_PREFIX)


@router.get(
    "/models",
    operation_id="openai_list_models",
    summary="OpenAI-compatible: the collections the caller may read, as models",
    responses=openai_errors.responses(401, 429, 503),
)
def list_models(caller: PrincipalDep, store: StoreDep) -> ModelList:
    names = readable(caller, store)
    return ModelList(data=[ModelOut(id=f"{MODEL_PREFIX}{name}", created=0) for name in names])


@router.post(
    "/chat/completions",
    operation_id="openai_chat_completion",
    summary="OpenAI-compatible: answer the chat's last question from the model's collection",
    description=_STREAM_DOC,
    response_model=ChatCompletion,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"description": "chunks, [DONE]"}}}},
        **openai_errors.responses(400, 401, 403, 404, 409, 413, 422, 429, 502, 503),
    },
)
async def chat_completion(
    body: ChatRequest,
    caller: PrincipalDep,
    settings: SettingsDep,
    store: StoreDep,
    retriever: RetrieverDep,
    generator: GeneratorDep,
) -> ChatCompletion | StreamingResponse:
    collection = collection_of(body.model)
    caller.require(collection, "read")
    chat = conversation.read(
        [conversation.Turn(m.role, m.text()) for m in body.messages if m.role != "tool"]
    )
    if await run_in_threadpool(store.collection_spec, collection) is None:
        raise NotFound(
            f"model {body.model!r}: there is no collection {collection!r} (GET /v1/models "
            "lists them; a collection exists once a document in it is indexed)"
        )
    max_tokens = body.max_completion_tokens or body.max_tokens or DEFAULT_MAX_TOKENS
    temperature = 0.0 if body.temperature is None else body.temperature
    retrieve = partial(
        retriever.retrieve,
        chat.question,
        collection,
        top_k=body.top_k,
        where=body.filter,
        mode=body.mode or settings.search_mode,
        rerank=settings.rerank_by_default if body.rerank is None else body.rerank,
    )
    underway = await asking.ask(
        chat.question,
        generator,
        retrieve=retrieve,
        min_score=settings.min_score,
        max_tokens=max_tokens,
        temperature=temperature,
        instructions=chat.instructions,
        embed=asking.embedder_of(retriever),
        mode=body.answer_mode or settings.answer_mode,
        abstain=weighs_evidence(settings, body.mode, body.rerank),
    )
    reply = Reply(body.model, max_tokens, underway.degraded)
    if body.stream:
        return reply.stream(underway.pieces)
    return reply.completion(await asking.whole(underway.pieces))


class Reply:
    """One completion's id, time and model, in both of OpenAI's forms."""

    def __init__(self, model: str, max_tokens: int, degraded: tuple[LeftOut, ...] = ()) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model
        self.max_tokens = max_tokens
        self.degraded = list(degraded)

    def finish_reason(self, answer: Answer) -> str:
        usage = answer.usage
        return "length" if usage and usage.completion_tokens >= self.max_tokens else "stop"

    def completion(self, answer: Answer) -> ChatCompletion:
        return ChatCompletion(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[
                Choice(
                    message=ChatMessageOut(content=answer.text),
                    finish_reason="length" if self.finish_reason(answer) == "length" else "stop",
                )
            ],
            usage=_usage(answer),
            sources=_sources(answer),
            degraded=self.degraded,
            answered_by=answer.answered_by,
            **support_fields(answer.checked, answer.sources),
        )

    def stream(self, pieces: AsyncIterator[str | Answer]) -> StreamingResponse:
        return StreamingResponse(self._chunks(pieces), media_type="text/event-stream")

    def _chunk(self, delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
        chunk = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(chunk)}\n\n"

    async def _chunks(self, pieces: AsyncIterator[str | Answer]) -> AsyncIterator[str]:
        yield self._chunk({"role": "assistant", "content": ""})
        try:
            async with aclosing(pieces) as stream:  # type: ignore[type-var]
                async for item in stream:
                    if isinstance(item, Answer):
                        usage = _usage(item)
                        checked = support_fields(item.checked, item.sources)
                        yield self._chunk(
                            {},
                            self.finish_reason(item),
                            usage=usage.model_dump() if usage else None,
                            sources=[source.model_dump() for source in _sources(item)],
                            degraded=self.degraded,
                            answer=item.text,
                            answered_by=item.answered_by,
                            grounded=checked["grounded"],
                            sentences=[s.model_dump() for s in checked["sentences"]],
                        )
                    elif item:
                        yield self._chunk({"content": item})
        except DocqaError as exc:
            error = openai_errors.error_body(status_of(exc), exc.detail)
            yield f"data: {json.dumps(error)}\n\n"
        yield "data: [DONE]\n\n"


def _usage(answer: Answer) -> UsageOut | None:
    usage = answer.usage
    if usage is None:
        return None
    return UsageOut(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
    )


def _sources(answer: Answer) -> list[Source]:
    return [_source(n, hit) for n, hit in enumerate(answer.sources, start=1)]


def _source(n: int, hit: Hit) -> Source:
    return Source(n=n, **hit_fields(hit))
