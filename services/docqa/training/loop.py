"""The training loop both fine-tunings share, its bounds, and the model directory it writes.

A run is bounded by wall time (``Bounds.max_minutes``, counted from the start of the command),
by steps and by pairs. The learning rate warms up linearly, then falls linearly to zero at the
last planned step; once a few steps are timed, the plan shrinks to the steps that fit the time
left, so the schedule still ends at zero when time is what stops the run.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import torch
from tqdm import tqdm

T = TypeVar("T")
StoppedBy = Literal["data", "steps", "time"]

MANIFEST = "docqa-model.json"
SAVE_RESERVE_S = 30.0  # kept back from the time bound for saving the model
CALIBRATE_AT = 10  # steps timed before the plan is fitted to the time left
REPLAN_EVERY = 50
RECENT = 50  # steps whose mean duration predicts the next ones


@dataclass(frozen=True)
class Bounds:
    max_minutes: float = 25.0
    max_steps: int | None = None
    max_pairs: int | None = None


@dataclass(frozen=True)
class Hyper:
    batch_size: int
    learning_rate: float
    max_seq_length: int
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    epochs: int = 1
    seed: int = 0
    bf16: bool = False  # bfloat16 autocast: faster on CPUs with AVX512-BF16 or AMX


@dataclass
class Outcome:
    steps: int
    losses: list[float]
    stopped_by: StoppedBy
    seconds: float

    @property
    def final_loss(self) -> float:
        """Mean loss of the last (up to) 50 steps."""
        last = self.losses[-RECENT:]
        return sum(last) / len(last) if last else float("nan")

    @property
    def first_loss(self) -> float:
        """Mean loss of the first (up to) 10 steps."""
        first = self.losses[:CALIBRATE_AT]
        return sum(first) / len(first) if first else float("nan")


@dataclass
class _Plan:
    total: int
    warmup_ratio: float

    def factor(self, step: int) -> float:
        """The learning rate's multiplier at ``step`` (0-based)."""
        warmup = max(1, round(self.warmup_ratio * self.total))
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (self.total - step) / max(1, self.total - warmup))


@dataclass
class _Clock:
    deadline: float
    durations: list[float] = field(default_factory=list)

    def per_step(self) -> float:
        recent = self.durations[2:][-RECENT:] or self.durations  # the first steps warm up
        return sum(recent) / len(recent)

    def steps_left(self) -> int:
        return int(max(0.0, self.deadline - time.monotonic()) / self.per_step())


def train(
    model: torch.nn.Module,
    batches: Iterator[T],
    loss_of: Callable[[T], torch.Tensor],
    *,
    data_steps: int,
    hyper: Hyper,
    bounds: Bounds,
    started: float,
    progress: bool = True,
) -> Outcome:
    """Run ``loss_of`` over ``batches`` with AdamW until the data, steps or time run out."""
    cap = min(data_steps, bounds.max_steps or data_steps)
    plan = _Plan(total=max(1, cap), warmup_ratio=hyper.warmup_ratio)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=hyper.learning_rate, weight_decay=hyper.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, plan.factor)
    clock = _Clock(deadline=started + bounds.max_minutes * 60 - SAVE_RESERVE_S)
    losses: list[float] = []
    stopped_by: StoppedBy = "data"
    model.eval()  # dropout off: a third of a CPU step, and one short pass does not overfit
    bar = tqdm(total=plan.total, unit="step", disable=not progress, file=sys.stderr)
    tick = time.monotonic()
    for batch in batches:
        loss = loss_of(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        now = time.monotonic()
        clock.durations.append(now - tick)
        tick = now
        step = len(losses)
        bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
        bar.update(1)
        if step == CALIBRATE_AT or (step > CALIBRATE_AT and step % REPLAN_EVERY == 0):
            plan.total = max(step, min(cap, step + clock.steps_left()))
            bar.total = plan.total
            bar.refresh()
        if progress and step % REPLAN_EVERY == 0:
            tqdm.write(
                f"step {step}/{plan.total} loss {sum(losses[-RECENT:]) / len(losses[-RECENT:]):.4f}"
                f" lr {scheduler.get_last_lr()[0]:.2e} {clock.per_step():.2f} s/step",
                file=sys.stderr,
            )
        if step >= plan.total:
            stopped_by = "time" if step < cap else "data" if cap == data_steps else "steps"
            break
        if now + clock.per_step() > clock.deadline:
            stopped_by = "time"
            break
    bar.close()
    return Outcome(len(losses), losses, stopped_by, time.monotonic() - started)


def write_model(
    out: Path, kind: str, save: Callable[[Path], None], manifest: dict[str, Any], loader: str
) -> Path:
    """Save into ``out/<kind>-<UTC time>/`` with its manifest and a model card; the directory
    appears (by a rename) only once complete. Returns its path."""
    now = datetime.now(UTC)
    name = f"{kind}-{now:%Y%m%dT%H%M%SZ}"
    final = out / name
    n = 1
    while final.exists():
        n += 1
        final = out / f"{name}-{n}"
    model_id = f"docqa/{final.name}"
    partial = out / f".{final.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    save(partial)
    full = {"model_id": model_id, "kind": kind, "created_at": now.isoformat(), **manifest}
    (partial / MANIFEST).write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
    (partial / "README.md").write_text(_card(model_id, loader, full), encoding="utf-8")
    partial.rename(final)
    return final


def _card(model_id: str, loader: str, manifest: dict[str, Any]) -> str:
    """A short model card. docqa takes the model's id from its ``Loader('org/name')`` line."""
    return (
        f"# {model_id}\n\n"
        f"Fine-tuned by `docqa finetune {manifest['kind']}` from "
        f"`{manifest['base_model']}` on `{manifest['pairs_file']}` "
        f"(sha256 {manifest['pairs_sha256'][:12]}): {manifest['pairs_used']} pairs, "
        f"{manifest['steps']} steps, final loss {manifest['final_loss']:.4f}. "
        f"Everything about the run is in `{MANIFEST}`.\n\n"
        "It is not on the Hugging Face Hub: load it from this directory. The id docqa records "
        f"for it is `{loader}('{model_id}')`.\n"
    )
