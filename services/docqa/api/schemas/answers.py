"""Bodies of the question routes: ``POST /search`` (ranked chunks) and ``POST /ask`` (a cited
answer) in ``routes/answers.py``, and ``POST /feedback`` on the chunks they showed; ``hit_fields``
gives a retrieved hit's fields as ``SearchHit`` and ``Source`` (also the chat routes') have them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from docqa.api.schemas.fields import CollectionName, Filter, Flag, Integer, NotBlank, Number, Strict
from docqa.api.schemas.support import AnswerSentence, grounded_field, sentences_field
from docqa.core.models import Hit, MetadataValue
from docqa.search.retrieval import Mode

# Its length is checked as sent (as declared), then it is stripped.
Question = Annotated[NotBlank, StringConstraints(max_length=4000), AfterValidator(str.strip)]


class SearchRequest(Strict):
    question: Question
    collection: CollectionName = "default"
    top_k: Integer = Field(default=5, ge=1, le=100)
    filter: Filter | None = Field(default=None, description="Metadata equality, all must match")
    mode: Mode | None = Field(
        default=None,
        description="dense: by meaning (embeddings); keyword: BM25; hybrid: both, fused as "
        "DOCQA_FUSION says (scores by default, or reciprocal rank). Default: the service's "
        "DOCQA_SEARCH_MODE (hybrid unless configured)",
    )
    rerank: Flag | None = Field(
        default=None,
        description="Re-score the first candidates with the cross-encoder (DOCQA_RERANKER must "
        "be configured). Default: DOCQA_RERANK_BY_DEFAULT",
    )


class SearchHit(BaseModel):
    chunk_id: str
    document_id: str
    title: str | None = Field(
        description="The document's title: a text's as sent; an uploaded file's from its "
        "content (front matter, <title>, first heading), else its file name; null when none"
    )
    section: str | None = Field(
        description="The heading path of the chunk's section, headings joined by ' \u203a ' "
        "(Markdown, HTML, Word; a deck's slide title); null outside headed sections. Title and "
        "section are indexed with the chunk's text (documents indexed before are given them by "
        "reindex)"
    )
    text: str = Field(description="The chunk: the exact slice of the document's text")
    score: float = Field(
        description="The ranking score, higher is better: cosine similarity (dense), BM25 "
        "(keyword), the fused score (hybrid: 0.7 x cosine + 0.3 x the list's min-max BM25 by "
        "default, reciprocal rank fusion with DOCQA_FUSION=rrf), or with rerank the "
        "cross-encoder's score fused with the first-stage order (the raw score when "
        "DOCQA_RERANK_KEEP_WEIGHT is 0)"
    )
    metadata: dict[str, MetadataValue]


def hit_fields(hit: Hit) -> dict[str, Any]:
    """A hit's fields as ``SearchHit`` (and ``Source``) have them."""
    title, section = hit.metadata.get("title"), hit.metadata.get("section")
    return {
        "chunk_id": hit.chunk_id,
        "document_id": hit.document_id,
        "title": str(title) if title is not None else None,
        "section": str(section) if section is not None else None,
        "text": hit.text,
        "score": hit.score,
        "metadata": hit.metadata,
    }


def _degraded() -> Any:
    return Field(
        default_factory=list,
        description='parts of the search that were out and left out: ["keyword"] when the '
        "keyword index was unreachable and hybrid answered from the dense list alone",
    )


class SearchResults(BaseModel):
    hits: list[SearchHit]
    took_ms: float
    degraded: list[Literal["keyword"]] = _degraded()


AnswerMode = Literal["generate", "extract", "auto"]
ANSWER_MODE_DOC = (
    "generate: the model writes the answer; extract: no model, at most two sentences (60 "
    "words) quoted verbatim from the top passages, the best answer first; auto: generated, "
    "then replaced by the extractive answer when less than half of it is supported by its "
    "sources or it was cut as a loop. Default: the service's DOCQA_ANSWER_MODE"
)
ANSWERED_BY_DOC = (
    "What answered: generate (the model), extract (quoted from the sources), or none (the "
    "collection does not answer the question: the answer says so, and `sources` are the "
    "closest passages, which do not answer it; none at all for an empty collection)"
)
SOURCES_DOC = (
    "The sources the answer cites as [n]; with answered_by none, the closest passages (at most "
    "3), listed as such: they do not answer the question"
)


class AskRequest(SearchRequest):
    use_retrieval: Flag = Field(default=True, description="false: the model answers alone")
    answer_mode: AnswerMode | None = Field(default=None, description=ANSWER_MODE_DOC)
    stream: Flag = Field(default=False, description="answer as Server-Sent Events")
    max_tokens: Integer = Field(default=256, ge=1, le=32768)
    temperature: Number = Field(default=0.0, ge=0.0, le=2.0)

    @model_validator(mode="after")
    def _extract_needs_retrieval(self) -> AskRequest:
        if self.answer_mode in ("extract", "auto") and not self.use_retrieval:
            raise ValueError(
                f"answer_mode {self.answer_mode!r} quotes the collection: it needs use_retrieval"
            )
        return self


class Source(SearchHit):
    n: int = Field(description="The number the answer cites as [n]")


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Timings(BaseModel):
    retrieval_ms: float
    generation_ms: float
    check_ms: float = Field(
        default=0.0,
        description="Checking the answer's sentences against its sources once the generator "
        "had finished (the part of the check not done while it wrote)",
    )
    total_ms: float


class AskResponse(BaseModel):
    answer: str
    sources: list[Source] = Field(description=SOURCES_DOC)
    usage: UsageOut | None
    timings: Timings
    degraded: list[Literal["keyword"]] = _degraded()
    cut: bool = Field(
        default=False,
        description="The model began repeating itself: generation was stopped and the answer "
        "ends where the repetition began",
    )
    grounded: float | None = grounded_field()
    sentences: list[AnswerSentence] = sentences_field()
    answered_by: Literal["generate", "extract", "none"] = Field(description=ANSWERED_BY_DOC)


ChunkId = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class FeedbackRequest(Strict):
    """Chunks shown for a question, marked: at least one, none both relevant and irrelevant."""

    model_config = ConfigDict(
        json_schema_extra={  # as declared: at least one chunk marked
            "anyOf": [
                {"required": [name], "properties": {name: {"minItems": 1}}}
                for name in ("relevant", "irrelevant")
            ]
        }
    )

    collection: CollectionName = "default"
    question: Question
    relevant: list[ChunkId] = Field(
        default_factory=list, max_length=100, description="Ids of chunks that answer the question"
    )
    irrelevant: list[ChunkId] = Field(
        default_factory=list, max_length=100, description="Ids of chunks that do not"
    )
    answer: Annotated[str, StringConstraints(max_length=32_000)] | None = Field(
        default=None, description="The answer the user was shown, if any"
    )
    comment: Annotated[str, StringConstraints(max_length=4000)] | None = None

    @model_validator(mode="after")
    def _marks_a_chunk(self) -> FeedbackRequest:
        if not self.relevant and not self.irrelevant:
            raise ValueError("mark at least one chunk, relevant or irrelevant")
        return self


class FeedbackAccepted(BaseModel):
    id: str = Field(description="The feedback record's id")
    collection: str
    relevant: int = Field(description="Chunks recorded as relevant")
    irrelevant: int = Field(description="Chunks recorded as irrelevant")
