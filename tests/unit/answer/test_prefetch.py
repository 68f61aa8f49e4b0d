"""Checking ahead: the complete sentences of a streamed answer embedded while the rest is
written, so that the final check embeds only what is new, with the same verdicts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from docqa.answer import support
from docqa.answer.prefetch import Prefetch, Vectors
from docqa.core.models import Hit
from support.fakes import FakeEmbedder

SOURCES = [
    Hit("a", "a", "Mount Karsk erupted in 1911. Its ash fell on three valleys.", 0.9, {}),
    Hit("b", "b", "The observatory on Mount Karsk opened in 1950.", 0.8, {}),
]
QUESTION = "When did Mount Karsk erupt?"
ANSWER = "Mount Karsk erupted in 1911 [1]. The observatory opened in 1950 [2]. Ash fell."


class Recording:
    """An embedder that records every text it was asked to embed."""

    def __init__(self) -> None:
        self.fake = FakeEmbedder()
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return self.fake.embed(texts)


def streamed(answer: str, vectors: Vectors) -> None:
    """``answer`` fed word by word to a ``Prefetch``, each check ahead let finish."""

    async def feed() -> None:
        ahead = Prefetch(vectors, SOURCES, QUESTION)
        for word in answer.split(" "):
            ahead.grow(word + " ")
            await ahead.settled()

    asyncio.run(feed())


def test_vectors_embed_each_distinct_text_once() -> None:
    recording = Recording()
    vectors = Vectors(recording.embed)
    first = vectors.embed(["one", "two", "one"])
    again = vectors.embed(["two", "three"])
    assert recording.texts == ["one", "two", "three"]
    assert first[0] == first[2] == recording.fake.vector("one")
    assert again[0] == first[1]


def test_after_the_stream_the_final_check_embeds_only_the_last_sentence() -> None:
    alone = Recording()
    support.check(ANSWER, SOURCES, alone.embed, question=QUESTION)
    recording = Recording()
    vectors = Vectors(recording.embed)
    streamed(ANSWER, vectors)
    ahead = list(recording.texts)
    assert "Mount Karsk erupted in 1911." in ahead  # a complete sentence's claim, early
    assert "Ash fell." not in ahead  # the last sentence could still grow: not yet
    recording.texts.clear()
    support.check(ANSWER, SOURCES, vectors.embed, question=QUESTION)
    assert "Ash fell." in recording.texts
    assert len(recording.texts) < len(set(alone.texts))


def test_checking_ahead_leaves_the_verdicts_as_they_are() -> None:
    vectors = Vectors(FakeEmbedder().embed)
    streamed(ANSWER, vectors)
    ahead = support.check(ANSWER, SOURCES, vectors.embed, question=QUESTION)
    plain = support.check(ANSWER, SOURCES, FakeEmbedder().embed, question=QUESTION)
    assert ahead == plain


def test_a_failing_check_ahead_is_left_to_the_final_check() -> None:
    def down(texts: Sequence[str]) -> list[list[float]]:
        raise RuntimeError("embedder down")

    streamed(ANSWER, Vectors(down))  # nothing raised: the final check reports the outage
