"""The whole service on one machine, with embedded defaults: ``docqa run`` / ``make run``.

Starts two real Redis servers (the queue's and catalog's; and the keyword index's, with the
search module, in a process of its own so that a crash there leaves the queue and catalog
running), a real Chroma server (``chroma run``), llama.cpp's server on a small base model (the
generator), the API (uvicorn) and the embedding worker, each its own process, and stops them
all, newest first (``docqa run``, ``docqa.cli.service``: on Ctrl-C). Tests use the same
class to start a private stack on free ports.

The programs it runs, and their command lines: ``docqa.stack.programs``; its servers' command
lines on their ports and data, and the waits until each is up: ``docqa.stack.servers``; free
ports, waiting until a process is ready, ending a process and its group:
``docqa.stack.processes``; a host of an API and a worker of their own: ``docqa.stack.hosts``.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from docqa.stack.hosts import Host
from docqa.stack.processes import free_port, kill_group, terminate, wait_ready
from docqa.stack.programs import StackError, api_args, llm_args, worker_args
from docqa.stack.servers import server_args, wait_server

# The processes ``restart`` (and so ``docqa run``'s supervisor) can start again.
RESTARTABLE = ("redis", "keyword-redis", "chroma", "llm", "worker", "api")


@dataclass
class Stack:
    data_dir: Path
    api_port: int = 8000
    redis_port: int = field(default_factory=free_port)
    keyword_redis_port: int = field(default_factory=free_port)
    chroma_port: int = field(default_factory=free_port)
    llm_port: int = field(default_factory=free_port)
    worker_metrics_port: int = field(default_factory=free_port)
    model_cache: Path | None = None  # where the GGUF is assembled; default data_dir/models
    extra_env: dict[str, str] = field(default_factory=dict)
    quiet: bool = False
    generator: bool = True  # False: no llama.cpp server (a stack for ingest and search only)
    address: str = "127.0.0.1"  # where the servers (Redis, Chroma, llama.cpp) listen
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
            "DOCQA_REDIS_URL": f"redis://{self.address}:{self.redis_port}/0",
            "DOCQA_CHROMA_URL": f"http://{self.address}:{self.chroma_port}",
            "DOCQA_WORKER_NAME": "docqa-worker-1",
            "DOCQA_GENERATOR_URL": f"http://{self.address}:{self.llm_port}",
            "DOCQA_GENERATOR_MODE": "completion",
            "DOCQA_WORKER_METRICS_PORT": str(self.worker_metrics_port),
            "DOCQA_KEYWORD_REDIS_URL": f"redis://{self.address}:{self.keyword_redis_port}/0",
            **self.extra_env,
        }

    def _spawn(
        self,
        name: str,
        args: list[str],
        chatty: bool = False,
        host: Host | None = None,
        own_group: bool = False,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start a process; its output goes to ``data_dir/logs/<name>.log`` (a host's: its
        ``root/logs``) when the stack is quiet or the process ``chatty`` (Chroma and llama.cpp
        log every request). A host's process runs in its namespace, folders and name;
        ``own_group``: in a process group of its own (the worker: see ``kill_worker``). A process
        of that name still running is a ``StackError``: replaced in ``procs``, it would run on
        unseen, and never be stopped. ``env``: set over the stack's environment."""
        running = self.procs.get(name)
        if running is not None and running.poll() is None:
            raise StackError(f"{name} is already running (pid {running.pid})")
        log_dir = host.root / "logs" if host else self.data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        out = (log_dir / f"{name}.log").open("ab") if self.quiet or chatty else None
        proc = subprocess.Popen(
            [*host.prefix, *args] if host else args,
            env={**self.env, **(host.env if host else {}), **(env or {})},
            cwd=host.root / "work" if host else None,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            process_group=0 if own_group else None,
        )
        self.procs[name] = proc
        return proc

    def _service_args(self, name: str) -> list[str]:
        """The command line of ``redis``, ``keyword-redis`` or ``chroma``."""
        return server_args(name, self.data_dir, self.address, self._server_port(name))

    def _server_port(self, name: str) -> int:
        if name in ("redis", "keyword-redis"):
            return self.keyword_redis_port if name == "keyword-redis" else self.redis_port
        return self.chroma_port

    def _wait_for_service(self, name: str, proc: subprocess.Popen[bytes]) -> None:
        log = self.data_dir / "logs" / f"{name}.log" if self.quiet else "above"
        wait_server(name, proc, self.address, self._server_port(name), log)

    def start_service(self, name: str) -> subprocess.Popen[bytes]:
        """(Re)start ``redis``, ``keyword-redis`` or ``chroma`` on its port and data dir, and wait
        until it is up."""
        proc = self._spawn(name, self._service_args(name), chatty=name == "chroma")
        self._wait_for_service(name, proc)
        return proc

    def stop_service(self, name: str) -> None:
        """Stop ``redis``, ``keyword-redis`` or ``chroma`` gracefully (SIGTERM: redis flushes its
        append-only file).
        Its entry stays, so a restart takes the same place in the order ``stop()`` follows."""
        terminate(self.procs[name])

    def restart(self, name: str) -> subprocess.Popen[bytes]:
        """Start again a process of ``RESTARTABLE`` that has exited, as it was first started, on
        the same port and data, without waiting until it is ready (its clients retry). What is
        left of a worker's process group (RQ's scheduler) is killed first."""
        if name == "worker":
            kill_group(self.procs[name].pid)
            return self.start_worker()
        if name == "api":
            return self._spawn("api", api_args("127.0.0.1", self.api_port))
        if name == "llm":
            cache = self.model_cache or self.data_dir / "models"
            return self._spawn("llm", llm_args(self.llm_port, self.address, cache), chatty=True)
        return self._spawn(name, self._service_args(name), chatty=name == "chroma")

    def start(self) -> Stack:
        self.start_servers()
        self.start_worker()
        api = self._spawn("api", api_args("127.0.0.1", self.api_port))
        wait_ready(
            lambda: httpx.get(f"{self.base_url}/readyz", timeout=60).is_success, "the API", 180, api
        )
        return self

    def start_servers(self) -> None:
        """Redis, the keyword index's Redis, Chroma and (with ``generator``) llama.cpp, up."""
        redis = self._spawn("redis", self._service_args("redis"))
        keyword_redis = self._spawn("keyword-redis", self._service_args("keyword-redis"))
        chroma = self._spawn("chroma", self._service_args("chroma"), chatty=True)
        llm = (
            self._spawn(
                "llm",
                llm_args(self.llm_port, self.address, self.model_cache or self.data_dir / "models"),
                chatty=True,
            )
            if self.generator
            else None
        )
        self._wait_for_service("redis", redis)
        self._wait_for_service("keyword-redis", keyword_redis)
        self._wait_for_service("chroma", chroma)
        if llm is not None:
            wait_ready(
                lambda: httpx.get(f"http://{self.address}:{self.llm_port}/health").is_success,
                "the llama.cpp server",
                180,
                llm,
            )

    def start_worker(self) -> subprocess.Popen[bytes]:
        return self._spawn("worker", worker_args(), own_group=True)

    def start_more_workers(self, count: int) -> list[int]:
        """Start ``count`` more workers on this machine beside the first (``worker-2``, …), each
        with a name and a metrics port of its own; their metrics ports."""
        ports = []
        for number in range(2, count + 2):
            ports.append(free_port())
            own = {
                "DOCQA_WORKER_NAME": f"docqa-worker-{number}",
                "DOCQA_WORKER_METRICS_PORT": str(ports[-1]),
            }
            self._spawn(f"worker-{number}", worker_args(), own_group=True, env=own)
        return ports

    def start_host(self, host: Host) -> Host:
        """Start ``host``'s worker (``worker-<name>``) and API (``api-<name>``, on its address and
        port) against this stack's servers, and wait until the API is ready."""
        for folder in ("work", "tmp"):
            (host.root / folder).mkdir(parents=True, exist_ok=True)
        self._spawn(f"worker-{host.name}", worker_args(), host=host, own_group=True)
        api = self._spawn(f"api-{host.name}", api_args(host.address, host.api_port), host=host)
        wait_ready(
            lambda: httpx.get(f"{host.base_url}/readyz", timeout=60).is_success,
            f"the API of host {host.name}",
            180,
            api,
        )
        return host

    def kill_worker(self) -> None:
        """SIGKILL the worker and every process it forked, as killing its container would, and
        return once none of them runs.

        RQ's scheduler is a forked child of the worker: forked at its start, or by the worker's
        maintenance (every 10 min) once a killed predecessor's scheduler lock has expired, so at
        any moment. The worker has a process group of its own, and one ``killpg`` reaches every
        process in it, a child forked that instant too. SIGKILL takes effect only when the
        process next runs: a child still running after ``kill`` holds the worker's Redis
        connections open, and Redis hands the next queued job to the dead worker's blocked
        dequeue (BLMOVE), where it stays (measured with RQ's worker and scheduler: signalled
        without this wait, the child still ran in 38 of 70 kills and the job pushed right after
        was lost in 26). A process that has exited has closed its sockets: Redis has their end
        before anything sent after this returns."""
        proc = self.procs.pop("worker")
        kill_group(proc.pid)
        proc.wait()

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            terminate(self.procs.pop(name))

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
