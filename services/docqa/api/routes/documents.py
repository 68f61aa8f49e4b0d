"""Documents: add (JSON text or file uploads), list, read, delete.

The routes of ``/documents``; the bodies ``POST /documents`` reads (JSON or multipart) are
parsed by ``api/uploads.py``, which also declares that request body in OpenAPI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from docqa.api import uploads
from docqa.api.deps import (
    CatalogDep,
    EmbedderDep,
    KeywordsDep,
    PrincipalDep,
    SettingsDep,
    StoreDep,
)
from docqa.api.problems import responses
from docqa.api.schemas.documents import (
    ChunkOut,
    DocumentAccepted,
    DocumentOut,
    DocumentPage,
    IngestAccepted,
)
from docqa.api.schemas.fields import CollectionName, DocumentId
from docqa.core.errors import NotFound, TooLarge, Unavailable, UnsupportedFileType
from docqa.core.models import DocumentRecord, PendingDocument
from docqa.core.ports import Catalog, Embedder, VectorStore
from docqa.ingest import indexing, intake
from docqa.search.retrieval import check_model

router = APIRouter(tags=["documents"])

CollectionQuery = Annotated[CollectionName, Query(description="The collection")]
# Ids hold '/': a path converter takes them whole. No id ends in '/chunks' (document_ids), and
# the converter of /documents/{id} cannot match a path that does, so /documents/{id}/chunks is
# never eaten by it (other methods on it answer 405, not a 422 for the id 'x/chunks').
DocumentPath = Annotated[DocumentId, Path(description="The document's id ('/' as is)")]


class _DocumentIdConvertor(Convertor[str]):
    regex = r"(?!.*/chunks$).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("document_id", _DocumentIdConvertor())


@router.post(
    "/documents",
    status_code=202,
    operation_id="add_documents",
    summary="Add or replace documents; they are indexed by a background job",
    response_model=IngestAccepted,
    responses=responses(400, 401, 403, 409, 413, 415, 422, 429, 503),
    openapi_extra=uploads.UPLOAD_BODY,
)
async def add_documents(
    request: Request,
    caller: PrincipalDep,
    settings: SettingsDep,
    store: StoreDep,
    embedder: EmbedderDep,
    catalog: CatalogDep,
) -> IngestAccepted:
    # Async to read the body as it comes; all else (parsing, hashing, the catalog's up to
    # 10,000 records) runs in the thread pool, never on the event loop.
    caller.require_access("write")  # before reading the body
    length = int(request.headers.get("content-length") or 0)
    if length > settings.max_request_bytes:
        raise TooLarge(f"request is {length} bytes; the limit is {settings.max_request_bytes}")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        collection, documents = await uploads.from_json(request, settings.max_document_bytes)
    elif content_type == "multipart/form-data":
        collection, documents = await uploads.from_form(request, settings.max_document_bytes)
    else:
        raise UnsupportedFileType(
            f"content type {content_type or 'none'!r}: send application/json or multipart/form-data"
        )
    caller.require(collection, "write")
    job_id, outcome = await run_in_threadpool(
        _accept, documents, collection, store, embedder, catalog
    )
    return IngestAccepted(
        job_id=job_id,
        collection=collection,
        documents=[
            DocumentAccepted(id=i, status="queued" if changed else "unchanged")
            for i, changed in outcome
        ],
    )


def _accept(
    documents: list[PendingDocument],
    collection: str,
    store: VectorStore,
    embedder: Embedder,
    catalog: Catalog,
) -> tuple[str | None, list[tuple[str, bool]]]:
    _refuse_other_models(collection, store, embedder)
    return intake.accept(documents, catalog)


def _refuse_other_models(collection: str, store: VectorStore, embedder: Embedder) -> None:
    """Refuse at once what the worker would refuse: a collection indexed with another model.
    (With Chroma or the embedder not reachable now, the document is accepted all the same: the
    worker makes the same check later, and its job is retried until Chroma is back.)"""
    try:
        indexed = store.collection_spec(collection)
        if indexed is None:
            return
        current = embedder.spec
    except Unavailable:
        return
    check_model(collection, indexed, current)


def _out(record: DocumentRecord) -> DocumentOut:
    return DocumentOut.model_validate(record, from_attributes=True)


@router.get(
    "/documents",
    operation_id="list_documents",
    summary="List a collection's documents, oldest first",
    responses=responses(401, 403, 422, 429, 503),
)
def list_documents(
    caller: PrincipalDep,
    catalog: CatalogDep,
    collection: CollectionQuery = "default",
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DocumentPage:
    caller.require(collection, "read")
    records, total = catalog.page(collection, offset, limit)
    return DocumentPage(items=[_out(r) for r in records], total=total, offset=offset, limit=limit)


@router.get(
    "/documents/{document_id:path}/chunks",
    operation_id="get_document_chunks",
    summary="A document's chunks as stored in the vector store, in order",
    responses=responses(401, 403, 404, 422, 429, 503),
)
def get_document_chunks(
    document_id: DocumentPath,
    caller: PrincipalDep,
    catalog: CatalogDep,
    store: StoreDep,
    collection: CollectionQuery = "default",
) -> list[ChunkOut]:
    get_document(document_id, caller, catalog, collection)
    return [
        ChunkOut(id=chunk_id, position=c.position, text=c.text, metadata=c.metadata)
        for chunk_id, c in store.chunks(collection, document_id)
    ]


@router.get(
    "/documents/{document_id:document_id}",
    operation_id="get_document",
    summary="A document's record and indexing status",
    responses=responses(401, 403, 404, 422, 429, 503),
)
def get_document(
    document_id: DocumentPath,
    caller: PrincipalDep,
    catalog: CatalogDep,
    collection: CollectionQuery = "default",
) -> DocumentOut:
    caller.require(collection, "read")
    record = catalog.get(collection, document_id)
    if record is None:
        raise NotFound(f"document {document_id!r} is not in collection {collection!r}")
    return _out(record)


@router.delete(
    "/documents/{document_id:document_id}",
    status_code=204,
    operation_id="delete_document",
    summary="Delete a document and its chunks",
    responses=responses(401, 403, 404, 422, 429, 503),
)
def delete_document(
    document_id: DocumentPath,
    caller: PrincipalDep,
    catalog: CatalogDep,
    store: StoreDep,
    keywords: KeywordsDep,
    collection: CollectionQuery = "default",
) -> Response:
    caller.require(collection, "write")
    indexing.remove_document(
        collection, document_id, store=store, keywords=keywords, catalog=catalog
    )
    return Response(status_code=204)
