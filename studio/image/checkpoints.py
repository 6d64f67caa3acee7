"""Which checkpoints and LoRAs a user can pick, and the cache spec / file behind each name.

Offered: the catalog's Hub ids (their tiny twins in the tiny profile), then every
``.safetensors`` file and diffusers folder under the checkpoints folder. LoRAs: every
``.safetensors`` under the loras folder. Listed afresh each time, so new files show up
without a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from studio.errors import BadInput, ModelUnavailable
from studio.image.loras import LoraFile
from studio.models import catalog, model_files, tiny
from studio.models.specs import ModelSpec
from studio.settings import Settings

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext

CHECKPOINT_SUFFIXES = (".safetensors",)
LORA_SUFFIXES = (".safetensors",)
# LoRAs a user trained in the Train tab: loras/_users/<owner key>/, listed to that owner only.
PRIVATE_LORAS = "_users"


def checkpoints_dir(settings: Settings) -> Path:
    return Path(getattr(settings, "checkpoints_dir", None) or Path("models") / "checkpoints")


def loras_dir(settings: Settings) -> Path:
    return Path(getattr(settings, "loras_dir", None) or Path("models") / "loras")


def offered(settings: Settings) -> list[str]:
    local = model_files.list_files(checkpoints_dir(settings), CHECKPOINT_SUFFIXES, with_pipeline_folders=True)
    return catalog.choices(settings, "image") + [name for name in local if name not in catalog.entry("image").twins]


def offered_loras(settings: Settings, owner: str | None = None) -> list[str]:
    """The shared LoRAs, then this owner's own (trained here); never another user's."""
    folder = loras_dir(settings)
    shared = [n for n in model_files.list_files(folder, LORA_SUFFIXES) if not n.startswith(PRIVATE_LORAS + "/")]
    if not owner:
        return shared
    own = f"{PRIVATE_LORAS}/{owner}"
    return shared + [f"{own}/{name}" for name in model_files.list_files(folder / own, LORA_SUFFIXES)]


def spec(studio: StudioContext, name: str | None) -> ModelSpec:
    settings = studio.settings
    name = (name or "").strip() or catalog.default_id(settings, "image")
    if name in catalog.choices(settings, "image") or name.startswith(tiny.TINY_PREFIX):
        return studio.spec("image", name)
    folder = checkpoints_dir(settings)
    if model_files.exists(folder, name) or name.endswith(CHECKPOINT_SUFFIXES):
        path = model_files.resolve(folder, name, "checkpoint")
        # The file's time is part of the key: a file replaced under the same name is reloaded.
        return ModelSpec(
            kind="image_pipeline", source=str(path.resolve()), revision=f"mtime-{int(path.stat().st_mtime)}",
            dtype=settings.dtype, label="image",
        )
    return studio.spec("image", name)  # any Hub id (standard profile)


def lora_files(studio: StudioContext, pairs: tuple[tuple[str, float], ...], owner: str | None = None) -> list[LoraFile]:
    folder = loras_dir(studio.settings)
    files = []
    for name, weight in pairs:
        parts = name.replace("\\", "/").split("/")
        if parts[0] == PRIVATE_LORAS and (len(parts) < 3 or parts[1] != owner):
            raise BadInput(f"No LoRA called {name[:80]!r} among yours. Refresh the list and pick one.")
        files.append(LoraFile(model_files.resolve(folder, name, "LoRA"), weight, name))
    return files


def preset_lora(studio: StudioContext, entry_name: str) -> LoraFile:
    """The speed-up LoRA of a performance preset (LCM, Lightning): a Hub file, or its twin."""
    item = catalog.entry(entry_name)
    repo = catalog.default_id(studio.settings, entry_name)
    if studio.settings.is_tiny:
        folder = tiny.ensure_built(item.twins[item.default], studio.settings.tiny_dir)
        path = next(folder.glob("*.safetensors"))
    else:
        from huggingface_hub import hf_hub_download

        from studio.models import hub_access

        # Offline, look in the local cache only: no 46 s of retries before the message.
        local_only = hub_access.offline_mode() or not hub_access.shared.reachable()
        try:
            path = Path(hf_hub_download(repo, item.weight_name, local_files_only=local_only))
        except (OSError, ValueError) as exc:
            from studio.models.loaders import unavailable_message

            raise ModelUnavailable(unavailable_message(repo, str(exc).splitlines()[0][:160])) from exc
    return LoraFile(path, 1.0, f"{repo} ({item.weight_name})")


def check_sizes(width: int, height: int, multiple: int, label: str) -> None:
    if width % multiple or height % multiple:
        raise BadInput(
            f"{label} needs width and height in multiples of {multiple}; {width}×{height} is not. "
            f"Try {width // multiple * multiple}×{height // multiple * multiple}."
        )


def family_hint(studio: StudioContext, name: str | None):
    """The family of a checkpoint without loading it (None when only loading can tell)."""
    from studio.image import families, loading

    settings = studio.settings
    name = (name or "").strip() or catalog.default_id(settings, "image")
    listed = families.of_catalog_id(name)
    if listed is not None:
        return listed
    try:
        path = model_files.resolve(checkpoints_dir(settings), name, "checkpoint")
        return loading.family_of_single_file(path) if path.is_file() else loading.family_of_folder(path)
    except BadInput:
        return None
