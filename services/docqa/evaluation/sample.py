"""Which questions an evaluation asks (a sample spread over the file) and the settings its
report records of them, shared by ``docqa eval retrieval`` and ``docqa eval answers``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from docqa.evaluation.client import EvalError
from docqa.training.squad import Corpus, QuestionItem


def settings(
    corpus: Corpus, questions: list[QuestionItem], collection: str, base_url: str
) -> dict[str, Any]:
    """What every report records first: the file, the sample, the collection, the service
    and the date."""
    return {
        "file": corpus.source,
        "paragraphs": len(corpus.paragraphs),
        "questions": len(questions),
        "questions_in_file": len(corpus.questions),
        "collection": collection,
        "base_url": base_url,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def select(corpus: Corpus, count: int | None, every: int = 1) -> list[QuestionItem]:
    """The first ``count`` questions (all by default) of every ``every``-th one: a sample
    spread over the whole file, where the first questions all come from a few articles."""
    if count is not None and count < 1:
        raise EvalError("--questions must be at least 1")
    if every < 1:
        raise EvalError("--every must be at least 1")
    spread = corpus.questions[::every]
    return spread[:count] if count else spread
