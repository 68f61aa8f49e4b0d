"""Splitting an answer into the units that are checked: sentences, list items, code blocks."""

from __future__ import annotations

from docqa.answer.sentences import split


def texts(text: str) -> list[str]:
    units = split(text)
    for unit in units:
        assert text[unit.start : unit.end] == unit.text
    return [unit.text for unit in units]


def test_sentences_end_at_terminal_marks_with_their_citations() -> None:
    assert texts("Use `UploadFile` [1]. It streams! Does it spool? Yes.[2][3] Done [4].") == [
        "Use `UploadFile` [1].",
        "It streams!",
        "Does it spool?",
        "Yes.[2][3]",
        "Done [4].",
    ]


def test_a_mark_after_the_period_belongs_to_the_sentence_it_closes() -> None:
    assert texts("Paris is the capital. [1] It is large.") == [
        "Paris is the capital. [1]",
        "It is large.",
    ]


def test_abbreviations_initials_decimals_and_urls_do_not_end_a_sentence() -> None:
    text = (
        "Mr. Smith paid 3.14 dollars, e.g. For cash, at 5 p.m. Today. J. R. Tolkien wrote it. "
        "See https://fastapi.tiangolo.com/tutorial/request-files.html for more."
    )
    assert texts(text) == [
        "Mr. Smith paid 3.14 dollars, e.g. For cash, at 5 p.m. Today.",
        "J. R. Tolkien wrote it.",
        "See https://fastapi.tiangolo.com/tutorial/request-files.html for more.",
    ]


def test_list_items_are_units_with_their_continuation_lines() -> None:
    text = (
        "Options:\n- First. Two sentences here.\n  still the first\n* Second\n1. Third\n2) Fourth"
    )
    units = split(text)
    assert [u.text for u in units] == [
        "Options:",
        "- First. Two sentences here.\n  still the first",
        "* Second",
        "1. Third",
        "2) Fourth",
    ]
    assert [u.kind for u in units] == ["sentence", "item", "item", "item", "item"]


def test_a_lowercase_line_after_an_item_continues_it_and_a_capital_one_does_not() -> None:
    text = (
        "- If you set `--rm`, docker removes the\ncontainer when it exits.\n"
        "Then it is gone.\n- Use this file:\n--tlskey=key.pem"
    )
    assert [(u.text, u.kind) for u in split(text)] == [
        ("- If you set `--rm`, docker removes the\ncontainer when it exits.", "item"),
        ("Then it is gone.", "sentence"),
        ("- Use this file:", "item"),
        ("--tlskey=key.pem", "sentence"),
    ]


def test_a_code_block_is_one_unit_whatever_it_holds() -> None:
    text = "Write this:\n```python\nx = 1. \nprint(x)\n\n- not an item\n```\nThen run it."
    units = split(text)
    assert [u.kind for u in units] == ["sentence", "code", "sentence"]
    assert units[1].text == "```python\nx = 1. \nprint(x)\n\n- not an item\n```"


def test_an_unclosed_code_block_runs_to_the_end() -> None:
    units = split("Run:\n~~~\npip install x. Then")
    assert [u.kind for u in units] == ["sentence", "code"]


def test_blank_lines_end_a_sentence_and_whitespace_belongs_to_no_unit() -> None:
    assert texts("  A heading\n\nThe body goes on  \n") == ["A heading", "The body goes on"]
    assert split("   \n\n ") == []
