"""The check of an answer as the responses carry it: ``grounded``, and each sentence with the
span of the source that supports it (``/ask``, its stream's last event, ``/v1`` chat)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from docqa.answer.support import Checked, SentenceSupport
from docqa.core.models import Hit


class SupportingSpan(BaseModel):
    start: int = Field(description="Where the span begins in the source's text")
    end: int = Field(description="Where it ends (exclusive) in the source's text")
    document_start: int | None = Field(
        description="Where it begins in the document's text (within its page, for a paged "
        "document: as the chunk's own start); null when the chunk's place is not known"
    )
    document_end: int | None


class AnswerSentence(BaseModel):
    """One unit of the answer (a sentence, a list item or a code block), checked."""

    start: int = Field(description="Where the unit begins in the answer")
    end: int = Field(description="Where it ends (exclusive) in the answer")
    text: str
    kind: Literal["sentence", "item", "code"]
    cited: list[int] = Field(description="The source numbers its [n] marks named as written")
    source: int | None = Field(description="The source [n] whose span supports it best")
    span: SupportingSpan | None = Field(description="That source's best span")
    score: float = Field(description="Support, 0-1: the embedder's cosine and term overlap")
    supported: bool = Field(description="The score reaches the support threshold")
    corrected: bool = Field(
        description="Its [n] named a source that does not support it while `source` does: the "
        "answer's marks were rewritten to `source`"
    )


def grounded_field() -> Any:
    return Field(
        default=None,
        description="The share of the answer's characters, 0-1, in sentences that the sources "
        "support; null when the answer was not checked (no sources, the model said it has no "
        "answer, or the embedder was out)",
    )


def sentences_field() -> Any:
    return Field(default_factory=list, description="Each unit of the answer, checked")


def support_fields(checked: Checked | None, sources: Sequence[Hit]) -> dict[str, Any]:
    """``grounded`` and ``sentences`` of a checked answer, as the responses have them."""
    if checked is None:
        return {"grounded": None, "sentences": []}
    return {
        "grounded": checked.grounded,
        "sentences": [_sentence(item, sources) for item in checked.sentences],
    }


def _sentence(item: SentenceSupport, sources: Sequence[Hit]) -> AnswerSentence:
    span = None
    if item.source is not None:
        offset = sources[item.source - 1].metadata.get("start")
        at = offset if isinstance(offset, int) and not isinstance(offset, bool) else None
        span = SupportingSpan(
            start=item.span_start,
            end=item.span_end,
            document_start=None if at is None else at + item.span_start,
            document_end=None if at is None else at + item.span_end,
        )
    return AnswerSentence(
        start=item.start,
        end=item.end,
        text=item.text,
        kind=item.kind,
        cited=list(item.cited),
        source=item.source,
        span=span,
        score=item.score,
        supported=item.supported,
        corrected=item.corrected,
    )
