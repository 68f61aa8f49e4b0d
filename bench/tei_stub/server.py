"""The TEI stand-in over HTTP: ``python -m bench.tei_stub [--port 8080] [--reranker]
[--tokenizer tokenizer.json]``, or ``TeiStub`` starting it as a subprocess on a free port for
tests and benches.

Stdlib only (no docqa imports), so it starts in any environment; ``--tokenizer`` (``/tokenize``
with a real model's ``tokenizer.json``, see ``tokenizer_file``) needs the ``tokenizers``
library. ``TeiStub`` passes it when given ``tokenizer``, or when ``TEI_STUB_TOKENIZER`` is set
in its environment (so a bench's stand-in can be switched without changing the bench)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.tei_stub.model import (
    MAX_BATCH_TOKENS,
    MAX_CLIENT_BATCH_SIZE,
    MODEL_ID,
    RERANKER_ID,
    info_body,
    reranker_info,
)
from bench.tei_stub.protocol import Reply, Tei

REPO = Path(__file__).resolve().parents[2]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx clients expect of TEI
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls
    server: StubServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self._send(self.server.tei.answer(method, self.path, raw))

    def _send(self, reply: Reply) -> None:
        data = b"" if reply.body is None else json.dumps(reply.body, separators=(",", ":")).encode()
        self.send_response(reply.status)
        if reply.body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class StubServer(ThreadingHTTPServer):
    """The stand-in on ``address``; ``tei`` is its behaviour (``protocol.Tei``)."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        max_client_batch_size: int = MAX_CLIENT_BATCH_SIZE,
        max_batch_tokens: int = MAX_BATCH_TOKENS,
        reranker: bool = False,
        verbose: bool = False,
        tokenizer: Path | str | None = None,
    ) -> None:
        super().__init__(address, Handler)
        limits = {
            "max_client_batch_size": max_client_batch_size,
            "max_batch_tokens": max_batch_tokens,
        }
        info = reranker_info(**limits) if reranker else info_body(**limits)
        if tokenizer is None:
            self.tei = Tei(info)
        else:
            from bench.tei_stub.tokenizer_file import TokenizerFile

            self.tei = Tei(info, tokenizer=TokenizerFile(tokenizer))
        self.verbose = verbose


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TeiStub:
    """The stand-in in a subprocess on a free port: ``with TeiStub() as tei: tei.url``.

    ``faults(...)`` and ``counters()`` drive ``/_faults``. Its output goes to ``log`` when
    given (else it is discarded). ``reranker=True`` serves the stand-in cross-encoder;
    ``tokenizer`` (default: ``$TEI_STUB_TOKENIZER``) a ``tokenizer.json`` for ``/tokenize``."""

    def __init__(
        self,
        port: int | None = None,
        log: Path | None = None,
        *,
        reranker: bool = False,
        tokenizer: Path | str | None = None,
    ) -> None:
        self.port = port or _free_port()
        self.log = log
        self.reranker = reranker
        self.tokenizer = tokenizer or os.environ.get("TEI_STUB_TOKENIZER") or None
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30) -> TeiStub:
        args = [sys.executable, "-m", "bench.tei_stub", "--port", str(self.port)]
        args += ["--reranker"] if self.reranker else []
        args += ["--tokenizer", str(self.tokenizer)] if self.tokenizer else []
        with contextlib.ExitStack() as files:
            out = files.enter_context(self.log.open("ab")) if self.log else subprocess.DEVNULL
            self.proc = subprocess.Popen(args, cwd=REPO, stdout=out, stderr=out)
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
    from bench import tei_stub

    parser = argparse.ArgumentParser(prog="python -m bench.tei_stub", description=tei_stub.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--max-client-batch-size", type=int, default=MAX_CLIENT_BATCH_SIZE)
    parser.add_argument("--max-batch-tokens", type=int, default=MAX_BATCH_TOKENS)
    parser.add_argument("--reranker", action="store_true", help="serve a cross-encoder (/rerank)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument(
        "--tokenizer",
        type=Path,
        help="answer /tokenize with this tokenizer.json (or its folder) instead of word tokens",
    )
    args = parser.parse_args(argv)
    server = StubServer(
        (args.host, args.port),
        max_client_batch_size=args.max_client_batch_size,
        max_batch_tokens=args.max_batch_tokens,
        reranker=args.reranker,
        verbose=args.verbose,
        tokenizer=args.tokenizer,
    )
    model = RERANKER_ID if args.reranker else MODEL_ID
    tokens = f", /tokenize with {args.tokenizer}" if args.tokenizer else ""
    print(f"TEI stub on http://{args.host}:{args.port} ({model}{tokens})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.server_close()
    return 0
