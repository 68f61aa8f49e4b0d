"""What each unit of an answer claims for the support check: lead-ins, questions, fragments,
an unfinished last unit and echoes of the question claim nothing; a short answer is claimed
as the question's statement of it."""

from __future__ import annotations

from docqa.answer.claims import claims, unfinished
from docqa.answer.sentences import split

QUESTION = "When did Mount Karsk last erupt?"


def claimed(text: str, question: str = QUESTION) -> list[str | None]:
    return claims(split(text), question)


def test_a_plain_sentence_claims_itself_without_its_marks() -> None:
    assert claimed("Mount Karsk last erupted in 1911 [2].") == ["Mount Karsk last erupted in 1911."]


def test_lead_ins_and_questions_claim_nothing() -> None:
    text = "The options are:\n- `labels` for the `label` flag\n**Response**:\n\nIs it *true?*"
    assert claimed(text) == [None, "`labels` for the `label` flag", None, None]


def test_a_unit_without_a_content_word_claims_nothing() -> None:
    assert claimed("Mount Karsk erupted in 1911. It is.\n\n3.") == [
        "Mount Karsk erupted in 1911.",
        None,
        None,
    ]


def test_an_echo_of_the_question_claims_nothing_but_a_one_word_answer_does() -> None:
    assert claimed("Mount Karsk did last erupt. It erupted in 1911.")[0] is None
    question = "Which request does a plugin get when a volume is mounted?"
    assert claimed("- `Mount`\n- `Unmount` after", question)[0] == "`Mount`"


def test_the_last_unit_cut_mid_sentence_claims_nothing() -> None:
    text = "Mount Karsk erupted in 1911. The Crusades were a"
    assert claimed(text) == ["Mount Karsk erupted in 1911.", None]
    # the same words ending an answer of one unit are that answer
    assert claimed("The Crusades were a", "Who fought?") == ["Who fought The Crusades were a"]
    assert unfinished("- If the image") and unfinished("If you are using a docker")
    assert not unfinished("- If the image is local, it is unpacked")  # a whole sentence
    assert not unfinished("- `label` for the `label` flag") and not unfinished("It ends.")


def test_the_last_sentence_without_a_closing_mark_was_cut_and_claims_nothing() -> None:
    # prose ends with a mark; the last sentence without one is where the tokens ran out
    assert claimed("Mount Karsk erupted in 1911. The liberal wing") == [
        "Mount Karsk erupted in 1911.",
        None,
    ]
    assert claimed("Mount Karsk erupted in 1911. It is a dark,")[1] is None
    # a list item often has no mark: it is cut only when it ends like a cut sentence
    items = claimed("Two:\n- Mount Karsk\n- Mount Pelora", "Which volcanoes erupted?")
    assert items == [None, "Mount Karsk", "Mount Pelora"]
    assert claimed("1911") == ["When did Mount Karsk last erupt 1911"]  # a whole answer stands


def test_a_list_items_mark_is_not_part_of_its_claim() -> None:
    assert claimed("Its names:\n1. Karsk\n2. Pelora.") == [None, "Karsk", "Pelora."]


def test_a_short_whole_answer_is_claimed_as_the_questions_statement() -> None:
    assert claimed("1911") == ["When did Mount Karsk last erupt 1911"]
    assert claimed("In 1911 [1].") == ["When did Mount Karsk last erupt In 1911."]
    assert claimed("1911", question="") == ["1911"]
    long = "Mount Karsk, the volcano in the south, last erupted in 1911."
    assert claimed(long) == [long]
