"""The scale bench's pure parts (``bench/scale.py`` runs it): the varied prose it ingests, the
issue's targets checked against the checkpoints, and the Markdown section it writes.

A checkpoint is a dict (as stored under ``"scale"`` in ``bench/results.json``): ``chunks``,
``rate`` (pipeline chunks/s over the stretch since the previous checkpoint), ``raw_upsert``
(chunks/s Chroma accepts through ``upsert`` in large batches, measured beside it),
``raw_keyword`` (the same rows into the keyword index), ``peak_mib`` and ``cpu_s_per_1k`` by
process, ``disk_bytes`` by server, ``search_ms`` by mode (``p50``, ``p99``), ``exited`` (process
name to exit code, for any that died), ``worker`` (the worker's busy and embedding seconds),
``load``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from typing import Any

from bench.results import format_number

START, END = "<!-- bench:scale:start -->", "<!-- bench:scale:end -->"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
BASELINE = 100_000  # the size the growth and latency targets start from
PROCESSES = ("api", "worker", "redis", "keyword-redis", "chroma")


def sentences(paragraphs: Iterable[str]) -> list[str]:
    """The sentences of the paragraphs (split after ``.``, ``!`` or ``?`` before a capital),
    without duplicates, in first-seen order."""
    seen: dict[str, None] = {}
    for paragraph in paragraphs:
        for sentence in _SENTENCE_END.split(paragraph.strip()):
            if len(sentence.split()) >= 4:
                seen.setdefault(sentence.strip(), None)
    return list(seen)


class Prose:
    """Documents of real sentences recombined by a seeded RNG: each paragraph draws 5 to 8
    sentences from the whole pool, so two chunks (~8 sentences) are the same only if the same
    sentences come out in the same order, which a pool of tens of thousands makes vanishingly
    unlikely; the stub's bag-of-words vectors differ as the texts do."""

    def __init__(self, pool: Sequence[str], seed: int = 0, paragraphs: int = 20) -> None:
        if len(pool) < 8:
            raise ValueError(f"need at least 8 sentences, not {len(pool)}")
        self.pool = list(pool)
        self.rng = random.Random(seed)
        self.paragraphs = paragraphs
        self.made = 0

    def documents(self, count: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(count):
            body = [
                " ".join(self.rng.sample(self.pool, self.rng.randint(5, 8)))
                for _ in range(self.paragraphs)
            ]
            n = self.made = self.made + 1
            out.append({"id": f"scale-{n}", "title": f"Scale {n}", "text": "\n\n".join(body)})
        return out


def windows(texts: Iterable[str], words: int = 150) -> list[str]:
    """Consecutive runs of ``words`` words: chunk-sized texts for the raw references."""
    out: list[str] = []
    for text in texts:
        split = text.split()
        out += [" ".join(split[i : i + words]) for i in range(0, len(split) - words + 1, words)]
    return out


def cpu_seconds(stat: str, ticks_per_s: int) -> float:
    """User + system CPU seconds from a ``/proc/<pid>/stat`` line (fields 14 and 15; the
    command name in parentheses may hold spaces)."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks_per_s


def worker_seconds(metrics: str) -> dict[str, float]:
    """The worker's summed ingest job and embed seconds (all outcomes), and its vector-store
    writes and their rows, from its Prometheus text exposition."""
    names = {
        "docqa_ingest_job_duration_seconds_sum": "job_s",
        "docqa_embedding_duration_seconds_sum": "embed_s",
        "docqa_ingest_write_rows_count": "writes",
        "docqa_ingest_write_rows_sum": "write_rows",
    }
    out = dict.fromkeys(names.values(), 0.0)
    for line in metrics.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in names:
            out[names[name]] += float(line.split()[-1])
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def targets(points: Sequence[dict[str, Any]]) -> list[tuple[str, bool | None, str]]:
    """The issue's targets over the checkpoints so far: (target, met or None when not yet
    measurable, the figures). Growth and latency compare the last checkpoint with the first of
    at least ``BASELINE`` chunks (the issue's 100k; else the first), once they differ."""
    if not points:
        return []
    first = next((p for p in points if p["chunks"] >= BASELINE), points[0])
    last = points[-1]
    out: list[tuple[str, bool | None, str]] = []
    worst = min(points, key=lambda p: _ratio(p["rate"], p["raw_upsert"]) or 0.0)
    ratio = _ratio(worst["rate"], worst["raw_upsert"])
    out.append(
        (
            "pipeline ≥ 0.8x raw Chroma upsert",
            None if ratio is None else ratio >= 0.8,
            f"lowest {format_number(ratio)}x at {worst['chunks']:,} chunks "
            f"({format_number(worst['rate'])} vs {format_number(worst['raw_upsert'])} chunks/s)",
        )
    )
    measured = [p for p in points if p.get("raw_upsert_same_size")]
    nearest = min(
        measured, key=lambda p: _ratio(p["rate"], p["raw_upsert_same_size"]) or 0.0, default=None
    )
    same = _ratio(nearest["rate"], nearest["raw_upsert_same_size"]) if nearest else None
    out.append(
        (
            "pipeline ≥ 0.8x raw Chroma upsert at the same size",
            None if same is None else same >= 0.8,
            "not measured"
            if nearest is None
            else f"lowest {format_number(same)}x at {nearest['chunks']:,} chunks "
            f"({format_number(nearest['rate'])} vs "
            f"{format_number(nearest['raw_upsert_same_size'])} chunks/s)",
        )
    )
    for name in ("api", "worker"):
        growth = _ratio(last["peak_mib"].get(name), first["peak_mib"].get(name))
        comparable = last is not first and growth is not None
        out.append(
            (
                f"{name} peak RSS growth ≤ 10%",
                (growth <= 1.10) if comparable and growth is not None else None,
                f"{format_number(first['peak_mib'].get(name))} → "
                f"{format_number(last['peak_mib'].get(name))} MiB "
                f"({first['chunks']:,} → {last['chunks']:,} chunks)",
            )
        )
    exited = {name: code for p in points for name, code in p.get("exited", {}).items()}
    out.append(("no process killed", not exited, ", ".join(f"{k}: {v}" for k, v in exited.items())))
    p99 = _ratio(last["search_ms"]["hybrid"]["p99"], first["search_ms"]["hybrid"]["p99"])
    out.append(
        (
            "hybrid p99 at the end ≤ 2x at the start",
            (p99 <= 2.0) if last is not first and p99 is not None else None,
            f"{format_number(first['search_ms']['hybrid']['p99'])} → "
            f"{format_number(last['search_ms']['hybrid']['p99'])} ms ({format_number(p99)}x)",
        )
    )
    return out


def holding_back(point: dict[str, Any]) -> str:
    """Where the stretch's CPU went, largest first: the component that holds the pipeline
    back on a CPU-bound machine, with the worker's own split (embedding vs the rest)."""
    cpu = sorted(point["cpu_s_per_1k"].items(), key=lambda item: -item[1])
    worker = point.get("worker") or {}
    busy = _ratio(worker.get("job_s"), point.get("wall_s"))
    embed = _ratio(worker.get("embed_s"), worker.get("job_s"))
    rows = _ratio(worker.get("write_rows"), worker.get("writes"))
    return (
        "CPU s per 1k chunks: "
        + ", ".join(f"{name} {format_number(value)}" for name, value in cpu)
        + f"; worker busy {format_number(busy and busy * 100)}% of the wall time, of which "
        f"{format_number(embed and embed * 100)}% waiting on the embedder (TEI stub)"
        + (f"; {format_number(rows)} chunks per Chroma write" if rows else "")
    )


def render_markdown(document: dict[str, Any]) -> str:
    """The ``bench:scale`` section of ``docs/benchmarks.md``."""
    points: list[dict[str, Any]] = document["checkpoints"]
    head = (
        "| chunks | chunks/s | raw upsert | ratio | raw upsert, same size | ratio | raw keyword "
        "| hybrid p50/p99 | dense "
        "p50/p99 | keyword p50/p99 | " + " | ".join(f"{p} peak MiB" for p in PROCESSES)
    )
    lines = [
        "## The pipeline at a million chunks",
        "",
        f"Generated by `python -m bench --only scale` ({document['command']}); started "
        f"{document['date']}, last written {document['written']}; machine: "
        f"{document['machine']}. {document['setup']}",
        "",
        head + " | disk GiB per 1M chunks | load |",
        "|" + "---:|" * (12 + len(PROCESSES)),
    ]
    for p in points:
        ms = p["search_ms"]
        per_m = sum(p["disk_bytes"].values()) / p["chunks"] * 1e6 / 2**30
        lines.append(
            f"| {p['chunks']:,} | {format_number(p['rate'])} | {format_number(p['raw_upsert'])}"
            f" | {format_number(_ratio(p['rate'], p['raw_upsert']))}x"
            f" | {format_number(p.get('raw_upsert_same_size'))}"
            f" | {format_number(_ratio(p['rate'], p.get('raw_upsert_same_size')))}x"
            f" | {format_number(p['raw_keyword'])} | "
            + " | ".join(
                f"{format_number(ms[m]['p50'])} / {format_number(ms[m]['p99'])} ms"
                for m in ("hybrid", "dense", "keyword")
            )
            + " | "
            + " | ".join(format_number(p["peak_mib"].get(name)) for name in PROCESSES)
            + f" | {per_m:.2f} | {p['load'][0] if p['load'] else '-'} |"
        )
    lines += ["", "Targets:", ""]
    for name, met, figures in targets(points):
        verdict = "not yet measurable" if met is None else ("met" if met else "**missed**")
        lines.append(f"- {name}: {verdict} ({figures})")
    lines += ["", "Where the time went, per stretch:", ""]
    lines += [f"- to {p['chunks']:,} chunks: {holding_back(p)}" for p in points]
    lines += [f"- {note}" for note in document.get("notes", [])]
    for profile in [document.get("profile"), *document.get("profiles", [])]:
        if not profile:
            continue
        lines += [
            "",
            f"Worker profile (cProfile, a stretch to {profile['to_chunks']:,} chunks; "
            "docqa's functions by cumulative time, share of the ingest jobs' time):",
            "",
        ]
        lines += [
            f"- `{row['function']}`: {format_number(row['cumulative_s'])} s"
            f" ({format_number((row['share_of_jobs'] or 0) * 100)}%), {row['calls']} calls"
            for row in profile["functions"]
        ]
    return "\n".join(lines) + "\n"


def splice(existing: str | None, generated: str) -> str:
    """``existing`` with ``generated`` between the scale markers (appended when absent): the
    other benches' section (``bench:start``/``bench:end``) is never touched."""
    block = f"{START}\n{generated.rstrip()}\n{END}\n"
    if not existing:
        return block
    if START in existing and END in existing:
        before, rest = existing.split(START, 1)
        return before + block + rest.split(END, 1)[1].lstrip("\n")
    return existing.rstrip("\n") + "\n\n" + block
