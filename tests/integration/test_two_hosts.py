"""docqa as two hosts that share no files: two APIs and two workers (worker names
``docqa-worker-a`` and ``-b``, as two pods would have), each host with its own working, temporary
and log directory, in a network namespace of its own where the machine allows it (else on
loopback ports of their own; the mode is printed), against one queue/catalog Redis, one
keyword-index Redis and one Chroma (and one llama.cpp for /ask).

What one host writes, the other reads through the servers only: documents ingested through A
are found through B with the same hits, deleted through B and gone from A; a job posted through
A while A's worker is stopped is indexed by B's; with A's API stopped, B answers every route of
the OpenAPI document. No process of a host holds a file of the other host, or of the servers'
data directories, and every file a host's process has open for writing is under its own root.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from docqa.core.waiting import wait_until
from docqa.stack.hosts import Host
from docqa.stack.local import Stack
from docqa.stack.processes import terminate
from support.api import ingest, wait_for_job
from support.hosts_network import Network, hosts_network
from support.stacks import MODEL_CACHE, QUICK_RETRIES

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))

DOCUMENTS = [
    {"id": "tower", "text": "The Eiffel Tower in Paris was completed in 1889.", "title": "Tower"},
    {"id": "bridge", "text": "The Zakim Bridge crosses the Charles River in Boston."},
    {"id": "canal", "text": "The Panama Canal joins the Atlantic and the Pacific oceans."},
]
COLLECTION = "twohosts"


@pytest.fixture(scope="module")
def network() -> Iterator[Network]:
    if os.environ.get("BASE_URL"):
        pytest.skip("needs stacks started by the tests (not BASE_URL): it starts two hosts")
    with hosts_network(2) as net:
        print(
            f"\ntwo hosts: mode={net.mode} servers at {net.server_address}, hosts at "
            f"{net.host_addresses} namespaces {net.namespaces}"
            + (f" (no namespaces: {net.why})" if net.why else "")
        )
        yield net


@pytest.fixture(scope="module")
def hosts(
    network: Network, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, Host, Host]]:
    stack = Stack(
        data_dir=tmp_path_factory.mktemp("servers"),
        quiet=True,
        model_cache=MODEL_CACHE,
        extra_env=QUICK_RETRIES,
        address=network.server_address,
    )
    pair = [
        Host(
            name=name,
            root=tmp_path_factory.mktemp(f"host-{name}"),
            address=address,
            netns=netns,
            # in namespaces both APIs take the same port, as two pods would
            **({"api_port": 8000} if netns else {}),
        )
        for name, address, netns in zip(
            "ab", network.host_addresses, network.namespaces, strict=True
        )
    ]
    try:
        stack.start_servers()
        for host in pair:
            stack.start_host(host)
        yield stack, pair[0], pair[1]
    finally:
        stack.stop()


def open_files(pid: int) -> dict[str, bool]:
    """The regular files process ``pid`` and its children have open: path → open for writing."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    files: dict[str, bool] = {}
    for each in pids:
        for fd in Path(f"/proc/{each}/fd").iterdir():
            try:
                target = os.readlink(fd)
                info = (Path(f"/proc/{each}/fdinfo") / fd.name).read_text()
                flags = int(info.split("flags:")[1].split()[0], 8)
            except (FileNotFoundError, IndexError):
                continue
            if target.startswith("/") and Path(target).is_file():
                files[target] = files.get(target, False) or bool(flags & (os.O_WRONLY | os.O_RDWR))
    return files


