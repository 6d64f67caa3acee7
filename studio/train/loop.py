"""The text training loop (causal LM and classification): plain torch + PEFT.

A small loop of our own rather than transformers.Trainer: it starts faster (no Trainer,
accelerate or reporting machinery to set up), every step is visible (the JSON line it
writes is the whole story) and cancel / checkpoint / resume are three short functions,
shared with the image loop (studio.train.steps).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import torch

from studio import jobs
from studio.train import datasets
from studio.train.config import TrainConfig
from studio.train.estimate import weight_precision, with_lora
from studio.train.steps import Stop, mark_training, optimiser_from_checkpoint, pick_device, run_steps, save_checkpoint

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["Stop", "train"]  # Stop: what the worker catches, raised by the shared step loop
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


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


def load_tokenizer(source: str) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def causal_items(tokenizer: PreTrainedTokenizerBase, examples: list[datasets.CausalExample],
                 config: TrainConfig) -> list[dict]:
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


def classification_items(tokenizer: PreTrainedTokenizerBase, texts: list[str], labels: list[int],
                         cutoff: int) -> list[dict]:
    return [{"input_ids": tokenizer(t, truncation=True, max_length=cutoff)["input_ids"], "labels": y}
            for t, y in zip(texts, labels)]


def load_model(job: dict[str, Any], config: TrainConfig, precision: str,
               label_names: list[str] | None) -> PreTrainedModel:
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
def evaluate(model: PeftModel, items: list[dict], collate: Callable, device: str, n_labels: int) -> dict[str, Any]:
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


def train(folder: Path, should_stop: Callable[[], bool], fail_at_step: int = 0) -> dict[str, Any]:
    """Run (or resume) the job in ``folder``; returns the final summary. Raises Stop on cancel."""
    job = jobs.read_json(folder / "job.json")
    config = TrainConfig.from_dict(job["config"])
    if config.task == "image_lora":
        from studio.train.image_lora import train_image

        return train_image(folder, should_stop, fail_at_step)
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
    mark_training(folder, step, total)
    if config.task == "classification" and step == 0:
        jobs.write_json(folder / "eval.json", {"label_names": label_names,
                                               "before": evaluate(model, eval_items, collate, device, len(label_names))})

    def micro_batch(index: int) -> tuple[torch.Tensor, int]:
        batch = {k: v.to(device) for k, v in batches.get(index).items()}
        with torch.autocast(device, dtype=DTYPES[precision], enabled=precision != "fp32"):
            loss = model(**batch).loss / config.grad_accumulation
        return loss, batch["input_ids"].shape[0]

    def checkpoint(at: int) -> None:
        save_checkpoint(folder, at, model.save_pretrained, optimizer, scheduler, scaler)

    model.train()
    step = run_steps(folder, config, step=step, total=total, micro_batch=micro_batch, optimizer=optimizer,
                     scheduler=scheduler, checkpoint=checkpoint, should_stop=should_stop, scaler=scaler,
                     fail_at_step=fail_at_step)
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
