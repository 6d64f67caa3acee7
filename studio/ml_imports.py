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
        # The samplers offered (studio.image); the families' pipelines are read from the families.
        "EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler", "DPMSolverMultistepScheduler",
        "UniPCMultistepScheduler", "DDIMScheduler", "LCMScheduler", "FlowMatchEulerDiscreteScheduler",
    ),
    # Long and weighted CLIP prompts (studio.image.prompt_encoding); it imports diffusers pipelines itself.
    "compel": ("Compel", "ReturnedEmbeddingsType"),
}


def import_ml_libraries() -> None:
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        import torch  # noqa: F401  (first, as transformers and diffusers expect)

        from studio.image.families import pipeline_class_names

        names_by_module = {**NAMES, "diffusers": NAMES["diffusers"] + tuple(pipeline_class_names())}
        for module_name, names in names_by_module.items():
            module = importlib.import_module(module_name)
            for name in names:
                getattr(module, name)
        _done = True
