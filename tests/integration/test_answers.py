"""Questions: /search and /ask (plain and streamed) over HTTP against the running stack, whose
generator is a real llama.cpp server on a tiny base model. Generation is kept short: it is a CPU.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import pytest

from support.api import assert_problem, ingest

NOTHING_RELEVANT = "Your documents do not answer this question."
CLOSEST_NOTE = " The closest passages they hold are listed as sources: they do not answer it."
NO_ANSWER = "The provided sources do not contain the answer."
MAX_TOKENS = 16  # enough for the tiny model to say something; more is only slower

# Four short documents, one distinct fact each, and a question each that only it answers.
DOCUMENTS: list[dict[str, Any]] = [
    {
        "id": "volcano",
        "title": "Mount Pelora",
        "metadata": {"topic": "geology", "shelf": 1},
        "text": "Mount Pelora is a volcano that last erupted in 1742, "
        "burying the valley town of Vessen under ash.",
    },
    {
        "id": "cake",
        "title": "Plum cake",
        "metadata": {"topic": "cooking", "shelf": 1},
        "text": "Grandma Ilse's plum cake is baked at 180 degrees Celsius for 45 minutes "
        "with cinnamon.",
    },
    {
        "id": "chess",
        "title": "Chess club",
        "metadata": {"topic": "games", "shelf": 2},
        "text": "The Tallberg chess club meets every Thursday evening; "
        "its current champion is Mira Okafor.",
    },
    {
        "id": "satellite",
        "title": "Aurora-7",
        "metadata": {"topic": "space", "shelf": 2},
        "text": "The weather satellite Aurora-7 circles the Earth every 98 minutes "
        "at an altitude of 820 kilometres.",
    },
]
QUESTIONS = {
    "volcano": "When did Mount Pelora last erupt?",
    "cake": "How long is the plum cake baked?",
    "chess": "Who is the champion of the chess club?",
    "satellite": "How often does Aurora-7 orbit the Earth?",
}
TITLES = {d["id"]: d["title"] for d in DOCUMENTS}
# Shares no words or topic with the documents: every hit scores far below the 0.25 minimum
# (measured on all-MiniLM-L6-v2: at most ~0.02).
UNRELATED = "How do I reset my router password?"

# A citation marker: [1], [2, 3], [2-4], [Source 2]; every number in it must name a source.
CITATION = re.compile(r"\[\s*(?:sources?\s*)?(\d+(?:\s*[-\u2013,]\s*\d+)*)\s*\]", re.IGNORECASE)


@pytest.fixture(scope="module")
def corpus(api: httpx.Client) -> str:
    """A collection holding the four documents, shared by this module's tests (read-only)."""
    name = f"answers{uuid.uuid4().hex[:8]}"
    job = ingest(api, name, *DOCUMENTS)
    assert job["state"] == "finished", job
    return name


def search(api: httpx.Client, corpus: str, question: str, **extra: Any) -> list[dict[str, Any]]:
    response = api.post("/search", json={"question": question, "collection": corpus, **extra})
    assert response.status_code == 200, response.text
    assert 0 < response.json()["took_ms"] <= response.elapsed.total_seconds() * 1000
    return list(response.json()["hits"])


