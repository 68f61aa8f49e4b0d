"""The question path as both question routes run it: ``/ask`` and ``/v1/chat/completions``
encode ``ask`` (retrieve, keep the relevant hits, then generate, extract, or both), plain and
streamed alike; the final answer checked sentence by sentence against its sources.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Literal

from anyio import to_thread

from docqa.answer import abstention, conversation, excerpts, prefetch, support
from docqa.answer.answering import Answer, prepare, refusal, relevant, stream_answer
from docqa.answer.prompting import NO_ANSWER
from docqa.core.errors import InvalidInput, Unavailable
from docqa.core.models import Hit
from docqa.core.ports import Generator
from docqa.search.retrieval import LeftOut, Retrieved, Retriever

log = logging.getLogger(__name__)

Mode = Literal["generate", "extract", "auto"]
# ``auto``: a generated answer less grounded than this (or cut as a loop) is replaced by the
# extractive one. Kept at 0.5 after a look on SQuAD train (214 questions, the embedded model,
# the support rule of 217dbbd): ``grounded`` is nearly always 0 or 1, so every threshold from
# 0.1 to 0.9 gives 50.5-52.3 % of answers holding a gold answer (1.0: 52.8 %, 2 more).
AUTO_MIN_GROUNDED = 0.5


@dataclass(frozen=True)
class Asking:
    """A question under way: the answer's pieces (text as it grows, then the ``Answer``), what
    the search left out, and when retrieval ended (``time.perf_counter``)."""

    pieces: AsyncGenerator[str | Answer, None]
    degraded: tuple[LeftOut, ...]
    retrieved: float


async def ask(
    question: str,
    generator: Generator,
    *,
    retrieve: Callable[[], Retrieved] | None,
    min_score: float,
    max_tokens: int,
    temperature: float,
    instructions: str = "",
    embed: support.Embed | None = None,
    mode: Mode = "generate",
    abstain: bool = False,
) -> Asking:
    """The question path that ``/ask`` and ``/v1/chat/completions`` both encode: retrieve (in a
    worker thread; ``retrieve`` None: the model answers alone), keep the relevant hits, fit the
    prompt (the client's ``instructions`` folded in ahead of docqa's, room kept for them), then
    the answer as ``stream_answer`` gives it. With retrieval and nothing relevant (an empty
    collection too), the answer is ``refusal``: "not in your documents", the closest passages
    listed as such, and the generator is not called. Read ``pieces`` to its end for
    the whole answer (``whole``). With ``embed``, the final answer's sentences are checked
    against its sources (``verify``).

    ``mode``: ``generate`` as above; ``extract``: no generator call, the answer quoted from the
    top passages (``excerpts``); ``auto``: generated, then replaced by the extractive answer
    when it is less grounded than ``AUTO_MIN_GROUNDED`` or was cut as a loop. Extracting needs
    retrieval and ``embed`` (``InvalidInput`` otherwise).

    ``abstain`` (with ``embed``): instead of the ``min_score`` cut, the hits are weighed by
    ``abstention.EVIDENCE`` (as it was fitted: all of them); when it refuses, the answer is
    ``refusal`` as above."""
    if mode != "generate" and (retrieve is None or embed is None):
        raise InvalidInput(f"answer_mode {mode!r} quotes the collection: it needs retrieval")
    hits: list[Hit] = []
    closest: list[Hit] = []  # what the search found, relevant or not: a refusal lists them
    degraded: tuple[LeftOut, ...] = ()
    if retrieve is not None:
        found = await to_thread.run_sync(retrieve)
        closest, degraded = found.hits, found.degraded
        hits = list(closest) if abstain and embed is not None else relevant(closest, min_score)
    if hits and abstain and embed is not None:
        ranked = await to_thread.run_sync(excerpts.candidates, question, hits, embed)
        if abstention.EVIDENCE.refuses(abstention.measures(question, hits, ranked)):
            hits = []
    retrieved = time.perf_counter()
    if retrieve is not None and not hits:
        return Asking(_just(refusal(closest)), degraded, retrieved)
    if mode == "extract" and embed is not None:
        return Asking(_extracted(question, hits, embed), degraded, retrieved)
    # The client's instructions go ahead of docqa's in the one user turn: keep room for them.
    extra = await generator.count_tokens(instructions) + 2 if instructions else 0
    fitted = await prepare(
        question,
        hits,
        generator,
        max_tokens=max_tokens + extra,
        use_retrieval=retrieve is not None,
    )
    if instructions:
        fitted = replace(fitted, prompt=conversation.fold(fitted.prompt, instructions))
    pieces = stream_answer(fitted, generator, max_tokens=max_tokens, temperature=temperature)
    if embed is not None:
        pieces = _verified(pieces, embed, question, fitted.sources, auto=mode == "auto")
    return Asking(pieces, degraded, retrieved)


def embedder_of(retriever: Retriever) -> support.Embed:
    """Embedding with the retriever's own embedder, built on use (it may be out: ``verify``)."""

    def embed(texts: Sequence[str]) -> list[list[float]]:
        return retriever.embedder().embed(texts)

    return embed


