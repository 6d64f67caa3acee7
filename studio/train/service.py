"""What the Train tab and the API call: check, estimate, start, watch, cancel, resume.

Everything here is quick: the training itself runs in the worker process the Runner starts.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio import jobs, zero_gpu
from studio.class_rules import ClassRules
from studio.errors import BadInput, ModelUnavailable
from studio.image import families
from studio.image.checkpoints import PRIVATE_LORAS
from studio.models import catalog, tiny
from studio.outputs import safe_name
from studio.settings import Settings
from studio.train import datasets
from studio.train.config import TrainConfig, adapter_file_name
from studio.train.runner import Runner

if TYPE_CHECKING:
    from transformers import PretrainedConfig

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "train"
SAMPLES = {"causal_lm": ASSETS / "act_as_roles.csv", "classification": ASSETS / "movie_reviews.csv",
           "image_lora": ASSETS / "red_circle"}
CATALOG_NAME = {"causal_lm": "text", "classification": "classifier", "image_lora": "image"}
# The class's lesson tunes bloom-560m; the classifier entry's own default is used as it is.
DEFAULT_BASE = {"causal_lm": "bigscience/bloom-560m"}
ZERO_GPU_REFUSAL = (
    "Training cannot run on a ZeroGPU Space: ZeroGPU lends a GPU for short calls only, and a training job "
    "needs one for minutes in its own process. In the Space settings pick dedicated GPU hardware "
    "(e.g. Nvidia T4 small or L4), or run the app on your own GPU machine or Colab."
)


def check_allowed(settings: Settings) -> None:
    if zero_gpu.forks(settings):  # a Space, or its twin (--zero-gpu-emulate)
        raise BadInput(ZERO_GPU_REFUSAL)
    if not settings.training:
        raise BadInput("Training is turned off on this server (--training off). Ask whoever runs it to start it with --training on.")


def default_base(settings: Settings, task: str) -> str:
    name = CATALOG_NAME.get(task, "text")
    if name in settings.models or task not in DEFAULT_BASE:  # a --model override wins
        return catalog.default_id(settings, name)
    return DEFAULT_BASE[task]


def base_models(settings: Settings, task: str) -> list[str]:
    """The Train tab's choices: the catalog's, less the image checkpoints it cannot tune."""
    first = default_base(settings, task)
    others = [m for m in catalog.choices(settings, CATALOG_NAME.get(task, "text")) if m != first]
    if task == "image_lora":
        others = [m for m in others if getattr(families.of_catalog_id(m), "trainable", True)]
    return [first] + others


def check_tunable_image_model(model_id: str) -> None:
    family = families.of_catalog_id(model_id)
    if family is not None and not family.trainable:
        raise BadInput(f"Image LoRA training works on SDXL checkpoints; {model_id} is a {family.label} one "
                       f"({family.train_note}). Pick stabilityai/stable-diffusion-xl-base-1.0.")


def resolve_model(settings: Settings, task: str, base_model: str) -> tuple[str, str]:
    """(the id a person reads, where from_pretrained loads it): a twin's folder in tiny."""
    name = CATALOG_NAME.get(task)
    if name is None:
        raise BadInput(f"Task must be one of {', '.join(CATALOG_NAME)}, not {task!r}.")
    model_id = (base_model or default_base(settings, task)).strip()
    spec = catalog.spec_for(settings, name, model_id)
    if task == "image_lora":
        check_tunable_image_model(model_id)
    if spec.source.startswith(tiny.TINY_PREFIX):
        return model_id, str(tiny.ensure_built(tiny.twin_name(spec.source), settings.tiny_dir))
    return model_id, spec.source


def model_config(location: str) -> PretrainedConfig:
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(location)
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(
            f"The configuration of {location!r} could not be read ({str(exc)[:200]}). Connect to the internet "
            "so it downloads, or run with --profile tiny."
        ) from None


