"""Import the ML libraries once, under a lock, before any loader runs.

transformers and diffusers resolve names lazily on first attribute access, and that first
resolution is not thread-safe: two Gradio events importing ``AutoTokenizer`` at the same
moment can fail with "cannot import name". Resolving every name the loaders and twin
builders use, once and serially, makes later imports plain dictionary look-ups.
"""

from __future__ import annotations

import importlib
import threading

_lock = threading.Lock()
_done = False
_extra: dict[str, set[str]] = {}  # registered by the modules that know them (studio.image.families)

NAMES = {
    "transformers": (
        "AutoConfig", "AutoTokenizer", "AutoModelForCausalLM", "PreTrainedTokenizerFast",
        "TextIteratorStreamer", "StoppingCriteria", "StoppingCriteriaList", "LogitsProcessor",
        "LogitsProcessorList", "GenerationConfig", "Qwen2Config", "BloomConfig", "GPT2Config",
        "BertTokenizerFast", "CLIPTokenizerFast", "CLIPTokenizer", "CLIPTextModel", "CLIPTextModelWithProjection",
        "Qwen3Model", "Qwen3Config",
    ),
    "diffusers": (
        "VQModel", "AutoencoderKL", "UNet2DConditionModel",
        # The samplers offered (studio.image); the families register their pipelines (register()).
        "EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler", "DPMSolverMultistepScheduler",
        "UniPCMultistepScheduler", "DDIMScheduler", "LCMScheduler", "FlowMatchEulerDiscreteScheduler",
    ),
    # Long and weighted CLIP prompts (studio.image.prompt_encoding); it imports diffusers pipelines itself.
    "compel": ("Compel", "ReturnedEmbeddingsType"),
}


def register(module_name: str, names: list[str] | tuple[str, ...]) -> None:
    """More names to resolve ahead (the image families' pipeline classes, read from the
    families as they are found); resolved at once when the libraries are already imported."""
    with _lock:
        _extra.setdefault(module_name, set()).update(names)
        if _done:
            _resolve({module_name: tuple(names)})


def _resolve(names_by_module: dict[str, tuple[str, ...]]) -> None:
    for module_name, names in names_by_module.items():
        module = importlib.import_module(module_name)
        for name in names:
            getattr(module, name)


def import_ml_libraries() -> None:
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        import torch  # noqa: F401  (first, as transformers and diffusers expect)

        _resolve(NAMES)
        _resolve({module_name: tuple(sorted(names)) for module_name, names in _extra.items()})
        _done = True
