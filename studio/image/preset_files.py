"""Preset files as Fooocus has them: one JSON object per file naming the checkpoint, LoRAs,
performance, CFG, sharpness, sampler and scheduler, styles and aspect ratio, under Fooocus's
own keys ("default_model", "default_loras", "default_cfg_scale", ...), so a Fooocus preset
can be copied in as it is.

The studio's own are assets/presets/*.json (one for each family of the catalog); a user's
own go in the presets folder (the ``presets_dir`` setting), read afresh on every call, and a
user preset of the same name replaces the studio's. ``load`` refuses a file that is not a
preset with a sentence; ``request_fields`` turns a preset into ImageRequest field values,
leaving out (with a note saying what to download, and from where) a model that is not here.

    names()                          -> ["default", "flux", "lightning", "zimage", ...]
    preset = load(settings, "lightning")
    fields, notes = request_fields(settings, preset)   # -> ImageRequest(**fields)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.errors import BadInput
from studio.image import checkpoints, guidance, presets, schedulers, styles
from studio.image.clip_skip import RANGE as CLIP_SKIP_RANGE
from studio.models import catalog, model_files
from studio.pictures.metadata import FOOOCUS_SAMPLERS
from studio.settings import Settings

PRESETS_DIR = Path(__file__).resolve().parents[2] / "assets" / "presets"
DEFAULT_FOLDER = Path("presets")  # the presets_dir setting's default
MAX_FILE_BYTES = 200_000  # a preset is a few hundred bytes; Fooocus's largest about 2 kB
NONE = ("", "None")  # how Fooocus writes an empty LoRA slot or model


@dataclass(frozen=True)
class Preset:
    name: str
    source: str  # "studio" or the user's file
    description: str
    values: dict[str, Any] = field(repr=False)


def user_folder(settings: Settings) -> Path:
    return Path(getattr(settings, "presets_dir", None) or DEFAULT_FOLDER)


def _files(settings: Settings) -> dict[str, Path]:
    """Preset name -> file: the studio's, then the user's (a user's file replaces one of its name)."""
    found: dict[str, Path] = {}
    for folder in (PRESETS_DIR, user_folder(settings)):
        try:
            found.update({p.stem: p for p in sorted(Path(folder).glob("*.json")) if p.is_file()})
        except OSError:
            continue
    return found


def names(settings: Settings) -> list[str]:
    """Every preset a user can pick (the files are not opened: a bad one says so when picked)."""
    return list(_files(settings))


def load(settings: Settings, name: str) -> Preset:
    """Preset ``name``, checked; a sentence for a missing or malformed file."""
    files = _files(settings)
    path = files.get(str(name or "").strip())
    if path is None:
        raise BadInput(f"There is no preset {str(name)[:60]!r}. Pick one of: {', '.join(files) or 'none'}.")
    return read(path, "studio" if path.parent == PRESETS_DIR else f"{path.parent.name}/{path.name}")


def read(path: Path, source: str) -> Preset:
    """One preset file, checked field by field."""
    label = f"The preset file {Path(path).name}"
    try:
        if Path(path).stat().st_size > MAX_FILE_BYTES:
            raise BadInput(f"{label} is too large to be a preset (a preset is a few hundred bytes).")
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise BadInput(f"{label} cannot be read ({exc.strerror or exc}).") from None
    except ValueError as exc:
        raise BadInput(f"{label} is not valid JSON ({exc}). Fix it, or remove it from the presets folder.") from None
    if not isinstance(data, dict):
        raise BadInput(f'{label} is not a preset: a preset is one JSON object such as {{"default_model": ...}}.')
    _check(data, label)
    return Preset(Path(path).stem, source, str(data.get("description", "")), data)


def _check(data: dict[str, Any], label: str) -> None:
    """Each key the studio reads has the type and range Fooocus gives it (other keys are Fooocus's
    own, such as its refiner, and are ignored)."""
    texts = ("default_model", "default_performance", "default_sampler", "default_scheduler", "default_aspect_ratio",
             "default_prompt", "default_prompt_negative", "description")
    for key in texts:
        if key in data and data[key] is not None and not isinstance(data[key], str):
            raise BadInput(f"{label}: {key} must be text, not {json.dumps(data[key])[:40]}.")
    numbers = {"default_cfg_scale": (0.0, 30.0), "default_sample_sharpness": guidance.SHARPNESS_RANGE,
               "default_cfg_tsnr": guidance.ADAPTIVE_CFG_RANGE, "default_clip_skip": CLIP_SKIP_RANGE,
               "default_overwrite_step": (-1, 150)}
    for key, (low, high) in numbers.items():
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise BadInput(f"{label}: {key} must be a number from {low:g} to {high:g}, not {json.dumps(value)[:40]}.")
    if "default_styles" in data and not (isinstance(data["default_styles"], list)
                                         and all(isinstance(s, str) for s in data["default_styles"])):
        raise BadInput(f'{label}: default_styles must be a list of style names, such as ["Fooocus V2"].')
    for lora in data.get("default_loras") or []:
        if not (isinstance(lora, list) and len(lora) in (2, 3) and isinstance(lora[-2], str)
                and isinstance(lora[-1], (int, float)) and not isinstance(lora[-1], bool)):
            raise BadInput(f'{label}: each of default_loras is [enabled, "file.safetensors", weight] '
                           f"(or [name, weight]), not {json.dumps(lora)[:60]}.")


# --- a preset as request fields ---


def request_fields(settings: Settings, preset: Preset) -> tuple[dict[str, Any], list[str]]:
    """The ImageRequest fields ``preset`` sets (only those it names), and notes on what it asks for
    that is not here: a model to download (the fields keep the user's own then), an unknown
    style or sampler."""
    data, notes = preset.values, []
    fields: dict[str, Any] = {}
    model = str(data.get("default_model") or "").strip()
    if model and model not in NONE:
        found, note = _checkpoint(settings, model, data.get("checkpoint_downloads") or {})
        if found:
            fields["checkpoint"] = model
        notes += [note] if note else []
    if "default_loras" in data:
        fields["loras"], lora_notes = _loras(settings, data["default_loras"] or [], data.get("lora_downloads") or {})
        notes += lora_notes
    performance = data.get("default_performance")
    if performance:
        if performance in presets.PERFORMANCES:
            fields["performance"] = performance
        else:
            notes.append(f"Performance {performance!r} is not offered here; one of {', '.join(presets.PERFORMANCES)} is.")
    for key, name in (("default_cfg_scale", "cfg"), ("default_sample_sharpness", "sharpness"),
                      ("default_cfg_tsnr", "adaptive_cfg"), ("default_clip_skip", "clip_skip")):
        if data.get(key) is not None:
            fields[name] = data[key]
    if (data.get("default_overwrite_step") or -1) > 0:
        fields["steps"] = int(data["default_overwrite_step"])
    sampler, note = _sampler(data.get("default_sampler"), data.get("default_scheduler"))
    if sampler:
        fields["scheduler"] = sampler
    notes += [note] if note else []
    if "default_styles" in data:
        known = styles.available(Path(getattr(settings, "styles_dir", None) or styles.DEFAULT_FOLDER))
        fields["styles"] = tuple(dict.fromkeys(s for s in data["default_styles"] if s in known))
        missing = [s for s in data["default_styles"] if s not in known]
        if missing:
            notes.append(f"Styles not found here: {', '.join(missing)} (a style file with them in the styles "
                         "folder adds them).")
    ratio = str(data.get("default_aspect_ratio") or "").replace("*", "×").split(" ")[0]
    if ratio:
        try:
            fields["aspect_ratio"] = presets.aspect_label(*presets.parse_aspect(ratio))
        except BadInput:
            notes.append(f"Aspect ratio {ratio} is not offered here; the current one is kept.")
    for key, name in (("default_prompt", "prompt"), ("default_prompt_negative", "negative_prompt")):
        if data.get(key):
            fields[name] = data[key]
    return fields, notes


def _checkpoint(settings: Settings, model: str, downloads: dict[str, str]) -> tuple[bool, str]:
    """Whether ``model`` can be used here, and a sentence when it must be downloaded first."""
    if model in catalog.choices(settings, "image") or model in catalog.entry("image").twins:
        if settings.is_tiny or _in_hub_cache(model):
            return True, ""
        return True, (f"The preset's model {model} is not downloaded yet: it downloads on first use (several GB), "
                      f"or fetch it now with `hf download {model}`.")
    if model_files.exists(checkpoints.checkpoints_dir(settings), model):
        return True, ""
    where = f" from {downloads[model]}" if isinstance(downloads.get(model), str) else ""
    return False, (f"The preset's checkpoint {model} is not in {checkpoints.checkpoints_dir(settings)}: download it"
                   f"{where} into that folder, then pick the preset again. The current checkpoint is kept.")


def _in_hub_cache(repo: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo, "model_index.json"), str)
    except (OSError, ValueError):
        return False


