"""Bodies of the OpenAI-compatible routes (``/v1/models``, ``/v1/chat/completions``).

Shapes as OpenAI's API reference gives them, the fields chat clients read; fields a client
sends that docqa has no use for (``top_p``, ``n``, ``user``, ``stream_options``...) are
accepted and ignored, as vLLM and llama.cpp's server do. docqa's own additions (``sources``
on the completion and on the last stream chunk; ``top_k``, ``mode``, ``rerank``, ``filter`` on
the request) are extra fields that OpenAI clients pass through or ignore.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from docqa.api.schemas.answers import (
    ANSWER_MODE_DOC,
    ANSWERED_BY_DOC,
    AnswerMode,
    Source,
    UsageOut,
)
from docqa.api.schemas.fields import Filter
from docqa.api.schemas.support import AnswerSentence, grounded_field, sentences_field
from docqa.search.retrieval import LeftOut

MODEL_PREFIX = "docqa/"
ModelId = Annotated[
    str,
    StringConstraints(pattern=r"^(docqa/)?[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$"),
    Field(description="docqa/<collection> (as GET /v1/models lists them), or the bare name"),
]


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["text"]
    text: Annotated[str, StringConstraints(max_length=32_000)]


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: (
        Annotated[str, StringConstraints(max_length=32_000)]
        | Annotated[list[TextPart], Field(max_length=100)]
        | None
    ) = Field(default=None, description="Text, or a list of text parts (no images)")

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(part.text for part in self.content)


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: ModelId
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=200)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    max_completion_tokens: int | None = Field(
        default=None, ge=1, le=32768, description="Preferred over max_tokens when both are sent"
    )
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, description="Default 0")
    top_k: int = Field(default=5, ge=1, le=100, description="docqa: chunks retrieved")
    mode: Literal["dense", "keyword", "hybrid"] | None = Field(
        default=None, description="docqa: search mode (default: the service's)"
    )
    rerank: bool | None = Field(default=None, description="docqa: re-score with the reranker")
    filter: Filter | None = Field(default=None, description="docqa: metadata equality")
    answer_mode: AnswerMode | None = Field(default=None, description=f"docqa: {ANSWER_MODE_DOC}")


class ChatMessageOut(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ChatMessageOut
    finish_reason: Literal["stop", "length"]


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: UsageOut | None
    sources: list[Source] = Field(
        description="docqa: the sources the answer cites as [n]; with answered_by none, the "
        "closest passages, which do not answer the question"
    )
    grounded: float | None = grounded_field()
    sentences: list[AnswerSentence] = sentences_field()
    answered_by: Literal["generate", "extract", "none"] = Field(
        description=f"docqa: {ANSWERED_BY_DOC}"
    )
    degraded: list[LeftOut] = Field(
        default_factory=list,
        description="docqa: parts of the search that were down and left out (as /ask says)",
    )


class ModelOut(BaseModel):
    id: str = Field(description="docqa/<collection>")
    object: Literal["model"] = "model"
    created: int = Field(description="0: collections do not record when they were made")
    owned_by: str = "docqa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class ErrorDetail(BaseModel):
    message: str
    type: str = Field(description="invalid_request_error, authentication_error, ...")
    param: str | None = None  # always sent (null or not); FastAPI drops nulls from examples
    code: str | None = None


class ErrorBody(BaseModel):
    """An error in OpenAI's shape: what every /v1 route answers instead of problem+json."""

    error: ErrorDetail
