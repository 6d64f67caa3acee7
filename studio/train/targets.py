"""Which linear layers LoRA wraps, per architecture (the user may override)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.errors import BadInput

if TYPE_CHECKING:
    import torch

# model_type -> attention projections, as the model names its modules.
BY_MODEL_TYPE: dict[str, list[str]] = {
    "bloom": ["query_key_value"],
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "qwen2": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "qwen3": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "mistral": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gpt2": ["c_attn"],
    "bert": ["query", "value"],
    "roberta": ["query", "value"],
    "distilbert": ["q_lin", "v_lin"],
    "clip_text_model": ["q_proj", "k_proj", "v_proj", "out_proj"],
    "unet": ["to_q", "to_k", "to_v", "to_out.0"],
}


def auto_targets(model_type: str) -> list[str]:
    return list(BY_MODEL_TYPE.get(model_type, []))


def linear_names(model: torch.nn.Module) -> list[str]:
    """Short names of the model's linear layers (what target_modules may name)."""
    import torch

    names = {name.rsplit(".", 1)[-1] for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)}
    return sorted(names)


def resolve(model: torch.nn.Module, model_type: str, requested: list[str]) -> list[str]:
    """The requested modules, or the architecture's; each must exist in the model."""
    wanted = list(requested) or auto_targets(model_type)
    available = linear_names(model)
    if not wanted:
        raise BadInput(
            f"No default LoRA target modules are known for {model_type!r}. Name some in Target modules; "
            f"this model's linear layers are: {', '.join(available[:30])}."
        )
    missing = [m for m in wanted if m.rsplit(".", 1)[-1] not in available and not any(
        name.endswith(m) for name, _ in model.named_modules())]
    if missing:
        raise BadInput(
            f"This model has no layer named {', '.join(missing)}. Its linear layers are: {', '.join(available[:30])}."
        )
    return wanted
