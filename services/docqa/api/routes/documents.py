"""Documents: add (JSON text or file uploads), list, read, delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import UploadFile

from docqa import document_ids, indexing, intake
from docqa.api.deps import (
    CatalogDep,
    EmbedderDep,
    KeywordsDep,
    PrincipalDep,
    SettingsDep,
    StoreDep,
)
from docqa.api.problems import responses
from docqa.api.schemas import (
    COLLECTION_PATTERN,
    DOCUMENT_ID_PATTERN,
    ChunkOut,
    CollectionName,
    DocumentAccepted,
    DocumentId,
    DocumentOut,
    DocumentPage,
    IngestAccepted,
    IngestRequest,
    Metadata,
)
from docqa.errors import InvalidInput, NotFound, TooLarge, Unavailable, UnsupportedFileType
from docqa.extraction import check_upload
from docqa.models import DocumentRecord, MetadataValue, PendingDocument
from docqa.ports import Catalog, Embedder, VectorStore
from docqa.retrieval import check_model

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
_metadata_adapter = TypeAdapter(Metadata)

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/IngestRequest"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["files"],
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "minItems": 1,
                            "description": ".txt, .md, .html, .htm, .pdf, .docx or .pptx; "
                            "each file's id is its entry in ids or else its file name",
                        },
                        "ids": {
                            "type": "array",
                            "items": {
                                "type": "string",
                                "pattern": DOCUMENT_ID_PATTERN,
                                "maxLength": document_ids.MAX_LENGTH,
                            },
                            "description": "The files' ids, one part per file in the order of "
                            "files (all or none): e.g. a path relative to a folder, a/b.md. "
                            "Without it, a file's id is its file name ('\\' read as '/', "
                            "empty, '.' and '..' segments left out)",
                        },
                        "collection": {
                            "type": "string",
                            "pattern": COLLECTION_PATTERN,
                            "default": "default",
                        },
                        "metadata": {  # an object part is sent as JSON (OpenAPI 3.1, 4.8.14.4)
                            **_metadata_adapter.json_schema(),
                            "description": "Flat metadata for every file, as a JSON object",
                        },
                    },
                }
            },
        },
    }
}


@router.post(
    "/documents",
    status_code=202,
    operation_id="add_documents",
    summary="Add or replace documents; they are indexed by a background job",
    response_model=IngestAccepted,
    responses=responses(400, 401, 403, 409, 413, 415, 422, 429, 503),
    openapi_extra=_UPLOAD_BODY,
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
        collection, documents = await _from_json(request, settings.max_document_bytes)
    elif content_type == "multipart/form-data":
        collection, documents = await _from_form(request, settings.max_document_bytes)
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


async def _from_json(request: Request, max_bytes: int) -> tuple[str, list[PendingDocument]]:
    return await run_in_threadpool(_parse_json, await request.body(), max_bytes)


def _parse_json(raw: bytes, max_bytes: int) -> tuple[str, list[PendingDocument]]:
    try:
        body = IngestRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    return body.collection, [
        intake.text_document(
            body.collection,
            doc.text,
            document_id=doc.id,
            title=doc.title,
            metadata=doc.metadata,
            max_bytes=max_bytes,
        )
        for doc in body.documents
    ]


async def _from_form(request: Request, max_bytes: int) -> tuple[str, list[PendingDocument]]:
    form = await request.form(max_files=1000, max_fields=1010)  # an ids part per file
    unknown = sorted(set(form.keys()) - {"files", "ids", "collection", "metadata"})
    if unknown:
        raise InvalidInput(
            f"unknown form fields {unknown}; expected files, ids, collection, metadata"
        )
    collection = _form_text(form.get("collection")) or "default"
    try:
        TypeAdapter(CollectionName).validate_python(collection)
        metadata = _metadata_adapter.validate_json(_form_text(form.get("metadata")) or "{}")
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(f"invalid collection or metadata: {exc}") from exc
    files = [item for item in form.getlist("files") if isinstance(item, UploadFile)]
    if not files:
        raise InvalidInput("no files: send one or more files in the 'files' form field")
    uploads = []
    for upload in files:
        name = upload.filename or ""
        data = await upload.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise TooLarge(f"file {name!r} is over the limit of {max_bytes} bytes")
        uploads.append((name, data))
    ids = _upload_ids(form.getlist("ids"), len(uploads))
    return collection, await run_in_threadpool(_file_documents, collection, uploads, metadata, ids)


def _upload_ids(values: Sequence[object], files: int) -> list[str | None]:
    """The ids sent, one per file in order, each checked; or None for each (file names)."""
    if not values:
        return [None] * files
    if len(values) != files:
        raise InvalidInput(f"{len(values)} ids for {files} files: send one id per file, or none")
    ids: list[str | None] = []
    for value in values:
        if not isinstance(value, str):
            raise InvalidInput("ids must be plain form fields, not files")
        try:
            ids.append(document_ids.check(value))
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
    return ids


def _file_documents(
    collection: str,
    uploads: list[tuple[str, bytes]],
    metadata: dict[str, MetadataValue],
    ids: list[str | None],
) -> list[PendingDocument]:
    """Each file checked (its kind sniffed, a package's parts bounded) and hashed."""
    return [
        intake.file_document(
            collection,
            name,
            check_upload(name, data),
            data,
            metadata=metadata,
            document_id=document_id,
        )
        for (name, data), document_id in zip(uploads, ids, strict=True)
    ]


def _form_text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("collection and metadata must be plain form fields, not files")
    return value


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
