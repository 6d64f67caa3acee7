"""Expand: an idea in any language into an English image prompt and its negative (variants,
language, CLIP tokens said in words), from the page and as the /expand_prompt endpoint."""

from __future__ import annotations

from typing import Callable

import gradio as gr

from studio.prompts.expand import ExpandOptions, ExpandResult
from studio.text import service
from studio.tokens.clip_limit import CLIP_LIMIT
from tabs import api_types
from tabs.common import TabContext, friendly, gpu_event
from tabs.prompt.form import PromptForm
from tabs.prompt.work import PromptWork


def _language_markdown(say: Callable[[str], str], result: ExpandResult) -> str:
    kind = say(f"prompt.lang_{result.language.kind}")
    return say("prompt.language").format(kind=kind, share=result.language.cjk_share)


def _tokens_markdown(say: Callable[[str], str], tokens: int) -> str:
    return say("prompt.tokens_over" if tokens > CLIP_LIMIT else "prompt.tokens").format(tokens=tokens)


def _variants_markdown(result: ExpandResult) -> str:
    lines = []
    for index, variant in enumerate(result.variants, 1):
        seed = f"seed {variant.seed} · " if variant.seed is not None else ""
        lines.append(f"**{index}.** {seed}{variant.tokens} CLIP tokens\n\n{variant.prompt}")
        lines += [f"> {note}" for note in variant.notes]
    return "\n\n".join(lines)


def wire_expand(ctx: TabContext, work: PromptWork, form: PromptForm) -> None:
    t, settings = ctx.t, ctx.settings

    def on_expand(text, length, target, temperature, seed, variants, keep_english, trim, model_id,
                  backend, endpoint_url, endpoint_model, endpoint_key, request: gr.Request = None):
        say = t.for_request(request)
        endpoint = service.endpoint_for(settings, backend, endpoint_url, endpoint_model, endpoint_key)
        options = ExpandOptions(length, target, temperature, seed, variants, keep_english, trim, model_id or None)
        result = work.expanded(request, text, options, endpoint)
        best = result.best
        info_line = _language_markdown(say, result) + " · " + _tokens_markdown(say, best.tokens)
        if not best.expanded:  # the text came back as it was: say why here, not only in the variants
            info_line += "\n\n" + "\n\n".join(f"> {note}" for note in best.notes or [say("prompt.not_expanded")])
        return best.prompt, best.negative, info_line, _variants_markdown(result)

    expand_inputs = [form.text, form.length, form.target, form.temperature, form.seed, form.variants,
                     form.keep_english, form.trim, form.model_id, form.backend, form.endpoint_url,
                     form.endpoint_model, form.endpoint_key]
    form.expand_button.click(friendly(on_expand), expand_inputs, form.result_outputs, api_visibility="private",
                             **gpu_event(ctx))


def register_api(ctx: TabContext, work: PromptWork) -> None:
    settings = ctx.settings

    def expand_prompt(
        text: str,
        length: api_types.ExpansionLength = "medium",
        target: api_types.ExpansionTarget = "sdxl",
        temperature: float = 0.7,
        seed: int = -1,
        variants: int = 1,
        keep_english: bool = True,
        trim_to_77_tokens: bool = False,
        model_id: str = "",
        backend: api_types.TextBackend = "local",
        endpoint_url: str = "",
        endpoint_model: str = "",
        endpoint_api_key: str = "",
        request: gr.Request = None,
    ) -> dict:
        """Turn `text` (any language) into an English image prompt and a negative prompt.
        length: short | medium | rich. target: sdxl (comma-separated tags) | zimage (sentences).
        seed -1 = random; variant i (1-4 variants) uses seed + i. keep_english: English text is
        returned as it is. model_id '' = the Text tab's default LLM; backend 'openai' uses
        endpoint_*. Returns english_prompt, negative_prompt, clip_tokens (of 77), language,
        expanded (False: the original text came back, notes say why) and every variant."""
        endpoint = service.endpoint_for(settings, backend, endpoint_url, endpoint_model, endpoint_api_key)
        options = ExpandOptions(length, target, temperature, seed, variants, keep_english, trim_to_77_tokens,
                                model_id or None)
        result = work.expanded(request, text, options, endpoint)
        best = result.best
        return {
            "english_prompt": best.prompt, "negative_prompt": best.negative, "clip_tokens": best.tokens,
            "language": result.language.kind, "expanded": best.expanded, "notes": best.notes,
            "variants": [v.summary() for v in result.variants],
        }

    gr.api(friendly(expand_prompt), api_name="expand_prompt", **gpu_event(ctx))
