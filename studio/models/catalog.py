"""The model catalog: for each capability, a default Hub id, the ids a user can pick,
and the tiny twin each one maps to in the offline ``tiny`` profile."""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.errors import ModelUnavailable
from studio.models.specs import ModelSpec
from studio.settings import Settings


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    kind: str
    default: str
    description: str
    # Hub id -> tiny twin name; the default must be among them.
    twins: dict[str, str] = field(default_factory=dict)
    subfolder: str | None = None

    @property
    def choices(self) -> list[str]:
        return list(self.twins)


CATALOG: dict[str, CatalogEntry] = {
    entry.name: entry
    for entry in (
        CatalogEntry(
            name="text",
            kind="causal_lm",
            default="Qwen/Qwen2.5-1.5B-Instruct",
            description="Chat and completion LLM for the Text tab and prompt expansion.",
            twins={
                "Qwen/Qwen2.5-1.5B-Instruct": "qwen2-chat",
                "Qwen/Qwen2.5-0.5B-Instruct": "qwen2-chat",
                "Qwen/Qwen2.5-3B-Instruct": "qwen2-chat",
                "bigscience/bloom-560m": "bloom",
                "openai-community/gpt2": "gpt2",
            },
        ),
        CatalogEntry(
            name="tokenizer",
            kind="tokenizer",
            default="openai-community/gpt2",
            description="Tokenizers offered by the tokenizer visualiser.",
            twins={
                "openai-community/gpt2": "gpt2",
                "Qwen/Qwen2.5-1.5B-Instruct": "qwen2-chat",
                "bigscience/bloom-560m": "bloom",
                "google-bert/bert-base-chinese": "bert-wordpiece",
                "openai/clip-vit-large-patch14": "clip",
            },
        ),
        CatalogEntry(
            name="vq",
            kind="vq",
            default="amused/amused-256",
            subfolder="vqvae",
            description="VQ-GAN image tokenizer (image as a sequence of codebook indices).",
            twins={"amused/amused-256": "vq", "amused/amused-512": "vq"},
        ),
    )
}


def entry(name: str) -> CatalogEntry:
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"no catalog entry {name!r}; known: {', '.join(CATALOG)}") from None


def default_id(settings: Settings, name: str) -> str:
    return settings.models.get(name, entry(name).default)


def choices(settings: Settings, name: str) -> list[str]:
    """Ids offered in dropdowns: the configured default first, then the catalog's."""
    first = default_id(settings, name)
    return [first] + [c for c in entry(name).choices if c != first]


def spec_for(settings: Settings, name: str, model_id: str | None = None) -> ModelSpec:
    """The spec to load for capability ``name``: the Hub id in ``standard``, its twin in ``tiny``."""
    item = entry(name)
    model_id = (model_id or default_id(settings, name)).strip()
    if not model_id:
        raise ModelUnavailable("Pick a model first: the model id is empty.")
    subfolder = item.subfolder if model_id in item.twins else None
    if settings.is_tiny and not model_id.startswith("tiny:"):
        twin = item.twins.get(model_id)
        if twin is None:
            raise ModelUnavailable(
                f"The tiny profile has no offline twin of {model_id!r}. "
                f"Pick one of: {', '.join(item.choices)}, or run with --profile standard."
            )
        model_id, subfolder = f"tiny:{twin}", None
    return ModelSpec(
        kind=item.kind, source=model_id, subfolder=subfolder, dtype=settings.dtype, label=name
    )
