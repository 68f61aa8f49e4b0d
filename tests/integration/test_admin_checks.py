"""``POST /admin/checks`` on the real stack: the worker runs the check as a job, and what it
reports is what ``docqa check --json`` prints. A collection ingested through the API agrees;
chunks deleted from Chroma and an orphan written to the keyword index are found by kind; a
check with repair puts them right, and a last check finds the stores in agreement."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import chromadb
import httpx
import redis

from docqa.adapters.chroma import PREFIX
from docqa.adapters.keyword import RedisKeywordIndex
from docqa.core.models import Chunk
from docqa.core.waiting import wait_until
from docqa.stack.local import Stack
from support.api import assert_problem, wait_for_job


def checked(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """Post a check and wait for the worker to finish it; the check as read back."""
    posted = api.post("/admin/checks", json=body)
    assert posted.status_code == 202, posted.text
    location = posted.headers["location"]
    assert location == f"/admin/checks/{posted.json()['id']}"
    seen: list[dict[str, Any]] = [posted.json()]

    def ended() -> dict[str, Any] | None:
        check: dict[str, Any] = api.get(location).raise_for_status().json()
        seen.append(check)
        return check if check["state"] in ("done", "failed") else None

    check = wait_until(ended, 180, lambda: f"check {location} to end (last seen: {seen[-1]})")
    assert check["state"] == "done", check
    return check


def kinds(check: dict[str, Any]) -> set[tuple[str, str]]:
    return {(d["kind"], d["document_id"]) for d in check["report"]["differences"]}


def cli_report(stack: Stack, collection: str) -> dict[str, Any]:
    """``docqa check --collection C --json``'s lines, as the job's report would hold them."""
    done = subprocess.run(
        [sys.executable, "-m", "docqa.cli.main", "check", "--collection", collection, "--json"],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return {
        "summary": lines[-1]["summary"],
        "differences": [line["difference"] for line in lines[:-1]],
    }


def text(tag: str) -> str:
    return " ".join(f"The {tag} record number {i} mentions {tag}word{i}." for i in range(60))


def test_a_check_through_the_api_finds_the_damage_and_repairs_it(
    api: httpx.Client, local_stack: Stack, collection: str
) -> None:
    docs = [{"id": tag, "text": text(tag)} for tag in ("alpha", "bravo")]
    posted = api.post("/documents", json={"collection": collection, "documents": docs})
    assert posted.status_code == 202, posted.text
    job_id = posted.json()["job_id"]
    assert wait_for_job(api, job_id)["state"] == "finished"

    clean = checked(api, {"collection": collection})
    summary = clean["report"]["summary"]
    assert (clean["collections"], summary["documents"], summary["differences"]) == (
        [collection],
        2,
        0,
    )
    assert summary["vectors"] == summary["keywords"] > 2

    chroma = chromadb.HttpClient(port=local_stack.chroma_port).get_collection(PREFIX + collection)
    alpha = chroma.get(where={"document_id": "alpha"}, include=[])["ids"]
    chroma.delete(ids=alpha[:2])  # chunks lost from Chroma
    keywords = RedisKeywordIndex(redis.Redis.from_url(local_stack.env["DOCQA_KEYWORD_REDIS_URL"]))
    keywords.upsert(collection, [Chunk("ghost", 0, "a chunk of no document, ghostword")])

    found = checked(api, {"collection": collection})
    assert kinds(found) == {("missing_vectors", "alpha"), ("orphan_keywords", "ghost")}
    assert all(d["repair"] is None for d in found["report"]["differences"])
    assert found["report"] == cli_report(local_stack, collection)  # one report, both ways

    repaired = checked(api, {"collection": collection, "repair": True})
    assert kinds(repaired) == kinds(found)
    counts = repaired["report"]["summary"]["repaired"]
    assert (counts["missing_vectors"], counts["orphan_keywords"]) == (1, 1)
    alpha_record = api.get(f"/documents/alpha?collection={collection}").json()
    assert alpha_record["status"] == "failed" and "post the document again" in alpha_record["error"]
    assert keywords.chunk_ids(collection, ["ghost"])["ghost"] == set()

    after = checked(api, {"collection": collection})
    assert after["report"]["summary"]["differences"] == 0 and after["report"]["differences"] == []

    assert_problem(api.get(f"/admin/checks/{job_id}"), 404, "does not exist")  # an ingest job
    assert_problem(api.get(f"/jobs/{after['id']}"), 404, "does not exist")  # a check's job
    assert_problem(api.get("/admin/checks/0123456789abcdef"), 404, "does not exist")
    assert_problem(api.post("/admin/checks", json={"repair": 1}), 422, "repair")
