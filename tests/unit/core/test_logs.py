"""Structured logs: the JSON formatter, request ids, and the logging configuration."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from docqa.core import logs
from docqa.core.logs import JsonFormatter, request_context


def record(message: str, *, exc: bool = False, **extra: object) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            info = sys.exc_info()
    made = logging.LogRecord("docqa.test", logging.WARNING, __file__, 1, message, (), info)
    made.__dict__.update(extra)
    return made


def test_a_log_line_is_one_json_object_with_the_request_id() -> None:
    with request_context("req-1"):
        line = JsonFormatter().format(record("indexed %s", job_id="j1", documents=["c/d"]))
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "WARNING" and data["logger"] == "docqa.test"
    assert data["message"] == "indexed %s"  # no args: the message is kept as it is
    assert data["request_id"] == "req-1"
    assert data["job_id"] == "j1" and data["documents"] == ["c/d"]
    assert data["time"].endswith("+00:00")
    assert {"args", "msg", "levelno", "pathname"}.isdisjoint(data)


def test_without_a_request_the_id_is_null_and_exceptions_are_kept() -> None:
    data = json.loads(JsonFormatter().format(record("failed", exc=True, when=object())))
    assert data["request_id"] is None
    assert "ValueError: boom" in data["exc"]
    assert data["when"].startswith("<object")  # what JSON cannot say is written as text


def test_request_context_restores_the_previous_id() -> None:
    with request_context("outer"):
        with request_context("inner"):
            assert logs.request_id.get() == "inner"
        assert logs.request_id.get() == "outer"
    assert logs.request_id.get() is None


@pytest.mark.parametrize("given", ["", "x" * 129, "bad\nid", "é"])
def test_unusable_request_ids_are_replaced(given: str) -> None:
    assert logs.clean_request_id(given) is None
    assert logs.clean_request_id("abc-123") == "abc-123"


def test_configure_logging_replaces_only_its_own_handler() -> None:
    root = logging.getLogger()
    original = list(root.handlers)
    others = [h for h in original if not getattr(h, "_docqa", False)]  # an app may have run
    try:
        logs.configure_logging("INFO")
        logs.configure_logging("INFO")
        ours = [h for h in root.handlers if getattr(h, "_docqa", False)]
        assert len(ours) == 1 and isinstance(ours[0].formatter, JsonFormatter)
        assert all(h in root.handlers for h in others)
    finally:
        root.handlers[:] = original


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_outgoing_http_requests_are_logged_only_at_debug(level: str, shown: bool) -> None:
    root, httpx_logger = logging.getLogger(), logging.getLogger("httpx")
    original, before = list(root.handlers), (root.level, httpx_logger.level)
    try:
        logs.configure_logging(level)
        assert httpx_logger.isEnabledFor(logging.INFO) is shown
        assert httpx_logger.isEnabledFor(logging.WARNING)
    finally:
        root.handlers[:] = original
        root.setLevel(before[0])
        httpx_logger.setLevel(before[1])
