"""Text LoRAs trained in the Train tab, on the shared cached base model.

An adapter is loaded into the cached base once (PEFT's functional API: its layers are injected
into the model in place, so the cache keeps one model object) and switched on per request
through the model's ``AdapterGate``: requests with the same adapter (or none)
run side by side, a request with another one waits until the model is idle. A request
without an adapter runs with every adapter disabled, which gives exactly the base model's
tokens. Only the owner's own adapters can be picked (``studio.train.adapters``), and only
those trained on the model in use.
"""

from __future__ import annotations

import hashlib
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from studio.errors import BadInput
from studio.settings import Settings
from studio.text.limits import bounded_text, shown

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from contextlib import AbstractContextManager

    from transformers import PreTrainedModel

    from studio.context import StudioContext
    from studio.models.specs import ModelSpec
    from studio.text.loading import TextModel

# Several adapters in one model is the point here (each request switches to its own).
warnings.filterwarnings("ignore", message="Already found a `peft_config` attribute", category=UserWarning)

MAX_LOADED = 8  # adapters kept loaded in a base model (a LoRA of r=8 is a few MB)
WEIGHTS = "adapter_model.safetensors"
MAX_JOB_ID_CHARS = 64  # job ids are 32 hex digits


@dataclass(frozen=True)
class TextAdapter:
    job_id: str
    name: str
    path: str  # the PEFT folder
    base_model: str
    version: int = 0  # when its weights were written (ns): a resumed job's new weights load anew

    @property
    def adapter_name(self) -> str:
        """Unique per folder and per version of its weights. Fixed when the adapter is resolved:
        every part of one request (a beam search's worker too) asks the gate for the same set."""
        return "studio_" + hashlib.sha1(f"{self.path}:{self.version}".encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        return f"{self.name} · {self.job_id}"


def available(settings: Settings, owner: str, model_id: str | None) -> list[TextAdapter]:
    """The owner's finished causal-LM adapters trained on ``model_id`` (None: the default model)."""
    from studio.models import catalog
    from studio.jobs import list_adapters

    base = model_id or catalog.default_id(settings, "text")
    return [
        TextAdapter(found["job_id"], found["name"], found["path"], found["base_model"], _written(found["path"]))
        for found in list_adapters(settings, owner)
        if found["task"] == "causal_lm" and found["base_model"] == base
    ]


def _written(folder: str) -> int:
    weights = Path(folder) / WEIGHTS
    return weights.stat().st_mtime_ns if weights.is_file() else 0


def resolve(settings: Settings, owner: str, model_id: str | None, job_id: Any) -> TextAdapter | None:
    """The adapter a request names by its job id ("" or None: the base model alone)."""
    wanted = bounded_text(job_id, "adapter (a job id)", MAX_JOB_ID_CHARS).strip()
    if wanted in ("", "none"):
        return None
    for adapter in available(settings, owner, model_id):
        if adapter.job_id == wanted:
            return adapter
    raise BadInput(
        f"No finished text adapter {shown(wanted)} of yours was trained on {model_id or 'the default model'}. "
        "Pick one from the Adapter list (it shows only your own adapters for the model in use)."
    )


def gate_key(adapter: TextAdapter | None) -> tuple:
    return () if adapter is None else (adapter.adapter_name,)


def holding(text_model: TextModel, adapter: TextAdapter | None) -> AbstractContextManager[None]:
    """Context manager: the block runs with ``adapter`` (or none) active on the cached model."""
    return text_model.adapter_gate.holding(gate_key(adapter), lambda: switch_to(text_model, adapter))


def switch_to(text_model: TextModel, adapter: TextAdapter | None) -> None:
    """Make ``adapter`` (or none) the active one on the shared model. Runs only while no other
    request uses the model (``AdapterGate``)."""
    from peft.functional import set_adapter

    model, loaded = text_model.model, text_model.adapters
    if adapter is None:
        _enable(model, False)
        return
    name = adapter.adapter_name
    if name not in loaded:
        for stale in loaded[: max(0, len(loaded) + 1 - MAX_LOADED)]:  # the first loaded go first
            _remove(model, stale)
            loaded.remove(stale)
        _load(model, adapter)
        loaded.append(name)
    set_adapter(model, name, inference_mode=True)
    _enable(model, True)


def _load(model: PreTrainedModel, adapter: TextAdapter) -> None:
    """Inject the adapter's layers and fill them; on any failure take them out again, so a broken
    file never leaves a half-loaded (zero-weight) adapter that a retry would switch on."""
    from peft import PeftConfig
    from peft.functional import inject_adapter_in_model, set_peft_model_state_dict
    from safetensors.torch import load_file

    name = adapter.adapter_name
    try:
        config = PeftConfig.from_pretrained(adapter.path)
        config.inference_mode = True
        # Saved from a PeftModel, whose own prefix this plain model does not have.
        weights = {key.removeprefix("base_model.model."): value
                   for key, value in load_file(str(Path(adapter.path) / WEIGHTS)).items()}
        inject_adapter_in_model(config, model, adapter_name=name)
        result = set_peft_model_state_dict(model, weights, adapter_name=name)
        if result.unexpected_keys:
            raise ValueError(f"weights for layers this model lacks, e.g. {result.unexpected_keys[0]}")
    except Exception as exc:  # noqa: BLE001 - any failure: undo, then one sentence
        _remove(model, name)
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise BadInput(f"The adapter {adapter.name} could not be loaded into this model ({reason}).") from None


def _remove(model: PreTrainedModel, name: str) -> None:
    from peft.functional import delete_adapter

    delete_adapter(model, name, prefix="lora_")


def _enable(model: PreTrainedModel, on: bool) -> None:
    from peft.tuners.tuners_utils import BaseTunerLayer

    for module in model.modules():
        if isinstance(module, BaseTunerLayer):
            module.enable_adapters(on)


@contextmanager
def using(studio: StudioContext, spec: ModelSpec, adapter: TextAdapter | None = None) -> Iterator[TextModel]:
    """The cached text model (``TextModel``) with ``adapter`` active, or with none: every user of
    a cached causal LM goes through here, so no one sees another request's adapter."""
    with studio.cache.use(spec) as text_model, holding(text_model, adapter):
        yield text_model
