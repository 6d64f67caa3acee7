"""Text LoRAs trained in the Train tab, on the shared cached base model.

An adapter is loaded into the cached base once (transformers' PEFT integration) and switched
on per request through the model's ``AdapterGate``: requests with the same adapter (or none)
run side by side, a request with another one waits until the model is idle. A request
without an adapter runs with every adapter disabled, which gives exactly the base model's
tokens. Only the owner's own adapters can be picked (``studio.train.adapters``), and only
those trained on the model in use.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from studio.errors import BadInput
from studio.settings import Settings
from studio.text.limits import bounded_text, shown

MAX_LOADED = 8  # adapters kept loaded in a base model (a LoRA of r=8 is a few MB)
WEIGHTS = "adapter_model.safetensors"
MAX_JOB_ID_CHARS = 64  # job ids are 32 hex digits


@dataclass(frozen=True)
class TextAdapter:
    job_id: str
    name: str
    path: str  # the PEFT folder
    base_model: str

    @property
    def adapter_name(self) -> str:
        """Unique per folder and per version of its weights: a resumed job's new weights load anew."""
        weights = Path(self.path) / WEIGHTS
        stamp = weights.stat().st_mtime_ns if weights.is_file() else 0
        return "studio_" + hashlib.sha1(f"{self.path}:{stamp}".encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        return f"{self.name} · {self.job_id}"


def available(settings: Settings, owner: str, model_id: str | None) -> list[TextAdapter]:
    """The owner's finished causal-LM adapters trained on ``model_id`` (None: the default model)."""
    from studio.models import catalog
    from studio.train.adapters import list_adapters

    base = model_id or catalog.default_id(settings, "text")
    return [
        TextAdapter(found["job_id"], found["name"], found["path"], found["base_model"])
        for found in list_adapters(settings, owner)
        if found["task"] == "causal_lm" and found["base_model"] == base
    ]


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


def holding(text_model: Any, adapter: TextAdapter | None) -> Any:
    """Context manager: the block runs with ``adapter`` (or none) active on the cached model."""
    return text_model.adapter_gate.holding(gate_key(adapter), lambda: switch_to(text_model.model, adapter))


def switch_to(model: Any, adapter: TextAdapter | None) -> None:
    """Make ``adapter`` (or none) the active one on the shared ``model``. Runs only while no
    other request uses the model (``AdapterGate``)."""
    loaded = list(model.peft_config) if getattr(model, "_hf_peft_config_loaded", False) else []
    if adapter is None:
        if loaded:
            model.disable_adapters()
        return
    name = adapter.adapter_name
    if name not in loaded:
        stale = loaded[: max(0, len(loaded) + 1 - MAX_LOADED)]  # the first loaded go first
        if stale:
            model.delete_adapter(stale)
        try:
            model.load_adapter(adapter.path, adapter_name=name)
        except (ValueError, KeyError, RuntimeError, OSError) as exc:
            raise BadInput(
                f"The adapter {adapter.name} does not fit this model ({str(exc).splitlines()[0][:160]})."
            ) from None
    model.set_adapter(name)
    model.enable_adapters()


@contextmanager
def using(studio_ctx: Any, spec: Any, adapter: TextAdapter | None = None) -> Iterator[Any]:
    """The cached text model (``TextModel``) with ``adapter`` active, or with none: every user of
    a cached causal LM goes through here, so no one sees another request's adapter."""
    with studio_ctx.cache.use(spec) as text_model, holding(text_model, adapter):
        yield text_model
