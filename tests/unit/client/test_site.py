"""``docqa ingest URL``: a small site served by a local HTTP server the test starts on
127.0.0.1 (no outside network), into the API over fakes (served by uvicorn): a crawl, a
sitemap, re-runs fetching only what changed (lastmod, ETag, Last-Modified), and the bad input
list (unreachable, not HTML, forbidden by robots.txt, a redirect to another host, oversized, a
missing page), each a line of its own while the rest goes on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from docqa.api.app import create_app
from docqa.cli.main import main
from docqa.client import pages
from docqa.client.site import SiteOptions, ingest
from docqa.client.sources import Failure
from docqa.client.transport import Api
from docqa.client.web import Fetcher
from docqa.core.config import Settings
from docqa.wiring import Services
from support.fakes import fake_services
from support.served import Served, free_port

PAGE = (
    "<html><head><title>{title}</title><meta name='description' content='{title} page'>"
    "</head><body><h1>{title}</h1><p>{body}</p>{links}</body></html>"
)


def page(title: str, body: str = "Some text.", links: tuple[str, ...] = ()) -> bytes:
    anchors = "".join(f"<a href='{href}'>{href}</a>" for href in links)
    return PAGE.format(title=title, body=body, links=anchors).encode()


@dataclass
class Resource:
    body: bytes
    kind: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Site:
    """The site's resources by path, and every request made to it: (path, its headers)."""

    resources: dict[str, Resource]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]


