"""docqa check on the real stack: a collection ingested through the API agrees; each store
damaged by hand (chunks deleted from Chroma, keyword chunks deleted, an orphan written to the
keyword index, a catalog record dropped, a pending document with no job, a failed document
whose keyword chunks are gone and Chroma's not) is found by kind, and ``--repair`` puts every
one right, as a second check and a keyword search show."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import chromadb
import httpx
import redis

from docqa.adapters.catalog import RedisCatalog
from docqa.adapters.chroma import PREFIX
from docqa.adapters.keyword import RedisKeywordIndex
from docqa.core.models import Chunk, DocumentRecord
from docqa.core.waiting import wait_until
from docqa.ingest.indexing import DELETE_CUT_OFF
from docqa.stack.local import Stack
from support.api import wait_for_job


def run_check(stack: Stack, collection: str, *flags: str) -> tuple[int, list[dict[str, Any]]]:
    """``docqa check --collection C --json [flags]``: its exit status and its JSON lines."""
    command = ["check", "--collection", collection, "--json", *flags]
    done = subprocess.run(
        [sys.executable, "-m", "docqa.cli.main", *command],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def differences(lines: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(d["difference"]["kind"], d["difference"]["document_id"]) for d in lines[:-1]}


def text(tag: str) -> str:
    return " ".join(f"The {tag} record number {i} mentions {tag}word{i}." for i in range(60))


def test_check_finds_each_kind_of_damage_and_repair_fixes_it(
    api: httpx.Client, local_stack: Stack, collection: str
) -> None:
    tags = ("alpha", "bravo", "charlie", "delta", "foxtrot")
    docs = [{"id": tag, "text": text(tag)} for tag in tags]
    posted = api.post("/documents", json={"collection": collection, "documents": docs})
    assert posted.status_code == 202, posted.text
    assert wait_for_job(api, posted.json()["job_id"])["state"] == "finished"

    status, lines = run_check(local_stack, collection)
    assert (status, differences(lines)) == (0, set())
    summary = lines[-1]["summary"]
    assert summary["documents"] == 5 and summary["vectors"] == summary["keywords"] > 4

    env = local_stack.env
    chroma = chromadb.HttpClient(port=local_stack.chroma_port).get_collection(PREFIX + collection)
    alpha = chroma.get(where={"document_id": "alpha"}, include=[])["ids"]
    chroma.delete(ids=alpha[:2])  # chunks lost from Chroma
    keyword_redis = redis.Redis.from_url(env["DOCQA_KEYWORD_REDIS_URL"])
    keywords = RedisKeywordIndex(keyword_redis)
    bravo = sorted(keywords.chunk_ids(collection, ["bravo"])["bravo"])
    keywords.delete(collection, bravo[:3])  # chunks lost from the keyword index
    ghost = Chunk("ghost", 0, "a chunk of no document, ghostword")
    keywords.upsert(collection, [ghost])  # an orphan in the keyword index
    catalog = RedisCatalog(redis.Redis.from_url(env["DOCQA_REDIS_URL"]))
    catalog.delete(collection, "charlie")  # a record lost: its chunks are orphans in both
    catalog.put(  # a pending document whose job does not exist
        [DocumentRecord("echo", collection, None, {}, "text", "0" * 64, "queued", "no-such-job")]
    )
    foxtrot = catalog.get(collection, "foxtrot")
    assert foxtrot is not None  # a deletion cut off after the keyword index, before Chroma:
    catalog.update(
        collection, "foxtrot", foxtrot.content_hash, status="failed", error=DELETE_CUT_OFF
    )
    keywords.delete_document(collection, "foxtrot")

    status, lines = run_check(local_stack, collection)
    assert status == 1
    assert differences(lines) == {
        ("missing_vectors", "alpha"),
        ("missing_keywords", "bravo"),
        ("orphan_keywords", "ghost"),
        ("orphan_vectors", "charlie"),
        ("orphan_keywords", "charlie"),
        ("job_missing", "echo"),
        ("failed_stores_disagree", "foxtrot"),
    }

    status, lines = run_check(local_stack, collection, "--repair")
    assert status == 1
    assert lines[-1]["summary"]["repaired"]["missing_keywords"] == 1

    def bravo_indexed() -> bool:
        record = api.get(f"/documents/bravo?collection={collection}").json()
        return bool(record["status"] == "indexed")

    wait_until(bravo_indexed, 120, "bravo re-indexed by the job the repair queued")
    status, lines = run_check(local_stack, collection)
    assert (status, differences(lines)) == (0, set())

    for tag, state in (
        ("alpha", "failed"),
        ("echo", "failed"),
        ("bravo", "indexed"),
        ("foxtrot", "failed"),
    ):
        record = api.get(f"/documents/{tag}?collection={collection}").json()
        assert record["status"] == state, record
    assert (
        "post the document again"
        in api.get(f"/documents/alpha?collection={collection}").json()["error"]
    )
    assert api.get(f"/documents/charlie?collection={collection}").status_code == 404
    assert chroma.get(where={"document_id": "foxtrot"}, include=[])["ids"] == []
    cut_off = api.get(f"/documents/foxtrot?collection={collection}").json()
    assert cut_off["error"] == DELETE_CUT_OFF  # still says: delete it again
    restored = keywords.chunk_ids(collection, ["bravo"])["bravo"]
    assert restored == set(bravo) == set(chroma.get(where={"document_id": "bravo"})["ids"])
    ghosts = api.post(
        "/search", json={"collection": collection, "question": "ghostword", "mode": "keyword"}
    ).json()
    assert ghosts["hits"] == []
