"""Each answer sentence checked against the passages: its best span, score and ``supported``;
wrong citations reported and corrected; ``grounded``; everything embedded in one call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from docqa.answer.spans import CANDIDATES
from docqa.answer.support import check
from docqa.answer.support_rule import RULE, Rule
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
    # the answer's sentence and the passage sentences holding most of its terms, in one batch
    assert [len(batch) for batch in embedder.batches] == [1 + CANDIDATES]
    assert embedder.batches[0][0] == "Mount Karsk last erupted in 1911."  # the mark left out


def test_only_the_passage_sentences_sharing_most_terms_are_embedded() -> None:
    filler = " ".join(f"Sentence {word} is about nothing here." for word in "abcdefgh")
    sources = [Hit("f:0", "filler", filler, 1.0, {}), SOURCES[1]]
    embedder = CountingEmbedder()
    checked = check("Mount Karsk last erupted in 1911 [2].", sources, embedder.embed)
    (batch,) = embedder.batches
    assert len(batch) == 1 + CANDIDATES  # not the ten passage sentences
    assert "It last erupted in 1911." in batch and "Mount Karsk is a volcano in the south." in batch
    assert checked.sentences[0].supported and checked.sentences[0].source == 2


def test_a_cited_passage_is_weighed_even_when_others_share_more_terms() -> None:
    near = [
        Hit(f"n:{n}", "near", f"Mount Karsk last erupted in 1911, note {n}.", 1.0, {})
        for n in range(CANDIDATES)
    ]
    far = Hit("b:0", "bananas", "Bananas are yellow.", 0.5, {})
    embedder = CountingEmbedder()
    checked = check(
        f"Mount Karsk last erupted in 1911 [{CANDIDATES + 1}].", [*near, far], embedder.embed
    )
    (sentence,) = checked.sentences
    assert "Bananas are yellow." in embedder.batches[0]  # the cited passage's best span too
    assert sentence.corrected and sentence.source in range(1, CANDIDATES + 1)


def test_a_short_answer_is_checked_as_the_questions_statement() -> None:
    question = "When did Mount Pelora last erupt?"
    lenient = replace(RULE, threshold=0.3)  # the fake embedder's cosines are low
    checked = check("1742", SOURCES, FakeEmbedder(512).embed, lenient, question=question)
    (sentence,) = checked.sentences
    assert sentence.supported and sentence.source == 1
    # the sentence that holds the answer, not the one that names the volcano
    assert PELORA[sentence.span_start : sentence.span_end] == "It last erupted in 1742."


def test_what_claims_nothing_is_unsupported_and_not_embedded() -> None:
    question = "When did Mount Karsk last erupt?"
    text = "The answer is:\n\nMount Karsk last erupted in 1911 [2]. Mount Karsk did last erupt."
    embedder = CountingEmbedder()
    checked = check(text, SOURCES, embedder.embed, question=question)
    lead_in, claim, echo = checked.sentences
    assert claim.supported and not lead_in.supported and not echo.supported
    assert (lead_in.score, echo.score) == (0.0, 0.0)
    # shown beside a passage sentence sharing most of its words (one of those tied here)
    assert echo.source is not None
    shown = SOURCES[echo.source - 1].text[echo.span_start : echo.span_end]
    assert shown in ("It last erupted in 1742.", "It last erupted in 1911.")
    assert embedder.batches[0][0] == "Mount Karsk last erupted in 1911."  # one claim embedded
    assert checked.grounded == round(
        len(claim.text) / sum(len(s.text) for s in checked.sentences), 4
    )


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


def test_a_detail_the_passage_does_not_hold_counts_against_support() -> None:
    page = Hit("t:0", "tls", "Set --tlscert=cert.pem and --tlskey=key.pem on the client.", 1, {})
    # the same terms either way (cert, key, pem, tlskey): only the detail tells them apart
    rule = Rule(bias=-2.0, cosine=0.0, overlap=4.0, context=0.0, numbers=0.0, details=-3.0)
    embed = FakeEmbedder(512).embed
    right = check("Pass --tlskey=key.pem to the client.", [page], embed, rule)
    wrong = check("Pass --tlskey=cert.pem to the client.", [page], embed, rule)
    assert right.sentences[0].supported and not wrong.sentences[0].supported
    assert wrong.sentences[0].score < right.sentences[0].score
    blind = check("Pass --tlskey=cert.pem to the client.", [page], embed, replace(rule, details=0))
    assert blind.sentences[0].supported


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
