"""The TEI stand-in in process, on ``httpx.MockTransport``, for the TEI adapters' unit tests:
``FakeTei(contract).client`` is an ``httpx.Client`` answered by ``protocol.Tei``.

Every request body and every answer goes through ``contract.check`` (TEI 1.9.3's OpenAPI
document in the tests), so the fake cannot drift from the real server's shapes. Scripted
answers (``script``) are served as given, contract or not: they are how a test shows the
adapter what a server may really say (or an exception, a transport failure)."""

from __future__ import annotations

import json
from typing import Any, Protocol

import httpx

from bench.tei_stub.protocol import Tei


class Checker(Protocol):
    def check(self, schema: str, body: Any) -> Any: ...


def error(contract: Checker, status: int, message: str, error_type: str) -> httpx.Response:
    """TEI's error answer, its body checked against the contract."""
    body = contract.check("ErrorResponse", {"error": message, "error_type": error_type})
    return httpx.Response(status, json=body)


class FakeTei(Tei):
    """``Tei`` behind an ``httpx.Client`` (``client``), recording every request (``requests``).
    ``script`` holds canned answers (a Response or an exception) served first, in order, for
    ``script_path``."""

    def __init__(
        self,
        contract: Checker,
        *,
        info: dict[str, Any] | None = None,
        limit: int | None = None,
        limit_status: int = 422,
        script_path: str = "/embed",
        tokenizer: Any | None = None,
    ) -> None:
        super().__init__(
            info, limit=limit, limit_status=limit_status, check=contract.check, tokenizer=tokenizer
        )
        self.script: list[httpx.Response | Exception] = []
        self.script_path = script_path
        self.requests: list[httpx.Request] = []
        self.client = httpx.Client(
            base_url="http://tei.test", transport=httpx.MockTransport(self.handle)
        )

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path == path]

    def batches(self, path: str) -> list[list[str]]:
        """The texts of each request to ``path``, in order."""
        key = "texts" if path == "/rerank" else "inputs"
        return [body[key] for body in self.bodies(path)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script and request.url.path == self.script_path:
            answer = self.script.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        reply = self.answer(request.method, request.url.path, request.content)
        if reply.body is None:
            return httpx.Response(reply.status, headers=reply.headers)
        return httpx.Response(reply.status, json=reply.body, headers=reply.headers)
