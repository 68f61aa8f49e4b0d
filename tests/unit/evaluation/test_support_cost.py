"""The check's cost inside ``/ask``: the p50 with the check off (``total_ms`` less
``check_ms``) and on (``total_ms``) from the same requests."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from docqa.evaluation.support_cost import Timed, summary, timed


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


def test_an_ask_is_timed_with_and_without_its_check_from_its_own_timings() -> None:
    sent: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        timings = {"retrieval_ms": 20.0, "generation_ms": 900.0, "check_ms": 30.0}
        body = {"sentences": [{"supported": True}], "timings": {**timings, "total_ms": 950.0}}
        return httpx.Response(200, json=body)

    api = httpx.Client(transport=httpx.MockTransport(answer), base_url="http://docqa")
    found = timed(api, "labels-squad", "When did Mount Karsk erupt?")
    assert found == Timed(off_ms=920.0, on_ms=950.0, sentences=1)
    assert sent[0]["answer_mode"] == "generate" and "stream" not in sent[0]
