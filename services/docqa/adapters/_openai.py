"""The OpenAI-compatible wire format as ``adapters.openai`` meets it: error bodies and the errors
they become, SSE ``data:`` lines and the chunks on them, JSON objects, usage, and the token
estimate used where a server cannot count. The protocol's facts (vLLM, llama.cpp) are recorded in
``adapters.openai``'s docstring."""

from __future__ import annotations

import json
import math
from typing import Any, Literal

from docqa.core.errors import Unavailable, UpstreamError
from docqa.core.models import Usage

SERVICE = "generator"
Mode = Literal["chat", "completion"]
Json = dict[str, Any]


def estimate_tokens(text: str) -> int:
    """Conservative count without a tokenizer: a token per 3 UTF-8 bytes (English runs ~4
    characters a token on Llama/Mistral vocabularies, CJK ~1 a character = 3 bytes), plus one."""
    return math.ceil(len(text.encode()) / 3) + 1


def error_message(body: str) -> str:
    """The message of an error body: nested, flat (old vLLM), ``detail``, or the plain text."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        inner = data.get("error", data)
        if isinstance(inner, str):
            return inner
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
        if "detail" in data:
            return str(data["detail"])[:500]
    return body.strip()[:500] or "(empty body)"


def upstream_error(status: int | None, body: str) -> UpstreamError:
    """429 and 503 mean overloaded or not ready (``Unavailable``); the rest ``UpstreamError``."""
    detail = f"generator error{f' {status}' if status else ''}: {error_message(body)}"
    cls = Unavailable if status in (429, 503) else UpstreamError
    return cls(detail, service=SERVICE, status=status)


def sse_data(line: str) -> str | None:
    """The payload of an SSE ``data:`` line; None for blank, comment (keep-alive), other fields.

    These servers put each event's JSON on one ``data:`` line, so lines are read one by one.
    """
    field, sep, value = line.partition(":")
    if sep and field == "error":  # an "error:" event line: stop with its message
        raise upstream_error(None, value.strip())
    return value.removeprefix(" ") if sep and field == "data" else None


def stream_chunk(data: str) -> Json:
    """A stream's chunk from its ``data:`` payload; an error chunk raises its error."""
    chunk = json_object(data)
    if "error" in chunk or chunk.get("object") == "error":
        err = chunk.get("error", chunk)
        code = err.get("code") if isinstance(err, dict) else None
        raise upstream_error(code if isinstance(code, int) else None, data)
    return chunk


def piece(choice: Json, mode: Mode) -> str:
    """A choice's text: a chat chunk's ``delta`` (an answer's ``message``), a completion's."""
    if mode == "chat":
        part = (choice.get("delta") or choice.get("message") or {}).get("content")
    else:
        part = choice.get("text")
    return part if isinstance(part, str) else ""


def json_object(text: str) -> Json:
    """A JSON object from the server, or ``UpstreamError``."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UpstreamError(f"generator sent no JSON object: {text[:200]!r}", service=SERVICE)
    return data


def usage(raw: Any) -> Usage | None:
    try:
        return Usage(int(raw["prompt_tokens"]), int(raw["completion_tokens"]))
    except (KeyError, TypeError, ValueError):
        return None  # absent (most chunks) or incomplete
