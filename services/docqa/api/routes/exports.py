"""A collection out and in with its vectors (``docqa export`` / ``docqa import`` call these).

``GET /collections/{c}/export`` answers a page of the catalog's documents (oldest first) with
their catalog fields and their chunks' text, metadata and vectors; ``next_offset`` leads to the
next page. ``POST /collections/{c}/import`` writes documents with their chunks and vectors into
the keyword index, Chroma and the catalog without the embedder (``docqa.ingest.vector_transfer``),
refusing the whole request before writing anything when any part of it is wrong. Its body is
bounded by ``DOCQA_MAX_REQUEST_BYTES`` (as an upload's), every other body by
``DOCQA_MAX_BODY_BYTES``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from docqa.api.deps import (
    CatalogDep,
    ChunkerDep,
    EmbedderDep,
    KeywordsDep,
    PrincipalDep,
    SettingsDep,
    StoreDep,
)
from docqa.api.problems import responses
from docqa.api.schemas.exports import (
    ChunkExport,
    DocumentExport,
    ExportPage,
    ImportedOut,
    ImportRequest,
    ImportResult,
    SpecOut,
)
from docqa.api.schemas.fields import COLLECTION_PATTERN
from docqa.core.errors import TooLarge, UnsupportedFileType
from docqa.core.ports import Catalog, Embedder, KeywordIndex, VectorStore
from docqa.ingest import import_checks, vector_transfer
from docqa.ingest.indexing import Chunker

router = APIRouter(tags=["collections"])

CollectionPath = Annotated[str, Path(pattern=COLLECTION_PATTERN, description="The collection")]

_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ImportRequest"}}},
    }
}


@router.get(
    "/collections/{collection}/export",
    operation_id="export_collection",
    summary="A page of a collection's documents with their chunks and vectors",
    responses=responses(401, 403, 404, 422, 429, 503),
)
def export_collection(
    collection: CollectionPath,
    caller: PrincipalDep,
    catalog: CatalogDep,
    store: StoreDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ExportPage:
    caller.require(collection, "read")
    page = vector_transfer.export_page(collection, offset, limit, store=store, catalog=catalog)
    following = offset + page.read
    spec = page.spec
    return ExportPage(
        collection=collection,
        format=vector_transfer.FORMAT_VERSION,
        spec=SpecOut(
            model_id=spec.model_id,
            dimension=spec.dimension,
            normalized=spec.normalized,
            max_input_tokens=spec.max_input_tokens,
        ),
        offset=offset,
        limit=limit,
        total=page.total,
        next_offset=following if page.read and following < page.total else None,
        documents=[
            DocumentExport(
                id=record.id,
                title=record.title,
                source=record.source,
                metadata=record.metadata,
                content_hash=record.content_hash,
                chunks=[
                    ChunkExport(
                        id=chunk_id,
                        position=chunk.position,
                        text=chunk.text,
                        metadata=chunk.metadata,
                        embedding=vector,
                    )
                    for chunk_id, chunk, vector in chunks
                ],
            )
            for record, chunks in page.documents
        ],
        skipped=page.skipped,
    )


@router.post(
    "/collections/{collection}/import",
    operation_id="import_collection",
    summary="Write documents with their chunks and vectors, without embedding them",
    response_model=ImportResult,
    responses=responses(400, 401, 403, 409, 413, 415, 422, 429, 503),
    openapi_extra=_IMPORT_BODY,
)
async def import_collection(
    collection: CollectionPath,
    request: Request,
    caller: PrincipalDep,
    settings: SettingsDep,
    store: StoreDep,
    keywords: KeywordsDep,
    catalog: CatalogDep,
    embedder: EmbedderDep,
    chunker: ChunkerDep,
) -> ImportResult:
    # Async to read the body as it comes; parsing and writing run in the thread pool.
    caller.require(collection, "write")  # before reading the body
    length = int(request.headers.get("content-length") or 0)
    if length > settings.max_request_bytes:
        raise TooLarge(f"request is {length} bytes; the limit is {settings.max_request_bytes}")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedFileType(f"content type {content_type or 'none'!r}: send application/json")
    raw = await request.body()
    parts = (store, keywords, catalog, embedder, chunker)
    return await run_in_threadpool(_import, collection, raw, *parts)


def _import(
    collection: str,
    raw: bytes,
    store: VectorStore,
    keywords: KeywordIndex,
    catalog: Catalog,
    embedder: Embedder,
    chunker: Chunker,
) -> ImportResult:
    try:
        body = ImportRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    spec = import_checks.VectorsSpec(body.spec.model_id, body.spec.dimension, body.spec.normalized)
    documents = [
        import_checks.ImportedDocument(
            id=d.id,
            content_hash=d.content_hash,
            title=d.title,
            source=d.source,
            metadata=d.metadata,
            chunks=[
                import_checks.ImportedChunk(c.position, c.text, c.metadata, c.embedding)
                for c in d.chunks
            ],
        )
        for d in body.documents
    ]
    done = vector_transfer.import_documents(
        collection,
        spec,
        documents,
        store=store,
        keywords=keywords,
        catalog=catalog,
        embedder=embedder,
        indexed_texts=chunker.indexed_texts,  # the keyword index's texts, as indexing's
    )
    imported = set(done.imported)
    return ImportResult(
        collection=collection,
        documents=[
            ImportedOut(id=d.id, status="imported" if d.id in imported else "unchanged")
            for d in documents
        ],
        chunks=done.chunks,
    )
