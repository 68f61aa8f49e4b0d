"""``docqa synth``: generated questions are kept only when they look like one question."""

from __future__ import annotations

import asyncio

import pytest

from docqa.core.errors import Unavailable, UpstreamError
from docqa.core.models import Chunk
from docqa.core.ports import Generator
from docqa.training.pairs import Pair
from docqa.training.synth import CUE, EXAMPLE_QUESTION, prompt, question_of, synthesize
from support.fakes import ScriptedGenerator


def chunk(n: int, text: str) -> Chunk:
    return Chunk(document_id=f"doc{n}", position=0, text=text)


def test_the_prompt_asks_for_a_question_about_the_passage() -> None:
    made = prompt("  Lava cools into basalt.  ")
    assert made.text.endswith("Passage: Lava cools into basalt.\n" + CUE)
    assert made.stop == ("\n",)
    assert len(made.messages) == 1 and made.messages[0].role == "user"
    assert made.messages[0].content.endswith("Passage: Lava cools into basalt.")


@pytest.mark.parametrize(
    ("generated", "kept"),
    [
        (" What does lava cool into? ", "What does lava cool into?"),
        ("What does lava cool into", None),
        ("", None),
        ("   ", None),
        ("What is lava?\nWhat is basalt?", None),
        (EXAMPLE_QUESTION, None),
    ],
)
def test_only_one_line_ending_in_a_question_mark_is_a_question(
    generated: str, kept: str | None
) -> None:
    assert question_of(generated) == kept


def test_synthesize_keeps_good_questions_in_order_and_drops_the_rest() -> None:
    texts = ["Lava cools into basalt.", "Bees dance.", "Etna is on Sicily.", "Drones are male."]
    generator = ScriptedGenerator(
        by_passage={
            texts[0]: " What does lava cool into?",
            texts[1]: "bees dance",  # no question mark
            texts[2]: UpstreamError("server error 500", service="generator", status=500),
            texts[3]: "What are male bees called?",
        }
    )
    typed: Generator = generator
    found = asyncio.run(synthesize([chunk(n, t) for n, t in enumerate(texts)], typed))
    assert found == [
        Pair("What does lava cool into?", texts[0]),
        Pair("What are male bees called?", texts[3]),
    ]
    assert len(generator.prompts) == 4


def test_an_unreachable_generator_stops_the_run() -> None:
    generator = ScriptedGenerator(by_passage={"Lava": Unavailable("refused", service="generator")})
    with pytest.raises(Unavailable):
        asyncio.run(synthesize([chunk(0, "Lava cools into basalt.")], generator))