def ask(api: httpx.Client, corpus: str, question: str, **extra: Any) -> dict[str, Any]:
    body = {"question": question, "collection": corpus, "max_tokens": MAX_TOKENS, **extra}
    response = api.post("/ask", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["timings"]["total_ms"] <= response.elapsed.total_seconds() * 1000
    return dict(response.json())


def cited_numbers(answer: str) -> list[int]:
    return [int(n) for match in CITATION.finditer(answer) for n in re.findall(r"\d+", match[1])]


def assert_cites_only_sources(result: dict[str, Any]) -> None:
    sources = result["sources"]
    assert [s["n"] for s in sources] == list(range(1, len(sources) + 1))
    for n in cited_numbers(result["answer"]):
        assert 1 <= n <= len(sources), f"[{n}] names no source: {result['answer']!r}"


def assert_usage_and_timings(result: dict[str, Any], max_tokens: int = MAX_TOKENS) -> None:
    usage = result["usage"]
    assert usage is not None, result
    assert usage["prompt_tokens"] > 0
    assert 0 < usage["completion_tokens"] <= max_tokens
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    timings = result["timings"]
    assert timings["retrieval_ms"] > 0 and timings["generation_ms"] > 0
    parts = timings["retrieval_ms"] + timings["generation_ms"] + timings["check_ms"]
    assert timings["total_ms"] >= parts - 1
    if result["sentences"]:  # checked: the check's own time is reported apart
        assert timings["check_ms"] > 0


def assert_checked(result: dict[str, Any]) -> None:
    """The answer's sentences index its text, name sources it has, and ``grounded`` is the
    share of their characters that are supported."""
    answer, sentences, sources = result["answer"], result["sentences"], result["sources"]
    if answer == NO_ANSWER:  # the model's own "not in the sources" is not checked
        assert result["grounded"] is None and sentences == []
        return
    assert sentences, result
    lengths = {True: 0, False: 0}
    for sentence in sentences:
        assert answer[sentence["start"] : sentence["end"]] == sentence["text"]
        assert 0.0 <= sentence["score"] <= 1.0
        source = sources[sentence["source"] - 1]
        span = sentence["span"]
        assert 0 <= span["start"] < span["end"] <= len(source["text"])
        assert span["document_start"] == source["metadata"]["start"] + span["start"]
        lengths[sentence["supported"]] += sentence["end"] - sentence["start"]
    assert result["grounded"] == round(lengths[True] / (lengths[True] + lengths[False]), 4)


def sse_events(body: str) -> list[tuple[str, Any]]:
    """``(event, data)`` of each blank-line separated event; each has one of each line."""
    events = []
    for block in body.split("\n\n"):
        if not block.strip():
            continue
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, sep, value = line.partition(":")
            assert sep and name in ("event", "data") and name not in fields, block
            fields[name] = value.removeprefix(" ")
        assert fields.keys() == {"event", "data"}, block
        events.append((fields["event"], json.loads(fields["data"])))
    return events


# /search


@pytest.mark.parametrize("document_id", list(QUESTIONS))
def test_search_ranks_the_document_with_the_fact_first(
    api: httpx.Client, corpus: str, document_id: str
) -> None:
    hits = search(api, corpus, QUESTIONS[document_id], top_k=4)
    assert len(hits) == 4
    assert hits[0]["document_id"] == document_id
    assert hits[0]["score"] > hits[1]["score"]
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)


def test_search_hits_carry_title_score_text_and_metadata(api: httpx.Client, corpus: str) -> None:
    hits = search(api, corpus, QUESTIONS["chess"], top_k=4)
    by_id = {d["id"]: d for d in DOCUMENTS}
    for hit in hits:
        document = by_id[hit["document_id"]]
        assert hit["title"] == document["title"]
        assert hit["text"] == document["text"]  # one chunk per short document
        assert hit["chunk_id"]
        assert -1.0 <= hit["score"] <= 1.0
        assert hit["metadata"]["title"] == document["title"]
        assert {k: hit["metadata"][k] for k in document["metadata"]} == document["metadata"]
    assert hits[0]["score"] > 0.25


@pytest.mark.parametrize("top_k", [1, 2, 3, 100])
def test_search_returns_at_most_top_k_hits(api: httpx.Client, corpus: str, top_k: int) -> None:
    hits = search(api, corpus, QUESTIONS["cake"], top_k=top_k)
    assert len(hits) == min(top_k, len(DOCUMENTS))
    assert hits[0]["document_id"] == "cake"


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"shelf": 2}, {"chess", "satellite"}),
        ({"topic": "cooking"}, {"cake"}),
        ({"topic": "games", "shelf": 2}, {"chess"}),
        ({"topic": "games", "shelf": 1}, set()),
        ({"topic": "no such topic"}, set()),
    ],
)
def test_search_filter_restricts_hits_to_matching_metadata(
    api: httpx.Client, corpus: str, filter: dict[str, Any], expected: set[str]
) -> None:
    # The question is about the volcano, so only the filter keeps it out.
    hits = search(api, corpus, QUESTIONS["volcano"], top_k=10, filter=filter)
    assert {hit["document_id"] for hit in hits} == expected
    for hit in hits:
        assert all(hit["metadata"][key] == value for key, value in filter.items())


