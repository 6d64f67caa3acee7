"""Trainable parameters and a memory estimate from a model's config alone: the model is
built on the meta device (shapes, no weights), so this is instant even for large models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.train.config import TrainConfig
from studio.train import targets

if TYPE_CHECKING:
    import torch
    from peft import LoraConfig, PeftModel
    from transformers import PretrainedConfig, PreTrainedModel

BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}
ADAM_BYTES = 4 * 2 + 4  # two fp32 moments + an fp32 gradient per trainable parameter


def build_empty(config: PretrainedConfig, task: str, num_labels: int = 2) -> PreTrainedModel:
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    with torch.device("meta"):
        if task == "classification":
            config.num_labels = num_labels
            return AutoModelForSequenceClassification.from_config(config)
        return AutoModelForCausalLM.from_config(config)


def lora_config(train: TrainConfig, modules: list[str]) -> LoraConfig:
    from peft import LoraConfig, TaskType

    return LoraConfig(
        r=train.r, lora_alpha=train.alpha, lora_dropout=train.dropout, target_modules=modules, bias="none",
        task_type=TaskType.SEQ_CLS if train.task == "classification" else TaskType.CAUSAL_LM,
    )


def with_lora(model: PreTrainedModel, train: TrainConfig) -> PeftModel:
    from peft import get_peft_model

    model_type = getattr(model.config, "model_type", "")
    return get_peft_model(model, lora_config(train, targets.resolve(model, model_type, train.target_modules)))


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return trainable, total


def weight_precision(train: TrainConfig, device: str) -> str:
    """fp16/bf16 as asked where the device allows; fp32 on a CPU."""
    if device == "cpu":
        return "fp32"
    if device == "cuda":
        import torch

        bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        if train.precision == "auto":
            return "bf16" if bf16 else "fp16"
        if train.precision == "bf16" and not bf16:
            return "fp16"  # older cards (T4, V100) have no bf16
    return "fp16" if train.precision == "auto" else train.precision


def estimate(config: PretrainedConfig, train: TrainConfig, device: str = "cpu", num_labels: int = 2) -> dict[str, Any]:
    """Trainable / total parameters (after LoRA) and a rough training-memory figure."""
    model = with_lora(build_empty(config, train.task, num_labels), train)
    trainable, total = count_parameters(model)
    precision = weight_precision(train, device)
    hidden = getattr(config, "hidden_size", None) or getattr(config, "n_embd", 0) or 0
    layers = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layer", 0) or 0
    vocab = getattr(config, "vocab_size", 0) or 0
    tokens = train.batch_size * train.cutoff_len
    # Activations kept for backward: ~16 values per hidden unit per layer and token (less with
    # checkpointing), plus the logits; a rough guide, not a promise.
    per_layer = 2 if train.gradient_checkpointing else 16
    activations = tokens * hidden * layers * per_layer * BYTES[precision]
    logits = tokens * (vocab if train.task == "causal_lm" else 2) * 4 * 2
    weights = (total - trainable) * BYTES[precision] + trainable * 4
    optimizer = trainable * ADAM_BYTES
    memory = weights + optimizer + activations + logits
    return {
        "trainable_parameters": trainable,
        "total_parameters": total,
        "trainable_percent": round(100 * trainable / total, 4) if total else 0.0,
        "target_modules": list(model.peft_config["default"].target_modules),
        "precision": precision,
        "memory_gb": round(memory / 1024**3, 3),
        "memory_parts_gb": {k: round(v / 1024**3, 3) for k, v in (
            ("weights", weights), ("gradients_and_optimizer", optimizer),
            ("activations", activations), ("logits", logits))},
        "model_type": getattr(config, "model_type", ""),
    }
