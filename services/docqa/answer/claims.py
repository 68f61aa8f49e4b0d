"""Pure: what each unit of an answer claims, as the support check weighs it, or that it
claims nothing to check (a lead-in, a fragment, an echo of the question).

These follow the labelling rule of ``docs/eval/support-labels.jsonl`` (a sentence is supported
when its sources say what it says; fragments, lead-ins and echoes of the question are not):
they have no weight or threshold to fit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from docqa.answer.citations import CITATION
from docqa.answer.sentences import Sentence
from docqa.search.terms import STOPWORDS, stem, words

# An answer of one unit this short (a name, a date) is checked as the question's statement.
SHORT_WORDS = 8
_LEAD_IN = re.compile(r":[*_\s]*$")
_ASKS = re.compile(r"\?[*_\s]*$")
_CLOSING = frozenset(".!?:;)]}\"'`*\u201d\u2019")
_ITEM_MARK = re.compile(r"^(?:[-*+\u2022]|\d{1,3}[.)])(?:\s+|$)")
_SUBORDINATORS = frozenset(
    ["if", "when", "whenever", "because", "although", "though", "while", "unless", "since"]
)


def claim_of(text: str) -> str:
    """A unit's text without its citation marks."""
    return CITATION.sub("", text).strip()


def claims(units: Sequence[Sentence], question: str = "") -> list[str | None]:
    """What each unit claims, as the rule weighs it; None for a unit that claims nothing to
    check (the labelling rule's "not supported"): a lead-in (it ends with a colon: "The options
    are:"), a question (it ends with a question mark), a unit without a content word ("It is",
    "3."), the answer's last unit when the model stopped in the middle of it (``unfinished``),
    or an echo of the question (two or more content words, all of them the question's). A list
    item's mark ("-", "1.") is not part of its claim (its number is no number to check). The
    whole answer in a few words that leave the subject to the question (``short``: a name, a
    date) is claimed as the question's statement of it, ``"<question without ?> <answer>"``:
    the shape the rule's weights were fitted on."""
    asked = frozenset(content_terms(question))
    made: list[str | None] = []
    for index, unit in enumerate(units):
        claim = claim_of(unit.text)
        said = _ITEM_MARK.sub("", claim)
        own = content_terms(said)
        last = index == len(units) - 1 and len(units) > 1
        if (
            _LEAD_IN.search(claim)
            or _ASKS.search(claim)
            or not own
            or (last and unit.kind != "code" and unfinished(claim, unit.kind == "sentence"))
            or (len(own) >= 2 and set(own) <= asked)
        ):
            made.append(None)
        elif question and len(units) == 1 and short(said, asked):
            made.append(f"{question.strip().rstrip('?').strip()} {said}")
        else:
            made.append(said)
    return made


def short(claim: str, asked: frozenset[str]) -> bool:
    """Whether ``claim`` is a short answer that leaves its subject to the question: at most
    ``SHORT_WORDS`` words, at most one of them a content word of the question (``asked``)."""
    return len(words(claim)) <= SHORT_WORDS and len(set(content_terms(claim)) & asked) <= 1


def content_terms(text: str) -> list[str]:
    """The distinct stems of ``text``'s words that are not stop words."""
    return list(dict.fromkeys(stem(word) for word in words(text) if word not in STOPWORDS))


def unfinished(claim: str, prose: bool = False) -> bool:
    """Whether a unit that ends an answer was cut mid-sentence (the model ran out of tokens):
    no closing mark, and either it is ``prose`` (a sentence, not a list item: the model ends
    its sentences with a mark, so one without is cut: "The liberal wing", "It is a dark,"),
    or it ends on a stop word ("The command is") or is a bare opening clause ("If the
    image")."""
    stripped = claim.rstrip()
    if not stripped or stripped[-1] in _CLOSING:
        return False
    if prose:
        return True
    said = words(stripped)
    if said and said[-1] in STOPWORDS:
        return True
    opening = _ITEM_MARK.sub("", stripped).lstrip()
    return bool(said) and said[0] in _SUBORDINATORS and "," not in opening
