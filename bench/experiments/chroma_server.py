"""Starts a private ``chroma run`` server for the Chroma experiments and gives its client, its
process id (for its CPU seconds) and collections made with given HNSW settings.

Used by ``bench.experiments.chroma_tuning``; the server and its data directory go when the
``with`` block ends.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from docqa.adapters._chroma import connect
from docqa.core.waiting import wait_until
from docqa.stack.processes import free_port, terminate
from docqa.stack.programs import chroma_args


@dataclass
class ChromaServer:
    client: ClientAPI
    pid: int
    data_dir: Path
    url: str

    def collection(self, name: str, hnsw: dict[str, Any]) -> Collection:
        """A new cosine collection ``name`` created with ``hnsw`` (Chroma 1.x configuration
        keys: ``ef_construction``, ``max_neighbors``, ``sync_threshold``, ...)."""
        return self.client.create_collection(
            name,
            configuration=cast(Any, {"hnsw": {"space": "cosine", **hnsw}}),
            embedding_function=None,
        )


@contextmanager
def chroma_server() -> Iterator[ChromaServer]:
    with tempfile.TemporaryDirectory(prefix="chroma-tuning-") as scratch:
        port = free_port()
        data_dir = Path(scratch) / "data"
        log = (Path(scratch) / "chroma.log").open("wb")
        proc = subprocess.Popen(
            chroma_args(data_dir, "127.0.0.1", port), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            client = wait_until(lambda: _client(url), 60, f"chroma run on port {port}")
            yield ChromaServer(client, proc.pid, data_dir, url)
        finally:
            terminate(proc)
            log.close()


def _client(url: str) -> ClientAPI | None:
    try:
        client = connect(url)
        client.heartbeat()
        return client
    except Exception:  # still starting
        return None