def verify(answer: Answer, embed: support.Embed, question: str = "") -> Answer:
    """``answer`` with its sentences checked against its sources and its citations corrected
    (``support.check``; ``question`` completes a short answer). Not checked: an answer
    without sources, the model's own "no answer", or when the embedder is out (logged; the
    answer is not lost for it)."""
    if not answer.sources or not answer.text or answer.text == NO_ANSWER:
        return answer
    try:
        checked = support.check(answer.text, answer.sources, embed, question=question)
    except Unavailable as exc:
        log.warning("answer not checked: the embedder is out (%s)", exc)
        return answer
    return replace(answer, text=checked.text, checked=checked)


def extract(question: str, hits: Sequence[Hit], embed: support.Embed) -> Answer:
    """The extractive answer (``excerpts.excerpt``), its sources the hits it may quote."""
    checked = excerpts.excerpt(question, hits, embed)
    return Answer(checked.text, tuple(hits), None, checked=checked, answered_by="extract")


def weak(answer: Answer) -> bool:
    """A generated answer ``auto`` replaces: empty (the model wrote nothing: 31 of 214 SQuAD
    train answers of the embedded model), cut as a loop, or checked and little grounded."""
    return (
        not answer.text.strip()
        or answer.cut
        or (answer.checked is not None and answer.checked.grounded < AUTO_MIN_GROUNDED)
    )


async def _extracted(
    question: str, hits: Sequence[Hit], embed: support.Embed
) -> AsyncGenerator[str | Answer, None]:
    result = await to_thread.run_sync(extract, question, hits, embed)
    yield result.text
    yield result


async def _verified(
    pieces: AsyncGenerator[str | Answer, None],
    embed: support.Embed,
    question: str,
    sources: Sequence[Hit],
    auto: bool = False,
) -> AsyncGenerator[str | Answer, None]:
    """``pieces`` with the final answer checked against ``question`` (in a worker thread:
    embedding is CPU work); with ``auto``, a weak answer replaced by the extractive one. The
    complete sentences are checked ahead while the rest is generated (``prefetch``), so
    that the final check finds most of its vectors already made."""
    vectors = prefetch.Vectors(embed)
    ahead = prefetch.Prefetch(vectors, sources, question)
    try:
        async with aclosing(pieces) as stream:
            async for item in stream:
                if isinstance(item, Answer):
                    began = time.perf_counter()
                    await ahead.settled()
                    item = await to_thread.run_sync(verify, item, vectors.embed, question)
                    item = replace(item, check_ms=(time.perf_counter() - began) * 1000)
                    if auto and weak(item):
                        item = await to_thread.run_sync(
                            extract, question, item.sources, vectors.embed
                        )
                else:
                    ahead.grow(item)
                yield item
    finally:
        ahead.cancel()


async def whole(pieces: AsyncIterator[str | Answer]) -> Answer:
    """The ``Answer`` that ends ``pieces`` (read to its end)."""
    async with aclosing(pieces) as stream:  # type: ignore[type-var]
        async for item in stream:
            if isinstance(item, Answer):
                return item
    raise AssertionError("the answer's pieces ended without an Answer")


async def _just(answer: Answer) -> AsyncGenerator[str | Answer, None]:
    yield answer.text
    yield answer
