"""docqa where people work, on the real stack: an MCP client session over streamable HTTP and
over stdio (``docqa mcp``), a watched folder followed while it is edited (seconds from save to
searchable), and a crawl of a documentation site served on 127.0.0.1 (Docker CLI reference
pages of ``docs/eval/docs-set`` rendered to HTML), re-run to fetch only what changed.

Each test prints what it measured (run with ``-s`` to see it)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import httpx2
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from docqa.client.site import SiteOptions, ingest_site
from docqa.client.sources import Root
from docqa.client.transport import Api
from docqa.client.watch import Watcher, follow
from docqa.core.waiting import wait_until
from support.api import ingest
from support.docs_site import build, served

ROOT = Path(__file__).resolve().parents[2]
OWLS = "Barn owls hunt at night. They find mice by sound alone, in complete darkness."


def text_of(result: CallToolResult) -> str:
    return "".join(c.text for c in result.content if c.type == "text")


async def session_over_http(base_url: str, collection: str) -> dict[str, Any]:
    async with (
        httpx2.AsyncClient(timeout=300) as http,
        streamable_http_client(f"{base_url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = [t.name for t in (await session.list_tools()).tools]
        found = await session.call_tool(
            "search", {"question": "How do owls find mice?", "collection": collection}
        )
        asked = await session.call_tool(
            "ask", {"question": "How do barn owls find mice?", "collection": collection}
        )
        missing = await session.call_tool("search", {"question": "q", "collection": "no-such"})
    assert not found.is_error and not asked.is_error, (text_of(found), text_of(asked))
    return {"tools": tools, "search": found, "ask": asked, "missing": missing}


async def session_over_stdio(base_url: str, collection: str) -> CallToolResult:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "services")}
    env.pop("DOCQA_API_KEY", None)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "docqa.cli.main", "mcp", "--base-url", base_url],
        env=env,
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return await session.call_tool(
            "read_document", {"document_id": "owls", "collection": collection}
        )


def test_an_mcp_client_session(api: httpx.Client, base_url: str, collection: str) -> None:
    ingest(api, collection, {"id": "owls", "text": OWLS, "title": "Owls"})
    seen = asyncio.run(session_over_http(base_url, collection))
    assert {"search", "ask", "list_collections", "read_document"} <= set(seen["tools"])
    hit = seen["search"].structured_content["hits"][0]
    assert hit["document_id"] == "owls" and hit["title"] == "Owls"
    answer = seen["ask"].structured_content
    assert answer["sources"] and answer["sources"][0]["document_id"] == "owls"
    assert seen["missing"].is_error and "404" in text_of(seen["missing"])
    read = asyncio.run(session_over_stdio(base_url, collection))
    assert not read.is_error and read.structured_content["text"] == OWLS
    print(f"\nMCP tools: {seen['tools']}")
    print(f"search: {hit['document_id']} {hit['score']:.3f} {hit['text'][:60]!r}")
    print(f"ask: {answer['answer']!r} sources={[s['document_id'] for s in answer['sources']]}")
    print(f"bad collection: {text_of(seen['missing'])}")
    print(f"stdio read_document: {read.structured_content['text'][:60]!r}")


def searchable(api: httpx.Client, collection: str, word: str, document_id: str) -> bool:
    body = {"question": word, "collection": collection, "mode": "keyword", "top_k": 3}
    response = api.post("/search", json=body)
    if response.status_code != 200:
        return False
    return any(h["document_id"] == document_id for h in response.json()["hits"])


def test_a_watched_folder_edited(
    api: httpx.Client, base_url: str, collection: str, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "first.md").write_text("# First\n\nAardvarks dig burrows.\n")
    stop = threading.Event()
    with httpx.Client(base_url=base_url, timeout=60) as client:
        watcher = Watcher(Api(client, attempts=1), [Root(folder)], collection, delete_missing=True)
        thread = threading.Thread(
            target=follow, args=(watcher, stop), kwargs={"catch_up": True}, daemon=True
        )
        thread.start()
        try:
            wait_until(lambda: searchable(api, collection, "aardvarks", "first.md"), 120, "first")
            took = []
            for n, word in enumerate(("zebras", "quokkas", "axolotls")):
                path = folder / "first.md"
                path.write_text(f"# First\n\n{word.capitalize()} edit {n}.\n")
                saved = path.stat().st_mtime
                wait_until(partial(searchable, api, collection, word, "first.md"), 120, word)
                took.append(time.time() - saved)
            (folder / "first.md").rename(folder / "renamed.md")
            wait_until(lambda: searchable(api, collection, "axolotls", "renamed.md"), 120, "mv")
            wait_until(
                lambda: not searchable(api, collection, "axolotls", "first.md"), 60, "old id gone"
            )
            (folder / "renamed.md").unlink()  # emptied
            wait_until(
                lambda: (
                    api.get("/documents", params={"collection": collection}).json()["total"] == 0
                ),
                60,
                "the folder's documents deleted",
            )
        finally:
            stop.set()
            thread.join(30)
    print(f"\nsave -> searchable (keyword /search finds the new word), s: {took}")
    assert not watcher.tally.failed, watcher.tally.failed


def test_a_crawl_of_a_documentation_site(
    api: httpx.Client, base_url: str, collection: str, tmp_path: Path
) -> None:
    names = ["run", "ps", "cp", "exec", "logs", "stop", "start", "rm", "attach", "kill"]
    paths = build(tmp_path / "site", names)
    with served(tmp_path / "site") as site:
        options = SiteOptions(
            urls=[site + "/"],
            collection=collection,
            base_url=base_url,
            crawl=True,
            depth=2,
            max_pages=50,
            delay_s=0.05,
            progress=False,
        )
        started = time.monotonic()
        first = ingest_site(options)
        took = time.monotonic() - started
        again = ingest_site(options)
    host = site.removeprefix("http://")
    assert [f.where for f in first.failed] == [site + "/drafts/x.html"]  # robots.txt
    assert first.queued == len(paths) + 1  # the pages and the index
    assert again.sent == 0 and again.unchanged == len(paths) + 1
    hits = api.post(
        "/search",
        json={
            "question": "copy files between a container and the local filesystem",
            "collection": collection,
            "top_k": 3,
        },
    ).json()["hits"]
    assert hits[0]["document_id"] == f"{host}/reference/commandline/cp.html", hits
    record = api.get(
        f"/documents/{hits[0]['document_id']}", params={"collection": collection}
    ).json()
    assert record["source"] == f"{site}/reference/commandline/cp.html"
    assert hits[0]["title"] == "cp"  # the page's <title>, read by the server's HTML reader
    print(
        f"\ncrawl: {first.read} pages fetched, {first.queued} queued, {first.chunks} chunks "
        f"indexed in {took:.1f} s; failed: {[(f.where, f.reason) for f in first.failed]}"
    )
    print(f"re-run: {again.read} fetched, {again.sent} sent, {again.unchanged} unchanged")
    print(f"top hit: {hits[0]['document_id']} {hits[0]['section']!r} {hits[0]['score']:.3f}")
