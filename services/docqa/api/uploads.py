"""The bodies ``POST /documents`` reads itself: a JSON ``IngestRequest`` of texts, or a
``multipart/form-data`` upload of files (with optional ``ids``, ``collection`` and ``metadata``
parts), each turned into ``PendingDocument``s for ``intake.accept``; and ``UPLOAD_BODY``, the
request body declared for it in OpenAPI by hand (the route reads the body itself, so FastAPI
cannot derive it).

A multipart file's id is its part in ``ids`` (one per file, in order, all or none), else its
file name; each file is read up to the size limit, its kind sniffed (``check_upload``) and
hashed. Parsing and hashing run in the thread pool, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import UploadFile

from docqa.api.schemas.documents import IngestRequest
from docqa.api.schemas.fields import (
    COLLECTION_PATTERN,
    DOCUMENT_ID_PATTERN,
    CollectionName,
    Metadata,
)
from docqa.core.errors import InvalidInput, TooLarge
from docqa.core.models import MetadataValue, PendingDocument
from docqa.ingest import identity, intake
from docqa.ingest.formats.extraction import check_upload

_metadata_adapter = TypeAdapter(Metadata)

UPLOAD_BODY: dict[str, Any] = {
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
                                "maxLength": identity.MAX_LENGTH,
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


async def from_json(request: Request, max_bytes: int) -> tuple[str, list[PendingDocument]]:
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


async def from_form(request: Request, max_bytes: int) -> tuple[str, list[PendingDocument]]:
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
            ids.append(identity.check(value))
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