def make_config(task: str, values: dict[str, Any] | None, base_model: str = "") -> TrainConfig:
    return TrainConfig.from_dict({**(values or {}), "task": task, "base_model": base_model})


def estimate(settings: Settings, task: str, base_model: str, values: dict[str, Any] | None) -> dict[str, Any]:
    from studio.devices import resolve_device
    from studio.train.estimate import estimate as from_config

    config = make_config(task, values, base_model)
    model_id, location = resolve_model(settings, task, base_model)
    if task == "image_lora":
        from studio.train.image_lora import estimate_unet

        return {"base_model": model_id, **estimate_unet(location, config)}
    result = from_config(model_config(location), config, resolve_device(settings.device))
    return {"base_model": model_id, **result}


def load_dataset(path: str | Path | None, task: str, settings: Settings) -> list[dict[str, str]]:
    if not path:
        raise BadInput("Upload a dataset (CSV, JSON, JSONL or TXT), or pick the sample.")
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"The dataset file {path.name} was not found: upload it again.")
    if path.stat().st_size > settings.max_upload_bytes:
        raise BadInput(f"{path.name} is larger than the {settings.max_upload_mb} MB upload limit.")
    return datasets.read_rows(path)


def fill_mapping(rows: list[dict[str, str]], task: str, values: dict[str, Any] | None) -> dict[str, Any]:
    """The user's column choices, with guesses for those left empty."""
    values = dict(values or {})
    guess = datasets.guess_mapping(datasets.columns(rows), task)
    for key, value in guess.items():
        if not values.get(key):
            values[key] = value
    return values


def preview(settings: Settings, task: str, dataset: str | Path | None, values: dict[str, Any] | None) -> dict[str, Any]:
    rows = load_dataset(dataset, task, settings)
    values = fill_mapping(rows, task, values)
    config = make_config(task, values)
    return {"columns": datasets.columns(rows), "mapping": {k: values[k] for k in datasets.guess_mapping([], task)},
            **datasets.preview(rows, config)}


def preview_images(source: str | Path, instance_prompt: str = "") -> dict[str, Any]:
    """How many pictures a set holds and the captions they will be trained with."""
    import tempfile

    from studio.train import image_data

    with tempfile.TemporaryDirectory() as tmp:
        count = image_data.gather(source, Path(tmp))
        pairs = image_data.captioned(Path(tmp), instance_prompt)
        return {"images": count, "captions": {image.name: caption for image, caption in pairs[:20]}}


def planned_steps(config: TrainConfig, examples: int) -> int:
    """The optimizer steps a job will run: max steps, else its epochs over ``examples``."""
    if config.max_steps:
        return config.max_steps
    batches = math.ceil(examples / max(1, config.batch_size))
    return math.ceil(batches / config.grad_accumulation) * config.epochs


def jobs_going(settings: Settings, owner: str) -> int:
    """The owner's jobs queued or running."""
    return sum(1 for folder in jobs.owner_jobs(settings.outputs, owner) if jobs.summary(folder)["state"] in jobs.ACTIVE)


def start(settings: Settings, runner: Runner, owner: str, task: str, dataset: str | Path | None,
          values: dict[str, Any] | None, base_model: str = "", adapter_name: str = "",
          rules: ClassRules | None = None) -> str:
    """Check everything, write the job folder, queue it; returns the job id. ``rules``: a
    student's limits (steps, jobs at once), None for the teacher."""
    check_allowed(settings)
    if task == "image_lora":
        return start_image(settings, runner, owner, dataset, values, base_model, adapter_name, rules)
    rows = load_dataset(dataset, task, settings)
    values = fill_mapping(rows, task, values)
    name = adapter_file_name(adapter_name or values.get("adapter_name") or f"{task}-{time.strftime('%m%d-%H%M%S')}")
    config = make_config(task, {**values, "adapter_name": name}, base_model)
    datasets.preview(rows, config)  # bad mappings and labels are refused now, not in the worker
    if rules is not None:
        rules.check_training(planned_steps(config, len(rows)), jobs_going(settings, owner))
    model_id, location = resolve_model(settings, task, base_model)
    job_id = jobs.new_job_id()
    folder = jobs.root(settings.outputs) / owner / job_id
    folder.mkdir(parents=True)
    suffix = Path(dataset).suffix.lower()
    shutil.copyfile(dataset, folder / f"dataset{suffix}")
    jobs.write_json(folder / "job.json", {
        "id": job_id, "owner": owner, "name": name, "created": time.time(), "base_model": model_id,
        "model_path": location, "device": settings.device, "dataset_file": f"dataset{suffix}",
        "dataset_name": Path(dataset).name, "config": config.to_dict(), "resume": False,
    })
    runner.submit(folder)
    return job_id