# /ask


def test_ask_cites_the_document_with_the_fact(api: httpx.Client, corpus: str) -> None:
    result = ask(api, corpus, QUESTIONS["volcano"], top_k=3)
    assert result["answer"].strip() and result["answer"] != NOTHING_RELEVANT
    sources = result["sources"]
    assert 1 <= len(sources) <= 3
    assert sources[0]["document_id"] == "volcano"
    assert sources[0]["title"] == TITLES["volcano"]
    assert "1742" in sources[0]["text"]
    assert [s["score"] for s in sources] == sorted((s["score"] for s in sources), reverse=True)
    assert_cites_only_sources(result)
    assert_usage_and_timings(result)
    assert_checked(result)


def test_ask_without_retrieval_answers_with_no_sources(api: httpx.Client, corpus: str) -> None:
    result = ask(api, corpus, QUESTIONS["volcano"], use_retrieval=False)
    assert result["sources"] == []
    assert result["answer"].strip() and result["answer"] != NOTHING_RELEVANT
    assert cited_numbers(result["answer"]) == []  # no sources, so no citation survives
    assert_usage_and_timings(result)
    assert result["grounded"] is None and result["sentences"] == []  # nothing to check against


@pytest.mark.parametrize(
    ("question", "filter"),
    [(UNRELATED, None), (QUESTIONS["volcano"], {"shelf": 2})],
    ids=["unrelated question", "filtered out"],
)
def test_ask_with_nothing_relevant_says_so_without_generating(
    api: httpx.Client, corpus: str, question: str, filter: dict[str, Any] | None
) -> None:
    result = ask(api, corpus, question, filter=filter)
    assert result["answered_by"] == "none"
    assert result["usage"] is None  # the model was not asked
    # the closest passages are listed as such: the answer says that they do not answer it
    assert result["answer"] == NOTHING_RELEVANT + CLOSEST_NOTE
    assert 1 <= len(result["sources"]) <= 3
    assert cited_numbers(result["answer"]) == []
    assert result["grounded"] is None and result["sentences"] == []
    if filter is not None:  # only the filter's shelf is searched: the volcano is not among them
        assert {s["document_id"] for s in result["sources"]} <= {"chess", "satellite"}


def test_an_emptied_collection_is_not_in_your_documents_and_an_unknown_one_404(
    api: httpx.Client,
) -> None:
    name = f"emptied{uuid.uuid4().hex[:8]}"
    assert ingest(api, name, DOCUMENTS[0])["state"] == "finished"
    deleted = api.delete(f"/documents/{DOCUMENTS[0]['id']}", params={"collection": name})
    assert deleted.status_code == 204, deleted.text
    for mode in ("generate", "extract"):
        result = ask(api, name, QUESTIONS["volcano"], answer_mode=mode)
        assert result["answered_by"] == "none", mode
        assert result["answer"] == NOTHING_RELEVANT and result["sources"] == []
    unknown = api.post("/ask", json={"question": QUESTIONS["volcano"], "collection": "no-such"})
    assert_problem(unknown, 404, "does not exist")


def test_streamed_answer_is_well_formed_sse_ending_with_sources(
    api: httpx.Client, corpus: str
) -> None:
    body = {
        "question": QUESTIONS["chess"],
        "collection": corpus,
        "max_tokens": MAX_TOKENS,
        "stream": True,
    }
    with api.stream("POST", "/ask", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.read().decode())

    names = [name for name, _ in events]
    assert names[-1] == "done" and names.count("done") == 1
    assert "error" not in names, events
    assert names.count("sources") == 1
    tokens = [data for name, data in events if name == "token"]
    assert tokens and names.index("sources") == len(names) - 2 == len(tokens)

    final = events[-2][1]
    assert {"answer", "sources", "usage", "timings"} <= final.keys()
    assert final["sources"][0]["document_id"] == "chess"
    assert final["sources"][0]["title"] == TITLES["chess"]
    assert_cites_only_sources(final)
    assert_usage_and_timings(final)

    # The stream shows only what the answer keeps (citations resolved, a loop cut), so the
    # pieces joined are the final answer: nothing shown is taken back, but for the marks of
    # sentences whose citation the check corrected.
    streamed = "".join(token["text"] for token in tokens)
    assert final["answer"].strip()
    if any(sentence["corrected"] for sentence in final["sentences"]):
        assert CITATION.sub("", streamed) == CITATION.sub("", final["answer"])
    else:
        assert streamed == final["answer"]
    assert isinstance(final["cut"], bool)
    assert_checked(final)


