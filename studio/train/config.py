"""One job's settings, checked once before anything starts (a student reads the sentence)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from studio.errors import BadInput
from studio.outputs import safe_name

TASKS = ("causal_lm", "classification", "image_lora")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
DEFAULT_TEMPLATE = "### Instruction:\n{prompt}\n\n### Response:\n{response}"
_NAME_OK = re.compile(r"^[\w .-]{1,64}$")


@dataclass
class TrainConfig:
    task: str = "causal_lm"
    base_model: str = ""  # "" = the catalog's default for the task
    adapter_name: str = ""
    # LoRA
    r: int = 4
    alpha: int = 8
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=list)  # empty = auto-detected per architecture
    # optimisation
    learning_rate: float = 2e-4
    epochs: int = 1
    max_steps: int = 0  # > 0 overrides epochs
    batch_size: int = 4
    grad_accumulation: int = 1
    warmup_steps: int = 0
    scheduler: str = "linear"
    precision: str = "auto"
    gradient_checkpointing: bool = False
    seed: int = 42
    save_every: int = 10  # optimizer steps between checkpoints
    # data
    first_rows: int = 50  # 0 = all rows
    cutoff_len: int = 256
    prompt_column: str = ""
    response_column: str = ""
    template: str = DEFAULT_TEMPLATE
    train_on_responses_only: bool = False
    text_column: str = ""
    label_column: str = ""
    held_out: float = 0.2
    # image LoRA (DreamBooth-style)
    instance_prompt: str = ""  # the caption of every picture without its own .txt
    resolution: int = 1024
    repeats: int = 1

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> "TrainConfig":
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise BadInput(f"Unknown training setting(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}.")
        if isinstance(values.get("target_modules"), str):
            values["target_modules"] = [m.strip() for m in values["target_modules"].split(",") if m.strip()]
        config = cls(**{k: v for k, v in values.items() if v is not None})
        config.validate()
        return config

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self) -> None:
        if self.task not in TASKS:
            raise BadInput(f"Task must be one of {', '.join(TASKS)}, not {self.task!r}.")
        self.r = _whole(self.r, "LoRA rank r", 1, 1024)
        self.alpha = _whole(self.alpha, "LoRA alpha", 1, 4096)
        if not 0 <= float(self.dropout) < 1:
            raise BadInput(f"LoRA dropout must be at least 0 and below 1, not {self.dropout}.")
        if not 0 < float(self.learning_rate) <= 1:
            raise BadInput(f"The learning rate must be above 0 and at most 1, not {self.learning_rate}.")
        self.epochs = _whole(self.epochs, "Epochs", 1, 1000)
        self.max_steps = _whole(self.max_steps, "Max steps", 0, 1_000_000)
        self.batch_size = _whole(self.batch_size, "Batch size", 1, 1024)
        self.grad_accumulation = _whole(self.grad_accumulation, "Gradient accumulation", 1, 1024)
        self.warmup_steps = _whole(self.warmup_steps, "Warm-up steps", 0, 1_000_000)
        self.save_every = _whole(self.save_every, "Checkpoint every", 1, 1_000_000)
        self.first_rows = _whole(self.first_rows, "First N rows", 0, 10_000_000)
        self.cutoff_len = _whole(self.cutoff_len, "Cut-off length", 8, 32_768)
        if self.scheduler not in SCHEDULERS:
            raise BadInput(f"Scheduler must be one of {', '.join(SCHEDULERS)}, not {self.scheduler!r}.")
        if self.precision not in PRECISIONS:
            raise BadInput(f"Precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}.")
        self.resolution = _whole(self.resolution, "Resolution", 64, 2048)
        if self.resolution % 8:
            raise BadInput(f"The resolution must be a multiple of 8 (the VAE works on 8x8 blocks), not {self.resolution}.")
        self.repeats = _whole(self.repeats, "Repeats", 1, 100)
        if not 0 <= float(self.held_out) < 0.9:
            raise BadInput(f"The held-out share must be between 0 and 0.9, not {self.held_out}.")
        if self.task == "causal_lm" and self.response_column and "{response}" not in self.template:
            raise BadInput("The template needs a {response} placeholder where the response column goes.")
        if "{prompt}" not in self.template and self.task == "causal_lm":
            raise BadInput("The template needs a {prompt} placeholder where the prompt column goes.")
        adapter_file_name(self.adapter_name or "adapter")


def _whole(value: Any, label: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) and not (isinstance(value, float) and value.is_integer()):
        raise BadInput(f"{label} must be a whole number, not {value!r}.")
    if not low <= int(value) <= high:
        raise BadInput(f"{label} must be between {low} and {high}, not {value}.")
    return int(value)


def adapter_file_name(name: str) -> str:
    """A safe folder name for an adapter; names that try to leave the folder are refused."""
    text = str(name).strip()
    if "/" in text or "\\" in text or ".." in text:
        raise BadInput(f"The adapter name {text[:60]!r} may not contain slashes or '..': use letters, digits, - and _.")
    if not _NAME_OK.match(text):
        raise BadInput("The adapter name must be 1-64 letters, digits, spaces, '-', '_' or '.'.")
    return safe_name(text, "adapter")