def serve(site: Site) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            found = site.resources.get(self.path)
            if found is None:
                self.send_error(404)
                return
            etag = found.headers.get("ETag")
            modified = found.headers.get("Last-Modified")
            if (etag and self.headers.get("If-None-Match") == etag) or (
                modified and self.headers.get("If-Modified-Since") == modified
            ):
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(found.status)
            self.send_header("Content-Type", found.kind)
            self.send_header("Content-Length", str(len(found.body)))
            for name, value in found.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(found.body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def site() -> Iterator[Site]:
    site = Site({})
    server = serve(site)
    away = f"http://localhost:{server.server_address[1]}/"  # the same server, another host
    site.resources.update(
        {
            "/robots.txt": Resource(b"User-agent: *\nDisallow: /private\n", "text/plain"),
            "/": Resource(
                page(
                    "Home",
                    links=(
                        "/guide/",
                        "guide/install.html#top",
                        "/private/secret.html",
                        "/logo.png",
                        "http://other.example/x",
                        "/away",
                        "/big.html",
                        "/notes.txt",
                        "/missing.html",
                    ),
                )
            ),
            "/guide/": Resource(
                page("Guide", "How to use it.", ("/guide/deep/",)), headers={"ETag": '"v1"'}
            ),
            "/guide/deep/": Resource(page("Deep", "Two links down.", ("/guide/deeper/",))),
            "/guide/deeper/": Resource(page("Deeper", "Three links down.")),
            "/guide/install.html": Resource(
                page("Install", "pip install it."),
                headers={"Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"},
            ),
            "/private/secret.html": Resource(page("Secret")),
            "/away": Resource(b"", status=302, headers={"Location": away}),
            "/big.html": Resource(page("Big", "x" * 50_000)),
            "/notes.txt": Resource(b"plain text", "text/plain"),
        }
    )
    yield site
    server.shutdown()


@pytest.fixture
def api() -> Iterator[tuple[Services, Api]]:
    services = fake_services(Settings())
    served = Served(create_app(services.settings, services=services), lifespan="off").start()
    with httpx.Client(base_url=served.url, timeout=30) as client:
        yield services, Api(client, attempts=1)
    served.stop()


def run(api: Api, urls: list[str], **options: object) -> tuple[object, Fetcher]:
    with httpx.Client(timeout=10) as web:
        fetcher = Fetcher(web, delay_s=0.0, max_bytes=20_000)
        summary = ingest(SiteOptions(urls=urls, collection="web", **options), api, fetcher)  # type: ignore[arg-type]
    return summary, fetcher


def test_a_crawl_of_the_host_with_each_bad_page_said(site: Site, api: tuple[Services, Api]) -> None:
    services, client = api
    summary, _ = run(client, [site.url + "/"], crawl=True, depth=2)
    host = site.url.removeprefix("http://")
    ids = sorted(r.id for r in services.catalog.page("web", 0, 100)[0])
    assert ids == sorted(
        [host, f"{host}/guide", f"{host}/guide/deep", f"{host}/guide/install.html"]
    )  # /guide/deeper/ is three links down: past the depth
    record = services.catalog.get("web", f"{host}/guide")
    assert record is not None and record.source == f"{site.url}/guide/#.html"
    assert record.metadata == {"url": f"{site.url}/guide/", "etag": '"v1"'}
    failed = {f.where.removeprefix(site.url): f.reason for f in summary.failed}  # type: ignore[attr-defined]
    assert failed == {
        "/private/secret.html": "robots.txt forbids it",
        "/away": f"redirects to another host: http://localhost:{site.url.rsplit(':', 1)[1]}/",
        "/big.html": f"{len(site.resources['/big.html'].body)} bytes, over the limit of 20000",
        "/notes.txt": "not an HTML page (Content-Type: text/plain)",
        "/missing.html": "HTTP 404",
    }
    assert "/private/secret.html" not in site.paths() and "/logo.png" not in site.paths()
    assert site.paths().count("/robots.txt") == 1
    assert all(h["user-agent"].startswith("docqa/") for _, h in site.requests)


def test_a_sitemap_rerun_fetches_only_what_changed(site: Site, api: tuple[Services, Api]) -> None:
    services, client = api
    host = site.url.removeprefix("http://")

    def sitemap(guide_lastmod: str) -> None:
        entries = [("/guide/", guide_lastmod), ("/guide/install.html", None)]
        xml = "".join(
            f"<url><loc>{site.url}{p}</loc>" + (f"<lastmod>{m}</lastmod>" if m else "") + "</url>"
            for p, m in entries
        )
        body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{xml}</urlset>'
        site.resources["/sitemap.xml"] = Resource(body.encode(), "application/xml")

    sitemap("2025-01-01")
    first, _ = run(client, [site.url + "/sitemap.xml"])
    assert first.queued == 2 and not first.failed  # type: ignore[attr-defined]
    assert services.catalog.get("web", f"{host}/guide").metadata["lastmod"] == "2025-01-01"  # type: ignore[union-attr]

    site.requests.clear()
    again, _ = run(client, [site.url + "/sitemap.xml"])
    assert again.unchanged == 2 and again.sent == 0  # type: ignore[attr-defined]
    assert "/guide/" not in site.paths()  # its lastmod is the one stored: not fetched
    install = [h for p, h in site.requests if p == "/guide/install.html"]
    assert install[0]["if-modified-since"] == "Wed, 01 Jan 2025 00:00:00 GMT"  # 304

    site.requests.clear()
    sitemap("2025-02-01")  # the guide's lastmod moved, its ETag did not: 304
    moved, _ = run(client, [site.url + "/sitemap.xml"])
    assert moved.unchanged == 2 and moved.sent == 0  # type: ignore[attr-defined]
    assert [h.get("if-none-match") for p, h in site.requests if p == "/guide/"] == ['"v1"']

    site.resources["/guide/"] = Resource(page("Guide", "Changed."), headers={"ETag": '"v2"'})
    sitemap("2025-03-01")
    changed, _ = run(client, [site.url + "/sitemap.xml"])
    assert changed.queued == 1 and changed.unchanged == 1  # type: ignore[attr-defined]
    assert services.catalog.get("web", f"{host}/guide").metadata["etag"] == '"v2"'  # type: ignore[union-attr]


def test_the_command_says_each_failure_and_exits_1(
    site: Site, api: tuple[Services, Api], capsys: pytest.CaptureFixture[str]
) -> None:
    _, client = api
    unreachable = f"http://127.0.0.1:{free_port()}/page.html"
    base = str(client.client.base_url).rstrip("/")
    code = main(
        [
            *("ingest", unreachable, site.url + "/notes.txt", "--collection", "web"),
            *("--base-url", base, "--no-progress", "--delay", "0"),
        ]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert f"failed {unreachable}: unreachable: ConnectError" in out
    assert f"failed {site.url}/notes.txt: not an HTML page (Content-Type: text/plain)" in out
    code = main(["ingest", site.url, "./folder", "--collection", "web", "--base-url", base])
    assert code == 2  # paths and URLs together


def test_crawl_delay_from_robots_paces_the_host() -> None:
    slept: list[float] = []
    now = [0.0]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text="User-agent: *\nCrawl-delay: 2\n")
        return httpx.Response(200, html="<p>hi</p>")

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        fetcher = Fetcher(http, delay_s=0.5, sleep=sleep, clock=lambda: now[0])
        for n in range(3):
            assert not isinstance(fetcher.fetch(f"http://h.example/{n}.html"), Failure)
    assert slept == [2.0, 2.0, 2.0]  # each page 2 s after the request before (robots.txt first)


def test_urls_as_ids_and_links() -> None:
    assert pages.document_id("https://Docs.Example/guide/") == "docs.example/guide"
    assert pages.document_id("https://docs.example") == "docs.example"
    assert pages.document_id("https://docs.example/a//b?x=1#f") == "docs.example/a/b?x=1"
    assert pages.file_name("https://docs.example/guide/") == "https://docs.example/guide/#.html"
    assert pages.file_name("https://docs.example/a.html") == "https://docs.example/a.html"
    html = "<base href='/docs/'><a href='x.html#y'>x</a><a rel='nofollow' href='/n'>n</a>"
    assert pages.links("https://d.example/start", html) == ["https://d.example/docs/x.html"]
    with pytest.raises(ValueError, match="not a sitemap"):
        pages.sitemap(b"<html></html>")


def test_the_page_limit_is_kept_and_said_not_failed(
    site: Site, api: tuple[Services, Api], capsys: pytest.CaptureFixture[str]
) -> None:
    services, client = api
    summary, _ = run(client, [site.url + "/"], crawl=True, depth=3, max_pages=2)
    assert len(services.catalog.page("web", 0, 100)[0]) == 2 and not summary.failed  # type: ignore[attr-defined]
    assert "stopped at --max-pages 2: " in capsys.readouterr().err
