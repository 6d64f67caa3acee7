"""Finished adapters: listed per owner, zipped for download, loaded on a base, merged.

The Text tab (or a script) lists an owner's adapters with ``list_adapters`` and loads one
with ``load_with_adapter``; each adapter folder is a standard PEFT folder (safetensors).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from studio.errors import BadInput
from studio.settings import Settings
from studio.train import jobs


def list_adapters(settings: Settings, owner: str) -> list[dict[str, Any]]:
    """The owner's finished adapters, newest first: name, path, base model, task, job id."""
    found = []
    for folder in jobs.owner_jobs(settings.outputs, owner):
        adapter = folder / "adapter"
        if not (adapter / "adapter_config.json").is_file():
            continue
        job = jobs.read_json(folder / "job.json", {})
        found.append({
            "name": job.get("name", folder.name), "path": str(adapter), "base_model": job.get("base_model", ""),
            "model_path": job.get("model_path", ""), "task": job.get("config", {}).get("task", ""),
            "job_id": folder.name, "created": job.get("created"),
            "merged_path": str(folder / "merged") if (folder / "merged" / "config.json").is_file() else "",
        })
    return found


def adapter_for(settings: Settings, owner: str, job_id: str) -> tuple[Path, dict[str, Any]]:
    folder = jobs.job_dir(settings.outputs, owner, job_id)
    adapter = folder / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise BadInput("This job has no finished adapter yet: wait until it is done.")
    return adapter, jobs.read_json(folder / "job.json", {})


def zip_adapter(settings: Settings, owner: str, job_id: str) -> Path:
    """<job>/<name>.zip with the adapter folder, made once and replaced whole."""
    adapter, job = adapter_for(settings, owner, job_id)
    target = adapter.parent / f"{job.get('name', 'adapter')}.zip"
    if target.is_file() and target.stat().st_mtime >= adapter.stat().st_mtime:
        return target
    with tempfile.TemporaryDirectory(dir=adapter.parent) as tmp:
        made = shutil.make_archive(str(Path(tmp) / "adapter"), "zip", root_dir=adapter.parent, base_dir="adapter")
        os.replace(made, target)
    return target


def load_with_adapter(model_path: str, adapter_path: str, task: str = "causal_lm", dtype: Any = None) -> Any:
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

    adapter, job = adapter_for(settings, owner, job_id)
    model = load_with_adapter(job["model_path"], str(adapter), job.get("config", {}).get("task", "causal_lm"))
    merged = model.merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(job["model_path"])

    def write(target: Path) -> None:
        merged.save_pretrained(target)
        tokenizer.save_pretrained(target)

    target = adapter.parent / "merged"
    jobs.save_dir_atomically(target, write)
    return target
