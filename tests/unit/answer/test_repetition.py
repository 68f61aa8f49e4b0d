"""The loop detector: what counts as a loop, where it begins, what a cut keeps."""

from __future__ import annotations

import pytest

from docqa.answer import repetition
from docqa.answer.repetition import clean_end, cut, find_loop, has_loop

# Loops the embedded Gemma 3 270M writes, and others of the same shapes.
BULLET_LOOP = (
    "The FastAPI documentation covers:\n"
    "* How to declare path parameters with types.\n"
    "* How to declare path parameters with types.\n"
    "* How to declare path parameters with types.\n"
    "* How to declare path parameters with types.\n"
)
STAR_LINE = "The answer is in the tutorial [1].\n\n* * * * * * * * * * * *"
SENTENCE_LOOP = (
    "Normandy is a region in France. The Normans gave their name to Normandy and the Normans "
    "gave their name to Normandy and the Normans gave their name to Normandy and the Normans "
    "gave their name to Normandy and the"
)
NUMBERED_LOOP = (
    "1. Install docqa with pip.\n2. Run docqa run.\n3. Run docqa run.\n4. Run docqa run.\n"
)
NEAR_DUPLICATE_BULLETS = "".join(
    f"- FastAPI is a modern web framework for building APIs with Python 3.{n}\n"
    for n in range(6, 11)
)

# Answers that repeat words without looping.
SHARED_OPENINGS = (
    "docqa can be used in several ways:\n"
    "- It can be used to index PDF, Word and HTML documents.\n"
    "- It can be used to search them by meaning and by keyword.\n"
    "- It can be used to answer questions with cited sources.\n"
    "- It can be used to evaluate retrieval on SQuAD-shaped files.\n"
    "- It can be used to fine-tune the embedder and the reranker.\n"
)
STEPS = (
    "1. Start the stack with `make run`.\n"
    "2. Post the documents to /documents.\n"
    "3. Wait for the job to finish.\n"
    "4. Ask the question through /ask.\n"
)
PROSE = (
    "The Normans were the people who in the 10th and 11th centuries gave their name to "
    "Normandy, a region in France [1]. They were descended from Norse raiders and pirates "
    "from Denmark, Iceland and Norway [2]. The Norman dynasty had a major political, cultural "
    "and military impact on medieval Europe and the Near East [1][3]."
)
TABLE = (
    "| mode | R@1 | R@10 |\n|---|---:|---:|\n| dense | 63.3 | 92.0 |\n"
    "| keyword | 78.1 | 95.8 |\n| hybrid | 78.2 | 97.7 |\n|  |  |  |\n"
)
MARKDOWN = (
    "Setup\n=====\n\n```bash\nmake run\n```\n\n----------\n\nThen `make test` runs the suite."
)
TWICE = "Redis.\nRedis.\nChroma stores the vectors."
THREE_TIMES_SPREAD = (
    "In the United States the law applies. Courts in the United States read it narrowly, "
    "and lawyers in the United States cite it."
)


@pytest.mark.parametrize(
    "text", [SHARED_OPENINGS, STEPS, PROSE, TABLE, MARKDOWN, TWICE, THREE_TIMES_SPREAD, ""]
)
def test_answers_that_share_words_are_not_loops(text: str) -> None:
    assert find_loop(text) is None
    assert cut(text) == (text, None)


def test_a_bullet_repeated_three_times_is_a_line_loop_cut_after_its_first_copy() -> None:
    loop = find_loop(BULLET_LOOP)
    assert loop is not None and loop.kind == "line"
    assert loop.repeated == "how to declare path parameters with types"
    kept, _ = cut(BULLET_LOOP)
    assert kept == (
        "The FastAPI documentation covers:\n* How to declare path parameters with types."
    )


def test_numbered_items_compare_without_their_numbers() -> None:
    loop = find_loop(NUMBERED_LOOP)
    assert loop is not None and loop.kind == "line"
    assert cut(NUMBERED_LOOP)[0] == "1. Install docqa with pip.\n2. Run docqa run."


def test_a_line_of_stars_is_a_symbol_loop_cut_before_the_run() -> None:
    loop = find_loop(STAR_LINE)
    assert loop is not None and loop.kind == "symbols" and loop.repeated == "*"
    assert cut(STAR_LINE)[0] == "The answer is in the tutorial [1]."


