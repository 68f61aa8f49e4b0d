"""A documentation site to crawl: Markdown pages of ``docs/eval/docs-set`` rendered to plain
HTML (title and meta description from the front matter, headings, code blocks, paragraphs, links
between the pages kept as .html links), an index page, robots.txt and sitemap.xml, served by
``http.server`` on 127.0.0.1 (which answers Last-Modified and 304 for If-Modified-Since)."""

from __future__ import annotations

import functools
import html
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

DOCS = Path(__file__).resolve().parents[2] / "docs" / "eval" / "docs-set" / "pages"
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def _inline(text: str, pages: frozenset[str]) -> str:
    """Text with its Markdown links as HTML links: to another page of ``pages`` (file names
    in the same folder) as its .html, to the web as it is; any other link as its label."""
    out, last = [], 0
    for match in _LINK.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        label, href = match.group(1), match.group(2)
        target = href.split("#")[0]
        if target in pages:
            href = re.sub(r"\.md(?=$|#)", ".html", href)
        if target in pages or href.startswith(("http:", "https:")):
            out.append(f'<a href="{html.escape(href)}">{html.escape(label)}</a>')
        else:
            out.append(html.escape(label))
        last = match.end()
    return "".join(out) + html.escape(text[last:])


def render(markdown: str, pages: frozenset[str] = frozenset()) -> str:
    """A page's Markdown as an HTML document (enough for a crawler and docqa's HTML reader)."""
    meta: dict[str, str] = {}
    if markdown.startswith("---\n"):
        head, _, markdown = markdown[4:].partition("\n---\n")
        meta = {str(k): str(v) for k, v in (yaml.safe_load(head) or {}).items()}
    body: list[str] = []
    paragraph: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if paragraph:
            body.append(f"<p>{_inline(' '.join(paragraph), pages)}</p>")
            paragraph.clear()

    for line in markdown.splitlines():
        if line.startswith("```"):
            if code is None:
                flush()
                code = []
            else:
                body.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
                code = None
        elif code is not None:
            code.append(line)
        elif heading := re.match(r"^(#{1,6})\s+(.*)", line):
            flush()
            level = len(heading.group(1))
            body.append(f"<h{level}>{_inline(heading.group(2), pages)}</h{level}>")
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.strip())
    flush()
    title = html.escape(meta.get("title", "docs"))
    description = html.escape(meta.get("description", ""))
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        f'<meta name="description" content="{description}"></head>'
        f"<body>{''.join(body)}</body></html>"
    )


def build(out: Path, names: list[str], folder: str = "reference/commandline") -> list[str]:
    """``names`` (``run``, ``ps``...) of ``folder`` rendered under ``out``, an index linking
    them, robots.txt (``/drafts/`` forbidden) and sitemap.xml; returns the pages' paths."""
    target = out / folder
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    pages = frozenset(f"{name}.md" for name in names)
    for name in names:
        markdown = (DOCS / folder / f"{name}.md").read_text()
        (target / f"{name}.html").write_text(render(markdown, pages))
        paths.append(f"/{folder}/{name}.html")
    links = "".join(f'<li><a href="{p}">{p.rsplit("/", 1)[1]}</a></li>' for p in paths)
    (out / "index.html").write_text(
        "<!doctype html><html><head><title>Docker CLI reference</title></head>"
        f"<body><h1>Commands</h1><ul>{links}<li><a href='/drafts/x.html'>x</a></li></ul>"
        "</body></html>"
    )
    (out / "robots.txt").write_text("User-agent: *\nDisallow: /drafts/\n")
    return paths


@contextmanager
def served(root: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass
