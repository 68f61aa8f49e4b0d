"""A network for several docqa "hosts" on one machine: each host in a network namespace of its
own where the machine allows it, else all on the loopback interface with ports of their own.

Namespaces (root and Debian's iproute2 ``ip``): a bridge in the root namespace holds
``10.213.X.1/24`` (X free on this machine), where the shared servers listen; host ``i`` is a
namespace ``docqa-<tag>-<i>`` holding one end of a veth pair, ``10.213.X.<i+1>/24`` and its own
loopback, the other end on the bridge. Interface names stay under Linux's 15 characters. All of
it is removed on exit, whatever happened inside.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Network:
    mode: str  # "netns" or "loopback"
    server_address: str
    host_addresses: list[str]
    namespaces: list[str | None]
    why: str = ""  # why the loopback fallback ran
    _undo: list[list[str]] = field(default_factory=list)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


def _why_not_netns() -> str:
    """Empty when namespaces can be made here, else the reason. ``DOCQA_TEST_NO_NETNS=1``
    forces the loopback fallback (to test it where namespaces work)."""
    if os.environ.get("DOCQA_TEST_NO_NETNS") == "1":
        return "DOCQA_TEST_NO_NETNS=1"
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("ip") is None:
        return "no `ip` (iproute2)"
    probe = f"docqa-probe-{uuid.uuid4().hex[:6]}"
    try:
        _ip("netns", "add", probe)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return f"`ip netns add` failed: {getattr(exc, 'stderr', '') or exc}".strip()
    _ip("netns", "del", probe)
    return ""


def _free_subnet() -> str:
    used = subprocess.run(
        ["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True
    ).stdout
    free = [x for x in range(256) if f" 10.213.{x}." not in used]
    return f"10.213.{random.choice(free)}"


@contextlib.contextmanager
def hosts_network(count: int) -> Iterator[Network]:
    why = _why_not_netns()
    if why:
        yield Network("loopback", "127.0.0.1", ["127.0.0.1"] * count, [None] * count, why)
        return
    tag = uuid.uuid4().hex[:6]
    subnet = _free_subnet()
    bridge = f"dq{tag}br"
    net = Network("netns", f"{subnet}.1", [], [])
    try:
        _ip("link", "add", bridge, "type", "bridge")
        net._undo.append(["link", "del", bridge])
        _ip("addr", "add", f"{subnet}.1/24", "dev", bridge)
        _ip("link", "set", bridge, "up")
        for i in range(1, count + 1):
            ns, outside, inside = f"docqa-{tag}-{i}", f"dq{tag}h{i}", f"dq{tag}p{i}"
            _ip("netns", "add", ns)
            net._undo.append(["netns", "del", ns])
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            net._undo.append(["link", "del", outside])
            _ip("link", "set", inside, "netns", ns)
            _ip("link", "set", outside, "master", bridge, "up")
            _ip("-n", ns, "addr", "add", f"{subnet}.{i + 1}/24", "dev", inside)
            _ip("-n", ns, "link", "set", inside, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            net.host_addresses.append(f"{subnet}.{i + 1}")
            net.namespaces.append(ns)
        yield net
    finally:
        for undo in reversed(net._undo):  # a veth goes with its namespace: its del may fail
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip(*undo)