def start_image(settings: Settings, runner: Runner, owner: str, dataset: str | Path | None,
                values: dict[str, Any] | None, base_model: str = "", adapter_name: str = "",
                rules: ClassRules | None = None) -> str:
    """An SDXL LoRA job: pictures copied into the job folder, the result bound for the loras folder."""
    from studio.image.checkpoints import loras_dir
    from studio.train import image_data

    if not dataset or not Path(dataset).exists():
        raise BadInput("Upload a .zip of pictures (with optional .txt captions), or pick the sample.")
    name = adapter_file_name(adapter_name or (values or {}).get("adapter_name") or f"lora-{time.strftime('%m%d-%H%M%S')}")
    # Private to its owner: the Image tab lists another user's _users/ folder to nobody.
    folder_of_loras = Path(loras_dir(settings)).resolve() / PRIVATE_LORAS / safe_name(owner, "owner", 80)
    if (folder_of_loras / f"{name}.safetensors").exists():
        raise BadInput(f"Your LoRAs already have {name}.safetensors: pick another adapter name.")
    config = make_config("image_lora", {**(values or {}), "adapter_name": name}, base_model)
    model_id, location = resolve_model(settings, "image_lora", base_model)
    job_id = jobs.new_job_id()
    folder = jobs.root(settings.outputs) / owner / job_id
    try:
        count = image_data.gather(dataset, folder / "images")
        image_data.check_images(image_data.captioned(folder / "images", config.instance_prompt))
        if rules is not None:
            rules.check_training(planned_steps(config, count), jobs_going(settings, owner))
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    jobs.write_json(folder / "job.json", {
        "id": job_id, "owner": owner, "name": name, "created": time.time(), "base_model": model_id,
        "model_path": location, "device": settings.device, "dataset_file": "images", "images": count,
        "dataset_name": Path(dataset).name, "config": config.to_dict(), "resume": False,
        "loras_dir": str(folder_of_loras),
    })
    runner.submit(folder)
    return job_id


def status(settings: Settings, runner: Runner, owner: str, job_id: str) -> dict[str, Any]:
    folder = jobs.job_dir(settings.outputs, owner, job_id)
    info = jobs.summary(folder)
    queue = runner.queue()
    active = info["state"] in jobs.ACTIVE and job_id in queue
    info["queue_position"] = queue.index(job_id) if active else None  # 0 = running now
    info["queue_length"] = len(queue)
    return info


def list_jobs(settings: Settings, owner: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in jobs.summary(f).items() if k != "loss_history"} for f in jobs.owner_jobs(settings.outputs, owner)]


def cancel(settings: Settings, runner: Runner, owner: str, job_id: str) -> dict[str, Any]:
    runner.cancel(jobs.job_dir(settings.outputs, owner, job_id))
    return status(settings, runner, owner, job_id)


def resume(settings: Settings, runner: Runner, owner: str, job_id: str) -> dict[str, Any]:
    check_allowed(settings)
    runner.resume(jobs.job_dir(settings.outputs, owner, job_id))
    return status(settings, runner, owner, job_id)
