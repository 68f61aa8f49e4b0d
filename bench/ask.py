"""Answer latency: questions through ``POST /ask`` (not streamed) one after another."""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx

from bench.results import Result, percentiles

NAME = "ask"
MAX_TOKENS = 32


def measure(
    api: httpx.Client, questions: Sequence[str], collection: str, max_tokens: int = MAX_TOKENS
) -> Result:
    result = Result(NAME, params={"questions": len(questions), "max_tokens": max_tokens})
    body = {"collection": collection, "max_tokens": max_tokens}
    api.post("/ask", json={**body, "question": questions[0]}).raise_for_status()  # warm-up
    total_ms: list[float] = []
    generation_ms: list[float] = []
    completion_tokens: list[int] = []
    prompt_tokens: list[int] = []
    for question in questions:
        started = time.perf_counter()
        response = api.post("/ask", json={**body, "question": question})
        total_ms.append((time.perf_counter() - started) * 1000)
        answer = response.raise_for_status().json()
        generation_ms.append(float(answer["timings"]["generation_ms"]))
        if answer.get("usage"):  # None when nothing relevant was found (no generation)
            completion_tokens.append(int(answer["usage"]["completion_tokens"]))
            prompt_tokens.append(int(answer["usage"]["prompt_tokens"]))
    result.samples["service_ms"] = total_ms
    result.samples["generation_ms"] = generation_ms
    result.params["generated"] = len(completion_tokens)
    service, generation = percentiles(total_ms), percentiles(generation_ms)
    result.add("p50", service[50], "ms")
    result.add("p95", service[95], "ms")
    result.add("generation p50 (server timing)", generation[50], "ms")
    result.add("completion tokens, mean", _mean(completion_tokens), "tokens")
    result.add("prompt tokens, mean", _mean(prompt_tokens), "tokens")
    if len(completion_tokens) < len(questions):
        result.notes.append(
            f"{len(questions) - len(completion_tokens)} of {len(questions)} questions found "
            "nothing relevant and were answered without the model"
        )
    return result


def _mean(values: Sequence[int]) -> float | None:
    return sum(values) / len(values) if values else None
