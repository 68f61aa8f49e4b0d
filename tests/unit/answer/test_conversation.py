"""A chat -> the one self-contained question docqa answers, and the client's instructions."""

from __future__ import annotations

import pytest

from docqa.answer import conversation
from docqa.answer.conversation import Turn, fold, read, refers_back
from docqa.core.errors import InvalidInput
from docqa.core.models import Message, Prompt


def user(text: str) -> Turn:
    return Turn("user", text)


def assistant(text: str) -> Turn:
    return Turn("assistant", text)


def test_a_single_question_is_asked_as_it_is() -> None:
    chat = read([user("  When did Mount Pelora erupt? ")])
    assert chat.question == "When did Mount Pelora erupt?"
    assert chat.instructions == ""


@pytest.mark.parametrize(
    ("text", "refers"),
    [
        ("When was it finished?", True),
        ("Who lives there now?", True),
        ("What is its height?", True),
        ("And they?", True),
        ("It's tall, isn't it?", True),
        ("When did Mount Pelora erupt?", False),
        ("Who is the champion of the chess club?", False),
        ("Item iteration with Theodore", False),  # words, not letters
    ],
)
def test_refers_back(text: str, refers: bool) -> None:
    assert refers_back(text) is refers


def test_a_follow_up_takes_the_question_it_follows() -> None:
    turns = [
        user("Who built the Eiffel Tower?"),
        assistant("Gustave Eiffel's company [1]."),
        user("When was it finished?"),
    ]
    assert read(turns).question == "Who built the Eiffel Tower? When was it finished?"


def test_a_chain_of_follow_ups_goes_back_to_the_last_self_contained_question() -> None:
    turns = [
        user("Tell me about owls."),
        assistant("..."),
        user("Where does Mount Pelora stand?"),
        assistant("..."),
        user("When did it erupt?"),
        assistant("..."),
        user("What was buried then?"),
    ]
    assert read(turns).question == (
        "Where does Mount Pelora stand? When did it erupt? What was buried then?"
    )


def test_at_most_max_turns_user_messages_are_joined() -> None:
    turns = [user("Pelora?")] + [user(f"and it, {n}?") for n in range(6)]
    kept = read(turns).question.split(" and ")
    assert len(kept) == conversation.MAX_TURNS
    assert kept[-1] == "it, 5?"


def test_a_change_of_subject_stands_alone() -> None:
    turns = [user("When did Mount Pelora erupt?"), assistant("1742"), user("Who won chess?")]
    assert read(turns).question == "Who won chess?"


def test_system_messages_become_instructions_never_the_question() -> None:
    turns = [
        Turn("system", "Answer in French."),
        Turn("developer", "Be brief."),
        user("What is it about?"),  # refers back, but nothing earlier from the user
    ]
    chat = read(turns)
    assert chat.question == "What is it about?"
    assert chat.instructions == "Answer in French.\n\nBe brief."


@pytest.mark.parametrize(
    "turns",
    [
        [],
        [Turn("system", "only instructions")],
        [user("a question"), assistant("an answer")],
        [user("   ")],
    ],
)
def test_a_chat_must_end_with_a_user_question(turns: list[Turn]) -> None:
    with pytest.raises(InvalidInput, match="last"):
        read(turns)


def test_old_context_is_dropped_before_the_question_grows_too_long() -> None:
    turns = [user("x" * 3500 + " it"), user("y" * 900 + " and it?")]
    assert read(turns).question == "y" * 900 + " and it?"
    with pytest.raises(InvalidInput, match="the limit is 4000"):
        read([user("z" * 4001)])


def test_fold_puts_instructions_first_in_the_one_user_turn() -> None:
    prompt = Prompt(
        messages=(Message("user", "SOURCES...\nQuestion: q"),), text="SOURCES...\nAnswer:"
    )
    folded = fold(prompt, "Answer in French.")
    assert folded.messages == (Message("user", "Answer in French.\n\nSOURCES...\nQuestion: q"),)
    assert folded.text == "Answer in French.\n\nSOURCES...\nAnswer:"
    assert [m.role for m in folded.messages] == ["user"]  # no system role
    assert fold(prompt, "") is prompt
