"""Finished adapters: zipped for download, loaded on a base, merged.

The Text tab (or a script) lists an owner's adapters with ``jobs.list_adapters`` and loads one
with ``load_with_adapter``; each adapter folder is a standard PEFT folder (safetensors).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from studio.settings import Settings
from studio import jobs

if TYPE_CHECKING:
    import torch
    from peft import PeftModel


def zip_adapter(settings: Settings, owner: str, job_id: str) -> Path:
    """<job>/<name>.zip with the adapter folder, made once and replaced whole."""
    adapter, job = jobs.adapter_for(settings, owner, job_id)
    target = adapter.parent / f"{job.get('name', 'adapter')}.zip"
    if target.is_file() and target.stat().st_mtime >= adapter.stat().st_mtime:
        return target
    with tempfile.TemporaryDirectory(dir=adapter.parent) as tmp:
        made = shutil.make_archive(str(Path(tmp) / "adapter"), "zip", root_dir=adapter.parent, base_dir="adapter")
        os.replace(made, target)
    return target


def load_with_adapter(model_path: str, adapter_path: str, task: str = "causal_lm",
                      dtype: torch.dtype | None = None) -> PeftModel:
    """A fresh base model with the adapter applied (never a shared cached model: PEFT edits the
    modules it wraps, and another user must not see this adapter)."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    loader = AutoModelForSequenceClassification if task == "classification" else AutoModelForCausalLM
    extra = {"dtype": dtype} if dtype is not None else {}
    if task == "classification":  # the head was trained for the job's own label count
        names = (jobs.read_json(Path(adapter_path).parent / "eval.json", {}) or {}).get("label_names")
        extra.update(ignore_mismatched_sizes=True, num_labels=len(names) if names else 2)
    base = loader.from_pretrained(model_path, **extra)
    return PeftModel.from_pretrained(base, adapter_path).eval()


def merge(settings: Settings, owner: str, job_id: str) -> Path:
    """Base + adapter folded into one ordinary model folder (<job>/merged), with its tokenizer."""
    from transformers import AutoTokenizer

    adapter, job = jobs.adapter_for(settings, owner, job_id)
    model = load_with_adapter(job["model_path"], str(adapter), job.get("config", {}).get("task", "causal_lm"))
    merged = model.merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(job["model_path"])

    def write(target: Path) -> None:
        merged.save_pretrained(target)
        tokenizer.save_pretrained(target)

    target = adapter.parent / "merged"
    jobs.save_dir_atomically(target, write)
    return target
