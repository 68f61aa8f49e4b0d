"""Collections: re-index one into a new version with the service's current embedder.

The way to a new embedding model (a fine-tuned one, say): configure it, then re-index the old
collection into a new one. Each chunk keeps its text, metadata and id; only its vector
changes. The old collection stays as it was, so ``docqa eval`` can compare the two.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from docqa.api.deps import CatalogDep, EmbedderDep, PrincipalDep, StoreDep
from docqa.api.problems import responses
from docqa.api.schemas.documents import ReindexAccepted, ReindexRequest
from docqa.api.schemas.fields import COLLECTION_PATTERN
from docqa.core.errors import Conflict, NotFound
from docqa.ingest import intake
from docqa.search.retrieval import check_model

router = APIRouter(tags=["collections"])

CollectionPath = Annotated[str, Path(pattern=COLLECTION_PATTERN, description="The collection")]


@router.post(
    "/collections/{collection}/reindex",
    status_code=202,
    operation_id="reindex_collection",
    summary="Embed a collection's chunks anew, with the current model, into another collection",
    responses=responses(401, 403, 404, 409, 413, 422, 429, 503),
)
def reindex(
    collection: CollectionPath,
    body: ReindexRequest,
    caller: PrincipalDep,
    catalog: CatalogDep,
    store: StoreDep,
    embedder: EmbedderDep,
) -> ReindexAccepted:
    caller.require(collection, "read")
    caller.require(body.target, "write")
    if body.target == collection:
        raise Conflict("the target is the source collection: re-index into another collection")
    if store.collection_spec(collection) is None:
        raise NotFound(f"collection {collection!r} does not exist (or has no documents yet)")
    target_spec = store.collection_spec(body.target)
    if target_spec is not None:
        check_model(body.target, target_spec, embedder.spec)
    copied = intake.copy_collection(collection, body.target, catalog)
    return ReindexAccepted(
        source=collection,
        target=body.target,
        jobs=copied.jobs,
        documents=copied.queued,
        skipped=copied.skipped,
    )
