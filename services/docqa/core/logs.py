"""Structured logs (one JSON object a line) and the request id each line names, for the API and
the worker.

A request id follows a document from the API into its ingest job: the API takes it from the
``X-Request-ID`` header (or makes one), keeps it in ``request_id`` (a contextvar) while it
serves the request, stores it in the job's meta; the worker sets it again while it runs that
job. Every log line says the request id in force.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# --- Request ids ---

request_id: ContextVar[str | None] = ContextVar("docqa_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str | None:
    """A caller's id, if it is a sane one (printable ASCII, at most 128 characters)."""
    if not value or len(value) > 128 or not value.isascii() or not value.isprintable():
        return None
    return value


@contextmanager
def request_context(value: str | None) -> Iterator[None]:
    """``request_id`` is ``value`` inside the block."""
    token = request_id.set(value)
    try:
        yield
    finally:
        request_id.reset(token)


# --- Logs ---

# What every LogRecord has; anything else on a record is an ``extra`` and goes in the line.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, then any extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def _stamp_request_ids() -> None:
    """Every new LogRecord gets ``request_id`` when it is made (in the thread, task and context
    that logged), whenever and wherever a handler formats it."""
    make = logging.getLogRecordFactory()
    if getattr(make, "_docqa", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        made = make(*args, **kwargs)
        if getattr(made, "request_id", None) is None:
            made.request_id = request_id.get()
        return made

    factory._docqa = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def configure_logging(level: str | int = "INFO") -> None:
    """JSON lines on stderr from the root logger; uvicorn's loggers go through it too.

    Idempotent: only a handler this function installed is replaced, others (pytest's) stay.
    """
    _stamp_request_ids()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_docqa", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._docqa = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # The middleware logs each request (with its id and route); uvicorn's line would repeat it.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # httpx logs every outgoing request at INFO: hundreds of lines per ingest job (a /tokenize
    # call per section), most of the worker's log. Kept for DEBUG.
    logging.getLogger("httpx").setLevel(
        logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    )
