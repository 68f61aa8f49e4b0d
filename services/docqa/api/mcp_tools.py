"""The MCP tools' work: each one calls the route function an HTTP client would reach, with the
caller's ``Principal`` and the app's ``Services``, so that search, ask, reading and adding go
through exactly the code (and checks) of ``/search``, ``/ask``, ``/collections`` and
``/documents``; a domain error becomes the words an agent reads (``ToolError``)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ValidationError

from docqa import wiring
from docqa.api.keys import Principal
from docqa.api.problems import status_of
from docqa.api.routes import answers, documents, listing
from docqa.api.schemas.answers import AskRequest, AskResponse, SearchRequest
from docqa.api.schemas.documents import ChunkOut, IngestRequest
from docqa.core.errors import DocqaError, NotFound
from docqa.ingest import intake
from docqa.wiring import Services

T = TypeVar("T")


class ToolFailure(ToolError):
    """What an agent is told when a tool fails: the HTTP status the route would answer and its
    problem's detail ("404 Not Found: collection 'x' does not exist ...")."""


def _said(exc: DocqaError) -> ToolFailure:
    return ToolFailure(f"{status_of(exc)} {exc.title}: {exc.detail}")


def _invalid(exc: ValidationError | RequestValidationError) -> ToolFailure:
    errors = exc.errors()
    where = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'arguments'}: "
        f"{e.get('msg', '')}"
        for e in errors
    )
    return ToolFailure(f"422 Invalid input: {where}")


async def guarded(work: Callable[[], Awaitable[T]]) -> T:
    """``work()``, its domain and validation errors turned into a ``ToolFailure``."""
    try:
        return await work()
    except DocqaError as exc:
        raise _said(exc) from exc
    except (ValidationError, RequestValidationError) as exc:
        raise _invalid(exc) from exc


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _parts(services: Services) -> dict[str, Callable[[], object]]:
    """What a route's dependencies hand it, by the parameter names the routes use."""
    return {
        "settings": lambda: services.settings,
        "store": lambda: services.store,
        "keywords": lambda: services.keywords,
        "catalog": lambda: services.catalog,
        "queue": lambda: services.queue,
        "feedback": lambda: services.feedback,
        "embedder": lambda: services.embedder,
        "generator": lambda: services.generator,
        "retriever": lambda: wiring.retriever(services),
        "chunker": lambda: wiring.chunker(services),
    }


def _route_call(
    route: Callable[..., T], services: Services, caller: Principal, **given: Any
) -> Callable[[], T]:
    """``route`` bound as FastAPI would call it: ``given`` (body, path and query values), the
    caller, and each part of ``services`` it names; a route given a new dependency gets it."""
    parts = _parts(services)
    arguments = dict(given)
    for name, parameter in inspect.signature(route).parameters.items():
        if name == "caller":
            arguments[name] = caller
        elif name not in arguments and name in parts:
            arguments[name] = parts[name]()
        elif name not in arguments and parameter.default is inspect.Parameter.empty:
            raise TypeError(f"{route.__name__} wants {name!r}, which the MCP tools do not give")
    return partial(route, **arguments)


async def list_collections(caller: Principal, services: Services) -> dict[str, Any]:
    found = await run_in_threadpool(_route_call(listing.list_collections, services, caller))
    return _dump(found)


async def search(
    caller: Principal, services: Services, arguments: dict[str, Any]
) -> dict[str, Any]:
    body = SearchRequest.model_validate(arguments)
    found = await run_in_threadpool(_route_call(answers.search, services, caller, body=body))
    return _dump(found)


async def ask(caller: Principal, services: Services, arguments: dict[str, Any]) -> dict[str, Any]:
    body = AskRequest.model_validate({**arguments, "stream": False})
    answered = await _route_call(answers.ask, services, caller, body=body)()
    assert isinstance(answered, AskResponse)  # not streamed
    return _dump(answered)


async def list_documents(
    caller: Principal, services: Services, collection: str, offset: int, limit: int
) -> dict[str, Any]:
    page = await run_in_threadpool(
        _route_call(
            documents.list_documents,
            services,
            caller,
            collection=collection,
            offset=offset,
            limit=limit,
        )
    )
    return _dump(page)


async def read_document(
    caller: Principal,
    services: Services,
    document_id: str,
    collection: str,
    chunk_id: str | None,
    around: int,
) -> dict[str, Any]:
    where = {"document_id": document_id, "collection": collection}
    record = await run_in_threadpool(_route_call(documents.get_document, services, caller, **where))
    chunks = await run_in_threadpool(
        _route_call(documents.get_document_chunks, services, caller, **where)
    )
    shown = chunks
    if chunk_id is not None:
        at = next((i for i, c in enumerate(chunks) if c.id == chunk_id), None)
        if at is None:
            raise NotFound(f"passage {chunk_id!r} is not in document {document_id!r}")
        shown = chunks[max(0, at - around) : at + around + 1]
    return {
        "document": _dump(record),
        "text": stitched(shown),
        "passages": [{"chunk_id": c.id, "position": c.position} for c in shown],
        "whole": len(shown) == len(chunks),
    }


def stitched(chunks: Sequence[ChunkOut]) -> str:
    """Chunks in order as one text, by their ``start``/``end`` offsets in the document: an
    overlap once; the white space the splitter left between two chunks as one space (one
    character) or a blank line (more); chunks without offsets apart by a blank line."""
    out: list[str] = []
    end: int | None = None
    for chunk in chunks:
        start, stop = chunk.metadata.get("start"), chunk.metadata.get("end")
        text = chunk.text
        if isinstance(start, int) and end is not None and start <= end:
            out.append(text[end - start :])
        elif isinstance(start, int) and end is not None and start == end + 1:
            out.append(" " + text)
        else:
            out.append(("\n\n" if out else "") + text)
        end = stop if isinstance(stop, int) else None
    return "".join(out)


async def add_document(
    caller: Principal, services: Services, arguments: dict[str, Any]
) -> dict[str, Any]:
    caller.require_access("write")
    collection = arguments.pop("collection", "default")
    body = IngestRequest.model_validate({"collection": collection, "documents": [arguments]})
    caller.require(body.collection, "write")
    doc = body.documents[0]
    pending = intake.text_document(
        body.collection,
        doc.text,
        document_id=doc.id,
        title=doc.title,
        metadata=doc.metadata,
        max_bytes=services.settings.max_document_bytes,
    )
    job_id, outcome = await run_in_threadpool(
        documents._accept,
        [pending],
        body.collection,
        services.store,
        services.embedder,
        services.catalog,
    )
    (document_id, changed) = outcome[0]
    return {
        "job_id": job_id,
        "collection": body.collection,
        "id": document_id,
        "status": "queued" if changed else "unchanged",
    }


async def delete_document(
    caller: Principal, services: Services, document_id: str, collection: str
) -> dict[str, Any]:
    where = {"document_id": document_id, "collection": collection}
    await run_in_threadpool(_route_call(documents.delete_document, services, caller, **where))
    return {"deleted": document_id, "collection": collection}