def _loras(settings: Settings, slots: list[Any], downloads: dict[str, str]) -> tuple[tuple[tuple[str, float], ...], list[str]]:
    """Fooocus's [enabled, name, weight] slots -> the LoRAs that are here; a note for each that is not."""
    folder = checkpoints.loras_dir(settings)
    kept: list[tuple[str, float]] = []
    notes: list[str] = []
    for slot in slots:
        enabled, name, weight = (True, *slot) if len(slot) == 2 else slot
        name = str(name).strip()
        if not enabled or name in NONE:
            continue
        if model_files.exists(folder, name):
            kept.append((name, float(weight)))
        else:
            where = f" from {downloads[name]}" if isinstance(downloads.get(name), str) else ""
            notes.append(f"The preset's LoRA {name} is not in {folder}: download it{where} into that folder to use it.")
    return tuple(kept), notes


def _sampler(sampler: Any, scheduler: Any) -> tuple[str | None, str]:
    """A studio sampler name, or Fooocus's sampler and scheduler pair, as the studio's sampler."""
    if not sampler:
        return None, ""
    if sampler in schedulers.SCHEDULERS:
        return sampler, ""
    mapped = FOOOCUS_SAMPLERS.get((sampler, scheduler or "normal"))
    if mapped:
        return mapped, ""
    return None, f"Sampler {sampler} ({scheduler}) has no equivalent here; the preset's performance sampler is used."
