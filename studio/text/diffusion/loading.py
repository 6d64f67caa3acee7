"""A masked LM and its tokenizer as one cache entry, loaded with transformers' own classes only.

Before any weights are fetched, the repo's config.json says what the model is: a model type
transformers does not know, with an ``auto_map`` pointing at the repo's own Python files,
needs ``trust_remote_code`` (LLaDA, Dream) and is refused with that reason; a known type that
is not a masked LM (a causal chat model) is refused too; so is a tokenizer without a mask token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.errors import BadInput
from studio.models.loaders import LoadRequest
from studio.text.diffusion.request import DEFAULT_MODEL, remote_code_refusal

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass
class MaskedLM:
    """The cache moves ``model`` to its device and leaves ``tokenizer`` where it is."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase

    @property
    def mask_id(self) -> int:
        return require_mask_token(self.tokenizer, self.model.name_or_path)


def require_mask_token(tokenizer: PreTrainedTokenizerBase, name: str) -> int:
    if tokenizer.mask_token_id is None:
        raise BadInput(
            f"{name} has no mask token, so there is nothing for diffusion to unmask: pick a masked LM "
            f"whose tokenizer has one, such as {DEFAULT_MODEL}."
        )
    return int(tokenizer.mask_token_id)


def _code_file(auto_map: dict[str, Any]) -> str:
    """The repo file an ``auto_map`` loads the model from ("owner/repo--modeling_x.Class" or "modeling_x.Class")."""
    models = [value for key, value in auto_map.items() if key.startswith("AutoModel")] or list(auto_map.values())
    first = models[0][0] if isinstance(models[0], (list, tuple)) else models[0]
    return str(first).split("--")[-1].rsplit(".", 1)[0] + ".py"


def check_config(config: dict[str, Any], name: str) -> None:
    """BadInput unless ``config`` (a config.json) describes a masked LM transformers loads natively."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    model_type = str(config.get("model_type", ""))
    if model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return
    if model_type in CONFIG_MAPPING_NAMES:
        kind = ", ".join(config.get("architectures") or [model_type])
        raise BadInput(
            f"{name} is a {kind} model, not a masked language model: diffusion needs one that fills in "
            f"[MASK] tokens (AutoModelForMaskedLM), such as {DEFAULT_MODEL}."
        )
    if config.get("auto_map"):
        raise remote_code_refusal(name, _code_file(config["auto_map"]))
    raise BadInput(
        f"{name} has a model type transformers does not know ({model_type or 'none given'}): pick a masked "
        f"LM that transformers loads natively, such as {DEFAULT_MODEL}."
    )


def read_config(request: LoadRequest) -> dict[str, Any]:
    """config.json alone (a few kB), from the folder, the HF cache or the Hub."""
    from transformers.utils.hub import cached_file

    kwargs = {key: value for key, value in request.hub_kwargs().items() if key != "variant"}
    path = cached_file(request.location, "config.json", **kwargs)
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_masked_lm(request: LoadRequest) -> MaskedLM:
    from transformers.models.auto.modeling_auto import AutoModelForMaskedLM
    from transformers.models.auto.tokenization_auto import AutoTokenizer

    check_config(read_config(request), request.location)
    kwargs = request.hub_kwargs()
    tokenizer = AutoTokenizer.from_pretrained(request.location, **{k: v for k, v in kwargs.items() if k != "variant"})
    require_mask_token(tokenizer, request.location)  # before the weights: nothing downloaded in vain
    model = AutoModelForMaskedLM.from_pretrained(request.location, dtype=request.dtype, **kwargs)
    return MaskedLM(model=model.eval(), tokenizer=tokenizer)