@pytest.mark.parametrize("run", ["- - - -", "• • • • •", "** ** ** **", "*\n*\n*\n*"])
def test_short_symbol_patterns_repeated_four_times_loop(run: str) -> None:
    loop = find_loop(f"See the README. {run}")
    assert loop is not None and loop.kind == "symbols"


@pytest.mark.parametrize("run", ["* * *", "**********", "!!!!!!!!!!!!"])
def test_three_symbol_tokens_do_not_loop_but_ten_of_one_symbol_do(run: str) -> None:
    expected = len(run) >= repetition.SYMBOL_CHARS and " " not in run
    assert has_loop(f"See the README. {run}") is expected


def test_a_sentence_repeated_is_an_ngram_loop_cut_at_its_second_copy() -> None:
    loop = find_loop(SENTENCE_LOOP)
    assert loop is not None and loop.kind == "ngram"
    kept, _ = cut(SENTENCE_LOOP)
    assert kept == ("Normandy is a region in France. The Normans gave their name to Normandy and")


def test_near_duplicate_bullets_loop_by_their_shared_words() -> None:
    loop = find_loop(NEAR_DUPLICATE_BULLETS)
    assert loop is not None and loop.kind == "ngram"
    kept, _ = cut(NEAR_DUPLICATE_BULLETS)
    assert kept.startswith("- FastAPI is a modern web framework for building APIs with Python 3.6")
    assert "3.7" not in kept


def test_a_word_repeated_on_and_on_loops() -> None:
    kept, loop = cut("The capital is Paris Paris Paris Paris Paris Paris Paris Paris")
    assert loop is not None and loop.kind == "ngram"
    # n-grams count from the fifth word of the line: "Paris Paris Paris Paris" first at the
    # fifth word, again at the sixth, where the cut falls.
    assert kept == "The capital is Paris Paris"


def test_list_openings_count_once_they_go_past_four_words() -> None:
    # The same five words open every item and recur later in each line: a loop.
    looping = "".join(
        f"- It can be used to index files {n} and it can be used to index\n" for n in range(4)
    )
    assert has_loop(looping)


def test_a_loop_is_found_where_its_last_occurrence_completes() -> None:
    text = "Paris.\nParis.\nParis."
    assert find_loop(text, final=False) is None  # the third line may go on: "Paris is ..."
    assert find_loop(text + "\n", final=False) is not None
    loop = find_loop(text)
    assert loop is not None and loop.found_at == len(text)


def test_the_loop_found_first_counts_when_several_rules_fire() -> None:
    # A line seen twice, then a sentence loop, then the line a third time: the sentence loop
    # shows first, so a stream stops there and the whole text is cut at the same place.
    text = (
        "Redis.\nRedis.\n"
        + "it keeps the jobs and it keeps the jobs and it keeps the jobs and it keeps the jobs "
        + "and it keeps the jobs\nRedis.\n"
    )
    loop = find_loop(text)
    assert loop is not None and loop.kind == "ngram"
    assert loop.repeated == "and it keeps the"
    assert cut(text)[0] == "Redis.\nRedis.\nit keeps the jobs and it keeps the jobs"


@pytest.mark.parametrize(
    ("text", "end", "kept"),
    [
        ("Paris, ", 7, "Paris"),
        ("Install:\n- ", 11, "Install"),
        ("Steps:\n1. Run it.\n2. ", 20, "Steps:\n1. Run it."),
        ("It is (", 7, "It is"),
        ("Done.", 5, "Done."),
        ("  ", 2, ""),
    ],
)
def test_clean_end_drops_dangling_punctuation_and_markers(text: str, end: int, kept: str) -> None:
    assert text[: clean_end(text, end)] == kept


def test_a_loop_from_the_first_word_leaves_nothing() -> None:
    kept, loop = cut("* * * * * * * *")
    assert loop is not None and kept == ""


def test_settled_holds_back_a_second_occurrence_that_a_third_would_make_a_loop() -> None:
    text = "Intro.\n* Same bullet.\n* Same bullet.\n"
    assert text[: repetition.settled(text)] == "Intro.\n* Same bullet."
    growing = text + "* Same bul"  # may be the third: still held
    assert growing[: repetition.settled(growing)] == "Intro.\n* Same bullet."


def test_settled_releases_prose_and_holds_only_its_unsure_tail() -> None:
    text = "The Normans gave their name to Normandy, a region"
    assert text[: repetition.settled(text)] == text
    assert "Answer: * *"[: repetition.settled("Answer: * *")] == "Answer"
    assert "Steps:\n1."[: repetition.settled("Steps:\n1.")] == "Steps"
