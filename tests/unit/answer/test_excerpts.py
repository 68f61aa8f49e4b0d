"""Extractive answers: verbatim sentences of the top passages, the best first, within the
word limit, each with its citation and exact span; supported by construction."""

from __future__ import annotations

from docqa.answer.excerpts import MAX_WORDS, PASSAGES, candidates, excerpt
from docqa.core.models import Hit
from support.fakes import FakeEmbedder

EMBED = FakeEmbedder(512).embed
PELORA = "Mount Pelora is in the north. Mount Pelora last erupted in 1742. It is tall."
KARSK = "Mount Karsk is in the south. Mount Karsk last erupted in 1911."
HITS = (Hit("p", "pelora", PELORA, 1.0, {}), Hit("k", "karsk", KARSK, 0.9, {}))


def test_the_best_sentence_comes_first_quoted_with_its_citation() -> None:
    answer = excerpt("When did Mount Karsk last erupt?", HITS, EMBED)
    first = answer.sentences[0]
    assert first.text == "Mount Karsk last erupted in 1911. [2]"
    assert answer.text.startswith(first.text)
    assert KARSK[first.span_start : first.span_end] == "Mount Karsk last erupted in 1911."
    assert first.supported and first.score == 1.0 and answer.grounded == 1.0


def test_at_most_two_sentences_each_a_slice_of_its_passage() -> None:
    answer = excerpt("When did Mount Pelora last erupt?", HITS, EMBED)
    assert 1 <= len(answer.sentences) <= 2
    for sentence in answer.sentences:
        assert answer.text[sentence.start : sentence.end] == sentence.text
        passage = HITS[sentence.source - 1].text  # type: ignore[operator]
        quoted = passage[sentence.span_start : sentence.span_end]
        assert sentence.text == f"{quoted} [{sentence.source}]"
        assert sentence.cited == (sentence.source,)


def test_a_long_sentence_is_cut_to_the_word_limit_and_no_second_one_is_added() -> None:
    long = " ".join(["volcano"] * 80) + " erupted in 1742."
    answer = excerpt("Which volcano erupted?", [Hit("l", "long", long, 1.0, {})], EMBED)
    (sentence,) = answer.sentences
    quoted = long[sentence.span_start : sentence.span_end]
    assert len(quoted.split()) == MAX_WORDS and long.startswith(quoted)


def test_only_the_top_passages_are_quoted() -> None:
    hits = [Hit(str(n), str(n), f"Filler sentence number {n}.", 1.0, {}) for n in range(5)]
    hits.append(Hit("x", "x", "Mount Karsk last erupted in 1911.", 0.1, {}))
    ranked = candidates("When did Mount Karsk last erupt?", hits, EMBED)
    assert {candidate.source for candidate in ranked} == set(range(1, PASSAGES + 1))


def test_no_passages_no_answer() -> None:
    answer = excerpt("Anything?", [], EMBED)
    assert answer.text == "" and answer.sentences == () and answer.grounded == 0.0
