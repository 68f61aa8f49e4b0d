"""Each answer sentence checked against the passages: its best span, score and ``supported``;
wrong citations reported and corrected; ``grounded``; everything embedded in one call."""

from __future__ import annotations

from collections.abc import Sequence

from docqa.answer.support import RULE, Rule, check
from docqa.core.models import Hit
from support.fakes import FakeEmbedder

PELORA = "Mount Pelora is a volcano in the north. It last erupted in 1742."
KARSK = "Mount Karsk is a volcano in the south. It last erupted in 1911."
SOURCES = (
    Hit("p:0", "pelora", PELORA, 1.0, {"start": 100}),
    Hit("k:0", "karsk", KARSK, 0.9, {"start": 0}),
)


class CountingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__(dimension=512)
        self.batches: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.batches.append(list(texts))
        return super().embed(texts)


def test_a_supported_sentence_gets_its_passage_and_span() -> None:
    embedder = CountingEmbedder()
    checked = check("Mount Karsk last erupted in 1911 [2].", SOURCES, embedder.embed)
    (sentence,) = checked.sentences
    assert sentence.supported and sentence.score >= RULE.threshold
    assert (sentence.source, sentence.cited, sentence.corrected) == (2, (2,), False)
    assert KARSK[sentence.span_start : sentence.span_end] == "It last erupted in 1911."
    assert checked.grounded == 1.0
    assert checked.text == "Mount Karsk last erupted in 1911 [2]."
    # the answer's sentence and the four passage sentences, in one batch
    assert [len(batch) for batch in embedder.batches] == [5]
    assert embedder.batches[0][0] == "Mount Karsk last erupted in 1911."  # the mark left out


def test_an_unsupported_sentence_is_marked_and_grounded_counts_characters() -> None:
    text = "Mount Karsk last erupted in 1911 [2]. Bananas are a yellow fruit [1]."
    checked = check(text, SOURCES, CountingEmbedder().embed)
    first, second = checked.sentences
    assert first.supported and not second.supported
    assert (second.start, second.end) == (38, len(text))
    assert checked.grounded == round(37 / (37 + len(text) - 38), 4)


def test_a_wrong_citation_is_corrected_to_the_passage_that_supports_it() -> None:
    text = "Mount Karsk last erupted in 1911 [1]. Mount Pelora is in the north [1]."
    checked = check(text, SOURCES, CountingEmbedder().embed)
    first, second = checked.sentences
    assert first.corrected and first.cited == (1,) and first.source == 2
    assert first.text == "Mount Karsk last erupted in 1911 [2]."
    assert not second.corrected and second.source == 1
    assert checked.text == "Mount Karsk last erupted in 1911 [2]. Mount Pelora is in the north [1]."
    assert checked.text[second.start : second.end] == second.text


def test_a_correction_that_changes_the_length_moves_the_later_spans() -> None:
    sources = [*SOURCES] + [
        Hit(f"x:{n}", "x", f"Filler text number {n}.", 0.1, {}) for n in range(8)
    ]
    text = "Mount Karsk last erupted in 1911 [10]. Mount Pelora is in the north [1]."
    checked = check(text, sources, CountingEmbedder().embed)
    first, second = checked.sentences
    assert first.corrected and first.text.endswith("[2].")
    assert (
        checked.text[second.start : second.end]
        == second.text
        == "Mount Pelora is in the north [1]."
    )


def test_a_cited_passage_that_supports_its_sentence_stands() -> None:
    twin = Hit("t:0", "twin", "Mount Karsk last erupted in 1911, they say.", 1.0, {})
    checked = check(
        "Mount Karsk last erupted in 1911 [2].", [twin, SOURCES[1]], FakeEmbedder(512).embed
    )
    (sentence,) = checked.sentences
    assert sentence.supported and sentence.source == 2 and not sentence.corrected


def test_nothing_is_corrected_when_no_passage_supports_the_sentence() -> None:
    checked = check("Bananas are a yellow fruit [2].", SOURCES, FakeEmbedder(512).embed)
    (sentence,) = checked.sentences
    assert not sentence.supported and not sentence.corrected and sentence.cited == (2,)
    assert checked.text == "Bananas are a yellow fruit [2]."
    assert checked.grounded == 0.0


def test_a_number_the_passage_does_not_hold_counts_against_support() -> None:
    rule = Rule(bias=-5.0, cosine=6.0, overlap=0.0, context=0.0, numbers=-3.0, threshold=0.5)
    right = check("It last erupted in 1911.", SOURCES[1:], FakeEmbedder(512).embed, rule)
    wrong = check("It last erupted in 1850.", SOURCES[1:], FakeEmbedder(512).embed, rule)
    assert right.sentences[0].supported and not wrong.sentences[0].supported
    assert wrong.sentences[0].score < right.sentences[0].score


def test_list_items_and_code_blocks_are_checked_as_units() -> None:
    text = (
        "Two volcanoes:\n- Mount Karsk last erupted in 1911 [2]\n- Pelora too\n```\nrm -rf /\n```"
    )
    checked = check(text, SOURCES, FakeEmbedder(512).embed)
    assert [s.kind for s in checked.sentences] == ["sentence", "item", "item", "code"]
    assert checked.sentences[1].supported and not checked.sentences[3].supported


def test_no_sources_or_no_text_is_nothing_to_check() -> None:
    assert check("Something.", [], FakeEmbedder().embed).sentences == ()
    assert check("  [1] ", SOURCES, FakeEmbedder().embed).sentences == ()
