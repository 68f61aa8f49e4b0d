"""Feedback: a user marks the chunks shown for a question relevant or not (fine-tuning data)."""

from __future__ import annotations

import time
import uuid

from fastapi import APIRouter

from docqa.api.deps import FeedbackDep, PrincipalDep, StoreDep
from docqa.api.problems import responses
from docqa.api.schemas.answers import FeedbackAccepted, FeedbackRequest
from docqa.core.errors import InvalidInput, NotFound
from docqa.core.models import Chunk, FeedbackRecord, MarkedChunk

router = APIRouter(tags=["feedback"])


@router.post(
    "/feedback",
    operation_id="add_feedback",
    status_code=201,
    summary="Record which chunks answer a question and which do not",
    description="The chunks' texts are stored with the record, as they are now; "
    "`docqa feedback export` turns the records into training pairs.",
    responses=responses(401, 403, 404, 413, 422, 429, 503),
)
def add_feedback(
    body: FeedbackRequest, caller: PrincipalDep, store: StoreDep, log: FeedbackDep
) -> FeedbackAccepted:
    caller.require(body.collection, "read")
    relevant = list(dict.fromkeys(body.relevant))
    irrelevant = list(dict.fromkeys(body.irrelevant))
    found = store.chunks_by_id(body.collection, list(dict.fromkeys([*relevant, *irrelevant])))
    missing = [chunk_id for chunk_id in [*relevant, *irrelevant] if chunk_id not in found]
    if missing:
        raise NotFound(
            f"no chunk {', '.join(repr(m) for m in missing[:5])}"
            f"{' (and more)' if len(missing) > 5 else ''} in collection {body.collection!r}"
        )
    both = sorted(set(relevant) & set(irrelevant))
    if both:
        raise InvalidInput(f"chunks marked both relevant and irrelevant: {', '.join(both)}")
    record = FeedbackRecord(
        id=uuid.uuid4().hex,
        collection=body.collection,
        question=body.question,
        relevant=tuple(_marked(chunk_id, found[chunk_id]) for chunk_id in relevant),
        irrelevant=tuple(_marked(chunk_id, found[chunk_id]) for chunk_id in irrelevant),
        answer=body.answer,
        comment=body.comment,
        caller=caller.name,
        created_at=time.time(),
    )
    log.append(record)
    return FeedbackAccepted(
        id=record.id,
        collection=record.collection,
        relevant=len(relevant),
        irrelevant=len(irrelevant),
    )


def _marked(chunk_id: str, chunk: Chunk) -> MarkedChunk:
    return MarkedChunk(chunk_id=chunk_id, document_id=chunk.document_id, text=chunk.text)
