"""Generated questions for the keyword query builder's fuzz tests (unit and against the real
search engine): unicode, punctuation, stop words only, very long, query-syntax characters, and
the question shape that crashed Redis (``In the 10th week``)."""

from __future__ import annotations

import random

from docqa.search.terms import STOPWORDS

SYNTAX = "|@{}[]()-~*%:\"'\\$=>;,.!?#^&+<`/"
_ALPHABET = [
    *"abcdefghijklmnopqrstuvwxyzABCXYZ0123456789",
    *SYNTAX,
    " ",
    "\t",
    "\n",
    *"éèüßøçñÅÉ",
    *"日本語中文한국어",
    *"Москваελληνικά",
    "\u0301",  # a lone combining accent
    "\u200b",  # zero-width space
    "_",
    "\x00",
    "😀",
]
_WORDS = ["In", "the", "10th", "week", "café", "a", "of", "what", "Tower", "1889", "x"]


def question(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:  # stop words only, some with punctuation
        words = sorted(STOPWORDS)
        marks = ["", "?", "|", "-", "*"]
        return " ".join(rng.choice(words) + rng.choice(marks) for _ in range(rng.randrange(1, 8)))
    if kind == 1:  # very long
        return "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(1000, 5000)))
    if kind == 2:  # query syntax around ordinary words
        return " ".join(
            rng.choice(SYNTAX) + rng.choice(_WORDS) + rng.choice(SYNTAX)
            for _ in range(rng.randrange(1, 10))
        )
    if kind == 3:  # the crash shape, and its relatives
        return rng.choice(
            ["In the 10th week", "In|the|10th|week", "the the 10th", "In the", "of the a"]
        ) + rng.choice(["", "?", " of the year"])
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(0, 60)))


def questions(count: int, seed: int = 15) -> list[str]:
    rng = random.Random(seed)
    return [question(rng) for _ in range(count)]
