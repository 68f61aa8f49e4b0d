"""The web page's files: served without a key, each with a Content-Security-Policy that allows
no inline script; the accepted file types come from extraction's one list."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from docqa.api.app import create_app
from docqa.api.routes import ui
from docqa.core.config import Settings
from docqa.ingest.formats.extraction import EXTENSIONS

KEY = "admin-key-0123456789abcdef"


@pytest.fixture(scope="module")
def client() -> TestClient:
    # Keys configured; the lifespan is never entered: the page needs none of the services.
    settings = Settings(api_keys=json.dumps([{"key": KEY, "name": "admin"}]))
    return TestClient(create_app(settings), follow_redirects=False)


def test_root_leads_to_the_page(client: TestClient) -> None:
    for path in ("/", "/ui"):
        response = client.get(path)
        assert response.status_code == 307, path
        assert response.headers["location"] == "/ui/"


@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("/ui/", "text/html"),
        ("/ui/app.js", "text/javascript"),
        ("/ui/style.css", "text/css"),
        ("/ui/favicon.svg", "image/svg+xml"),
    ],
)
def test_page_files_need_no_key_and_forbid_inline_script(
    client: TestClient, path: str, media: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media)
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["object-src"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_data_routes_keep_their_key(client: TestClient) -> None:
    assert client.get("/collections").status_code == 401
    assert client.get("/documents").status_code == 401
    assert client.get("/ui/other.js").status_code == 401  # only the page's own files are open


def test_the_page_has_no_inline_script_and_accepts_every_type_the_api_reads(
    client: TestClient,
) -> None:
    html = client.get("/ui/").text
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.DOTALL)
    assert scripts == [""]  # one, external (src=app.js), with no body
    assert re.search(r'<script type="module" src="app.js">', html)
    assert not re.search(r"\son[a-z]+\s*=", html)  # no inline event handlers
    accept = re.search(r'<input id="file-input"[^>]*accept="([^"]*)"', html)
    assert accept is not None and accept.group(1).split(",") == list(EXTENSIONS)
    assert "{{" not in html


def test_page_paths_are_the_files_served() -> None:
    assert {f"/ui/{name}" for name in ui.FILES} < ui.PAGE_PATHS
    for name in ui.FILES:
        assert ui._content(name)
