"""Job folders: outputs/train/<owner>/<job>/ holds everything about one job, so the list of
jobs, their state and their progress survive a page reload and an app restart.

  job.json       what to train (settings, dataset copy, base model), written once
  state.json     queued | running | done | failed | cancelled | interrupted, pid, message
  log.jsonl      one JSON line per optimizer step: step, loss, lr, samples/s, ETA
  checkpoints/   step-000010/ ... (adapter + optimizer state), each written whole
  adapter/       the final PEFT adapter (safetensors)

Below both the Train tab's work (studio.train) and the Text tab's adapter choice (studio.text):
each reads the folders, neither imports the other.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from studio.errors import BadInput
from studio.outputs import owner_key, safe_name
from studio.settings import Settings

TRAIN = "train"
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
ACTIVE = ("queued", "running")
RESUMABLE = ("interrupted", "cancelled", "failed")
ADAPTER_FILES = ("adapter_config.json", "pytorch_lora_weights.safetensors")  # PEFT, or an SDXL LoRA


owner_name = owner_key  # one naming rule for every tool's per-user folders


def root(outputs: Path) -> Path:
    return Path(outputs) / TRAIN


def new_job_id() -> str:
    return uuid.uuid4().hex


def job_dir(outputs: Path, owner: str, job_id: str) -> Path:
    """An owner's job folder; ids that are not ours are refused (no path tricks)."""
    if not JOB_ID.match(str(job_id or "")):
        raise BadInput(f"{str(job_id)[:40]!r} is not a job id (32 hex characters).")
    folder = root(outputs) / safe_name(owner, "owner", 80) / job_id
    if not (folder / "job.json").is_file():
        raise BadInput("No such training job for you: it was started by someone else, or deleted.")
    return folder


