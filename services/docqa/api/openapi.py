"""The OpenAPI document the service serves (``/openapi.json``) and ``docqa openapi`` writes: what
FastAPI derives from the routes, amended in one place to say what the running service answers.

``install(app, settings)`` is called once by ``create_app``; the document is built on first use
(then cached), after every route and middleware is in place, whatever the order they were added
in. The amendments:

- ``Problem`` (and models routes refer to by hand, like the upload's ``IngestRequest``) in the
  components; FastAPI's default 422 (``HTTPValidationError``, ``application/json``) replaced by
  the problem+json that ``problems.install``'s handler really returns.
- 400 on every operation that takes a body: FastAPI answers it for a body it cannot read at all
  (not UTF-8, a broken multipart), before any route runs.
- The configuration it runs with. With API keys configured (``DOCQA_API_KEYS`` or
  ``DOCQA_API_KEYS_FILE``), the bearer scheme is required on every route the guard guards
  (all but ``security.OPEN_PATHS``), which may answer 401 (and 403, outside a key's scope);
  without keys no route asks for one and none answers 401 or 403. 429 is documented where
  the guard counts requests and only when a rate limit is configured. Every 401 says it has
  ``WWW-Authenticate`` and every 429 ``Retry-After``: the guard sends them. Without a reranker
  (``DOCQA_RERANKER=none``) ``rerank`` may only be false (or left out): true is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from docqa.api import problems, security
from docqa.api.keys import load_keys
from docqa.core.config import Settings

SCHEMAS = "#/components/schemas/"
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
SCHEME = "apiKey"
_DEFAULT_422 = f"{SCHEMAS}HTTPValidationError"


def install(app: FastAPI, settings: Settings, *, schemas: Sequence[type[BaseModel]] = ()) -> None:
    """Serve ``document(app, settings, ...)`` as the app's OpenAPI; ``schemas`` are models that
    routes refer to by hand (``$ref``), which FastAPI does not collect by itself."""
    keyed = bool(load_keys(settings))
    limited = settings.rate_limit_per_minute > 0
    reranks = settings.reranker != "none"
    models: list[type[BaseModel]] = [problems.Problem, *schemas]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(
                app, keyed=keyed, limited=limited, reranks=reranks, models=models
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(
    app: FastAPI,
    *,
    keyed: bool,
    limited: bool,
    reranks: bool = True,
    models: Sequence[type[BaseModel]] = (problems.Problem,),
) -> dict[str, Any]:
    """FastAPI's document for ``app``, amended as the module's docstring says; ``keyed``: API
    keys are configured, ``limited``: a rate limit is, ``reranks``: a reranker is."""
    app.openapi_schema = None
    spec = FastAPI.openapi(app)
    for path, _, operation in operations(spec):
        answers = operation.setdefault("responses", {})
        default = answers.get("422", {}).get("content", {}).get("application/json", {})
        if default.get("schema", {}).get("$ref") == _DEFAULT_422:
            answers["422"] = problems.responses(422)[422]
        if "requestBody" in operation:
            answers.setdefault("400", problems.responses(400)[400])
        guarded = path not in security.OPEN_PATHS
        if keyed and guarded:
            operation["security"] = [{SCHEME: []}]
        else:
            operation.pop("security", None)
            answers.pop("401", None)
            answers.pop("403", None)
        if not (limited and guarded):
            answers.pop("429", None)
        for code in ("401", "429"):  # the guard's refusals carry these headers, whatever the body
            if code in answers:
                answers[code].setdefault(
                    "headers", problems.responses(int(code))[int(code)]["headers"]
                )
        operation["responses"] = dict(sorted(answers.items()))
    components = spec.setdefault("components", {})
    if keyed:
        components["securitySchemes"] = {
            SCHEME: {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key (DOCQA_API_KEYS): `Authorization: Bearer <key>`",
            }
        }
    schemas = components.setdefault("schemas", {})
    _, found = models_json_schema(
        [(model, "validation") for model in models], ref_template=f"{SCHEMAS}{{model}}"
    )
    for name, schema in found.get("$defs", {}).items():
        schemas.setdefault(name, schema)
    # In this order: HTTPValidationError refers to ValidationError.
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"{SCHEMAS}{unused}" not in refs(spec):
            schemas.pop(unused, None)
    if not reranks:
        for schema in schemas.values():
            rerank = schema.get("properties", {}).get("rerank")
            if rerank is not None:
                rerank["anyOf"] = [{"type": "boolean", "const": False}, {"type": "null"}]
                rerank["description"] = "No reranker is configured: false (or left out) only"
    components["schemas"] = dict(sorted(schemas.items()))
    return spec


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Each operation of ``spec`` as (path, method, operation)."""
    return [
        (path, method, operation)
        for path, item in spec.get("paths", {}).items()
        for method, operation in item.items()
        if method in METHODS
    ]


def refs(node: Any) -> set[str]:
    """Every ``$ref`` under ``node``."""
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(value) for value in node))
    return set()
