"""The committed OpenAPI document (`openapi/openapi.json`) is the app's in the default
configuration (no API keys, no rate limit), and it is complete: stable snake_case operation ids,
and every error response documented as problem+json with an example. The served document
describes the configuration it runs with: the bearer scheme, 401 and 403 only with keys, and
only where the guard wants one; 429 only with a rate limit. Problem responses keep every header
their exception carries (RFC 9110's `Allow` on 405 among them).

Exemptions, on purpose:
- `GET /healthz` declares no error response: it answers a constant and touches nothing, so it
  cannot fail short of the process being down (when nothing answers at all).
- `GET /readyz` answers 503 with its `Readiness` body (naming what is not ready), not a problem.
- The OpenAI-compatible routes (`/v1/...`) answer errors in OpenAI's shape (`ErrorBody`, JSON),
  which OpenAI's clients read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from docqa.api import problems
from docqa.api.app import create_app
from docqa.api.problems import PROBLEM
from docqa.api.security import OPEN_PATHS
from docqa.core.config import Settings

COMMITTED = Path(__file__).parents[3] / "openapi" / "openapi.json"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

NO_ERRORS = {("get", "/healthz")}
DEFAULTS: dict[str, Any] = {"api_keys": None, "api_keys_file": None, "rate_limit_per_minute": 0}
KEYS = json.dumps([{"key": "admin-key-0123456789abcdef", "name": "admin"}])
SCHEMAS = "#/components/schemas/"
OPENAI = "/v1/"
NOT_PROBLEMS = {("get", "/readyz", "503"): "#/components/schemas/Readiness"}


def served(**settings: Any) -> dict[str, Any]:
    """The document an app configured with ``settings`` (over the defaults) serves; a round trip
    through JSON, as `docqa openapi` writes it (int keys become strings)."""
    app = create_app(Settings(**{**DEFAULTS, **settings}))
    return json.loads(json.dumps(app.openapi()))


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return served()


@pytest.fixture(scope="module")
def keyed() -> dict[str, Any]:
    return served(api_keys=KEYS, rate_limit_per_minute=60)


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def errors_of(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {code: r for code, r in operation["responses"].items() if code[0] in "45"}


def resolve(spec: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref}: only local references are expected"
    node: Any = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


def validate(spec: dict[str, Any], instance: Any, ref: str) -> None:
    """Check ``instance`` against the schema at ``ref``, other refs resolving in ``spec``."""
    schema = {"$ref": ref, "components": spec["components"]}
    jsonschema.Draft202012Validator(schema).validate(instance)


def test_the_committed_document_is_the_apps(spec: dict[str, Any]) -> None:
    assert COMMITTED.is_file(), "openapi/openapi.json is missing: run `make openapi`"
    committed = json.loads(COMMITTED.read_text())
    assert committed == spec, "openapi/openapi.json differs from the app's: run `make openapi`"


def test_operation_ids_are_snake_case_and_unique(spec: dict[str, Any]) -> None:
    ids = [str(op.get("operationId")) for _, _, op in operations(spec)]
    assert ids, "no operations"
    bad = [
        f"{m.upper()} {p}: {op.get('operationId')!r}"
        for m, p, op in operations(spec)
        if not SNAKE_CASE.match(op.get("operationId") or "")
    ]
    assert not bad, f"operation ids must be snake_case: {bad}"
    assert len(ids) == len(set(ids)), f"duplicate operation ids: {sorted(ids)}"


def test_every_error_response_is_problem_json_with_an_example(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        where = f"{method.upper()} {path}"
        found = errors_of(operation)
        if (method, path) in NO_ERRORS:
            assert not found, f"{where} is exempt as unable to fail, yet declares {sorted(found)}"
            continue
        assert found, f"{where} declares no 4xx/5xx response"
        for code, response in found.items():
            content = response.get("content", {})
            other = NOT_PROBLEMS.get((method, path, code))
            if path.startswith(OPENAI):
                other = f"{SCHEMAS}ErrorBody"
            if other is not None:
                body = content.get("application/json", {})
                assert body.get("schema", {}).get("$ref") == other, f"{where} {code}"
                assert "example" in body, f"{where} {code}: no example"
                validate(spec, body["example"], other)
                continue
            assert list(content) == [PROBLEM], f"{where} {code}: {list(content)}, not {PROBLEM}"
            body = content[PROBLEM]
            assert body.get("schema") == {"$ref": "#/components/schemas/Problem"}, where
            assert "example" in body, f"{where} {code}: no example"
            validate(spec, body["example"], "#/components/schemas/Problem")
            assert body["example"]["status"] == int(code), f"{where} {code}: example's status"


def test_the_ask_route_keeps_its_event_stream_alternative(spec: dict[str, Any]) -> None:
    content = spec["paths"]["/ask"]["post"]["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/event-stream"}


def test_the_problem_schema_is_there_and_every_ref_resolves(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert "Problem" in schemas
    assert set(schemas["Problem"]["required"]) == {"title", "status", "detail"}
    assert "HTTPValidationError" not in schemas, "FastAPI's default 422 is still referenced"
    found = refs(spec)
    assert "#/components/schemas/Problem" in found
    for ref in set(found):
        resolve(spec, ref)
    unused = {f"#/components/schemas/{name}" for name in schemas} - set(found)
    assert not unused, f"schemas nothing refers to: {sorted(unused)}"


def test_without_keys_no_route_asks_for_one(spec: dict[str, Any]) -> None:
    assert "securitySchemes" not in spec["components"]
    for method, path, operation in operations(spec):
        assert "security" not in operation, f"{method.upper()} {path}"
        found = set(operation["responses"])
        assert not found & {"401", "403", "429"}, f"{method.upper()} {path}: {sorted(found)}"


def test_with_keys_every_guarded_route_asks_for_one(keyed: dict[str, Any]) -> None:
    scheme = keyed["components"]["securitySchemes"]["apiKey"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    guarded = [(m, p, op) for m, p, op in operations(keyed) if p not in OPEN_PATHS]
    assert {"/documents", "/ask", "/metrics"} <= {p for _, p, _ in guarded}
    for method, path, operation in guarded:
        where = f"{method.upper()} {path}"
        assert operation.get("security") == [{"apiKey": []}], where
        assert {"401", "429"} <= set(operation["responses"]), where
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"], where
        assert "Retry-After" in operation["responses"]["429"]["headers"], where
    for method, path, operation in operations(keyed):
        if path in OPEN_PATHS:  # probes carry no key, and the guard does not count them
            assert "security" not in operation, f"{method.upper()} {path}"
            assert not {"401", "403", "429"} & set(operation["responses"]), path


def test_keys_and_rate_limit_are_told_apart() -> None:
    limited = served(rate_limit_per_minute=60)
    assert "securitySchemes" not in limited["components"]
    assert "429" in limited["paths"]["/search"]["post"]["responses"]
    assert "401" not in limited["paths"]["/search"]["post"]["responses"]
    only_keys = served(api_keys=KEYS)
    assert "429" not in only_keys["paths"]["/search"]["post"]["responses"]
    assert "401" in only_keys["paths"]["/search"]["post"]["responses"]


def test_every_body_may_be_unreadable(spec: dict[str, Any]) -> None:
    with_body = [(m, p, op) for m, p, op in operations(spec) if "requestBody" in op]
    assert {"/ask", "/search", "/documents", "/feedback"} <= {p for _, p, _ in with_body}
    for method, path, operation in with_body:
        assert "400" in operation["responses"], f"{method.upper()} {path}"


def test_an_unreadable_body_is_a_400_that_says_why() -> None:
    client = TestClient(create_app(Settings(**DEFAULTS)), raise_server_exceptions=False)
    body = b'{"question": "\xff"}'  # not UTF-8
    answer = client.post("/search", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert "'utf-8' codec can't decode byte 0xff" in answer.json()["detail"], answer.json()


def test_405_names_the_allowed_methods() -> None:
    client = TestClient(create_app(Settings(**DEFAULTS)), raise_server_exceptions=False)
    answer = client.request("TRACE", "/healthz")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers["allow"] == "GET"
    answer = client.put("/documents")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"  # two routes, one path
    # The resource the document names at this path: its chunks (GET), not a document whose id
    # ends in "/chunks", which the route of DELETE /documents/{document_id} would also take.
    assert client.request("OPTIONS", "/documents/x/chunks").headers["allow"] == "GET"


def _raising(exc: HTTPException) -> TestClient:
    app = FastAPI()
    problems.install(app)

    @app.get("/")
    def fail() -> None:
        raise exc

    return TestClient(app)


@pytest.mark.parametrize(
    ("status", "header", "value"),
    [(401, "WWW-Authenticate", "Bearer"), (429, "Retry-After", "12"), (503, "Retry-After", "5")],
)
def test_a_problem_keeps_the_headers_of_its_exception(status: int, header: str, value: str) -> None:
    answer = _raising(HTTPException(status, "refused", headers={header: value})).get("/")
    assert answer.status_code == status
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers[header] == value
    assert answer.json()["detail"] == "refused"
