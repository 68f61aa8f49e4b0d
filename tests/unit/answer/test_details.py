"""The details an answer sentence adds to its question (numbers, code tokens, names), and
whether a passage holds each as written."""

from __future__ import annotations

from docqa.answer.details import details, is_code, missing, tokens


def test_numbers_code_tokens_and_names_are_details_but_plain_words_are_not() -> None:
    claim = "Run it with --tlskey=~/.docker/key.pem on port 2376, says Alice."
    assert details(claim) == ["--tlskey=~/.docker/key.pem", "2376", "alice"]


def test_what_the_question_already_holds_is_not_a_detail() -> None:
    question = "Which port does Alice use for the daemon in 2024?"
    assert details("Which port does Alice use for the daemon in 2024 2376", question) == ["2376"]
    assert details("It reads `key.pem`.", "What does `key.pem` hold?") == []


def test_list_marks_and_the_first_word_are_not_details() -> None:
    assert tokens("1. Firmness") == ["Firmness"]
    assert details("1. Firmness") == [] and details("- Delight") == []
    assert details("It fell in 1204.") == ["1204"]
    assert details("It fell to the Crusaders.") == ["crusaders"]


def test_code_tokens_are_flags_paths_file_names_and_assignments() -> None:
    assert is_code("-a") and is_code("--filter") and is_code("cert.pem")
    assert is_code("status=exited") and is_code("/var/run") and is_code("DOCQA_API_KEYS")
    assert not is_code("Docker") and not is_code("-") and not is_code("2376")


def test_a_number_must_appear_as_a_whole_word() -> None:
    passage = "The unit had existed since the 1950s, in the 7th\u20135th centuries."
    assert missing(["1950"], passage) == 1.0  # "1950s" is not 1950
    assert missing(["7th"], passage) == 0.0 and missing(["5th"], passage) == 0.0


def test_a_code_token_must_appear_as_written() -> None:
    passage = "Use --tlscert=~/.docker/cert.pem and --tlskey=~/.docker/key.pem."
    assert missing(["--tlskey=~/.docker/key.pem"], passage) == 0.0
    assert missing(["--tlskey=~/.docker/cert.pem"], passage) == 1.0  # both parts are there
    assert missing([], passage) == 0.0
