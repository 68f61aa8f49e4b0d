"""A stand-in for Hugging Face text-embeddings-inference (TEI): ``python -m bench.tei_stub``.

It speaks TEI 1.9's HTTP protocol as ``tests/contracts/tei-openapi.json`` describes it, for the
routes ``docqa.adapters.tei`` uses, so the real adapter, worker and API run against it unchanged:

- ``GET /info``: the full ``Info`` object (``model_id``, ``max_input_length``,
  ``max_client_batch_size``, ``max_batch_tokens``…).
- ``POST /embed {"inputs", "normalize", "truncate"}``: ``[[float]]`` in input order, one
  ``DIMENSION``-d vector per input: a hashed bag of words (each word adds ±1 to one coordinate
  picked by a hash of the lower-cased word), L2-normalised. Deterministic across processes and
  cheap, so texts sharing words are close: enough for search to find what was indexed.
- ``POST /tokenize {"inputs", "add_special_tokens"}``: TEI's ``SimpleToken`` lists. Tokens are
  words (``\\w+``) and single punctuation marks; ``start``/``stop`` are UTF-8 *byte* offsets, as
  TEI gives them; with ``add_special_tokens`` (TEI's default) ``[CLS]``/``[SEP]`` wrap them as
  special tokens with null offsets.
- ``GET /health``: 200 with an empty body.
- Errors are TEI's ``{"error": "...", "error_type": "Validation"}`` (the enum's spelling): 400 for
  an empty batch, 422 for a batch over ``max_client_batch_size`` (TEI 1.9's status and message),
  413 for an input over ``max_input_length`` tokens without ``truncate``.

Faults, set at run time (not part of TEI): ``POST /_faults {"statuses": [429, 503], "for_s": 8}``
makes ``/embed`` (or the routes in ``"paths"``) answer those statuses in turn for ``for_s``
seconds: 429 ``{"error": "Model is overloaded", "error_type": "Overloaded"}`` as TEI does when
its queue is full, 503 ``{"error": "unhealthy", "error_type": "Unhealthy"}``. TEI sends no
``Retry-After``; ``"retry_after_s"`` adds one, as a proxy in front of it might. ``{"for_s": 0}``
ends them. ``GET /_faults`` gives the counters: faults served by status, successful
``/embed`` requests and texts, ``/tokenize`` requests. ``DELETE /_faults`` ends the faults and
zeroes the counters.

Stdlib only (no docqa imports), so it starts in any environment. ``TeiStub`` starts it as a
subprocess on a free port for tests and benches.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DIMENSION = 384
MODEL_ID = "docqa/tei-stub-hashed-words-384"
MAX_INPUT_LENGTH = 512
MAX_CLIENT_BATCH_SIZE = 32
MAX_BATCH_TOKENS = 16384
CLS, SEP = (101, "[CLS]"), (102, "[SEP]")
VOCABULARY = 30522  # ids as a BERT WordPiece vocabulary has them; 0..999 left to specials

_TOKEN = re.compile(r"\w+|[^\w\s]")
FAULT_BODIES = {
    429: ("Model is overloaded", "Overloaded"),
    503: ("unhealthy", "Unhealthy"),
    424: ("Inference failed", "Backend"),
    413: ("Batch size error", "Validation"),
}


@lru_cache(maxsize=1 << 16)
def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.lower().encode(), digest_size=8).digest(), "big")


def token_id(word: str) -> int:
    return 1000 + _word_hash(word) % (VOCABULARY - 1000)


def words(text: str) -> list[tuple[str, int, int]]:
    """(token text, start, stop) with UTF-8 *byte* offsets, as TEI reports them."""
    found = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if text.isascii():
        return found
    byte_at = [0]  # the byte offset where each character begins, then the end
    for char in text:
        byte_at.append(byte_at[-1] + len(char.encode()))
    return [(word, byte_at[start], byte_at[stop]) for word, start, stop in found]


def tokenize(text: str, add_special_tokens: bool = True) -> list[dict[str, Any]]:
    """TEI's ``SimpleToken`` list for one input."""
    tokens = [
        {"id": token_id(word), "text": word, "special": False, "start": start, "stop": stop}
        for word, start, stop in words(text)
    ]
    if not add_special_tokens:
        return tokens
    cls, sep = (
        {"id": i, "text": t, "special": True, "start": None, "stop": None} for i, t in (CLS, SEP)
    )
    return [cls, *tokens, sep]


