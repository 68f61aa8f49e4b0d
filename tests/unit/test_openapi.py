"""The committed OpenAPI document (`openapi/openapi.json`) is the app's, and it is complete:
stable snake_case operation ids, and every error response documented as problem+json with an
example.

Exemptions, on purpose:
- `GET /healthz` declares no error response: it answers a constant and touches nothing, so it
  cannot fail short of the process being down (when nothing answers at all).
- `GET /readyz` answers 503 with its `Readiness` body (naming what is not ready), not a problem.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from docqa.api.app import create_app
from docqa.api.problems import PROBLEM

COMMITTED = Path(__file__).parents[2] / "openapi" / "openapi.json"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

NO_ERRORS = {("get", "/healthz")}
NOT_PROBLEMS = {("get", "/readyz", "503"): "#/components/schemas/Readiness"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    # A round trip through JSON, as `docqa openapi` writes it (int keys become strings).
    return json.loads(json.dumps(create_app().openapi()))


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
    ids = [op.get("operationId") for _, _, op in operations(spec)]
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
            if (method, path, code) in NOT_PROBLEMS:
                body = content.get("application/json", {})
                assert body.get("schema", {}).get("$ref") == NOT_PROBLEMS[method, path, code]
                assert "example" in body, f"{where} {code}: no example"
                validate(spec, body["example"], NOT_PROBLEMS[method, path, code])
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
