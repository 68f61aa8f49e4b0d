"""The keyword index against a real Redis with the search module (started here as the stack
starts it: Redis 8 with ``redisearch.so``): BM25 ranking, per-collection statistics, filters of
each type, replace/delete in step, outages, and thousands of generated questions that never
take the server down."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from docqa.adapters import _redis
from docqa.adapters.keyword import RedisKeywordIndex
from docqa.core.errors import InvalidInput, Unavailable
from docqa.core.models import Chunk, Hit
from docqa.core.waiting import wait_until
from docqa.stack.processes import free_port, port_open, terminate
from docqa.stack.programs import redis_server_binary, search_module
from support.generated_questions import questions

CHUNKS = [
    Chunk("fox", 0, "The quick brown fox jumps over the lazy dog.", {"lang": "en", "n": 1}),
    Chunk("fox", 1, "Foxes are small omnivorous mammals.", {"lang": "en", "flag": True}),
    Chunk("paris", 0, "Paris is the capital of France; its café culture.", {"lang": "fr"}),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A keyword Redis of this module's own, as the stack runs it."""
    port, data = free_port(), tmp_path_factory.mktemp("keyword-redis")
    proc = subprocess.Popen(
        [
            redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data),
            "--save",
            "",
            "--loadmodule",
            search_module(),
            "ON_TIMEOUT",
            "FAIL",
        ],
        stdout=(data / "redis.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    wait_until(lambda: port_open(port), 30, "the keyword Redis")
    yield port
    terminate(proc)


@pytest.fixture
def redis(server: int) -> Redis:
    return _redis.client(f"redis://127.0.0.1:{server}/0")


@pytest.fixture
def index(redis: Redis) -> RedisKeywordIndex:
    """An index under a key prefix of its own (the engine indexes database 0 only)."""
    found = RedisKeywordIndex(redis, prefix=f"t{uuid.uuid4().hex[:8]}:")
    found.upsert("c", CHUNKS)
    return found


def ids(hits: list[Hit]) -> list[str]:
    return [hit.chunk_id for hit in hits]


def test_ranks_by_bm25_with_stemming_and_folding(index: RedisKeywordIndex) -> None:
    hits = index.search("c", "fox", 10)
    assert [hit.document_id for hit in hits] == ["fox", "fox"]  # "Foxes" stems to "fox"
    assert hits[0].score >= hits[1].score > 0
    assert index.search("c", "cafe", 10)[0].document_id == "paris"  # café, folded
    [hit] = index.search("c", "What is the capital of France?", 10)
    assert hit.chunk_id == CHUNKS[2].id and hit.text == CHUNKS[2].text  # the text as written
    assert hit.metadata == {"lang": "fr", "position": 0}
    # stop words only: searched all the same (the index keeps them; BM25 weighs them down)
    assert index.search("c", "the of", 10)[0].document_id == "paris"
    assert index.search("c", "?!", 10) == []
    assert index.search("nope", "fox", 10) == []  # a collection never written


def test_a_collections_scores_do_not_move_when_another_is_ingested(
    index: RedisKeywordIndex,
) -> None:
    before = [(hit.chunk_id, hit.score) for hit in index.search("c", "brown fox mammals", 10)]
    index.upsert(
        "other",
        [Chunk(f"d{i}", 0, f"fox number {i} and another fox, brown") for i in range(300)],
    )
    after = [(hit.chunk_id, hit.score) for hit in index.search("c", "brown fox mammals", 10)]
    assert after == before
    assert index.count("other") == 300 and index.count("c") == 3


def test_filters_have_chromas_equality_for_each_type(index: RedisKeywordIndex) -> None:
    typed = [
        Chunk("int", 0, "apple", {"v": 1}),
        Chunk("float", 0, "apple", {"v": 1.0}),
        Chunk("half", 0, "apple", {"v": 1.5}),
        Chunk("bool", 0, "apple", {"v": True}),
        Chunk("false", 0, "apple", {"v": False}),
        Chunk("str", 0, "apple", {"v": "1"}),
        Chunk("case", 0, "apple", {"v": "Red, or blue"}),
    ]
    index.upsert("typed", typed)

    def found(value: object, **more: object) -> list[str]:
        where = {"v": value, **more}
        return sorted(hit.document_id for hit in index.search("typed", "apple", 10, where))  # type: ignore[arg-type]

    assert found(1) == found(1.0) == ["float", "int"]  # numbers compare as numbers
    assert found(1.5) == ["half"]
    assert found(True) == ["bool"] and found(False) == ["false"]
    assert found("1") == ["str"]
    assert found("Red, or blue") == ["case"] and found("red, or blue") == []
    assert found(2) == []
    assert found(1, position=0) == ["float", "int"] and found(1, position=1) == []
    assert [h.document_id for h in index.search("typed", "apple", 10, {"document_id": "str"})] == [
        "str"
    ]
    assert ids(index.search("c", "fox", 10, {"lang": "en", "flag": True})) == [CHUNKS[1].id]


def test_upsert_is_idempotent_and_deletes_keep_the_index_in_step(
    index: RedisKeywordIndex,
) -> None:
    index.upsert("c", CHUNKS)  # the same chunks again: nothing doubles
    assert index.count("c") == 3
    index.delete("c", [CHUNKS[0].id, "never-there"])
    assert ids(index.search("c", "fox", 10)) == [CHUNKS[1].id]
    replacement = Chunk("paris", 0, "Lyon is a city on the Rhône.")
    index.delete_document("c", "paris")
    index.upsert("c", [replacement])
    assert index.search("c", "capital France", 10) == []
    assert ids(index.search("c", "rhone", 10)) == [replacement.id]
    many = [Chunk("big", i, f"chunk {i} of a long document") for i in range(1234)]
    index.upsert("c", many)  # more than one pipeline batch, and one delete page
    assert index.count("c") == 1236
    index.delete_document("c", "big")
    assert index.count("c") == 2
    index.delete_document("c", "not-a-document")  # nothing to do
    index.drop("c")
    assert index.count("c") == 0 and index.search("c", "fox", 10) == []


def test_generated_questions_never_take_the_server_down(
    index: RedisKeywordIndex, redis: Redis
) -> None:
    paragraphs = [
        "In the 10th week of the season the team won; the what and the which of it.",
        "Straße, café, Москва, 日本語 and 1889 all appear here with a tower.",
    ]
    index.upsert("fuzz", [Chunk(f"p{i}", 0, text) for i, text in enumerate(paragraphs)])
    run_id = redis.info("server")["run_id"]
    answered = refused = 0
    for question in questions(3000, seed=7):
        try:
            hits = index.search("fuzz", question, 5)
        except InvalidInput:
            refused += 1
        else:
            assert all(hit.document_id in ("p0", "p1") for hit in hits)
            answered += 1
    assert redis.ping()
    assert refused == 0, f"{refused} generated questions were refused"  # the builder's job
    assert answered == 3000
    assert [hit.document_id for hit in index.search("fuzz", "In the 10th week", 5)] == ["p0"]
    assert redis.info("server")["run_id"] == run_id  # the same process, never restarted


def test_a_query_past_the_timeout_fails_as_unavailable(redis: Redis) -> None:
    slow = RedisKeywordIndex(redis, prefix=f"t{uuid.uuid4().hex[:8]}:", timeout_ms=1)
    words = [f"w{i}" for i in range(400)]
    slow.upsert(
        "big",
        [Chunk(f"d{i}", 0, " ".join(words[(i * 7) % 400 :] + words[:50])) for i in range(6000)],
    )
    with pytest.raises(Unavailable) as caught:
        for _ in range(20):  # the engine checks its clock every so many results
            slow.search("big", " ".join(words[:64]), 1000)
    assert caught.value.service == "keyword_index"
    assert redis.execute_command("FT.CONFIG", "GET", "ON_TIMEOUT") in (
        {b"ON_TIMEOUT": b"fail"},
        [[b"ON_TIMEOUT", b"fail"]],
    )


def test_an_unreachable_redis_is_unavailable(tmp_path: Path) -> None:
    gone = RedisKeywordIndex.from_url(f"redis://127.0.0.1:{free_port()}/0")
    for call in (
        gone.check,
        lambda: gone.search("c", "fox", 5),
        lambda: gone.upsert("c", CHUNKS),
        lambda: gone.delete_document("c", "fox"),
    ):
        with pytest.raises(Unavailable) as caught:
            call()
        assert caught.value.service == "keyword_index"


def test_a_redis_without_the_search_module_is_unavailable(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        wait_until(lambda: port_open(port), 30, "a plain Redis")
        with pytest.raises(Unavailable, match="no search module"):
            RedisKeywordIndex.from_url(f"redis://127.0.0.1:{port}/0").check()
    finally:
        terminate(proc)
