"""Which hits count as relevant before the model sees them; how a looping answer is cut."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from docqa.answer.answering import (
    CLOSEST,
    CLOSEST_NOTE,
    NOTHING_RELEVANT,
    Answer,
    answer,
    refusal,
    relevant,
    stream_answer,
)
from docqa.answer.prompting import FittedPrompt
from docqa.answer.repetition import has_loop
from docqa.core.models import Generation, Hit, Message, Prompt, Usage


def hit(chunk_id: str, similarity: float | None) -> Hit:
    return Hit(chunk_id, "d", "text", 0.0, {}, similarity)


def test_dense_hits_below_min_score_are_dropped() -> None:
    hits = [hit("a", 0.6), hit("b", 0.2), hit("c", None)]
    assert [h.chunk_id for h in relevant(hits, 0.25)] == ["a", "c"]


def test_nothing_relevant_when_no_similarity_reaches_min_score() -> None:
    assert relevant([hit("a", 0.1), hit("b", None)], 0.25) == []


def test_a_refusal_lists_the_closest_passages_and_says_they_do_not_answer() -> None:
    closest = [hit(str(n), 0.1) for n in range(5)]
    refused = refusal(closest)
    assert refused.answered_by == "none" and refused.usage is None
    assert [h.chunk_id for h in refused.sources] == ["0", "1", "2"][:CLOSEST]
    assert refused.text == NOTHING_RELEVANT + CLOSEST_NOTE and "[" not in refused.text
    empty = refusal([])  # an empty collection: nothing to list, and the answer does not say so
    assert empty.text == NOTHING_RELEVANT and empty.sources == () and empty.answered_by == "none"


def test_keyword_only_hits_are_kept() -> None:
    hits = [hit("a", None), hit("b", None)]
    assert relevant(hits, 0.25) == hits
    assert relevant([], 0.25) == []


# --- the loop cut: streamed and whole answers, with a scripted generator --------------------


class ChunkedGenerator:
    """A ``Generator`` whose completion is ``text`` in ``size``-character pieces; it counts the
    pieces it gave and whether its stream was closed (what stops a real server generating)."""

    def __init__(self, text: str, size: int = 3, usage: Usage | None = Usage(40, 12)) -> None:
        self.text = text
        self.size = size
        self.usage = usage
        self.given = 0
        self.closed = False
        self.finished = False

    async def context_window(self) -> int:
        return 4096

    async def count_tokens(self, text: str) -> int:
        return len(text.split())

    async def generate(
        self, prompt: Prompt, *, max_tokens: int, temperature: float = 0.0
    ) -> Generation:
        raise AssertionError("answers are read as a stream, so that a loop stops generation")

    async def stream(
        self, prompt: Prompt, *, max_tokens: int, temperature: float = 0.0
    ) -> AsyncGenerator[str | Generation, None]:
        try:
            for start in range(0, len(self.text), self.size):
                self.given += 1
                yield self.text[start : start + self.size]
            self.finished = True
            yield Generation(text=self.text, usage=self.usage, finish_reason="length")
        finally:
            self.closed = True

    async def check(self) -> None:
        return None


def fitted(count: int = 2) -> FittedPrompt:
    sources = tuple(Hit(f"c{n}", f"d{n}", f"source {n}", 1.0, {}, 0.9) for n in range(count))
    prompt = Prompt(messages=(Message("user", "q"),), text="q\nAnswer:", stop=())
    return FittedPrompt(prompt=prompt, sources=sources, prompt_tokens=10, dropped=0)


async def streamed(generator: ChunkedGenerator, sources: int = 2) -> tuple[list[str], Answer]:
    pieces: list[str] = []
    final: Answer | None = None
    async for item in stream_answer(fitted(sources), generator, max_tokens=256, temperature=0):
        if isinstance(item, Answer):
            final = item
        else:
            pieces.append(item)
    assert final is not None
    return pieces, final


BULLETS = (
    " The FastAPI documentation explains [1]:\n"
    "* How to declare path parameters.\n"
    "* How to declare path parameters.\n"
    "* How to declare path parameters.\n"
    "* How to declare path parameters.\n"
    "* How to declare path parameters.\n" * 20
)
STARS = " It is in the tutorial [2].\n\n" + "* " * 200
CLEAN = (
    " The Normans gave their name to Normandy [1]. They descended from Norse raiders [2][7], "
    "and the Norman dynasty had a major impact on medieval Europe [1]."
)
SENTENCES = " Paris is the capital [1] and the capital of France is Paris and " * 12
LISTED = (
    " docqa can be used in several ways [1]:\n"
    "- It can be used to index documents.\n"
    "- It can be used to search them.\n"
    "- It can be used to answer questions [2].\n"
    "- It can be used to evaluate retrieval.\n"
)
TEXTS = [BULLETS, STARS, CLEAN, SENTENCES, LISTED, "", " [1", " Paris [9", "* * *"]


def test_a_looping_answer_is_cut_and_generation_stops_at_the_loop() -> None:
    generator = ChunkedGenerator(BULLETS)
    pieces, final = asyncio.run(streamed(generator))
    assert final.cut
    assert (
        final.text == "The FastAPI documentation explains [1]:\n* How to declare path parameters."
    )
    assert "".join(pieces) == final.text
    assert generator.closed and not generator.finished
    assert generator.given < len(BULLETS) // generator.size / 5  # stopped early, not at the end
    assert not has_loop(final.text)


def test_a_line_of_stars_is_cut_before_the_stars() -> None:
    pieces, final = asyncio.run(streamed(ChunkedGenerator(STARS, size=2)))
    assert final.cut and final.text == "It is in the tutorial [2]."
    assert "".join(pieces) == final.text


def test_an_answer_without_a_loop_is_whole_and_its_citations_resolved() -> None:
    generator = ChunkedGenerator(CLEAN)
    pieces, final = asyncio.run(streamed(generator))
    assert not final.cut and generator.finished
    assert final.text == CLEAN.strip().replace("[2][7]", "[2]")
    assert final.usage == Usage(40, 12)
    assert "".join(pieces) == final.text
    assert len(pieces) > 5  # it streamed as it grew, not all at the end


def test_a_list_whose_items_open_alike_is_not_cut() -> None:
    pieces, final = asyncio.run(streamed(ChunkedGenerator(LISTED)))
    assert not final.cut and final.text == LISTED.strip()
    assert "".join(pieces) == final.text


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 1000])
@pytest.mark.parametrize("text", TEXTS)
def test_a_stream_never_shows_what_the_answer_takes_back(text: str, size: int) -> None:
    """Each piece extends what was shown, and all of them are the answer: a whole answer and a
    streamed one are the same, however the completion arrives."""
    pieces, final = asyncio.run(streamed(ChunkedGenerator(text, size)))
    shown = ""
    for piece in pieces:
        shown += piece
        assert final.text.startswith(shown)
    assert shown == final.text
    whole = asyncio.run(
        answer(fitted(), ChunkedGenerator(text, size), max_tokens=256, temperature=0)
    )
    assert whole == final
    assert not has_loop(final.text)


def test_citations_and_sources_hold_on_a_cut_answer() -> None:
    # [1] survives the cut; [5] (no such source) is removed, as in any answer.
    looping = " Paris [1][5] is the capital.\nParis.\nParis.\nParis.\nParis.\n"
    pieces, final = asyncio.run(streamed(ChunkedGenerator(looping, 2), sources=2))
    assert final.cut
    assert final.text == "Paris [1] is the capital.\nParis."
    assert "".join(pieces) == final.text
    assert [hit.chunk_id for hit in final.sources] == ["c0", "c1"]


def test_closing_the_answer_stream_closes_the_generator() -> None:
    async def first_piece(generator: ChunkedGenerator) -> None:
        stream = stream_answer(fitted(), generator, max_tokens=256, temperature=0)
        await anext(stream)
        await stream.aclose()

    generator = ChunkedGenerator(CLEAN)
    asyncio.run(first_piece(generator))
    assert generator.closed and not generator.finished
