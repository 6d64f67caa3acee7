"""The training loop: plain torch + PEFT, one optimizer step at a time.

A small loop of our own rather than transformers.Trainer: it starts faster (no Trainer,
accelerate or reporting machinery to set up), every step is visible (the JSON line it
writes is the whole story) and cancel / checkpoint / resume are three short functions.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from studio.train import datasets, jobs
from studio.train.config import TrainConfig
from studio.train.estimate import weight_precision, with_lora

KEEP_CHECKPOINTS = 2
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class Stop(Exception):
    """Cancel (or the app went away): stop before the next step; checkpoints stay valid."""


@dataclass
class Batches:
    """Micro-batches in a fixed order per epoch (seeded), so a resume replays the same data."""

    items: list[dict[str, Any]]
    batch_size: int
    seed: int
    collate: Callable[[list[dict[str, Any]]], dict[str, torch.Tensor]]

    @property
    def per_epoch(self) -> int:
        return math.ceil(len(self.items) / self.batch_size)

    def order(self, epoch: int) -> list[int]:
        if getattr(self, "_epoch", None) != epoch:  # shuffled once per epoch, not per batch
            order = list(range(len(self.items)))
            random.Random(self.seed + epoch).shuffle(order)
            self._epoch, self._order = epoch, order
        return self._order

    def get(self, index: int) -> dict[str, torch.Tensor]:
        epoch, within = divmod(index, self.per_epoch)
        order = self.order(epoch)
        picked = order[within * self.batch_size:(within + 1) * self.batch_size]
        return self.collate([self.items[i] for i in picked])


def load_tokenizer(source: str) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def causal_items(tokenizer: Any, examples: list[datasets.CausalExample], config: TrainConfig) -> list[dict]:
    items = []
    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    for example in examples:
        ids = tokenizer(example.text, add_special_tokens=True)["input_ids"][: config.cutoff_len - len(eos)] + eos
        labels = list(ids)
        if config.train_on_responses_only and example.prefix:
            masked = len(tokenizer(example.prefix, add_special_tokens=True)["input_ids"])
            labels[:masked] = [-100] * min(masked, len(labels))
        items.append({"input_ids": ids, "labels": labels})
    return items


def pad_collate(pad_id: int) -> Callable[[list[dict]], dict[str, torch.Tensor]]:
    def collate(batch: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(item["input_ids"]) for item in batch)
        out = {"input_ids": [], "attention_mask": [], "labels": []}
        for item in batch:
            extra = width - len(item["input_ids"])
            out["input_ids"].append(item["input_ids"] + [pad_id] * extra)
            out["attention_mask"].append([1] * len(item["input_ids"]) + [0] * extra)
            label = item["labels"]
            out["labels"].append(label + [-100] * extra if isinstance(label, list) else label)
        return {k: torch.tensor(v) for k, v in out.items()}

    return collate


def classification_items(tokenizer: Any, texts: list[str], labels: list[int], cutoff: int) -> list[dict]:
    return [{"input_ids": tokenizer(t, truncation=True, max_length=cutoff)["input_ids"], "labels": y}
            for t, y in zip(texts, labels)]


def load_model(job: dict[str, Any], config: TrainConfig, precision: str, label_names: list[str] | None) -> Any:
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    dtype = DTYPES[precision]
    if config.task == "classification":
        return AutoModelForSequenceClassification.from_pretrained(
            job["model_path"], num_labels=len(label_names), dtype=dtype,
            id2label=dict(enumerate(label_names)), label2id={n: i for i, n in enumerate(label_names)},
            ignore_mismatched_sizes=True,  # a new head when the label count differs
        )
    return AutoModelForCausalLM.from_pretrained(job["model_path"], dtype=dtype)


@torch.no_grad()
def evaluate(model: Any, items: list[dict], collate: Callable, device: str, n_labels: int) -> dict[str, Any]:
    """Accuracy and confusion matrix (rows: true label, columns: predicted)."""
    model.eval()
    matrix = [[0] * n_labels for _ in range(n_labels)]
    for start in range(0, len(items), 16):
        batch = {k: v.to(device) for k, v in collate(items[start:start + 16]).items()}
        predicted = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.argmax(-1)
        for truth, guess in zip(batch["labels"].tolist(), predicted.tolist()):
            matrix[truth][guess] += 1
    model.train()
    correct = sum(matrix[i][i] for i in range(n_labels))
    return {"accuracy": round(correct / len(items), 4) if items else None, "confusion_matrix": matrix}


def save_checkpoint(folder: Path, model: Any, optimizer: Any, scheduler: Any, scaler: Any, step: int) -> None:
    def write(target: Path) -> None:
        model.save_pretrained(target)
        # Written last: its presence marks a complete checkpoint.
        torch.save({"step": step, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict() if scaler else None}, target / "trainer_state.pt")

    jobs.save_dir_atomically(folder / "checkpoints" / f"step-{step:06d}", write)
    for old in jobs.checkpoints(folder)[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)


def optimiser_from_checkpoint(model: Any, config: TrainConfig, folder: Path, job: dict[str, Any], total: int,
                              device: str, scaler: Any = None) -> tuple[Any, Any, int]:
    """AdamW and the learning-rate schedule over the trainable (LoRA) weights; on Resume, the
    adapter, optimiser, schedule (and fp16 scaler) of the last good checkpoint, and its step.
    Shared by the text and image loops."""
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


def pick_device(requested: str) -> str:
    if requested in ("auto", "", None):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def train(folder: Path, should_stop: Callable[[], bool], fail_at_step: int = 0) -> dict[str, Any]:
    """Run (or resume) the job in ``folder``; returns the final summary. Raises Stop on cancel."""
    job = jobs.read_json(folder / "job.json")
    config = TrainConfig.from_dict(job["config"])
    if config.task == "image_lora":
        from studio.train.image_lora import train_image

        return train_image(folder, should_stop, fail_at_step, Stop)
    device = pick_device(job.get("device", "auto"))
    precision = weight_precision(config, device)
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    rows = datasets.read_rows(folder / job["dataset_file"])
    tokenizer = load_tokenizer(job["model_path"])
    label_names = None
    eval_items: list[dict] = []
    if config.task == "classification":
        data = datasets.classification_examples(rows, config)
        label_names = data.label_names
        items = classification_items(tokenizer, data.texts, data.labels, config.cutoff_len)
        eval_items = classification_items(tokenizer, data.eval_texts, data.eval_labels, config.cutoff_len)
    else:
        items = causal_items(tokenizer, datasets.causal_examples(rows, config), config)
    collate = pad_collate(tokenizer.pad_token_id)
    batches = Batches(items, config.batch_size, config.seed, collate)
    total = config.max_steps or math.ceil(batches.per_epoch / config.grad_accumulation) * config.epochs

    model = load_model(job, config, precision, label_names)
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    model = with_lora(model, config).to(device)
    scaler = torch.amp.GradScaler(device) if precision == "fp16" else None
    optimizer, scheduler, step = optimiser_from_checkpoint(model, config, folder, job, total, device, scaler)
    jobs.set_state(folder, "running", total_steps=total, resumed_from=step or None,
                   message=f"training from step {step}…" if step else "training…")
    if config.task == "classification" and step == 0:
        jobs.write_json(folder / "eval.json", {"label_names": label_names,
                                               "before": evaluate(model, eval_items, collate, device, len(label_names))})

    model.train()
    log = open(folder / "log.jsonl", "a", encoding="utf-8")
    started, first_step = time.perf_counter(), step
    while step < total:
        optimizer.zero_grad(set_to_none=True)
        losses, samples = [], 0
        for micro in range(config.grad_accumulation):
            if should_stop():
                raise Stop()
            batch = {k: v.to(device) for k, v in batches.get(step * config.grad_accumulation + micro).items()}
            samples += batch["input_ids"].shape[0]
            with torch.autocast(device, dtype=DTYPES[precision], enabled=precision != "fp32"):
                loss = model(**batch).loss / config.grad_accumulation
            (scaler.scale(loss) if scaler else loss).backward()
            losses.append(loss.item())
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
            save_checkpoint(folder, model, optimizer, scheduler, scaler, step)
    log.close()
    save_checkpoint(folder, model, optimizer, scheduler, scaler, step)
    jobs.save_dir_atomically(folder / "adapter", model.save_pretrained)
    if config.task == "classification":
        result = jobs.read_json(folder / "eval.json", {})
        result["after"] = evaluate(model, eval_items, collate, device, len(label_names))
        jobs.write_json(folder / "eval.json", result)
    write_loss_csv(folder)
    return {"steps": step}


def write_loss_csv(folder: Path) -> None:
    lines = ["step,loss,lr"] + [f"{l['step']},{l['loss']},{l['lr']}" for l in jobs.read_log(folder)]
    (folder / "loss.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
