"""Load: ``--load-clients`` concurrent clients (default 32) mixing ``/search``, ``/ask`` and
``/documents`` for ``--load-seconds`` (default 60) against the stack, embedded defaults (local
MiniLM, Gemma 270M on llama.cpp with one thread and one slot).

Each client has one role, assigned round-robin from ``PATTERN`` (of every 8 clients: 6 search,
1 ask, 1 documents; 32 clients: 24/4/4), and sends its requests back to back until the time is
up; requests under way then finish and count. Roles instead of a random mix per request: asks
take seconds each and queue at the single generator slot, so a random mix would soon have every
client waiting on ``/ask`` and measure little else.

- search: ``POST /search`` (top 5) over the corpus collection, questions in turn.
- ask: ``POST /ask`` with ``max_tokens`` 16, not streamed.
- documents: ``POST /documents`` (one short text into a separate collection, a new id each time)
  then ``GET /documents`` (a page of 20 of the corpus collection) ``LISTS_PER_WRITE`` times, in
  turn: each write is an ingest job for the worker, which shares the CPU with the API.

Any non-2xx answer or transport error (timeouts included; the client waits up to
``TIMEOUT_S``) is an error, counted by status; the figure to watch is ``errors`` (must be 0).
Latency percentiles, counts and req/s per route; the ingest jobs the writes started are then
waited for (up to ``JOBS_WAIT_S``) and any that failed are counted too.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from bench.corpus import Corpus
from bench.results import Result, percentiles
from bench.target import post_documents, wait_for_job

NAME = "load"
DEFAULT_SECONDS = 60.0
DEFAULT_CLIENTS = 32
PATTERN = ("search", "ask", "documents", "search", "search", "search", "search", "search")
ASK_MAX_TOKENS = 16
TOP_K = 5
TIMEOUT_S = 300.0
JOBS_WAIT_S = 300.0
POINTS = (50, 95, 99)
ROUTES = ("POST /search", "POST /ask", "POST /documents", "GET /documents")
LISTS_PER_WRITE = 3


def roles(clients: int) -> list[str]:
    """The role of each client: ``PATTERN`` repeated."""
    return [PATTERN[n % len(PATTERN)] for n in range(clients)]


@dataclass(frozen=True)
class Record:
    route: str
    status: str  # the HTTP status, or the transport error's class name
    ok: bool
    latency_ms: float
    ended_s: float = 0.0  # when the answer came, in seconds since the load began


@dataclass
class Plan:
    """What the clients send: ``collection`` is read (search, ask, list); writes go to
    ``write_collection``."""

    collection: str
    write_collection: str
    questions: Sequence[str]
    ask_max_tokens: int = ASK_MAX_TOKENS
    jobs: list[str] = field(default_factory=list)  # ingest jobs the writes started
    began: float = 0.0  # perf_counter() when the load began


async def _send(
    client: httpx.AsyncClient, route: str, plan: Plan, records: list[Record], **kwargs: object
) -> httpx.Response | None:
    method, path = route.split(" ", 1)
    started = time.perf_counter()
    try:
        response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        status, ok, answer = type(exc).__name__, False, None
    else:
        status, ok, answer = str(response.status_code), response.is_success, response
    ended = time.perf_counter()
    records.append(Record(route, status, ok, (ended - started) * 1000, ended - plan.began))
    return answer


async def _client(
    client: httpx.AsyncClient,
    n: int,
    role: str,
    plan: Plan,
    deadline: float,
    records: list[Record],
) -> None:
    questions = plan.questions
    turn = 0
    while time.perf_counter() < deadline:
        question = questions[(n + turn) % len(questions)]
        if role == "search":
            body = {"collection": plan.collection, "question": question, "top_k": TOP_K}
            await _send(client, "POST /search", plan, records, json=body)
        elif role == "ask":
            body = {
                "collection": plan.collection,
                "question": question,
                "top_k": TOP_K,
                "max_tokens": plan.ask_max_tokens,
            }
            await _send(client, "POST /ask", plan, records, json=body)
        elif turn % (LISTS_PER_WRITE + 1) == 0:
            document = {
                "id": f"load-{n}-{turn}",
                "text": f"Load note {turn} from client {n}: {question}",
            }
            body = {"collection": plan.write_collection, "documents": [document]}
            response = await _send(client, "POST /documents", plan, records, json=body)
            if response is not None and response.is_success and response.json().get("job_id"):
                plan.jobs.append(response.json()["job_id"])
        else:
            params = {"collection": plan.collection, "limit": 20, "offset": (turn * 7) % 100}
            await _send(client, "GET /documents", plan, records, params=params)
        turn += 1
        await asyncio.sleep(0)  # let the other clients in, even when an answer came at once


async def drive(
    client: httpx.AsyncClient, plan: Plan, seconds: float, clients: int
) -> tuple[list[Record], float]:
    """Run ``clients`` clients for ``seconds``; every request's record and the wall time
    until the last one answered."""
    records: list[Record] = []
    plan.began = started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _client(client, n, role, plan, deadline, records)
            for n, role in enumerate(roles(clients))
        )
    )
    return records, time.perf_counter() - started


def summarize(result: Result, records: Sequence[Record], elapsed_s: float) -> None:
    """Counts, errors by status, req/s and latency percentiles, overall and per route."""
    errors = [r for r in records if not r.ok]
    by_status = Counter(f"{r.route} {r.status}" for r in errors)
    result.params["errors_by_status"] = dict(sorted(by_status.items()))
    result.params["elapsed_s"] = round(elapsed_s, 1)
    result.add("errors (must be 0)", len(errors), "requests")
    result.add("requests", len(records), "requests")
    result.add("throughput", len(records) / elapsed_s if elapsed_s else None, "req/s")
    for route in ROUTES:
        latencies = [r.latency_ms for r in records if r.route == route]
        if not latencies:
            continue
        result.samples[route] = latencies
        ok = sum(1 for r in records if r.route == route and r.ok)
        result.add(f"{route} requests", len(latencies), "requests")
        result.add(f"{route} errors", len(latencies) - ok, "requests")
        span = max(r.ended_s for r in records if r.route == route) or elapsed_s
        result.add(f"{route} throughput", len(latencies) / span if span else None, "req/s")
        for point, value in percentiles(latencies, POINTS).items():
            result.add(f"{route} p{point:g}", value, "ms")
    if errors:
        listed = ", ".join(f"{key}: {count}" for key, count in sorted(by_status.items()))
        result.notes.append(f"{len(errors)} errors ({listed})")


def measure(
    api: httpx.Client,
    base_url: str,
    corpus: Corpus,
    questions: Sequence[str],
    collection: str,
    seconds: float = DEFAULT_SECONDS,
    clients: int = DEFAULT_CLIENTS,
) -> Result:
    plan = Plan(collection, f"{collection}-load-writes", list(questions))
    mix = Counter(roles(clients))
    result = Result(
        NAME,
        params={
            "clients": clients,
            "seconds": seconds,
            "roles": dict(mix),
            "ask_max_tokens": plan.ask_max_tokens,
            "client_timeout_s": TIMEOUT_S,
            "collection": collection,
        },
    )
    # The corpus collection must hold the corpus (already so when the ingest bench ran).
    documents = [paragraph.as_document() for paragraph in corpus.paragraphs]
    post_documents(api, collection, documents, timeout_s=300 + len(documents))
    warm = {"collection": collection, "question": questions[0], "max_tokens": 1}
    api.post("/ask", json=warm, timeout=TIMEOUT_S).raise_for_status()  # the generator's load

    async def run() -> tuple[list[Record], float]:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        timeout = httpx.Timeout(TIMEOUT_S, connect=30.0)
        async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
            return await drive(client, plan, seconds, clients)

    records, elapsed = asyncio.run(run())
    summarize(result, records, elapsed)
    result.notes.append(
        f"{clients} clients ({', '.join(f'{n} {role}' for role, n in mix.items())}) for "
        f"{seconds:g} s; requests under way at the end finish and count ({elapsed:.1f} s in all)"
    )
    failed, unfinished = _jobs_outcome(api, plan.jobs)
    result.params["write_jobs"] = len(plan.jobs)
    result.add("write jobs failed", failed, "jobs")
    if unfinished:
        result.notes.append(f"{unfinished} write jobs still unfinished after {JOBS_WAIT_S:g} s")
    return result


def _jobs_outcome(api: httpx.Client, job_ids: Sequence[str]) -> tuple[int, int]:
    """(failed, unfinished) among the write jobs, after waiting up to ``JOBS_WAIT_S``."""
    deadline = time.monotonic() + JOBS_WAIT_S
    failed = unfinished = 0
    for job_id in job_ids:
        try:
            job = wait_for_job(api, job_id, max(1.0, deadline - time.monotonic()), poll_s=0.5)
        except TimeoutError:
            unfinished += 1
            continue
        failed += job["state"] != "finished"
    return failed, unfinished
