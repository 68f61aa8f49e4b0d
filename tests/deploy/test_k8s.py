"""deploy/k8s/: every overlay renders with `kubectl kustomize` (offline), every object validates
against its schema (core kinds: `kubernetes-validate`'s bundled schemas at a pinned Kubernetes
version, strict; KEDA's ScaledObject: the `openAPIV3Schema` of KEDA's own CRD, from
`../shared/contracts/keda/`), and the manifests are wired to the code and to compose: the
ScaledObject scales the worker Deployment on the queue key RQ uses, every `DOCQA_*` name is a
setting, the images and model flags are compose's, probes and security contexts are as the
README says.
"""

from __future__ import annotations

import copy
import functools
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import kubernetes_validate
import pytest
import yaml
from redis import Redis
from test_compose import ENV_EXAMPLE, run_compose

from docqa import wiring
from docqa.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ["base", "gpu", "gpu-rerank"]
KUBERNETES_VERSION = "1.32.0"  # the kubectl on these machines; schemas bundled for it
# Read from the environment by the worker itself (its name: one per pod), not a setting.
NOT_SETTINGS = {"DOCQA_WORKER_NAME"}
# Model servers: compose service -> k8s Deployment; and the stateful servers.
MODEL_SERVERS = {"tei": "tei", "vllm": "vllm", "reranker": "reranker"}
STATEFUL = {"redis": "redis", "search": "search", "chroma": "chroma"}

Doc = dict[str, Any]


def kustomize(overlay: Path) -> subprocess.CompletedProcess[str]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (kubectl 1.32 bundles kustomize 5.5)")
    return subprocess.run(
        [kubectl, "kustomize", str(overlay)], capture_output=True, text=True, timeout=60
    )


@functools.cache
def render(overlay: str) -> list[Doc]:
    result = kustomize(K8S / overlay)
    assert result.returncode == 0, f"kubectl kustomize {overlay}:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def container(workload: Doc) -> Doc:
    containers: list[Doc] = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, workload["metadata"]["name"]
    return containers[0]


def env_value(docs: list[Doc], workload: Doc, name: str) -> str:
    """A variable's value in ``workload``'s container: its own env, else its ConfigMaps."""
    spec = container(workload)
    for entry in spec.get("env", []):
        if entry["name"] == name:
            return str(entry["value"])
    for source in spec.get("envFrom", []):
        data = find(docs, "ConfigMap", source["configMapRef"]["name"])["data"]
        if name in data:
            return str(data[name])
    raise AssertionError(f"{workload['metadata']['name']} has no {name}")