def embed(text: str, normalize: bool = True, max_tokens: int | None = None) -> list[float]:
    """The hashed bag of words of ``text`` (its first ``max_tokens`` tokens)."""
    vector = [0.0] * DIMENSION
    tokens = _TOKEN.findall(text)
    for word in tokens[:max_tokens] if max_tokens is not None else tokens:
        hashed = _word_hash(word)
        vector[hashed % DIMENSION] += 1.0 if (hashed >> 32) & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0.0:  # no words: a fixed direction, so the vector is still a unit vector
        vector[0], norm = 1.0, 1.0
    return [x / norm for x in vector] if normalize else vector


class Faults:
    """What the stub is told to fail, and what it has served. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.statuses: list[int] = []
            self.paths: set[str] = {"/embed"}
            self.until = 0.0
            self.retry_after_s: float | None = None
            self.next = 0
            self.faults: Counter[int] = Counter()
            self.embeds = 0
            self.embedded = 0
            self.tokenizes = 0

    def set(self, body: dict[str, Any]) -> None:
        statuses = [int(s) for s in body.get("statuses", [429, 503])]
        if any(not 400 <= s <= 599 for s in statuses):
            raise ValueError(f"statuses must be 4xx or 5xx, not {statuses}")
        for_s = float(body.get("for_s", 0))
        with self._lock:
            self.statuses = statuses
            self.paths = set(body.get("paths", ["/embed"]))
            self.until = time.monotonic() + for_s if statuses and for_s > 0 else 0.0
            retry_after = body.get("retry_after_s")
            self.retry_after_s = float(retry_after) if retry_after is not None else None
            self.next = 0

    def take(self, path: str) -> int | None:
        """The status to fail this request with, or None to serve it."""
        with self._lock:
            if path not in self.paths or not self.statuses or time.monotonic() >= self.until:
                return None
            status = self.statuses[self.next % len(self.statuses)]
            self.next += 1
            self.faults[status] += 1
            return status

    def served(self, path: str, texts: int) -> None:
        with self._lock:
            if path == "/embed":
                self.embeds += 1
                self.embedded += texts
            else:
                self.tokenizes += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            remaining = max(0.0, self.until - time.monotonic())
            return {
                "active": remaining > 0,
                "statuses": self.statuses,
                "paths": sorted(self.paths),
                "remaining_s": round(remaining, 3),
                "faults": {str(status): n for status, n in sorted(self.faults.items())},
                "embeds": self.embeds,
                "embedded": self.embedded,
                "tokenizes": self.tokenizes,
            }


def info(max_client_batch_size: int, max_batch_tokens: int) -> dict[str, Any]:
    return {
        "model_id": MODEL_ID,
        "model_sha": None,
        "model_dtype": "float32",
        "served_model_name": MODEL_ID,
        "model_type": {"embedding": {"pooling": "mean"}},
        "max_concurrent_requests": 512,
        "max_input_length": MAX_INPUT_LENGTH,
        "max_batch_tokens": max_batch_tokens,
        "max_batch_requests": None,
        "max_client_batch_size": max_client_batch_size,
        "auto_truncate": False,
        "tokenization_workers": 1,
        "version": "1.9.3",
        "sha": None,
        "docker_label": None,
    }


class ApiError(Exception):
    def __init__(self, status: int, message: str, error_type: str) -> None:
        super().__init__(message)
        self.status, self.message, self.error_type = status, message, error_type


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx clients expect of TEI
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls
    server: StubServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(200, None)
        elif self.path == "/info":
            self._send(200, info(self.server.max_client_batch_size, self.server.max_batch_tokens))
        elif self.path == "/_faults":
            self._send(200, self.server.faults.snapshot())
        else:
            self._send(404, {"error": f"no route {self.path}", "error_type": "Validation"})

    def do_DELETE(self) -> None:
        if self.path != "/_faults":
            self._send(404, {"error": f"no route {self.path}", "error_type": "Validation"})
            return
        self.server.faults.reset()
        self._send(200, self.server.faults.snapshot())

    def do_POST(self) -> None:
        try:
            body = self._body()
            if self.path == "/_faults":
                self.server.faults.set(body)
                self._send(200, self.server.faults.snapshot())
                return
            if self.path not in ("/embed", "/tokenize"):
                raise ApiError(404, f"no route {self.path}", "Validation")
            status = self.server.faults.take(self.path)
            if status is not None:
                self._fault(status)
                return
            texts = self._inputs(body)
            if self.path == "/embed":
                answer: Any = self._embed(texts, body)
            else:
                special = bool(body.get("add_special_tokens", True))
                answer = [tokenize(text, special) for text in texts]
            self.server.faults.served(self.path, len(texts))
            self._send(200, answer)
        except ApiError as exc:
            self._send(exc.status, {"error": exc.message, "error_type": exc.error_type})
        except (ValueError, TypeError, KeyError) as exc:
            self._send(422, {"error": f"Failed to parse the request body: {exc}",
                             "error_type": "Validation"})  # fmt: skip

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        body = json.loads(raw or b"{}")
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return body

    def _inputs(self, body: dict[str, Any]) -> list[str]:
        inputs = body["inputs"]
        texts = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise ValueError("`inputs` must be a string or a list of strings")
        if not texts:
            raise ApiError(400, "`inputs` cannot be empty", "Empty")
        limit = self.server.max_client_batch_size
        if len(texts) > limit:
            raise ApiError(
                422, f"batch size {len(texts)} > maximum allowed batch size {limit}", "Validation"
            )
        return texts

    def _embed(self, texts: list[str], body: dict[str, Any]) -> list[list[float]]:
        truncate = bool(body.get("truncate") or False)
        limit = MAX_INPUT_LENGTH - 2  # [CLS] and [SEP] count
        if not truncate:
            for text in texts:
                count = len(_TOKEN.findall(text)) + 2
                if count > MAX_INPUT_LENGTH:
                    raise ApiError(
                        413,
                        f"Input validation error: `inputs` must have less than "
                        f"{MAX_INPUT_LENGTH} tokens. Given: {count}",
                        "Validation",
                    )
        normalize = bool(body.get("normalize", True))
        return [embed(text, normalize, limit) for text in texts]

    def _fault(self, status: int) -> None:
        message, error_type = FAULT_BODIES.get(status, ("injected fault", "Backend"))
        headers = {}
        if self.server.faults.retry_after_s is not None:
            headers["Retry-After"] = str(max(0, math.ceil(self.server.faults.retry_after_s)))
        self._send(status, {"error": message, "error_type": error_type}, headers)

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        max_client_batch_size: int = MAX_CLIENT_BATCH_SIZE,
        max_batch_tokens: int = MAX_BATCH_TOKENS,
        verbose: bool = False,
    ) -> None:
        super().__init__(address, Handler)
        self.faults = Faults()
        self.max_client_batch_size = max_client_batch_size
        self.max_batch_tokens = max_batch_tokens
        self.verbose = verbose


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TeiStub:
    """The stub in a subprocess on a free port: ``with TeiStub() as tei: tei.url``.

    ``faults(...)`` and ``counters()`` drive ``/_faults``. Its output goes to ``log`` when
    given (else it is discarded)."""

    def __init__(self, port: int | None = None, log: Path | None = None) -> None:
        self.port = port or _free_port()
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30) -> TeiStub:
        args = [sys.executable, "-m", "bench.tei_stub", "--port", str(self.port)]
        with contextlib.ExitStack() as files:
            out = files.enter_context(self.log.open("ab")) if self.log else subprocess.DEVNULL
            self.proc = subprocess.Popen(
                args, cwd=Path(__file__).resolve().parents[1], stdout=out, stderr=out
            )
        from docqa.core.waiting import wait_until  # here: the stub itself runs on the stdlib alone

        def healthy() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"the TEI stub exited with code {self.proc.returncode}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer,
            ):
                return bool(answer.status == 200)
            return False

        try:
            wait_until(healthy, timeout_s, "the TEI stub to answer /health", interval=0.1)
        except TimeoutError:
            self.stop()
            raise
        return self

    def _call(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_faults",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            result: dict[str, Any] = json.loads(answer.read())
            return result

    def faults(
        self,
        statuses: list[int],
        for_s: float,
        paths: list[str] | None = None,
        retry_after_s: float | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"statuses": statuses, "for_s": for_s}
        if paths is not None:
            body["paths"] = paths
        if retry_after_s is not None:
            body["retry_after_s"] = retry_after_s
        return self._call("POST", body)

    def counters(self) -> dict[str, Any]:
        return self._call("GET")

    def reset(self) -> dict[str, Any]:
        return self._call("DELETE")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> TeiStub:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tei_stub", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--max-client-batch-size", type=int, default=MAX_CLIENT_BATCH_SIZE)
    parser.add_argument("--max-batch-tokens", type=int, default=MAX_BATCH_TOKENS)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    server = StubServer(
        (args.host, args.port),
        max_client_batch_size=args.max_client_batch_size,
        max_batch_tokens=args.max_batch_tokens,
        verbose=args.verbose,
    )
    print(f"TEI stub on http://{args.host}:{args.port} ({MODEL_ID})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