def search(api: httpx.Client, question: str) -> list[tuple[str, str, float]]:
    response = api.post(
        "/search", json={"question": question, "collection": COLLECTION, "mode": "hybrid"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["degraded"] == [], body
    return [(hit["chunk_id"], hit["document_id"], hit["score"]) for hit in body["hits"]]


def test_two_hosts_share_nothing_but_the_servers(hosts: tuple[Stack, Host, Host]) -> None:
    stack, host_a, host_b = hosts
    with (
        httpx.Client(base_url=host_a.base_url, timeout=120) as a,
        httpx.Client(base_url=host_b.base_url, timeout=120) as b,
    ):
        # ingested through A, found through B with the same hits
        assert ingest(a, COLLECTION, *DOCUMENTS)["state"] == "finished"
        hits = search(b, "Which river does the bridge in Boston cross?")
        assert hits[0][1] == "bridge"
        assert hits == search(a, "Which river does the bridge in Boston cross?")
        answer = b.post(
            "/ask",
            json={
                "question": "When was the tower completed?",
                "collection": COLLECTION,
                "max_tokens": 16,
            },
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["sources"][0]["document_id"] == "tower"

        # deleted through B, gone through A
        assert b.delete("/documents/canal", params={"collection": COLLECTION}).status_code == 204
        assert a.get("/documents/canal", params={"collection": COLLECTION}).status_code == 404
        assert "canal" not in {hit[1] for hit in search(a, "Panama Canal oceans")}

        # A's worker stopped: a job posted through A is indexed by B's worker
        terminate(stack.procs["worker-a"])
        late = {"id": "lake", "text": "Lake Baikal in Siberia is the deepest lake on Earth."}
        posted = a.post("/documents", json={"collection": COLLECTION, "documents": [late]})
        assert posted.status_code == 202, posted.text
        job = wait_for_job(b, posted.json()["job_id"])
        assert job["state"] == "finished", job
        assert search(a, "the deepest lake")[0][1] == "lake"

        # no host holds a file of the other host or of the servers; writes only under its root
        for host, other in ((host_a, host_b), (host_b, host_a)):
            for part in ("api", "worker"):
                proc = stack.procs[f"{part}-{host.name}"]
                if proc.poll() is not None:
                    continue
                files = open_files(proc.pid)
                print(f"{part}-{host.name}: {len(files)} files open, {sum(files.values())} written")
                assert files, f"{part}-{host.name} has no open file: the check sees nothing"
                foreign = [f for f in files if f.startswith((str(other.root), str(stack.data_dir)))]
                assert foreign == [], f"{part}-{host.name} holds {foreign}"
                written = [f for f, w in files.items() if w and not f.startswith(str(host.root))]
                assert written == [], f"{part}-{host.name} writes {written} outside its root"

        # A's API stopped: B still answers every route
        terminate(stack.procs["api-a"])
        with pytest.raises(httpx.TransportError):
            a.get("/healthz")
        assert_every_route_served(b)


def assert_every_route_served(api: httpx.Client) -> None:
    served: set[tuple[str, str]] = set()

    def call(method: str, template: str, expected: int, path: str = "", **kw: Any) -> Any:
        response = api.request(method, path or template, **kw)
        assert response.status_code == expected, (method, template, response.text)
        served.add((method, template))
        return response

    params = {"collection": COLLECTION}
    call("GET", "/healthz", 200)
    call("GET", "/readyz", 200)
    assert "docqa" in call("GET", "/metrics", 200).text
    assert COLLECTION in call("GET", "/collections", 200).text
    listed = call("GET", "/documents", 200, params=params).json()
    assert listed["total"] == 3, listed
    call("GET", "/documents/{document_id}", 200, "/documents/tower", params=params)
    chunks = call(
        "GET", "/documents/{document_id}/chunks", 200, "/documents/tower/chunks", params=params
    ).json()
    posted = call(
        "POST",
        "/documents",
        202,
        json={"collection": COLLECTION, "documents": [{"id": "moon", "text": "The Moon."}]},
    ).json()
    job = call("GET", "/jobs/{job_id}", 200, f"/jobs/{posted['job_id']}").json()
    assert job["id"] == posted["job_id"]
    assert wait_for_job(api, posted["job_id"])["state"] == "finished"
    call("DELETE", "/documents/{document_id}", 204, "/documents/moon", params=params)
    reindexed = call(
        "POST",
        "/collections/{collection}/reindex",
        202,
        f"/collections/{COLLECTION}/reindex",
        json={"target": f"{COLLECTION}-v2"},
    ).json()
    assert [wait_for_job(api, job)["state"] for job in reindexed["jobs"]] == ["finished"]
    question = "When was the Eiffel Tower completed?"
    hits = call("POST", "/search", 200, json={"question": question, **params}).json()["hits"]
    assert hits[0]["document_id"] == "tower"
    call("POST", "/ask", 200, json={"question": question, "max_tokens": 8, **params})
    call(
        "POST",
        "/feedback",
        201,
        json={"question": question, "relevant": [chunks[0]["id"]], **params},
    )
    models = call("GET", "/v1/models", 200).json()
    assert f"docqa/{COLLECTION}" in {model["id"] for model in models["data"]}
    call(
        "POST",
        "/v1/chat/completions",
        200,
        json={
            "model": f"docqa/{COLLECTION}",
            "messages": [{"role": "user", "content": question}],
            "max_tokens": 8,
        },
    )
    page = call(
        "GET",
        "/collections/{collection}/export",
        200,
        f"/collections/{COLLECTION}/export",
        params={"limit": 1},
    ).json()
    [exported] = page["documents"]
    chunks_in = [
        {k: chunk[k] for k in ("position", "text", "metadata", "embedding")}
        for chunk in exported["chunks"]
    ]
    imported = call(
        "POST",
        "/collections/{collection}/import",
        200,
        f"/collections/{COLLECTION}-copy/import",
        json={
            "spec": {k: page["spec"][k] for k in ("model_id", "dimension", "normalized")},
            "documents": [
                {**{k: v for k, v in exported.items() if k != "chunks"}, "chunks": chunks_in}
            ],
        },
    ).json()
    assert imported["documents"] == [{"id": exported["id"], "status": "imported"}], imported
    posted = call("POST", "/admin/checks", 202, json={"collection": COLLECTION}).json()

    def check_ended() -> dict[str, Any] | None:
        path = f"/admin/checks/{posted['id']}"
        check: dict[str, Any] = call("GET", "/admin/checks/{check_id}", 200, path).json()
        return check if check["state"] in ("done", "failed") else None

    check = wait_until(check_ended, 180, lambda: f"check {posted['id']} to end")
    assert check["state"] == "done" and check["report"]["differences"] == [], check
    every = {(method.upper(), path) for path, item in OPENAPI["paths"].items() for method in item}
    assert served == every, f"not exercised: {every - served}"
