"""Errors on /v1 in OpenAI's shape, whoever raised them: the key guard and body limit before
any route, FastAPI's validation and routing, and the routes; other paths keep problem+json."""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from docqa.api import problems
from docqa.api.app import create_app
from docqa.api.openai_errors import OpenAIErrors, error_body, from_problem
from docqa.core.config import Settings
from docqa.core.errors import NotFound

KEY = "admin-key-0123456789abcdef"


def keyed() -> TestClient:
    settings = Settings(api_keys=json.dumps([{"key": KEY, "name": "admin"}]), max_body_bytes=1000)
    return TestClient(create_app(settings))  # the lifespan is never entered


def assert_openai_error(response: object, status: int, kind: str, mentions: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == kind
    assert mentions in body["error"]["message"]


def test_the_key_guard_answers_in_openais_shape_on_v1() -> None:
    client = keyed()
    refused = client.get("/v1/models")
    assert_openai_error(refused, 401, "authentication_error", "API key")
    assert refused.json()["error"]["code"] == "invalid_api_key"
    assert refused.headers["www-authenticate"] == "Bearer"
    wrong = client.post("/v1/chat/completions", headers={"Authorization": "Bearer nope-nope"})
    assert_openai_error(wrong, 401, "authentication_error", "not valid")
    # Elsewhere the same refusal stays problem+json.
    other = client.get("/collections")
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["status"] == 401


def test_the_body_limit_answers_in_openais_shape_on_v1() -> None:
    client = keyed()
    body = {"model": "docqa/x", "messages": [{"role": "user", "content": "x" * 2000}]}
    too_big = client.post(
        "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert_openai_error(too_big, 413, "invalid_request_error", "the limit is 1000")


def test_unknown_v1_paths_answer_in_openais_shape() -> None:
    client = keyed()
    missing = client.get("/v1/engines", headers={"Authorization": f"Bearer {KEY}"})
    assert_openai_error(missing, 404, "invalid_request_error", "Not Found")


class Body(BaseModel):
    n: int


def test_validation_and_route_errors_are_rewritten_streams_pass_through() -> None:
    app = FastAPI()
    problems.install(app)

    @app.post("/v1/thing")
    def thing(body: Body) -> dict[str, int]:
        if body.n < 0:
            raise NotFound("no thing below zero")
        return {"n": body.n}

    app.add_middleware(OpenAIErrors)
    client = TestClient(app)
    invalid = client.post("/v1/thing", json={"n": "many"})
    assert_openai_error(invalid, 422, "invalid_request_error", "n: Input should be")
    assert invalid.json()["error"]["param"] == "n"
    assert_openai_error(
        client.post("/v1/thing", json={"n": -1}), 404, "invalid_request_error", "below"
    )
    fine = client.post("/v1/thing", json={"n": 2})
    assert fine.status_code == 200 and fine.json() == {"n": 2}


def test_shapes() -> None:
    assert error_body(429, "slow down")["error"] == {
        "message": "slow down",
        "type": "rate_limit_error",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert error_body(418, "teapot")["error"]["code"] == "i'm_a_teapot"
    assert from_problem({"status": 503, "title": "Service unavailable", "detail": "Chroma"}) == {
        "error": {
            "message": "Chroma",
            "type": "api_error",
            "param": None,
            "code": "service_unavailable",
        }
    }
