"""The question path, top-down: question → hits (retrieval) → prompt that fits the model's
context → generator → answer whose every ``[n]`` maps to a source.

With ``use_retrieval`` off the model answers alone, so a user can see what retrieval changes.
When no hit reaches ``min_score`` (cosine similarity) the service says the collection does not
answer the question, and lists the closest passages as such, instead of letting the model
invent an answer (``refusal``).

A small model can loop (the same bullet until ``max_tokens``, a line of ``* * * *``): the
completion is read as a stream, and once ``repetition.find_loop`` sees a loop, generation
stops (the upstream stream is closed) and the answer ends where the first repetition began.
Streamed and whole answers take the same path, so they are cut alike; a stream shows only
text that no continuation can take back (citations resolved, then ``repetition.settled``),
the rest once the model stops.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Literal

from docqa.answer import repetition, support
from docqa.answer.citations import resolve_citations
from docqa.answer.prompting import FittedPrompt, fit_prompt
from docqa.core.errors import InvalidInput
from docqa.core.models import Generation, Hit, Usage
from docqa.core.ports import Generator

log = logging.getLogger(__name__)

# The collection does not answer: said instead of generating ("not in your documents"); with
# the closest passages listed as sources, ``CLOSEST_NOTE`` follows, saying what they are.
NOTHING_RELEVANT = "Your documents do not answer this question."
CLOSEST_NOTE = " The closest passages they hold are listed as sources: they do not answer it."
CLOSEST = 3  # how many of the closest passages a refusal lists
AnsweredBy = Literal["generate", "extract", "none"]


@dataclass(frozen=True)
class Answer:
    text: str
    sources: tuple[Hit, ...]
    usage: Usage | None
    cut: bool = False  # the model began repeating itself: the text ends before the repetition
    checked: support.Checked | None = None  # each sentence's support (None: not checked)
    answered_by: AnsweredBy = "generate"
    check_ms: float = 0.0  # what checking it took after the generator finished (``asking``)


def refusal(closest: Sequence[Hit]) -> Answer:
    """The "not in your documents" answer (``answered_by`` none, no generator call): the first
    ``CLOSEST`` of ``closest`` are its sources and its text says that they do not answer (an
    empty collection, or a filter that leaves nothing, has none to list)."""
    listed = tuple(closest[:CLOSEST])
    text = NOTHING_RELEVANT + (CLOSEST_NOTE if listed else "")
    return Answer(text, listed, None, answered_by="none")


def relevant(hits: Sequence[Hit], min_score: float) -> list[Hit]:
    """Hits found by meaning count when their cosine similarity reaches ``min_score``; when
    none does, nothing is relevant, whatever words keyword search matched. Hits found only by
    keyword (no similarity known) stay, in their place."""
    known = [hit.similarity for hit in hits if hit.similarity is not None]
    if known and max(known) < min_score:
        return []
    return [hit for hit in hits if hit.similarity is None or hit.similarity >= min_score]


async def prepare(
    question: str,
    hits: Sequence[Hit],
    generator: Generator,
    *,
    max_tokens: int,
    use_retrieval: bool,
) -> FittedPrompt:
    window = await generator.context_window()
    if max_tokens >= window:
        raise InvalidInput(
            f"max_tokens {max_tokens} does not fit the model's context of {window} tokens"
        )
    return await fit_prompt(
        question,
        hits,
        context_window=window,
        max_tokens=max_tokens,
        count_tokens=generator.count_tokens,
        use_retrieval=use_retrieval,
    )


async def answer(
    fitted: FittedPrompt, generator: Generator, *, max_tokens: int, temperature: float
) -> Answer:
    """The whole answer: the stream of ``stream_answer`` read to its end (so that a loop stops
    generation here too, and is cut exactly as a streamed answer is)."""
    pieces = stream_answer(fitted, generator, max_tokens=max_tokens, temperature=temperature)
    async with aclosing(pieces) as stream:
        async for item in stream:
            if isinstance(item, Answer):
                return item
    raise AssertionError("stream_answer ended without an Answer")


async def stream_answer(
    fitted: FittedPrompt, generator: Generator, *, max_tokens: int, temperature: float
) -> AsyncGenerator[str | Answer, None]:
    """Text pieces of the answer as it grows, then the finished ``Answer``; the pieces joined
    are its text. A piece is held back while a loop could still take it back; when a loop
    shows, generation stops and the answer is cut. Closing this iterator (a client that went
    away) closes the upstream request, which stops generation."""
    text = ""  # what the model wrote so far
    shown = ""  # what the pieces yielded so far: always a prefix of the answer's text
    seen = ""  # the answer as far as it is known: ``text`` resolved (``_resolved``)
    generation: Generation | None = None
    loop: repetition.Loop | None = None
    pieces = generator.stream(fitted.prompt, max_tokens=max_tokens, temperature=temperature)
    async with aclosing(pieces) as stream:  # leaving it closes the upstream request
        async for item in stream:
            if isinstance(item, Generation):
                generation = item
                break
            text += item
            seen = _resolved(text, fitted, final=False)
            loop = repetition.find_loop(seen, final=False)
            if loop is not None:
                break
            visible = seen[: repetition.settled(seen)]
            if len(visible) > len(shown):
                yield visible[len(shown) :]
                shown = visible
    if loop is None:
        seen = _resolved(generation.text if generation else text, fitted, final=True)
        loop = repetition.find_loop(seen)
    if loop is not None:
        log.info("answer cut: the model began repeating itself (%s %r)", loop.kind, loop.repeated)
        kept = seen[: repetition.clean_end(seen, loop.start)]
        result = Answer(text=kept.rstrip(), sources=fitted.sources, usage=None, cut=True)
    else:
        usage = generation.usage if generation else None
        result = Answer(text=seen, sources=fitted.sources, usage=usage)
    if len(result.text) > len(shown):
        yield result.text[len(shown) :]
    yield result


def _resolved(text: str, fitted: FittedPrompt, *, final: bool) -> str:
    """The answer as ``text`` shows it: stripped, citations resolved (``resolve_citations``).
    Before the end (``final`` false) an unclosed ``[`` near the end and the spaces before it
    are left out, since resolving may still remove them: so each result is a prefix of the
    next one, and of the final one."""
    text = text.lstrip()
    if final:
        text = text.rstrip()
    else:
        bracket = text.rfind("[")
        if bracket >= 0 and "]" not in text[bracket:] and len(text) - bracket <= 40:
            text = text[:bracket]
        text = text.rstrip(" \t")
    return resolve_citations(text, fitted.sources).text.lstrip()