def test_streamed_nothing_relevant_is_still_sse(api: httpx.Client, corpus: str) -> None:
    body = {"question": UNRELATED, "collection": corpus, "max_tokens": MAX_TOKENS, "stream": True}
    response = api.post("/ask", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream"), response.text
    events = sse_events(response.text)
    assert events[-1][0] == "done"
    assert [name for name, _ in events].count("sources") == 1
    final = events[-2][1]
    assert final["answered_by"] == "none" and final["answer"] == NOTHING_RELEVANT + CLOSEST_NOTE
    assert 1 <= len(final["sources"]) <= 3


# Bad input: a 4xx problem+json that says what was wrong.

QUESTION = QUESTIONS["volcano"]
BAD_QUESTIONS: list[tuple[str, dict[str, Any], int, str]] = [
    ("empty question", {"question": ""}, 422, "question"),
    ("whitespace question", {"question": " \n\t "}, 422, "question"),
    ("missing question", {}, 422, "question"),
    ("top_k 0", {"question": QUESTION, "top_k": 0}, 422, "top_k"),
    ("top_k 101", {"question": QUESTION, "top_k": 101}, 422, "top_k"),
    ("nested filter", {"question": QUESTION, "filter": {"topic": {"$eq": "x"}}}, 422, "filter"),
    ("list filter value", {"question": QUESTION, "filter": {"topic": ["x"]}}, 422, "filter"),
    ("filter not an object", {"question": QUESTION, "filter": ["topic"]}, 422, "filter"),
    ("operator filter key", {"question": QUESTION, "filter": {"$and": "x"}}, 422, "filter"),
    ("unknown field", {"question": QUESTION, "colour": "red"}, 422, "colour"),
    ("bad collection name", {"question": QUESTION, "collection": "no spaces"}, 422, "collection"),
]


@pytest.mark.parametrize("path", ["/search", "/ask"])
@pytest.mark.parametrize(
    ("case", "body", "status", "mentions"), BAD_QUESTIONS, ids=[c[0] for c in BAD_QUESTIONS]
)
def test_bad_question_requests(
    api: httpx.Client,
    corpus: str,
    path: str,
    case: str,
    body: dict[str, Any],
    status: int,
    mentions: str,
) -> None:
    extra = {"max_tokens": MAX_TOKENS} if path == "/ask" else {}  # /search has no max_tokens
    response = api.post(path, json={"collection": corpus, **extra, **body})
    assert_problem(response, status, mentions)


@pytest.mark.parametrize(
    ("path", "extra"),
    [("/search", {}), ("/ask", {"max_tokens": MAX_TOKENS}), ("/ask", {"stream": True})],
    ids=["search", "ask", "ask streamed"],
)
def test_unknown_collection_is_not_found(
    api: httpx.Client, path: str, extra: dict[str, Any]
) -> None:
    name = f"missing{uuid.uuid4().hex[:8]}"
    body = {"question": QUESTION, "collection": name, **extra}
    assert_problem(api.post(path, json=body), 404, name)


@pytest.mark.parametrize("stream", [False, True])
def test_max_tokens_beyond_the_context_window(api: httpx.Client, corpus: str, stream: bool) -> None:
    # 32768, the most the schema allows, leaves no room for a prompt in any context this
    # service is run with (4096 locally, 32768 for Mistral on vLLM).
    body = {"question": QUESTION, "collection": corpus, "max_tokens": 32768, "stream": stream}
    assert_problem(api.post("/ask", json=body), 422, "context")


def test_max_tokens_above_the_schema_limit(api: httpx.Client, corpus: str) -> None:
    body = {"question": QUESTION, "collection": corpus, "max_tokens": 32769}
    assert_problem(api.post("/ask", json=body), 422, "max_tokens")
