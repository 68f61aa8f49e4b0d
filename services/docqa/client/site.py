"""``docqa ingest URL``: web pages into a collection, over HTTP on both sides.

A URL is one page; a sitemap (``….xml``, ``….xml.gz``; an index is followed on its own host)
lists pages with their ``lastmod``; ``--crawl`` follows a start page's links on its host,
``depth`` links deep, ``max_pages`` at most. Each page is sent as an HTML upload (the server's
HTML reader: headings, title, meta description), its id the URL without its scheme, its source
the URL, and ``url``, ``etag``, ``last_modified``, ``lastmod`` as metadata. On a re-run, a
sitemap page whose ``lastmod`` is the one stored is not fetched, a page with a stored ETag or
Last-Modified is fetched conditionally (304: unchanged), and a page whose content hash is the
stored one is not sent. (A crawl fetches each page whole, as it needs the page's links.)
"""

from __future__ import annotations

import json
import sys
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

from docqa.client import pages, plan, run
from docqa.client.run import Summary
from docqa.client.sources import Failure
from docqa.client.transport import Api, checked, reason
from docqa.client.web import Fetched, Fetcher
from docqa.ingest import identity


@dataclass
class SiteOptions:
    urls: list[str]
    collection: str
    base_url: str = "http://127.0.0.1:8000"
    api_key: str | None = None
    crawl: bool = False
    depth: int = 2
    max_pages: int = 100
    delay_s: float = 0.5
    max_page_bytes: int = 5 * 1024 * 1024
    progress: bool = True
    wait: bool = True  # until the jobs have ended, as docqa ingest does


@dataclass(frozen=True)
class Stored:
    content_hash: str
    status: str
    metadata: dict[str, Any]

    @property
    def kept(self) -> bool:
        return self.status in plan.STORED


def stored(api: Api, collection: str) -> dict[str, Stored]:
    """The collection's documents with their metadata, a page of 1000 at a time."""
    found: dict[str, Stored] = {}
    offset = 0
    while True:
        params = {"collection": collection, "offset": offset, "limit": 1000}
        response = api.request("GET", "/documents", params=params)
        if response.status_code == 404:
            return found
        page = checked(response).json()
        for item in page["items"]:
            found[item["id"]] = Stored(item["content_hash"], item["status"], item["metadata"])
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return found


def is_sitemap(url: str) -> bool:
    return url.lower().split("?")[0].endswith((".xml", ".xml.gz"))


def ingest(options: SiteOptions, api: Api, fetcher: Fetcher) -> Summary:
    summary = Summary()
    known = stored(api, options.collection)
    queue: deque[tuple[str, int, str | None]] = deque()
    for url in options.urls:
        if is_sitemap(url):
            queue.extend((p.url, 0, p.lastmod) for p in _listed(url, fetcher, summary))
        else:
            queue.append((pages.normal(url), 0, None))
    done: set[str] = set()
    while queue and len(done) < options.max_pages:
        url, depth, lastmod = queue.popleft()
        try:
            document_id = pages.document_id(url)
        except ValueError as exc:
            summary.failed.append(Failure(url, str(exc)))
            continue
        if document_id in done:
            continue
        done.add(document_id)
        before = known.get(document_id)
        if lastmod and before and before.kept and before.metadata.get("lastmod") == lastmod:
            summary.unchanged += 1  # the sitemap says so: not even fetched
            continue
        conditional = before is not None and before.kept and not options.crawl
        meta = before.metadata if conditional and before else {}
        got = fetcher.fetch(url, _text(meta.get("etag")), _text(meta.get("last_modified")))
        if isinstance(got, Failure):
            summary.failed.append(got)
            continue
        summary.read += 1
        if got.status == 304:
            summary.unchanged += 1
            continue
        _send(api, options.collection, document_id, got, lastmod, before, summary)
        if options.crawl and depth < options.depth:
            html = got.data.decode("utf-8", errors="replace")
            queue.extend((link, depth + 1, None) for link in pages.links(got.url, html))
    left = {u for u, _, _ in queue if _id_or_none(u) not in done}
    if left:  # a limit asked for, not a failure
        print(
            f"stopped at --max-pages {options.max_pages}: {len(left)} pages left", file=sys.stderr
        )
    return summary


def _id_or_none(url: str) -> str | None:
    try:
        return pages.document_id(url)
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _listed(url: str, fetcher: Fetcher, summary: Summary) -> list[pages.Listed]:
    """The pages of a sitemap and of the sitemaps an index lists on its host."""
    found: list[pages.Listed] = []
    todo, seen = [url], set()
    while todo:
        current = todo.pop(0)
        if current in seen:
            continue
        seen.add(current)
        got = fetcher.fetch_file(current)
        if isinstance(got, Failure):
            summary.failed.append(got)
            continue
        try:
            listed = pages.sitemap(got)
        except ValueError as exc:
            summary.failed.append(Failure(current, str(exc)))
            continue
        todo += [s for s in listed.sitemaps if pages.same_host(s, url)]
        for page in listed.pages:
            if pages.same_host(page.url, url):
                found.append(pages.Listed(pages.normal(page.url), page.lastmod))
            else:
                summary.failed.append(Failure(page.url, "on another host than its sitemap"))
    return found


def _send(
    api: Api,
    collection: str,
    document_id: str,
    page: Fetched,
    lastmod: str | None,
    before: Stored | None,
    summary: Summary,
) -> None:
    metadata = {"url": page.url, "etag": page.etag, "last_modified": page.last_modified}
    metadata |= {"lastmod": lastmod}
    metadata = {k: v for k, v in metadata.items() if v}
    name = pages.file_name(page.url)
    if (
        before
        and before.kept
        and before.content_hash == identity.file_hash(page.data, name, metadata)
    ):
        summary.unchanged += 1
        return
    response = api.request(
        "POST",
        "/documents",
        data={"collection": collection, "ids": [document_id], "metadata": json.dumps(metadata)},
        files=[("files", (name, page.data, "text/html"))],
    )
    summary.sent += 1
    if response.status_code != 202:
        summary.failed.append(Failure(page.url, reason(response)))
        return
    body = response.json()
    for outcome in body["documents"]:
        if outcome["status"] == "queued":
            summary.queued += 1
        else:
            summary.unchanged += 1
    if body["job_id"]:
        summary.jobs.append(body["job_id"])


def ingest_site(options: SiteOptions) -> Summary:
    """Run it with its own HTTP clients; waits for the jobs unless ``options.wait`` is off."""
    headers = {"Authorization": f"Bearer {options.api_key}"} if options.api_key else {}
    with (
        httpx.Client(base_url=options.base_url, headers=headers, timeout=300) as client,
        httpx.Client(timeout=30, follow_redirects=False) as web_client,
    ):
        api = Api(client)
        fetcher = Fetcher(web_client, options.delay_s, options.max_page_bytes)
        summary = ingest(options, api, fetcher)
        if options.wait:
            waiting = run.Options(paths=[], collection=options.collection)
            waiting.progress = options.progress
            run.wait_for_jobs(waiting, api, summary)
    return summary
