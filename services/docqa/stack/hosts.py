"""A host of the local stack (``docqa.stack.local.Stack.start_host``): the folders, network
namespace, address, ports and environment that one host's API and worker run with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from docqa.stack.processes import free_port


@dataclass
class Host:
    """One host of the service, as a pod would be: an API and a worker with their own worker
    name, working directory (``root/work``) and temporary directory (``root/tmp``), their logs in
    ``root/logs``, and optionally their own network namespace (``ip netns exec NAME``) and
    address. Several hosts of one ``Stack`` share only its servers (``Stack.start_host``)."""

    name: str
    root: Path
    address: str = "127.0.0.1"
    api_port: int = field(default_factory=free_port)
    worker_metrics_port: int = field(default_factory=free_port)
    netns: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.address}:{self.api_port}"

    @property
    def prefix(self) -> list[str]:
        """What runs a command inside the host's network namespace (nothing without one)."""
        return ["ip", "netns", "exec", self.netns] if self.netns else []

    @property
    def env(self) -> dict[str, str]:
        return {
            "DOCQA_WORKER_NAME": f"docqa-worker-{self.name}",
            "DOCQA_WORKER_METRICS_PORT": str(self.worker_metrics_port),
            "TMPDIR": str(self.root / "tmp"),
        }