def write_json(path: Path, data: Any) -> None:
    """Write whole or not at all: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def save_dir_atomically(folder: Path, write: Callable[[Path], None]) -> None:
    """Write into a temporary sibling, then rename: a reader sees the old folder or the new one."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        write(staging)
        if folder.exists():
            old = folder.with_name(f".{folder.name}-old-{os.getpid()}")
            os.replace(folder, old)
            os.replace(staging, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def read_state(folder: Path) -> dict[str, Any]:
    return read_json(Path(folder) / "state.json", {"state": "unknown"})


# What a job's state says, by key: English here; the Train tab words it in the reader's
# language (assets/i18n/train.json, keys train.msg.<key>).
MESSAGES = {
    "queued": "Waiting for the training slot.",
    "starting": "starting…",
    "loading": "loading the model…",
    "training": "training…",
    "training_from": "training from step {step}…",
    "cancelled_before": "Cancelled before it started.",
    "cancelled": "Cancelled. The last checkpoint is kept.",
    "interrupted": "The app stopped while this job ran. Resume continues from its last checkpoint.",
    "crashed": ("The training process ended unexpectedly with exit code {code}{why}. The app is fine; "
                "Resume continues from the last checkpoint."),
    "stopped": "Stopped ({why}).",
    "stopped_kept": "Stopped ({why}). The last checkpoint ({checkpoint}) is kept; Resume continues from it.",
    "done": "Finished after {steps} steps.",
    "failed": "Training failed: {detail}",
}


def message(key: str, **args: Any) -> dict[str, Any]:
    """A state message by key, for ``set_state``: its English, its key and its values."""
    return {"message": MESSAGES[key].format(**args), "message_key": key, "message_args": args}


def set_state(folder: Path, state: str, **extra: Any) -> dict[str, Any]:
    if "message" in extra and "message_key" not in extra:  # plain text (an error's own words): no stale key
        extra.update(message_key=None, message_args={})
    data = {**read_state(folder), "state": state, "updated": time.time(), **extra}
    write_json(Path(folder) / "state.json", data)
    return data


def read_log(folder: Path) -> list[dict[str, Any]]:
    """The step lines so far (a line being written is skipped)."""
    lines = []
    try:
        text = (Path(folder) / "log.jsonl").read_text(encoding="utf-8")
    except OSError:
        return lines
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def trim_log(folder: Path, step: int) -> None:
    """On resume, forget steps after the checkpoint (they are run again)."""
    lines = [line for line in read_log(folder) if line.get("step", 0) <= step]
    write_text = "".join(json.dumps(line) + "\n" for line in lines)
    (Path(folder) / "log.jsonl").write_text(write_text, encoding="utf-8")


def checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints, oldest first (a checkpoint appears only once fully written)."""
    return sorted(p for p in (Path(folder) / "checkpoints").glob("step-*") if (p / "trainer_state.pt").is_file())


def owner_jobs(outputs: Path, owner: str) -> list[Path]:
    folder = root(outputs) / safe_name(owner, "owner", 80)
    jobs = [p for p in folder.glob("*") if JOB_ID.match(p.name) and (p / "job.json").is_file()]
    return sorted(jobs, key=lambda p: read_json(p / "job.json", {}).get("created", 0), reverse=True)


def all_jobs(outputs: Path) -> list[Path]:
    return [p for owner in root(outputs).glob("*") for p in owner.glob("*") if (p / "job.json").is_file()]


MAX_PLOTTED = 1000  # loss points a status carries; the job's loss.csv keeps every step


def thinned(points: list[Any], most: int = MAX_PLOTTED) -> list[Any]:
    """At most ``most`` of ``points``, evenly spaced, the first and the last always kept: a status
    is polled every second, and a long job's whole history would grow each answer without end."""
    if len(points) <= most:
        return points
    stride = (len(points) - 1) / (most - 1)
    return [points[round(i * stride)] for i in range(most)]


def summary(folder: Path) -> dict[str, Any]:
    """What a page or script shows about one job."""
    job = read_json(folder / "job.json", {})
    state = read_state(folder)
    log = read_log(folder)
    last = log[-1] if log else {}
    adapter = folder / "adapter"
    return {
        "job_id": folder.name,
        "name": job.get("name", ""),
        "task": job.get("config", {}).get("task", ""),
        "base_model": job.get("base_model", ""),
        "created": job.get("created"),
        "state": state.get("state"),
        "message": state.get("message", ""),
        "pid": state.get("pid"),
        "step": last.get("step", 0),
        "total_steps": last.get("total_steps") or state.get("total_steps", 0),
        "loss": last.get("loss"),
        "eta_seconds": last.get("eta_seconds"),
        "samples_per_second": last.get("samples_per_second"),
        "loss_history": thinned([{"step": line["step"], "loss": line["loss"]} for line in log if "loss" in line]),
        "checkpoints": [p.name for p in checkpoints(folder)],
        "adapter_path": str(adapter) if any((adapter / f).is_file() for f in ADAPTER_FILES) else "",
        "lora_file": (read_json(folder / "image_lora.json") or {}).get("path", ""),
        "evaluation": read_json(folder / "eval.json"),
        "resumable": state.get("state") in RESUMABLE and bool(checkpoints(folder)),
    }


def list_adapters(settings: Settings, owner: str) -> list[dict[str, Any]]:
    """The owner's finished adapters, newest first: name, path, base model, task, job id."""
    found = []
    for folder in owner_jobs(settings.outputs, owner):
        adapter = folder / "adapter"
        if not (adapter / "adapter_config.json").is_file():
            continue
        job = read_json(folder / "job.json", {})
        found.append({
            "name": job.get("name", folder.name), "path": str(adapter), "base_model": job.get("base_model", ""),
            "model_path": job.get("model_path", ""), "task": job.get("config", {}).get("task", ""),
            "job_id": folder.name, "created": job.get("created"),
            "merged_path": str(folder / "merged") if (folder / "merged" / "config.json").is_file() else "",
        })
    return found


def adapter_for(settings: Settings, owner: str, job_id: str) -> tuple[Path, dict[str, Any]]:
    folder = job_dir(settings.outputs, owner, job_id)
    adapter = folder / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise BadInput("This job has no finished adapter yet: wait until it is done.")
    return adapter, read_json(folder / "job.json", {})
