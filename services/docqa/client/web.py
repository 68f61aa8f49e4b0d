"""Fetching web pages politely: robots.txt (``protego``) and its crawl delay, a pause between
two requests to one host, redirects followed only on the same host, a size limit, HTML only,
and conditional requests (``If-None-Match`` / ``If-Modified-Since``) for what was seen before.

Each refusal is a ``Failure`` naming the page and why (unreachable, not HTML, forbidden by
robots.txt, a redirect to another host, over the size limit), never an exception.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from docqa import __version__
from docqa.client import pages
from docqa.client.sources import Failure

USER_AGENT = f"docqa/{__version__} (docqa ingest)"
HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)  # (httpx's is_redirect counts 304 too)


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects on the same host
    status: int  # 200, or 304 (not modified: no body)
    data: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Fetcher:
    """GETs pages of any host, each host's robots.txt read once and its pace kept."""

    http: httpx.Client
    delay_s: float = 0.5
    max_bytes: int = 5 * 1024 * 1024
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    robots: dict[str, Protego | Failure | None] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)

    def refusal(self, url: str) -> Failure | None:
        """Why robots.txt forbids ``url`` (None when it may be fetched)."""
        rules = self._robots(url)
        if isinstance(rules, Failure):
            return Failure(url, rules.reason)
        if rules is not None and not rules.can_fetch(url, USER_AGENT):
            return Failure(url, "robots.txt forbids it")
        return None

    def _robots(self, url: str) -> Protego | Failure | None:
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        if host not in self.robots:
            self.robots[host] = None  # asked once, whatever the answer
            try:
                response = self._get(f"{host}/robots.txt", {})
            except httpx.HTTPError as exc:
                self.robots[host] = Failure(url, f"unreachable: {_said(exc)}")
                return self.robots[host]
            if response.status_code == 200:
                self.robots[host] = Protego.parse(response.text)
            elif response.status_code >= 500:  # RFC 9309 2.3.1.4: assume all is disallowed
                why = f"robots.txt answered {response.status_code}: nothing fetched from {host}"
                self.robots[host] = Failure(url, why)
        return self.robots[host]

    def _pace(self, url: str) -> None:
        host = urlsplit(url).netloc
        rules = self.robots.get(f"{urlsplit(url).scheme}://{host}")
        asked = rules.crawl_delay(USER_AGENT) if isinstance(rules, Protego) else None
        wait = max(self.delay_s, float(asked or 0.0))
        left = self.last.get(host, -1e9) + wait - self.clock()
        if left > 0:
            self.sleep(left)
        self.last[host] = self.clock()

    def _get(self, url: str, headers: dict[str, str]) -> httpx.Response:
        self._pace(url)
        return self.http.get(url, headers={"User-Agent": USER_AGENT, **headers})

    def fetch_file(self, url: str) -> bytes | Failure:
        """Any resource (a sitemap), under the same rules but for its type."""
        got = self.fetch(url, html=False)
        return got if isinstance(got, Failure) else got.data

    def fetch(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        *,
        html: bool = True,
    ) -> Fetched | Failure:
        """The page, or 304 when ``etag``/``last_modified`` still hold, or why not."""
        headers = {"If-None-Match": etag} if etag else {}
        headers |= {"If-Modified-Since": last_modified} if last_modified else {}
        for _ in range(MAX_REDIRECTS + 1):
            refused = self.refusal(url)
            if refused is not None:
                return refused
            try:
                with self._stream(url, headers) as response:
                    if response.status_code in REDIRECTS and "location" in response.headers:
                        target = urljoin(url, response.headers.get("location", ""))
                        if not pages.same_host(target, url):
                            return Failure(url, f"redirects to another host: {target}")
                        url = pages.normal(target)
                        continue
                    return self._read(url, response, html)
            except httpx.HTTPError as exc:
                return Failure(url, f"unreachable: {_said(exc)}")
        return Failure(url, f"more than {MAX_REDIRECTS} redirects")

    def _stream(self, url: str, headers: dict[str, str]) -> AbstractContextManager[httpx.Response]:
        self._pace(url)
        return self.http.stream("GET", url, headers={"User-Agent": USER_AGENT, **headers})

    def _read(self, url: str, response: httpx.Response, html: bool) -> Fetched | Failure:
        etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        if response.status_code == 304:
            return Fetched(url, 304, etag=etag, last_modified=modified)
        if response.status_code != 200:
            return Failure(url, f"HTTP {response.status_code}")
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if html and kind not in HTML_TYPES:
            return Failure(url, f"not an HTML page (Content-Type: {kind or 'none'})")
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            return Failure(url, f"{length} bytes, over the limit of {self.max_bytes}")
        data = bytearray()
        for piece in response.iter_bytes():
            data += piece
            if len(data) > self.max_bytes:
                return Failure(url, f"over the limit of {self.max_bytes} bytes")
        return Fetched(url, 200, bytes(data), etag, modified)


def _said(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
