"""One prompt, three answers: the base model, the base with few-shot examples, base + adapter.

Greedy decoding, so the difference comes from the adapter and the examples, not from chance.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from studio.errors import BadInput
from studio.settings import Settings
from studio import jobs
from studio.train import adapters, datasets
from studio.train.config import TrainConfig

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import PreTrainedTokenizerBase

MAX_NEW_TOKENS = 256
FEW_SHOT_ROWS = 2


def default_few_shot(folder: Path, rows: int = FEW_SHOT_ROWS) -> str:
    """The job's first dataset rows, formatted as in training: examples a student can edit."""
    job = jobs.read_json(folder / "job.json", {})
    config = TrainConfig.from_dict(job.get("config"))
    examples = datasets.causal_examples(datasets.read_rows(folder / job["dataset_file"]), config)[:rows]
    return "\n\n".join(e.text for e in examples)


@torch.no_grad()
def _answer(model: PeftModel, tokenizer: PreTrainedTokenizerBase, text: str, max_new_tokens: int) -> str:
    inputs = tokenizer(text, return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False,
                            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


def compare(settings: Settings, owner: str, job_id: str, prompt: str, few_shot: str | None = None,
            max_new_tokens: int = 64) -> dict[str, Any]:
    if not prompt or not prompt.strip():
        raise BadInput("Type a prompt to compare, e.g. \"I want you to act as a motivational coach\".")
    if not 1 <= int(max_new_tokens) <= MAX_NEW_TOKENS:
        raise BadInput(f"Max new tokens must be between 1 and {MAX_NEW_TOKENS}.")
    adapter, job = jobs.adapter_for(settings, owner, job_id)
    config = TrainConfig.from_dict(job.get("config"))
    if config.task != "causal_lm":
        raise BadInput("Compare answers prompts, so it needs a causal-LM job; classifiers show accuracy instead.")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(job["model_path"])
    query = datasets.prompt_prefix(prompt.strip(), config)
    shots = default_few_shot(adapter.parent) if few_shot is None else few_shot
    tuned = adapters.load_with_adapter(job["model_path"], str(adapter))
    with tuned.disable_adapter():  # the very same weights, adapter off: the base model
        base_answer = _answer(tuned, tokenizer, query, int(max_new_tokens))
        few_shot_answer = _answer(tuned, tokenizer, (shots.strip() + "\n\n" if shots.strip() else "") + query,
                                  int(max_new_tokens))
    return {"prompt_seen": query, "few_shot": shots, "base": base_answer, "base_few_shot": few_shot_answer,
            "tuned": _answer(tuned, tokenizer, query, int(max_new_tokens)), "base_model": job.get("base_model", "")}
