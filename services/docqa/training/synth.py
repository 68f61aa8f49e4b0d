"""``docqa synth``: the generator writes a question for each of a sample of stored chunks; each
question and its chunk make a training pair.

A base model (completion mode) continues ``Passage: …\\nA question this passage answers:``
after one worked example; a chat model gets the same as an instruction. Only a single line
ending in "?" counts as a question: anything else the model writes is dropped, and so is a copy
of the example's question.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx
from tqdm import tqdm

from docqa import wiring
from docqa.adapters.openai import OpenAIGenerator
from docqa.core.config import Settings
from docqa.core.errors import Unavailable, UpstreamError
from docqa.core.models import Chunk, Message, Prompt
from docqa.core.ports import Generator
from docqa.training.pairs import Pair

EXAMPLE_PASSAGE = (
    "The Nile flows north through eleven countries and empties into the Mediterranean Sea."
)
EXAMPLE_QUESTION = "Into which sea does the Nile empty?"
CUE = "A question this passage answers:"


def prompt(passage: str) -> Prompt:
    text = (
        f"Passage: {EXAMPLE_PASSAGE}\n{CUE} {EXAMPLE_QUESTION}\n\nPassage: {passage.strip()}\n{CUE}"
    )
    ask = Message(
        "user",
        "Write one question that the passage below answers. Reply with the question only, "
        f"on one line.\n\nPassage: {passage.strip()}",
    )
    return Prompt(messages=(ask,), text=text, stop=("\n",))


def question_of(generated: str) -> str | None:
    """The generated text as a question, or None when it is not one non-empty line ending
    in "?" (or is the example's own question)."""
    text = generated.strip()
    if not text or "\n" in text or not text.endswith("?") or text == EXAMPLE_QUESTION:
        return None
    return text


async def synthesize(
    chunks: Sequence[Chunk],
    generator: Generator,
    *,
    max_tokens: int = 48,
    temperature: float = 0.0,
    concurrency: int = 4,
    progress: bool = False,
) -> list[Pair]:
    """One pair per chunk the generator wrote a usable question for, in the chunks' order.

    A chunk whose request the generator refuses (an error status) gives no pair; a generator
    that cannot be reached (``Unavailable``) stops the whole run."""
    limit = asyncio.Semaphore(concurrency)
    bar = tqdm(total=len(chunks), unit="chunk", disable=not progress)

    async def one(chunk: Chunk) -> Pair | None:
        async with limit:
            try:
                generated = await generator.generate(
                    prompt(chunk.text), max_tokens=max_tokens, temperature=temperature
                )
            except Unavailable:
                raise
            except UpstreamError:
                return None
            finally:
                bar.update(1)
        question = question_of(generated.text)
        return Pair(question, chunk.text) if question else None

    try:
        found = await asyncio.gather(*(one(chunk) for chunk in chunks))
    finally:
        bar.close()
    return list(dict.fromkeys(pair for pair in found if pair is not None))


async def from_collection(
    settings: Settings,
    collection: str,
    *,
    chunks: int,
    seed: int = 0,
    max_tokens: int = 48,
    temperature: float = 0.0,
    concurrency: int = 4,
    progress: bool = True,
) -> tuple[int, list[Pair]]:
    """Sample ``chunks`` stored chunks of ``collection`` and synthesize: (sampled, pairs)."""
    sampled = wiring.chroma_store(settings).sample(collection, chunks, seed)
    async with httpx.AsyncClient(timeout=settings.generator_timeout_s) as http:
        generator = OpenAIGenerator.from_settings(settings, http)
        pairs = await synthesize(
            [chunk for _, chunk in sampled],
            generator,
            max_tokens=max_tokens,
            temperature=temperature,
            concurrency=concurrency,
            progress=progress,
        )
    return len(sampled), pairs
