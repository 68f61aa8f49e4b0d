"""The question path, top-down: question → hits (retrieval) → prompt that fits the model's
context → generator → answer whose every ``[n]`` maps to a source.

With ``use_retrieval`` off the model answers alone, so a user can see what retrieval changes.
When no hit reaches ``min_score`` (cosine similarity) the service says it found nothing
relevant instead of letting the model invent an answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass

from docqa.citations import resolve_citations
from docqa.errors import InvalidInput
from docqa.models import Generation, Hit, Usage
from docqa.ports import Generator
from docqa.prompting import FittedPrompt, fit_prompt

NOTHING_RELEVANT = "I found nothing relevant to this question in the collection."


@dataclass(frozen=True)
class Answer:
    text: str
    sources: tuple[Hit, ...]
    usage: Usage | None


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
    generation = await generator.generate(
        fitted.prompt, max_tokens=max_tokens, temperature=temperature
    )
    return finish(generation, fitted)


async def stream_answer(
    fitted: FittedPrompt, generator: Generator, *, max_tokens: int, temperature: float
) -> AsyncIterator[str | Answer]:
    """Text pieces as the model produces them, then the finished ``Answer``. Closing this
    iterator (a client that went away) closes the upstream request, which stops generation."""
    pieces = generator.stream(fitted.prompt, max_tokens=max_tokens, temperature=temperature)
    async with aclosing(pieces) as stream:
        async for item in stream:
            if isinstance(item, Generation):
                yield finish(item, fitted)
            else:
                yield item


def finish(generation: Generation, fitted: FittedPrompt) -> Answer:
    cited = resolve_citations(generation.text.strip(), fitted.sources)
    return Answer(text=cited.text, sources=fitted.sources, usage=generation.usage)
