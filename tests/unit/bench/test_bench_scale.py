"""The scale bench's pure parts (``bench/scale_figures.py``, ``bench.scale.kept``, the
``--only scale`` option). No stack is started here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bench.__main__ import parse_args
from bench.results import START as BENCH_START
from bench.scale import kept
from bench.scale_figures import (
    END,
    START,
    Prose,
    cpu_seconds,
    render_markdown,
    sentences,
    splice,
    targets,
    windows,
    worker_seconds,
)

POOL = [f"Sentence number {n} says something about topic {n % 7}." for n in range(200)]


def test_sentences_split_after_end_marks_and_drop_duplicates_and_fragments() -> None:
    paragraphs = [
        "The river is long. It flows east! Does it? Yes it does, they say.",
        "It flows east!",
    ]
    assert sentences(paragraphs) == ["The river is long.", "Yes it does, they say."]


def test_prose_is_seeded_and_no_two_paragraphs_repeat() -> None:
    first = Prose(POOL, seed=3, paragraphs=4).documents(50)
    assert first == Prose(POOL, seed=3, paragraphs=4).documents(50)
    assert first != Prose(POOL, seed=4, paragraphs=4).documents(50)
    assert [d["id"] for d in first[:2]] == ["scale-1", "scale-2"]
    paragraphs = [p for d in first for p in d["text"].split("\n\n")]
    assert len(paragraphs) == 200 and len(set(paragraphs)) == 200
    assert all(5 <= p.count(".") <= 8 for p in paragraphs)


def test_prose_refuses_a_pool_too_small() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        Prose(POOL[:7])


def test_windows_cut_whole_runs_of_words() -> None:
    text = " ".join(str(n) for n in range(7))
    assert windows([text, "a b"], words=3) == ["0 1 2", "3 4 5"]


def test_cpu_seconds_reads_user_and_system_ticks_past_a_name_with_spaces() -> None:
    stat = "42 (docqa worker) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 5 6 7"
    assert cpu_seconds(stat, 100) == 3.0


def test_worker_seconds_sum_every_outcome_and_count_the_writes() -> None:
    metrics = "\n".join(
        [
            "# HELP docqa_ingest_job_duration_seconds How long",
            'docqa_ingest_job_duration_seconds_sum{outcome="ok"} 12.5',
            'docqa_ingest_job_duration_seconds_sum{outcome="error"} 0.5',
            'docqa_ingest_job_duration_seconds_count{outcome="ok"} 4.0',
            'docqa_embedding_duration_seconds_sum{outcome="ok"} 2.25',
            "docqa_ingest_write_rows_count 3.0",
            "docqa_ingest_write_rows_sum 1400.0",
            'docqa_ingest_write_rows_bucket{le="512.0"} 2.0',
        ]
    )
    expected = {"job_s": 13.0, "embed_s": 2.25, "writes": 3.0, "write_rows": 1400.0}
    assert worker_seconds(metrics) == expected


def point(chunks: int, rate: float, api: float, hybrid_p99: float, **extra: Any) -> dict[str, Any]:
    return {
        "chunks": chunks,
        "rate": rate,
        "raw_upsert": 100.0,
        "raw_keyword": 50.0,
        "peak_mib": {"api": api, "worker": 200.0},
        "cpu_s_per_1k": {"worker": 2.0, "chroma": 1.0},
        "worker": {"job_s": 90.0, "embed_s": 9.0},
        "wall_s": 100.0,
        "disk_bytes": {"chroma": 2**30, "redis": 0},
        "search_ms": {m: {"p50": 10.0, "p99": hybrid_p99} for m in ("hybrid", "dense", "keyword")},
        "exited": {},
        "load": [3.0, 2.0, 1.0],
        **extra,
    }


def test_targets_wait_for_a_second_checkpoint_before_judging_growth() -> None:
    verdicts = {name: met for name, met, _ in targets([point(100_000, 90.0, 150.0, 40.0)])}
    assert verdicts == {
        "pipeline ≥ 0.8x raw Chroma upsert": True,
        "pipeline ≥ 0.8x raw Chroma upsert at the same size": None,  # not measured
        "api peak RSS growth ≤ 10%": None,
        "worker peak RSS growth ≤ 10%": None,
        "no process killed": True,
        "hybrid p99 at the end ≤ 2x at the start": None,
    }


def test_targets_report_the_worst_rate_growth_deaths_and_latency() -> None:
    points = [
        point(100_000, 90.0, 150.0, 40.0),
        point(300_000, 70.0, 170.0, 90.0, exited={"chroma": -9}),
    ]
    found = {name: (met, figures) for name, met, figures in targets(points)}
    assert found["pipeline ≥ 0.8x raw Chroma upsert"] == (
        False,
        "lowest 0.70x at 300,000 chunks (70.0 vs 100 chunks/s)",
    )
    assert found["api peak RSS growth ≤ 10%"][0] is False
    assert found["worker peak RSS growth ≤ 10%"][0] is True
    assert found["no process killed"] == (False, "chroma: -9")
    assert found["hybrid p99 at the end ≤ 2x at the start"][0] is False


def test_the_same_size_target_judges_each_checkpoint_by_its_own_reference() -> None:
    points = [
        point(100_000, 90.0, 150.0, 40.0, raw_upsert_same_size=100.0),
        point(300_000, 70.0, 150.0, 40.0, raw_upsert_same_size=80.0),
    ]
    found = {name: (met, figures) for name, met, figures in targets(points)}
    assert found["pipeline ≥ 0.8x raw Chroma upsert at the same size"] == (
        True,
        "lowest 0.88x at 300,000 chunks (70.0 vs 80.0 chunks/s)",
    )
    assert found["pipeline ≥ 0.8x raw Chroma upsert"][0] is False  # 0.70x the empty one
    page = render_markdown(
        {"command": "c", "date": "d", "written": "w", "machine": "m", "setup": "s",
         "checkpoints": points, "notes": []}
    )  # fmt: skip
    assert "| 300,000 | 70.0 | 100 | 0.70x | 80.0 | 0.88x |" in page


def test_the_markdown_has_a_row_per_checkpoint_with_disk_per_million() -> None:
    document = {
        "command": "sizes 1000",
        "date": "d",
        "written": "w",
        "machine": "m",
        "setup": "s",
        "checkpoints": [point(500_000, 90.0, 150.0, 40.0)],
        "notes": ["a note"],
        "profile": {"to_chunks": 5, "functions": [
            {"function": "chroma.py:1(upsert)", "calls": 3, "cumulative_s": 4.0,
             "share_of_jobs": 0.5}]},
        "profiles": [{"to_chunks": 9, "functions": [
            {"function": "tei.py:2(token_spans)", "calls": 1, "cumulative_s": 2.0,
             "share_of_jobs": 0.25}]}],
    }  # fmt: skip
    page = render_markdown(document)
    table = [line for line in page.splitlines() if line.startswith("|")]
    assert len({line.count("|") for line in table}) == 1  # header, rule and rows line up
    assert "| 500,000 | 90.0 | 100 | 0.90x | - | -x | 50.0 |" in page  # no same-size figure
    assert "| 2.00 | 3.0 |" in page  # 1 GiB for 500k chunks: 2 GiB per million
    assert "- a note" in page and "`chroma.py:1(upsert)`: 4.00 s (50.0%), 3 calls" in page
    assert "a stretch to 9 chunks" in page  # a later profile (a resumed run's end) follows
    assert page.index("`chroma.py:1(upsert)`") < page.index(
        "`tei.py:2(token_spans)`: 2.00 s (25.0%)"
    )


def test_splice_keeps_the_other_benches_section_and_replaces_its_own() -> None:
    page = f"intro\n{BENCH_START}\ntable\n<!-- bench:end -->\n"
    once = splice(page, "first")
    assert once == f"{page}\n{START}\nfirst\n{END}\n"
    twice = splice(once + "outro\n", "second")
    assert twice == f"{page}\n{START}\nsecond\n{END}\noutro\n"
    assert splice(None, "x") == f"{START}\nx\n{END}\n"


def test_kept_carries_only_the_scale_part(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    assert kept(path) == {}
    path.write_text(json.dumps({"results": [], "scale": {"checkpoints": [1]}}))
    assert kept(path) == {"scale": {"checkpoints": [1]}}


def test_scale_is_chosen_only_on_demand() -> None:
    assert "scale" not in parse_args([]).only
    args = parse_args(["--only", "scale", "--scale-sizes", "300,100"])
    assert args.only == ("scale",) and args.scale_sizes == (100, 300)
    assert not args.scale_in_process  # /tokenize unless asked
    assert parse_args(["--only", "scale", "--scale-in-process"]).scale_in_process


def test_growth_starts_from_the_first_checkpoint_of_100k_chunks() -> None:
    early = point(30_000, 90.0, 100.0, 10.0)
    verdicts = {n: m for n, m, _ in targets([early, point(100_000, 90.0, 150.0, 40.0)])}
    assert verdicts["api peak RSS growth ≤ 10%"] is None  # 100k is the baseline and the last
    points = [early, point(100_000, 90.0, 150.0, 40.0), point(300_000, 90.0, 160.0, 70.0)]
    verdicts = {n: m for n, m, _ in targets(points)}
    assert verdicts["api peak RSS growth ≤ 10%"] is True  # 150 -> 160, not 100 -> 160
    assert verdicts["hybrid p99 at the end ≤ 2x at the start"] is True
