"""_openai: the OpenAI-compatible wire format read line by line and body by body (the adapter
over recorded vLLM and llama.cpp answers: test_openai.py)."""

from __future__ import annotations

from docqa.adapters._openai import error_message, sse_data


def test_sse_data_lines() -> None:
    assert sse_data("data: {}") == "{}"
    assert sse_data("data:[DONE]") == "[DONE]"
    assert sse_data("") is None and sse_data(": ping") is None and sse_data("event: x") is None


def test_plain_text_error() -> None:
    assert error_message("Internal Server Error") == "Internal Server Error"
    assert error_message("") == "(empty body)"
