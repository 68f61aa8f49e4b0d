"""Questions: ``/search`` (ranked chunks) and ``/ask`` (a cited answer, optionally streamed)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from functools import partial

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from docqa.answer import asking
from docqa.answer.answering import Answer
from docqa.api.deps import GeneratorDep, PrincipalDep, RetrieverDep, SettingsDep
from docqa.api.problems import Problem, responses, status_of
from docqa.api.schemas.answers import (
    AskRequest,
    AskResponse,
    SearchHit,
    SearchRequest,
    SearchResults,
    Source,
    Timings,
    UsageOut,
    hit_fields,
)
from docqa.api.schemas.support import support_fields
from docqa.core.config import Settings
from docqa.core.errors import DocqaError
from docqa.search.retrieval import LeftOut, Retrieved, Retriever

router = APIRouter(tags=["questions"])

_SSE_DOC = (
    'With `stream: true`: `text/event-stream` with `event: token` (`{"text"}`) as the model '
    "writes, then one `event: sources` (the AskResponse without `answer`, plus the final "
    "`answer`), then `event: done`. A failure after the stream began is an `event: error` "
    "carrying a problem+json body."
)


def _retrieve(body: SearchRequest, retriever: Retriever, settings: Settings) -> Retrieved:
    return retriever.retrieve(
        body.question,
        body.collection,
        top_k=body.top_k,
        where=body.filter,
        mode=body.mode or settings.search_mode,
        rerank=settings.rerank_by_default if body.rerank is None else body.rerank,
    )


@router.post(
    "/search",
    operation_id="search",
    summary="The chunks nearest to a question, best first",
    responses=responses(401, 403, 404, 409, 413, 422, 429, 503),
)
def search(
    body: SearchRequest, caller: PrincipalDep, settings: SettingsDep, retriever: RetrieverDep
) -> SearchResults:
    caller.require(body.collection, "read")
    started = time.perf_counter()
    found = _retrieve(body, retriever, settings)
    took = (time.perf_counter() - started) * 1000
    hits = [SearchHit(**hit_fields(hit)) for hit in found.hits]
    return SearchResults(hits=hits, took_ms=took, degraded=list(found.degraded))


@router.post(
    "/ask",
    operation_id="ask",
    summary="Answer a question from the collection, citing sources as [n]",
    description=_SSE_DOC,
    response_model=AskResponse,
    responses={
        200: {  # each event's data is a JSON object whose shape depends on the event's name
            "content": {"text/event-stream": {"schema": {"description": "token, sources, done"}}}
        },
        **responses(401, 403, 404, 409, 413, 422, 429, 502, 503),
    },
)
async def ask(
    body: AskRequest,
    caller: PrincipalDep,
    settings: SettingsDep,
    retriever: RetrieverDep,
    generator: GeneratorDep,
) -> AskResponse | StreamingResponse:
    if body.use_retrieval:
        caller.require(body.collection, "read")
    started = time.perf_counter()
    underway = await asking.ask(
        body.question,
        generator,
        retrieve=partial(_retrieve, body, retriever, settings) if body.use_retrieval else None,
        min_score=settings.min_score,
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        embed=asking.embedder_of(retriever) if body.use_retrieval else None,
        mode=(body.answer_mode or settings.answer_mode) if body.use_retrieval else "generate",
        abstain=weighs_evidence(settings, body.mode, body.rerank),
    )
    if body.stream:
        return _sse(underway.pieces, started, underway.retrieved, underway.degraded)
    result = await asking.whole(underway.pieces)
    return _response(result, started, underway.retrieved, underway.degraded)


def weighs_evidence(settings: Settings, mode: str | None, rerank: bool | None) -> bool:
    """Whether the evidence rule applies: configured, and the search is the one it was fitted
    on (hybrid with the shipped fusion, no reranking)."""
    reranked = settings.rerank_by_default if rerank is None else rerank
    hybrid = (mode or settings.search_mode) == "hybrid" and settings.fusion == "convex"
    return settings.abstention == "evidence" and hybrid and not reranked


def _response(
    result: Answer, started: float, retrieved: float, degraded: tuple[LeftOut, ...] = ()
) -> AskResponse:
    now = time.perf_counter()
    usage = result.usage
    return AskResponse(
        answer=result.text,
        sources=[Source(n=n, **hit_fields(hit)) for n, hit in enumerate(result.sources, start=1)],
        usage=UsageOut(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
        )
        if usage
        else None,
        timings=Timings(
            retrieval_ms=(retrieved - started) * 1000,
            generation_ms=(now - retrieved) * 1000 - result.check_ms,
            check_ms=result.check_ms,
            total_ms=(now - started) * 1000,
        ),
        degraded=list(degraded),
        cut=result.cut,
        answered_by=result.answered_by,
        **support_fields(result.checked, result.sources),
    )


def _sse(
    pieces: AsyncIterator[str | Answer],
    started: float,
    retrieved: float,
    degraded: tuple[LeftOut, ...] = (),
) -> StreamingResponse:
    events = _events(pieces, started, retrieved, degraded)
    return StreamingResponse(events, media_type="text/event-stream")


def _event(name: str, data: object) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


async def _events(
    pieces: AsyncIterator[str | Answer],
    started: float,
    retrieved: float,
    degraded: tuple[LeftOut, ...] = (),
) -> AsyncIterator[str]:
    try:
        async for item in pieces:
            if isinstance(item, Answer):
                response = _response(item, started, retrieved, degraded)
                yield _event("sources", response.model_dump())
            else:
                yield _event("token", {"text": item})
    except DocqaError as exc:
        problem = Problem(title=exc.title, status=status_of(exc), detail=exc.detail)
        yield _event("error", problem.model_dump(exclude_none=True))
    yield _event("done", {})
