"""Web pages as documents, without I/O: a URL's document id and file name, the links of an
HTML page, the pages a sitemap lists (with ``lastmod``), and what a crawl may follow.

A URL's id is the URL without its scheme, under ``identity``'s rule (no empty segment, so
``https://docs.example/guide/`` is ``docs.example/guide``); its file name, which the server
shows as the document's source, is the URL itself, given ``#.html`` when its path does not end
in ``.html``/``.htm`` (the server reads a file's kind from its extension; a fragment leaves the
address the same page).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit
from xml.etree import ElementTree

from docqa.ingest import identity

SKIPPED = re.compile(
    r"\.(png|jpe?g|gif|svg|webp|ico|css|js|mjs|json|xml|pdf|zip|gz|tgz|mp[34]|woff2?|ttf)$",
    re.IGNORECASE,
)
_NS = re.compile(r"^\{[^}]*\}")


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def normal(url: str) -> str:
    """The URL without its fragment, its scheme and host in lower case, an empty path as /."""
    url, _ = urldefrag(url)
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def document_id(url: str) -> str:
    """``host/path?query`` with empty segments left out; ValueError when that is no id."""
    parts = urlsplit(normal(url))
    segments = [s for s in parts.path.split("/") if s]
    found = "/".join([parts.netloc, *segments]) + (f"?{parts.query}" if parts.query else "")
    return identity.check(found)


def file_name(url: str) -> str:
    url = normal(url)
    return url if urlsplit(url).path.lower().endswith((".html", ".htm")) else f"{url}#.html"


def same_host(a: str, b: str) -> bool:
    return urlsplit(a).netloc.lower() == urlsplit(b).netloc.lower()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            if "nofollow" not in (found.get("rel") or "").lower().split():
                self.hrefs.append(str(found["href"]))
        elif tag == "base" and found.get("href") and self.base is None:
            self.base = found["href"]


def links(page_url: str, html: str) -> list[str]:
    """The http(s) pages ``html`` links to on its own host, absolute, each once, in order;
    links to images, scripts, archives and the like are left out."""
    parser = _Links()
    parser.feed(html)
    base = urljoin(page_url, parser.base) if parser.base else page_url
    seen: dict[str, None] = {}
    for href in parser.hrefs:
        url = normal(urljoin(base, href.strip()))
        parts = urlsplit(url)
        wanted = parts.scheme in ("http", "https") and not SKIPPED.search(parts.path)
        if wanted and same_host(url, page_url):
            seen.setdefault(url, None)
    return list(seen)


@dataclass(frozen=True)
class Listed:
    url: str
    lastmod: str | None = None


@dataclass(frozen=True)
class Sitemap:
    pages: list[Listed]
    sitemaps: list[str]  # a sitemap index's sitemaps


def sitemap(data: bytes) -> Sitemap:
    """A sitemap (``urlset``) or sitemap index, gzipped or not; ValueError when neither."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise ValueError(f"not a sitemap: {exc}") from exc
    kind = _NS.sub("", root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise ValueError(f"not a sitemap: the root element is <{kind}>")
    entries: list[Listed] = []
    for entry in root:
        fields = {_NS.sub("", child.tag): (child.text or "").strip() for child in entry}
        if fields.get("loc"):
            entries.append(Listed(fields["loc"], fields.get("lastmod") or None))
    if kind == "sitemapindex":
        return Sitemap([], [e.url for e in entries])
    return Sitemap(entries, [])
