"""The check's cost inside ``/ask``: server-sent events read back, and the p50 with the check
off (the last token) and on (the checked answer) from the same requests."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from docqa.evaluation.support_cost import Timed, events, summary, timed


def test_events_are_read_back_by_name_with_their_data() -> None:
    lines = [
        "event: token",
        'data: {"text": "Mount"}',
        "",
        "event: token",
        'data: {"text": " Karsk"}',
        "",
        "event: sources",
        'data: {"sentences": []}',
    ]
    assert list(events(lines)) == [
        ("token", '{"text": "Mount"}'),
        ("token", '{"text": " Karsk"}'),
        ("sources", '{"sentences": []}'),
    ]


def test_the_slowdown_is_the_p50_with_the_check_over_the_p50_without() -> None:
    times = [
        Timed(off_ms=1000.0, on_ms=1050.0, sentences=2),
        Timed(off_ms=2000.0, on_ms=2200.0, sentences=3),
        Timed(off_ms=3000.0, on_ms=3030.0, sentences=1),
        Timed(off_ms=10.0, on_ms=10.0, sentences=0),  # refused: nothing checked, left out
    ]
    result = summary(times)
    assert result["answers"] == 3
    assert (result["ask_ms_p50_check_off"], result["ask_ms_p50_check_on"]) == (2000.0, 2200.0)
    assert result["slower_with_check"] == pytest.approx(0.1)
    assert result["check_ms_p50"] == 50.0
    assert result["check_share_p50"] == pytest.approx(0.05)


def test_a_streamed_ask_is_timed_at_its_last_token_and_at_its_checked_answer() -> None:
    sent: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        body = (
            'event: token\ndata: {"text": "1911"}\n\n'
            'event: sources\ndata: {"sentences": [{"supported": true}]}\n\n'
        )
        return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})

    api = httpx.Client(transport=httpx.MockTransport(answer), base_url="http://docqa")
    found = timed(api, "labels-squad", "When did Mount Karsk erupt?")
    assert found.sentences == 1 and 0 <= found.off_ms <= found.on_ms
    alone = timed(api, "labels-squad", "When did Mount Karsk erupt?", retrieval=False)
    assert [body["use_retrieval"] for body in sent] == [True, False]
    assert all(body["stream"] and body["answer_mode"] == "generate" for body in sent)
    assert alone.sentences == 1