def crd_schema(kind: str) -> Doc:
    """The openAPIV3Schema of KEDA's CRD for ``kind``: tests/contracts/keda holds a copy of the
    shared contracts' (KEDA v2.20.2, see its README), so a clone alone can check the manifests."""
    for contracts in (ROOT / "tests" / "contracts", ROOT.parent / "shared" / "contracts"):
        path = contracts / "keda" / f"keda.sh_{kind.lower()}s.yaml"
        if path.is_file():
            crd = yaml.safe_load(path.read_text())
            [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
            schema: Doc = version["schema"]["openAPIV3Schema"]
            return strict(schema)
    pytest.fail(f"KEDA's CRDs are not in tests/contracts/keda/ under {ROOT}")


def strict(schema: Any) -> Any:
    """``schema`` refusing unknown fields, as the API server's strict field validation does
    (kubectl's default) where the CRD does not keep unknown fields."""
    if isinstance(schema, dict):
        schema = {k: strict(v) for k, v in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


def validate(doc: Doc) -> None:
    if doc["apiVersion"].startswith("keda.sh/"):
        jsonschema.Draft7Validator(crd_schema(doc["kind"])).validate(doc)
    else:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.fixture(scope="module")
def compose() -> dict[str, Doc]:
    result = run_compose("--profile", "rerank", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services: dict[str, Doc] = yaml.safe_load(result.stdout)["services"]
    return services


@pytest.fixture(scope="module")
def docs() -> list[Doc]:
    return render("gpu-rerank")  # everything: base, the gpu overlay and the reranker


# --- rendering and schemas ---------------------------------------------------------------


def test_every_overlay_is_tested() -> None:
    found = {
        str(path.parent.relative_to(K8S))
        for path in K8S.rglob("kustomization.yaml")
        if yaml.safe_load(path.read_text())["kind"] == "Kustomization"
    }
    assert found == set(OVERLAYS)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders(overlay: str) -> None:
    kinds = {doc["kind"] for doc in render(overlay)}
    assert {"Deployment", "StatefulSet", "ScaledObject", "ConfigMap"} <= kinds


def test_a_broken_kustomization_fails_to_render(tmp_path: Path) -> None:
    # Guards the guard: kubectl must exit non-zero on a missing resource.
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    assert kustomize(tmp_path).returncode != 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates(overlay: str) -> None:
    for doc in render(overlay):
        try:
            validate(doc)
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as exc:
            pytest.fail(f"{overlay}: {doc['kind']}/{doc['metadata']['name']}: {exc.message}")


@pytest.mark.parametrize(
    ("kind", "name", "path", "bad"),
    [
        ("Deployment", "api", ["spec", "template", "spec", "containers", 0], {"imagePull": 1}),
        ("Deployment", "api", ["spec"], {"replicas": "two"}),
        ("ScaledObject", "worker", ["spec"], {"maxReplicas": 8}),  # KEDA's is maxReplicaCount
        ("ScaledObject", "worker", ["spec", "triggers", 0], {"metadata": {"listLength": 4}}),
    ],
)
def test_validation_refuses_a_broken_object(
    docs: list[Doc], kind: str, name: str, path: list[str | int], bad: Doc
) -> None:
    broken = copy.deepcopy(find(docs, kind, name))
    node: Any = broken
    for key in path:
        node = node[key]
    node.update(bad)
    with pytest.raises((kubernetes_validate.ValidationError, jsonschema.ValidationError)):
        validate(broken)


# --- wiring to the code ------------------------------------------------------------------


def test_the_scaled_object_scales_the_workers_on_the_queue_rq_uses(docs: list[Doc]) -> None:
    scaled = find(docs, "ScaledObject", "worker")["spec"]
    target = scaled["scaleTargetRef"]
    assert target.get("kind", "Deployment") == "Deployment"
    assert target.get("apiVersion", "apps/v1") == "apps/v1"
    find(docs, "Deployment", target["name"])
    worker = find(docs, "Deployment", "worker")
    assert target["name"] == worker["metadata"]["name"]
    assert "replicas" not in worker["spec"], "KEDA's HPA owns the count"

    [trigger] = scaled["triggers"]
    assert trigger["type"] == "redis"
    meta = trigger["metadata"]
    # The key RQ pushes job ids to, for the queue the code builds from the worker's settings.
    data = find(docs, "ConfigMap", "docqa-settings")["data"]
    default = Settings.model_fields["queue_name"].default
    settings = Settings(queue_name=data.get("DOCQA_QUEUE_NAME", default))
    queue_key = wiring.ingest_queue(settings, Redis()).queue.key
    assert meta["listName"] == queue_key
    assert int(meta["listLength"]) >= 1
    # Activation (0 -> 1 replicas) below the per-replica target, never above it.
    assert int(meta["activationListLength"]) in range(int(meta["listLength"]))
    # Started jobs and scheduled retries are not in the list; RQ's scheduler runs in workers.
    assert scaled["minReplicaCount"] >= 1
    assert scaled["maxReplicaCount"] > scaled["minReplicaCount"]

    # The same Redis as the workers': its Service, by its full name (KEDA runs elsewhere).
    url = urlparse(env_value(docs, worker, "DOCQA_REDIS_URL"))
    namespace = worker["metadata"]["namespace"]
    host, port = meta["address"].rsplit(":", 1)
    assert host == f"{url.hostname}.{namespace}.svc.cluster.local"
    assert int(port) == url.port
    assert int(meta.get("databaseIndex", 0)) == int((url.path or "/0").strip("/") or 0)
    service = find(docs, "Service", url.hostname or "")
    assert any(p["port"] == url.port for p in service["spec"]["ports"])


def settings_env_names() -> set[str]:
    return {f"DOCQA_{name.upper()}" for name in Settings.model_fields}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_docqa_name_is_a_setting(overlay: str) -> None:
    text = yaml.safe_dump_all(render(overlay))
    names = set(re.findall(r"\bDOCQA_[A-Z0-9_]+", text))
    assert names, "no DOCQA_* names found at all"
    unknown = names - settings_env_names() - NOT_SETTINGS
    assert not unknown, f"not settings: {sorted(unknown)}"


def test_settings_are_named_as_in_env_example(docs: list[Doc]) -> None:
    documented = set(re.findall(r"^#?\s*(DOCQA_[A-Z_]+)=", ENV_EXAMPLE.read_text(), re.M))
    data = find(docs, "ConfigMap", "docqa-settings")["data"]
    assert set(data) <= documented, set(data) - documented
    for value in data.values():
        assert isinstance(value, str)  # ConfigMap values are strings


def test_settings_are_valid_settings(docs: list[Doc]) -> None:
    data = find(docs, "ConfigMap", "docqa-settings")["data"]
    fields = {f"DOCQA_{n.upper()}": n for n in Settings.model_fields}
    Settings(**{fields[k]: v for k, v in data.items()})  # raises on a bad value
    assert data["DOCQA_EMBEDDER"] == "tei"


def test_the_app_is_wired_like_compose(docs: list[Doc], compose: dict[str, Doc]) -> None:
    data = find(docs, "ConfigMap", "docqa-settings")["data"]
    wired = compose["api"]["environment"]
    for name in (
        "DOCQA_REDIS_URL",
        "DOCQA_KEYWORD_REDIS_URL",
        "DOCQA_CHROMA_URL",
        "DOCQA_EMBEDDER",
        "DOCQA_TEI_URL",
        "DOCQA_GENERATOR_URL",
        "DOCQA_GENERATOR_MODE",
        "DOCQA_GENERATOR_MODEL",
    ):
        assert data[name] == wired[name], name
    # Each URL's host is a Service of the rendered manifests, on that port.
    for name in ("DOCQA_REDIS_URL", "DOCQA_KEYWORD_REDIS_URL", "DOCQA_CHROMA_URL"):
        url = urlparse(data[name])
        service = find(docs, "Service", url.hostname or "")
        assert any(p["port"] == url.port for p in service["spec"]["ports"]), name
    for name in ("DOCQA_TEI_URL", "DOCQA_GENERATOR_URL", "DOCQA_RERANKER_URL"):
        url = urlparse(data[name])
        service = find(docs, "Service", url.hostname or "")
        assert any(p["port"] == (url.port or 80) for p in service["spec"]["ports"]), name


def test_secrets_come_from_a_secret(docs: list[Doc]) -> None:
    data = find(docs, "ConfigMap", "docqa-settings")["data"]
    assert not [k for k in data if k.endswith(("_KEY", "_KEYS", "TOKEN"))]
    for name in ("api", "worker"):
        for entry in container(find(docs, "Deployment", name)).get("env", []):
            if entry["name"].endswith(("_KEY", "_KEYS")):
                assert entry["valueFrom"]["secretKeyRef"]["name"] == "docqa-secrets"


# --- images and model servers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name"),
    [("Deployment", d) for d in MODEL_SERVERS.values()]
    + [("StatefulSet", s) for s in STATEFUL.values()],
)
def test_images_match_compose(
    docs: list[Doc], compose: dict[str, Doc], kind: str, name: str
) -> None:
    service = {**MODEL_SERVERS, **STATEFUL}[name]
    assert container(find(docs, kind, name))["image"] == compose[service]["image"]


@pytest.mark.parametrize("name", ["api", "worker"])
def test_docqa_images_match_compose(docs: list[Doc], compose: dict[str, Doc], name: str) -> None:
    assert container(find(docs, "Deployment", name))["image"] == compose[name]["image"]


def flags(args: list[str]) -> dict[str, str]:
    return dict(zip(args[::2], args[1::2], strict=True))


@pytest.mark.parametrize("name", sorted(MODEL_SERVERS))
def test_model_servers_take_compose_flags(
    docs: list[Doc], compose: dict[str, Doc], name: str
) -> None:
    k8s = flags(container(find(docs, "Deployment", MODEL_SERVERS[name]))["args"])
    ours = flags(compose[name]["command"])
    assert k8s.keys() == ours.keys()
    # vLLM has its GPU to itself here; compose shares one with TEI by default.
    differ = {k for k in k8s if k8s[k] != ours[k]}
    assert differ <= {"--gpu-memory-utilization"}, differ


@pytest.mark.parametrize("name", sorted(MODEL_SERVERS.values()))
def test_model_servers_have_a_gpu_a_cache_and_time_to_download(
    docs: list[Doc], compose: dict[str, Doc], name: str
) -> None:
    workload = find(docs, "Deployment", name)
    spec = container(workload)
    assert int(spec["resources"]["limits"]["nvidia.com/gpu"]) >= 1
    [cache] = [m for m in spec["volumeMounts"] if m["mountPath"] == "/data"]
    [volume] = [
        v for v in workload["spec"]["template"]["spec"]["volumes"] if v["name"] == cache["name"]
    ]
    find(docs, "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    startup = spec["startupProbe"]
    patience = startup["periodSeconds"] * startup["failureThreshold"]
    start_period = compose_seconds(compose[name]["healthcheck"]["start_period"])
    assert patience >= start_period, (patience, start_period)


def compose_seconds(value: str | int) -> int:
    """Compose's config prints durations as Go strings ("10m0s") or nanoseconds."""
    if isinstance(value, int):
        return value // 1_000_000_000
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", value))


@pytest.mark.parametrize("name", sorted(STATEFUL.values()))
def test_state_is_one_replica_on_its_own_disk(docs: list[Doc], name: str) -> None:
    workload = find(docs, "StatefulSet", name)
    assert workload["spec"]["replicas"] == 1  # scales up, not out
    [claim] = workload["spec"]["volumeClaimTemplates"]
    assert any(m["name"] == claim["metadata"]["name"] for m in container(workload)["volumeMounts"])
    service = find(docs, "Service", workload["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None"  # headless


@pytest.mark.parametrize("name", ["redis", "search"])
def test_redises_append_only_through_the_image_entrypoint(docs: list[Doc], name: str) -> None:
    spec = container(find(docs, "StatefulSet", name))
    assert "command" not in spec, "`command` would replace the entrypoint that loads modules"
    args = spec["args"]
    assert args[0] == "redis-server"
    assert args[args.index("--appendonly") + 1] == "yes"


def test_search_readiness_needs_the_query_engine(docs: list[Doc]) -> None:
    probe = container(find(docs, "StatefulSet", "search"))["readinessProbe"]
    assert "MODULE LIST" in " ".join(probe["exec"]["command"])


# --- api and worker -------------------------------------------------------------------------


def test_api_probes_hit_readyz_and_healthz(docs: list[Doc]) -> None:
    spec = container(find(docs, "Deployment", "api"))
    ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
    assert spec["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe"):
        assert spec[probe]["httpGet"]["port"] in ports
    assert ports["http"] == 8000


def test_api_scales_out_and_survives_disruptions(docs: list[Doc]) -> None:
    api = find(docs, "Deployment", "api")
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert api["spec"]["replicas"] >= 2
    hpa = find(docs, "HorizontalPodAutoscaler", "api")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]
    pdb = find(docs, "PodDisruptionBudget", "api")["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["minAvailable"] >= 1
    service = find(docs, "Service", "api")["spec"]
    assert service["selector"].items() <= labels.items()


@pytest.mark.parametrize("name", ["api", "worker"])
def test_app_runs_non_root_on_a_read_only_root(docs: list[Doc], name: str) -> None:
    workload = find(docs, "Deployment", name)
    pod = workload["spec"]["template"]["spec"]
    spec = container(workload)
    context = {**pod.get("securityContext", {}), **spec.get("securityContext", {})}
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] != 0
    assert spec["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["securityContext"]["allowPrivilegeEscalation"] is False
    assert spec["securityContext"]["capabilities"]["drop"] == ["ALL"]
    [tmp] = [m for m in spec["volumeMounts"] if m["mountPath"] == "/tmp"]
    [volume] = [v for v in pod["volumes"] if v["name"] == tmp["name"]]
    assert "emptyDir" in volume
    assert "resources" in spec and spec["resources"]["limits"]["memory"]


def test_workers_have_names_and_time_to_finish(docs: list[Doc], compose: dict[str, Doc]) -> None:
    worker = find(docs, "Deployment", "worker")
    [name] = [e for e in container(worker)["env"] if e["name"] == "DOCQA_WORKER_NAME"]
    assert name["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"  # one per pod
    grace = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= compose_seconds(compose["worker"]["stop_grace_period"])


def test_every_service_selects_pods(docs: list[Doc]) -> None:
    pods = [
        d["spec"]["template"]["metadata"]["labels"]
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet")
    ]
    for service in (d for d in docs if d["kind"] == "Service"):
        selector = service["spec"]["selector"].items()
        assert any(selector <= labels.items() for labels in pods), service["metadata"]["name"]


def test_the_worker_fetches_the_served_model_s_tokenizer(
    docs: list[Doc], compose: dict[str, Doc]
) -> None:
    # The tokenizer.json of the model the tei Deployment serves, fetched at start into the
    # worker's writable HOME (the /tmp emptyDir, the root being read-only); as compose does.
    worker = find(docs, "Deployment", "worker")
    tei = flags(container(find(docs, "Deployment", "tei"))["args"])
    repo = env_value(docs, worker, "DOCQA_TEI_TOKENIZER_REPO")
    assert repo == tei["--model-id"] == compose["worker"]["environment"]["DOCQA_TEI_TOKENIZER_REPO"]
    assert env_value(docs, worker, "HOME") == "/tmp"
    mounts = {m["mountPath"] for m in container(worker)["volumeMounts"]}
    assert "/tmp" in mounts
    [token] = [e for e in container(worker)["env"] if e["name"] == "HF_TOKEN"]
    assert token["valueFrom"]["secretKeyRef"] == {
        "name": "docqa-secrets",
        "key": "HF_TOKEN",
        "optional": True,
    }
