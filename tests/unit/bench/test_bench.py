"""The bench's pure parts: percentiles, the table, the corpus. No stack is started here."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
from bench.__main__ import parse_args
from bench.corpus import load, load_squad, synthetic
from bench.ingest import efficiency
from bench.load import Plan, Record, drive, roles, summarize
from bench.memory import growth_per_1k, rss_kib
from bench.results import (
    Metric,
    Result,
    format_number,
    format_table,
    percentiles,
    render,
    render_markdown,
    splice,
)
from bench.search import requests_per_level, run_concurrent, unit_vectors


def test_percentiles_interpolate_between_ranks_like_numpy() -> None:
    assert percentiles([4, 1, 3, 2], (0, 50, 100)) == {0: 1, 50: 2.5, 100: 4}
    assert percentiles(range(1, 21), (50, 95)) == {50: 10.5, 95: pytest.approx(19.05)}
    assert percentiles([7.0]) == {50: 7.0, 95: 7.0}


@pytest.mark.parametrize(("samples", "points"), [([], (50,)), ([1.0], (101,)), ([1.0], (-1,))])
def test_percentiles_refuse_no_samples_and_points_outside_0_to_100(
    samples: list[float], points: tuple[float, ...]
) -> None:
    with pytest.raises(ValueError):
        percentiles(samples, points)


def test_ratio_is_service_over_raw_and_absent_without_a_raw_figure() -> None:
    assert Metric("p50", 30.0, "ms", raw=10.0).ratio == 3.0
    assert Metric("p50", 30.0, "ms").ratio is None
    assert Metric("p50", None, "ms", raw=10.0).ratio is None
    assert Metric("p50", 30.0, "ms", raw=0.0).ratio is None


def test_numbers_keep_three_significant_figures() -> None:
    assert [format_number(v) for v in (1234.5, 123.4, 12.34, 1.234, 0.01234)] == [
        "1,234",
        "123",
        "12.3",
        "1.23",
        "0.01",
    ]
    assert format_number(None) == "-"
    assert format_number(float("nan")) == "-"


def test_table_aligns_first_column_left_and_the_others_right() -> None:
    table = format_table(("metric", "value"), [["a", "1"], ["longer", "12.5"]])
    assert table.splitlines() == [
        "metric  value",
        "------  -----",
        "a           1",
        "longer   12.5",
    ]


def test_table_refuses_a_row_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match="cells"):
        format_table(("a", "b"), [["only one"]])


def test_render_shows_one_row_per_metric_with_raw_and_ratio() -> None:
    result = Result("search")
    result.add("p50", 40.0, "ms", raw=10.0)
    result.add("p95", 55.5, "ms")
    lines = render([result]).splitlines()
    assert lines[0].split() == ["metric", "service", "raw", "service/raw"]
    assert lines[2].split() == ["search:", "p50", "(ms)", "40.0", "10.0", "4.00x"]
    assert lines[3].split() == ["search:", "p95", "(ms)", "55.5", "-", "-"]
    assert result.to_json()["metrics"][0]["ratio"] == 4.0


TINY_SQUAD = {
    "version": "1.1",
    "data": [
        {
            "title": "Super_Bowl_50",
            "paragraphs": [
                {
                    "context": "Super Bowl 50 was played in Santa Clara.",
                    "qas": [
                        {"id": "q1", "question": "Where was it played?", "answers": []},
                        {"id": "q2", "question": "Which Super Bowl?", "answers": []},
                    ],
                },
                {"context": "Denver won.", "qas": [{"id": "q3", "question": "Who won?"}]},
            ],
        },
        {
            "title": "Warsaw",
            "paragraphs": [{"context": "Warsaw is on the Vistula.", "qas": []}],
        },
    ],
}


@pytest.fixture
def squad_file(tmp_path: Path) -> Path:
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(TINY_SQUAD), encoding="utf-8")
    return path


def test_squad_paragraphs_become_documents_in_file_order(squad_file: Path) -> None:
    corpus = load_squad(squad_file, documents=10)
    assert [p.id for p in corpus.paragraphs] == ["squad-0-0", "squad-0-1", "squad-1-0"]
    assert corpus.paragraphs[0].as_document() == {
        "id": "squad-0-0",
        "title": "Super Bowl 50",
        "text": "Super Bowl 50 was played in Santa Clara.",
    }
    assert len(load_squad(squad_file, documents=2).paragraphs) == 2


def test_questions_come_from_the_loaded_paragraphs_first_questions_first(
    squad_file: Path,
) -> None:
    corpus = load_squad(squad_file, documents=10)
    assert corpus.questions(2) == ["Where was it played?", "Who won?"]
    assert corpus.questions(3) == ["Where was it played?", "Who won?", "Which Super Bowl?"]
    assert corpus.questions(10) == ["Where was it played?", "Who won?", "Which Super Bowl?"]
    assert load_squad(squad_file, documents=1).questions(5) == [
        "Where was it played?",
        "Which Super Bowl?",
    ]


def test_a_missing_squad_file_falls_back_to_synthetic_text(tmp_path: Path) -> None:
    corpus = load(tmp_path / "missing.json", documents=5)
    assert corpus.source == "synthetic"
    assert len(corpus.paragraphs) == 5
    assert len(corpus.questions(5)) == 5
    assert synthetic(3) == synthetic(3)  # deterministic


def test_only_takes_a_subset_in_a_fixed_order_and_refuses_unknown_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert parse_args(["--only", "ask,search"]).only == ("search", "ask")
    assert parse_args([]).only == ("ingest", "search", "memory", "ask", "load")
    assert parse_args(["--only", "load,ingest"]).only == ("ingest", "load")
    with pytest.raises(SystemExit):
        parse_args(["--only", "ingest,disk"])
    assert "choose from" in capsys.readouterr().err


def test_memory_and_search_sizes_are_options_with_small_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = parse_args([])
    assert args.search_chunks == 20000
    assert args.memory_chunks == (1000, 4000)
    assert parse_args(["--memory-chunks", "100000,10000"]).memory_chunks == (10000, 100000)
    with pytest.raises(SystemExit):
        parse_args(["--memory-chunks", "ten"])
    assert "positive comma-separated counts" in capsys.readouterr().err


def test_efficiency_is_the_service_rate_over_the_raw_rate() -> None:
    assert efficiency(50.0, 100.0) == 0.5
    assert efficiency(50.0, None) is None
    assert efficiency(None, 100.0) is None


def test_the_ingest_figures_are_the_round_of_median_efficiency() -> None:
    from bench.ingest import median_run
    from bench.target import Ingested

    slow, fast, even = Ingested(8.0, None), Ingested(4.0, None), Ingested(5.0, None)
    runs = [(slow, 6.0), (fast, 5.0), (even, 5.0)]  # efficiency 0.75, 1.25, 1.0
    assert median_run(runs) == (even, 5.0)
    assert median_run([(slow, None), (fast, None), (even, None)]) == (even, None)


def test_the_raw_ingest_reference_embeds_what_the_worker_embeds() -> None:
    from bench.ingest import embedded_texts

    from docqa import wiring
    from docqa.core.config import Settings
    from docqa.core.models import PendingDocument
    from support.fakes import FakeEmbedder

    embedder = FakeEmbedder(max_input_tokens=40)
    body = " ".join(f"w{n}" for n in range(90)) + "."
    document = PendingDocument("c", "d", "h", data=body, title="Super Bowl 50")
    made = wiring.chunker_of(embedder, Settings()).indexed(document)
    worker_texts = [text for _, text in made]
    assert len(made) > 1 and all(t and t.startswith("Super Bowl 50") for t in worker_texts)
    assert embedded_texts([chunk for chunk, _ in made], embedder) == worker_texts


def test_filler_vectors_are_unit_length_deterministic_and_of_the_dimension() -> None:
    vectors = unit_vectors(3, 384, seed=1)
    assert [len(v) for v in vectors] == [384, 384, 384]
    assert all(sum(x * x for x in v) == pytest.approx(1.0) for v in vectors)
    assert vectors == unit_vectors(3, 384, seed=1)
    assert requests_per_level(20, 1) == 40
    assert requests_per_level(20, 32) == 128


def test_run_concurrent_times_every_call_and_reraises_a_failure() -> None:
    seen: list[int] = []
    level = run_concurrent(seen.append, requests=10, concurrency=3)
    assert sorted(seen) == list(range(10))
    assert len(level.latencies_ms) == 10
    assert level.requests_per_s > 0

    def fail(n: int) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_concurrent(fail, requests=5, concurrency=2)


def test_rss_is_read_from_proc_status_and_growth_is_per_1k_chunks() -> None:
    status = "Name:\tdocqa\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n"
    assert rss_kib(status) == 102400
    assert rss_kib(status, "VmHWM") == 204800
    assert rss_kib("Name: x\n") is None
    assert growth_per_1k([(1000, 500.0), (4000, 530.0)]) == pytest.approx(10.0)
    assert growth_per_1k([(1000, 500.0)]) is None


def test_markdown_page_has_date_machine_and_a_row_per_metric() -> None:
    result = Result("search", notes=["filler"])
    result.add("c=1 p50", 40.0, "ms", raw=10.0)
    info = {
        "platform": "Linux",
        "usable_cores": 2,
        "cpu_count": 2,
        "processor": None,
        "machine": "x86_64",
        "python": "3.11.9",
        "load_average": [0.5, 0.4, 0.3],
    }
    page = render_markdown([result], info, "2026-01-01T00:00:00+00:00", "private stack")
    assert page.startswith("# Benchmarks")
    assert "**Date:** 2026-01-01T00:00:00+00:00" in page
    assert "2 usable cores" in page
    assert "| search: c=1 p50 (ms) | 40.0 | 10.0 | 4.00x |" in page
    assert "- search: filler" in page


def test_load_options_default_to_32_clients_for_60_s(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse_args([])
    assert (args.load_seconds, args.load_clients) == (60.0, 32)
    args = parse_args(["--load-seconds", "15", "--load-clients", "8"])
    assert (args.load_seconds, args.load_clients) == (15.0, 8)
    for bad in (["--load-seconds", "0"], ["--load-clients", "0"]):
        with pytest.raises(SystemExit):
            parse_args(bad)
    assert "--load-seconds must be positive" in capsys.readouterr().err


def test_load_roles_mix_search_ask_and_documents() -> None:
    assert roles(3) == ["search", "ask", "documents"]
    mix = roles(32)
    assert (mix.count("search"), mix.count("ask"), mix.count("documents")) == (24, 4, 4)


def test_load_counts_non_2xx_and_transport_errors_per_route() -> None:
    records = [
        Record("POST /search", "200", True, 10.0),
        Record("POST /search", "200", True, 30.0),
        Record("POST /search", "503", False, 5.0),
        Record("POST /ask", "ReadTimeout", False, 300000.0),
    ]
    result = Result("load")
    summarize(result, records, elapsed_s=2.0)
    figures = {metric.name: metric.value for metric in result.metrics}
    assert figures["errors (must be 0)"] == 2
    assert figures["requests"] == 4 and figures["throughput"] == 2.0
    assert figures["POST /search requests"] == 3 and figures["POST /search errors"] == 1
    assert figures["POST /search p50"] == 10.0
    assert "POST /documents requests" not in figures
    assert result.params["errors_by_status"] == {
        "POST /ask ReadTimeout": 1,
        "POST /search 503": 1,
    }
    assert "2 errors" in result.notes[0]


def test_load_drives_every_route_for_the_time_given() -> None:
    """The whole client loop on a tiny input: 3 clients for 0.3 s against a fake API."""
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/ask":
            return httpx.Response(502, json={"detail": "generator down"})
        if request.method == "POST" and request.url.path == "/documents":
            return httpx.Response(202, json={"job_id": f"job{len(seen)}"})
        return httpx.Response(200, json={})

    plan = Plan("read", "write", ["q1", "q2"])

    async def run() -> tuple[list[Record], float]:
        transport = httpx.MockTransport(handle)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await drive(client, plan, seconds=0.3, clients=3)

    records, elapsed = asyncio.run(run())
    assert elapsed >= 0.3
    assert {r.route for r in records} == {
        "POST /search",
        "POST /ask",
        "POST /documents",
        "GET /documents",
    }
    assert len(records) == len(seen)
    assert all(not r.ok for r in records if r.route == "POST /ask")
    assert all(r.ok for r in records if r.route != "POST /ask")
    assert len(plan.jobs) == sum(1 for r in records if r.route == "POST /documents")


def test_the_bench_rewrites_only_its_own_part_of_the_page() -> None:
    first = splice(None, "# Benchmarks\n\n| a |\n")
    assert first == "<!-- bench:start -->\n# Benchmarks\n\n| a |\n<!-- bench:end -->\n"
    page = "intro\n" + first + "\n## Retrieval quality\n\nhand-written\n"
    again = splice(page, "# Benchmarks\n\n| b |\n")
    assert again == (
        "intro\n<!-- bench:start -->\n# Benchmarks\n\n| b |\n<!-- bench:end -->\n"
        "\n## Retrieval quality\n\nhand-written\n"
    )
    assert splice("an old page without markers", "new") == (
        "<!-- bench:start -->\nnew\n<!-- bench:end -->\n"
    )


def test_filler_is_synthetic_text_where_the_training_file_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bench import search

    monkeypatch.setattr(search, "TRAIN_SQUAD", tmp_path / "missing.json")
    texts = search.filler_texts(7)
    assert len(texts) == 7 and all(text.endswith(".") for text in texts)
    assert search.filler_texts(0) == []


def test_ingest_time_is_the_post_plus_the_jobs_own_time_however_sparse_the_polls() -> None:
    from bench.target import post_documents

    polls: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202, json={"job_id": "j1"})
        polls.append(time.perf_counter())
        state = "finished" if len(polls) > 1 else "started"  # seen finished a poll late
        return httpx.Response(
            200,
            json={
                "state": state,
                "enqueued_at": "2026-12-06T03:43:53.500000Z",
                "ended_at": "2026-12-06T03:43:55.750000Z",
            },
        )

    api = httpx.Client(transport=httpx.MockTransport(answer), base_url="http://docqa")
    started = time.perf_counter()
    ingested = post_documents(api, "c", [{"id": "d", "text": "t"}], timeout_s=10, poll_s=0.3)
    waited = time.perf_counter() - started
    assert len(polls) == 2 and waited >= 0.3  # the job was seen finished only after a wait
    assert 2.25 <= ingested.elapsed_s < 2.25 + (polls[0] - started)  # POST + 2.25 s of job
    assert ingested.job is not None and ingested.job["state"] == "finished"
