"""What the worker tokenizes to chunk and index documents, two source trees side by side:
SQuAD train paragraphs (``--paragraphs``, grouped ``--per-document`` to a titled text document
of one article, as ``POST /documents`` takes them) go through ``index_documents`` in a process of
their own per tree, with the real TEI adapter over the TEI stub (``/tokenize`` and ``/embed``)
and the in-memory fakes of the store, keyword index and catalog. Per tree: ``/tokenize`` calls,
texts and characters, chunks, that process's CPU seconds per chunk (``time.process_time``) and
the stub's (from ``/proc``), in turns (A B A B...) so that both meet the same load.

    git worktree add /tmp/tok-before <commit>
    .venv/bin/python -m bench.experiments.ingest_tokenizing --before /tmp/tok-before [--rounds 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SQUAD = Path("/work/shared/data/squad/train-v1.1-part.json")
CHUNK_TOKENS, OVERLAP = 200, 40  # the defaults (DOCQA_CHUNK_TOKENS, DOCQA_CHUNK_OVERLAP)


def documents(path: Path, paragraphs: int, per_document: int) -> list[tuple[str, str]]:
    """(title, text) of up to ``per_document`` consecutive paragraphs of one article each."""
    out: list[tuple[str, str]] = []
    taken = 0
    for article in json.loads(path.read_text())["data"]:
        texts = [p["context"] for p in article["paragraphs"]][: paragraphs - taken]
        for start in range(0, len(texts), per_document):
            out.append(
                (
                    article["title"].replace("_", " "),
                    "\n\n".join(texts[start : start + per_document]),
                )
            )
        taken += len(texts)
        if taken >= paragraphs:
            break
    return out


def child(tei_url: str, squad: Path, paragraphs: int, per_document: int) -> dict[str, Any]:
    """One tree's run (its docqa and tests/support/fakes.py on ``sys.path``)."""
    import httpx

    from docqa.adapters.tei import TeiEmbedder
    from docqa.core.models import DocumentRecord, PendingDocument, content_hash
    from docqa.ingest.indexing import Chunker, index_documents
    from support.fakes import FakeCatalog, FakeKeywordIndex, FakeStore

    class Counting(TeiEmbedder):
        calls = texts = chars = 0

        def token_spans(self, texts: Sequence[str]) -> Any:
            self.calls += 1
            self.texts += len(texts)
            self.chars += sum(len(t) for t in texts)
            return super().token_spans(texts)

    embedder = Counting(httpx.Client(base_url=tei_url, timeout=60))
    limit = embedder.spec.max_input_tokens
    chunker = Chunker(embedder, min(CHUNK_TOKENS, limit), OVERLAP, limit=limit)
    pending = [
        PendingDocument("c", f"d{i}", content_hash(text), data=text, title=title)
        for i, (title, text) in enumerate(documents(squad, paragraphs, per_document))
    ]
    catalog = FakeCatalog()
    catalog.put(
        [
            DocumentRecord(d.id, "c", d.title, {}, "text", d.content_hash, "queued", "job")
            for d in pending
        ]
    )
    store = FakeStore()
    started, cpu = time.perf_counter(), time.process_time()
    report = index_documents(
        pending,
        embedder=embedder,
        store=store,
        keywords=FakeKeywordIndex(),
        catalog=catalog,
        chunker=chunker,
        progress=lambda done, total: None,
    )
    cpu, wall = time.process_time() - cpu, time.perf_counter() - started
    chunks = sum(report.indexed.values())
    ids = sorted(cid for d in pending for cid in store.chunk_ids("c", [d.id])[d.id])
    return {
        "documents": len(pending),
        "chunks": chunks,
        "tokenize_calls": embedder.calls,
        "tokenized_texts": embedder.texts,
        "tokenized_chars": embedder.chars,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "cpu_ms_per_chunk": round(1000 * cpu / chunks, 3),
        "chars_per_chunk": round(embedder.chars / chunks, 1),
        "ids_digest": hashlib.sha256(" ".join(ids).encode()).hexdigest()[:16],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the other tree (worktree)")
    parser.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--paragraphs", type=int, default=2000)
    parser.add_argument("--per-document", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # the TEI url, in a tree's process
    args = parser.parse_args()
    if args.child:
        result = child(args.child, args.squad, args.paragraphs, args.per_document)
        print(json.dumps(result))
        return
    from bench.scale_figures import cpu_seconds
    from bench.tei_stub import TeiStub

    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    ticks = os.sysconf("SC_CLK_TCK")
    with TeiStub() as tei:
        assert tei.proc is not None
        stat = Path(f"/proc/{tei.proc.pid}/stat")
        for round_ in range(args.rounds):
            for name, tree in trees.items():
                path = os.pathsep.join(str(tree / part) for part in ("services", "", "tests"))
                command = [sys.executable, __file__, "--before", str(args.before), "--child"]
                command += [tei.url, "--squad", str(args.squad)]
                command += ["--paragraphs", str(args.paragraphs)]
                command += ["--per-document", str(args.per_document)]
                env = {**os.environ, "PYTHONPATH": path}
                stub_cpu = cpu_seconds(stat.read_text(), ticks)
                done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
                result = json.loads(done.stdout)
                stub_cpu = cpu_seconds(stat.read_text(), ticks) - stub_cpu
                result["stub_cpu_ms_per_chunk"] = round(1000 * stub_cpu / result["chunks"], 3)
                results[name].append(result)
                print(round_, name, results[name][-1], flush=True)
    load = os.getloadavg()
    print(json.dumps({"load": load, **results}, indent=1))


if __name__ == "__main__":
    main()
