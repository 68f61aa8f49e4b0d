"""``docqa eval answers`` scores an extractive answer: whether the whole answer and its first
sentence alone hold a gold answer, and its EM and F1 with the citation marks left out."""

from __future__ import annotations

import json

import httpx

from docqa.evaluation.answer_quality import _ask_both
from docqa.training.squad import QuestionItem

ANSWER = "Karsk last erupted in 1911. [1] It is in the south. [2]"


def api_answering(answer: str, first: str | None) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["answer_mode"] == "extract"
        sentences = [] if first is None else [{"text": first}]
        return httpx.Response(200, json={"answer": answer, "sentences": sentences})

    return httpx.Client(transport=httpx.MockTransport(handle), base_url="http://eval")


def test_the_whole_answer_and_its_first_sentence_are_scored_apart() -> None:
    item = QuestionItem("q1", "Where is Karsk?", "p1", ("the south", "south"))
    with api_answering(ANSWER, "Karsk last erupted in 1911. [1]") as api:
        row = _ask_both(api, {"collection": "c"}, item, modes=())
    scored = row["extract"]
    assert scored["contains_gold"] is True
    assert scored["first_sentence_contains_gold"] is False
    assert scored["em"] == 0.0 and 0.0 < scored["f1"] < 1.0


def test_a_first_sentence_that_holds_the_answer_counts() -> None:
    item = QuestionItem("q2", "When did Karsk erupt?", "p1", ("1911",))
    with api_answering(ANSWER, "Karsk last erupted in 1911. [1]") as api:
        row = _ask_both(api, {"collection": "c"}, item, modes=())
    assert row["extract"]["contains_gold"] and row["extract"]["first_sentence_contains_gold"]


def test_an_answer_without_sentences_holds_nothing_in_its_first() -> None:
    item = QuestionItem("q3", "When did Karsk erupt?", "p1", ("1911",))
    with api_answering("", None) as api:
        row = _ask_both(api, {"collection": "c"}, item, modes=())
    assert not row["extract"]["contains_gold"]
    assert not row["extract"]["first_sentence_contains_gold"]
