"""How each kind of model is loaded: one ``from_pretrained`` path for real ids and tiny twins."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

from studio.errors import ModelUnavailable
from studio.models import hub_access, tiny
from studio.models.specs import ModelSpec
from studio.references import resolve

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class LoadRequest:
    """Everything a loader needs; ``location`` is a Hub id or a local folder."""

    location: str
    subfolder: str | None
    revision: str | None
    variant: str | None
    dtype: torch.dtype
    # True when the Hub cannot be reached: only the local HF cache is read, so a loader
    # fails at once instead of retrying the network for most of a minute.
    local_files_only: bool = False

    def hub_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.local_files_only:
            kwargs["local_files_only"] = True
        if self.subfolder:
            kwargs["subfolder"] = self.subfolder
        if self.revision:
            kwargs["revision"] = self.revision
        if self.variant:
            kwargs["variant"] = self.variant
        return kwargs


M = TypeVar("M")
P = TypeVar("P")


@dataclass
class ModelWithProcessor(Generic[M, P]):
    """A Hub model and the processor that makes its inputs (BLIP, Grounding DINO, SAM, the safety
    checker); the cache moves ``model`` and leaves ``processor``."""

    model: M
    processor: P


def load_with_processor(request: LoadRequest, model_class: type[M], processor_class: type[P],
                        dtype: torch.dtype | None = None) -> ModelWithProcessor[M, P]:
    """``model_class`` and ``processor_class`` from ``request.location``; the model in ``dtype``
    (default: the request's), in eval mode."""
    kwargs = request.hub_kwargs()
    processor = processor_class.from_pretrained(request.location, **kwargs)  # type: ignore[attr-defined]
    model = model_class.from_pretrained(request.location, dtype=request.dtype if dtype is None else dtype,  # type: ignore[attr-defined]
                                        **kwargs)
    return ModelWithProcessor(model=model.eval(), processor=processor)


# kind -> "module:function"; the function takes a LoadRequest and returns the model
# (on CPU; the cache moves it to its device).
LOADERS: dict[str, str] = {
    "causal_lm": "studio.text.loading:load_causal_lm",
    "masked_lm": "studio.text.diffusion.loading:load_masked_lm",
    "tokenizer": "studio.tokens.loading:load_tokenizer",
    "vq": "studio.tokens.loading:load_vq",
    "image_pipeline": "studio.image.loading:load_image_pipeline",
    "captioner": "studio.prompts.describe:load_captioner",
    "onnx": "studio.faces.onnx_model:load_onnx",
    "controlnet": "studio.image.image_prompts.models:load_controlnet",
    "ip_adapter": "studio.image.image_prompts.models:load_ip_adapter",
    "image_encoder": "studio.image.image_prompts.models:load_image_encoder",
    "zimage_controlnet": "studio.image.image_prompts.models:load_zimage_controlnet",
    "upscaler": "studio.image.edit.upscaler:load_upscaler",
    "zero_shot_detector": "studio.image.edit.segment:load_detector",
    "segmenter": "studio.image.edit.segment:load_segmenter",
    "safety_checker": "studio.safety:load_safety_checker",
}


def _loader(kind: str) -> Callable[[LoadRequest], Any]:
    return resolve(LOADERS[kind])


def hub_cache_dir() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def unavailable_message(source: str, reason: str) -> str:
    parts = source.split("/")
    # One file of a repository ("owner/repo/path/file.pth", as the upscalers and face models are
    # named) downloads as `hf download owner/repo path/file.pth`.
    command = f"{'/'.join(parts[:2])} {'/'.join(parts[2:])}" if len(parts) > 2 else source
    return (
        f"Model {source!r} could not be loaded ({reason}). "
        f"It is looked up in the Hugging Face cache at {hub_cache_dir()}. "
        "Fix: connect to the internet so it downloads on first use, pre-download it with "
        f"`hf download {command}`, check the id for typos, or run offline with `--profile tiny`."
    )


def offline_reason(source: str, hub: hub_access.HubAccess) -> str | None:
    """Why loading ``source`` must read the local HF cache only; None when the Hub may be asked."""
    if Path(source).is_dir() or hub_access.offline_mode():
        return None  # a local folder needs no Hub; HF_HUB_OFFLINE already keeps the client local
    if hub.reachable():
        return None
    return f"no internet connection: {hub.endpoint} did not answer, and the local cache does not have it"


def load(spec: ModelSpec, dtype: torch.dtype, tiny_root: Path, hub: hub_access.HubAccess | None = None) -> Any:
    """Load ``spec`` onto the CPU in ``dtype``; a clear ModelUnavailable instead of a traceback.

    ``hub`` says whether the Hub answers (default: the shared, cached probe)."""
    offline = None
    if spec.is_tiny:
        location = str(tiny.ensure_built(tiny.twin_name(spec.source), tiny_root))
    else:
        location = spec.source
        offline = offline_reason(location, hub or hub_access.shared)
    request = LoadRequest(
        location, spec.subfolder, spec.revision, spec.variant, dtype, local_files_only=offline is not None
    )
    load_fn = _loader(spec.kind)
    try:
        return load_fn(request)
    except ModelUnavailable:
        raise
    except (OSError, ValueError) as exc:
        # huggingface_hub's offline / not-found / bad-id errors derive from these.
        if spec.is_tiny:
            raise
        reason = offline or (str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
        raise ModelUnavailable(unavailable_message(spec.source, reason)) from exc
