"""What the text and image training loops share: the optimiser step loop with its JSON log,
Cancel, checkpoints (and the two kept), and Resume from the last good one.

Each loop supplies only its micro-batch (a loss to back-propagate) and how its weights are
written; the rest is the same code, so a fix to Resume or the log reaches both.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import torch

from studio import jobs
from studio.train.config import TrainConfig

KEEP_CHECKPOINTS = 2


class Stop(Exception):
    """Cancel (or the app went away): stop before the next step; checkpoints stay valid."""


def pick_device(requested: str) -> str:
    if requested in ("auto", "", None):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def optimiser_from_checkpoint(model: torch.nn.Module, config: TrainConfig, folder: Path, job: dict[str, Any], total: int,
                              device: str, scaler: torch.amp.GradScaler | None = None,
                              ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler, int]:
    """AdamW and the learning-rate schedule over the trainable (LoRA) weights; on Resume, the
    adapter, optimiser, schedule (and fp16 scaler) of the last good checkpoint, and its step."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import get_scheduler

    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate)
    scheduler = get_scheduler(config.scheduler, optimizer, num_warmup_steps=config.warmup_steps, num_training_steps=total)
    step = 0
    done = jobs.checkpoints(folder)
    if job.get("resume") and done:
        state = torch.load(done[-1] / "trainer_state.pt", map_location=device, weights_only=False)
        set_peft_model_state_dict(model, load_file(done[-1] / "adapter_model.safetensors", device=device))
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if scaler and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        step = state["step"]
        jobs.trim_log(folder, step)
    return optimizer, scheduler, step


def mark_training(folder: Path, step: int, total: int) -> None:
    """The job's state once its model is ready: running, from ``step`` of ``total`` (a Resume)."""
    said = jobs.message("training_from", step=step) if step else jobs.message("training")
    jobs.set_state(folder, "running", total_steps=total, resumed_from=step or None, **said)


def save_checkpoint(folder: Path, step: int, write_weights: Callable[[Path], None], optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler, scaler: torch.amp.GradScaler | None = None) -> None:
    """``checkpoints/step-N``: the adapter (``adapter_model.safetensors``, by ``write_weights``)
    and the optimiser state; only the newest KEEP_CHECKPOINTS stay."""
    def write(target: Path) -> None:
        write_weights(target)
        # Written last: its presence marks a complete checkpoint.
        torch.save({"step": step, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict() if scaler else None}, target / "trainer_state.pt")

    jobs.save_dir_atomically(folder / "checkpoints" / f"step-{step:06d}", write)
    for old in jobs.checkpoints(folder)[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)


def run_steps(folder: Path, config: TrainConfig, *, step: int, total: int,
              micro_batch: Callable[[int], tuple[torch.Tensor, int]], optimizer: torch.optim.Optimizer,
              scheduler: torch.optim.lr_scheduler.LRScheduler, checkpoint: Callable[[int], None],
              should_stop: Callable[[], bool], scaler: torch.amp.GradScaler | None = None,
              fail_at_step: int = 0) -> int:
    """Optimiser steps from ``step`` to ``total``; returns the last step (checkpointed).

    ``micro_batch(index)`` returns micro-batch ``index``'s loss (already divided by the
    accumulation) and its sample count. Each step appends one JSON line to ``log.jsonl``;
    ``checkpoint(step)`` runs every ``save_every`` steps and at the end. Raises Stop on Cancel."""
    accumulation = config.grad_accumulation
    with open(folder / "log.jsonl", "a", encoding="utf-8") as log:
        started, first_step = time.perf_counter(), step
        while step < total:
            optimizer.zero_grad(set_to_none=True)
            losses, samples = [], 0
            for micro in range(accumulation):
                if should_stop():
                    raise Stop()
                loss, count = micro_batch(step * accumulation + micro)
                (scaler.scale(loss) if scaler else loss).backward()
                losses.append(loss.item())
                samples += count
            if scaler:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            scheduler.step()
            step += 1
            if fail_at_step and step >= fail_at_step:
                raise RuntimeError(f"forced failure at step {step} (STUDIO_TRAIN_FAIL_AT_STEP)")
            elapsed = time.perf_counter() - started
            rate = (step - first_step) / elapsed if elapsed > 0 else 0.0
            log.write(json.dumps({
                "step": step, "total_steps": total, "loss": round(sum(losses), 6),
                "lr": scheduler.get_last_lr()[0], "samples_per_second": round(samples * rate, 3),
                "eta_seconds": round((total - step) / rate, 1) if rate else None, "time": time.time(),
            }) + "\n")
            log.flush()
            if step % config.save_every == 0 and step < total:
                checkpoint(step)
    checkpoint(step)
    return step
