"""Loading a causal LM and its tokenizer as one cache entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from studio.models.adapter_gate import AdapterGate
from studio.models.loaders import LoadRequest

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass
class TextModel:
    """A causal LM with its tokenizer; the cache moves ``model`` and leaves ``tokenizer``."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    adapter_gate: AdapterGate = field(default_factory=AdapterGate)  # trained adapters (studio.text.adapters)
    adapters: list[str] = field(default_factory=list)  # names loaded into ``model``, oldest first

    @property
    def device(self) -> torch.device:
        return self.model.device


def load_causal_lm(request: LoadRequest) -> TextModel:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = request.hub_kwargs()
    tokenizer = AutoTokenizer.from_pretrained(request.location, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(request.location, dtype=request.dtype, **kwargs)
    model.eval()
    if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
        tokenizer.pad_token = tokenizer.eos_token  # batching and generate() need a pad id
    return TextModel(model=model, tokenizer=tokenizer)
