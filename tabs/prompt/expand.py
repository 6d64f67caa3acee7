"""Expand: an idea in any language into an English image prompt and its negative (variants,
language, CLIP tokens said in words), from the page and as the /expand_prompt endpoint."""

from __future__ import annotations

from typing import Callable

import gradio as gr

from studio.prompts.expand import ExpandOptions, ExpandRequest, ExpandResult
from studio.text import service
from studio.tokens.clip_limit import CLIP_LIMIT
from tabs.common import TabContext, friendly, gpu_event
from tabs.prompt.form import PromptForm
from tabs.prompt.work import PromptWork
from tabs.tools import request_api, request_of


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
    t = ctx.t

    def on_expand(text, length, target, temperature, seed, variants, keep_english, trim, model_id,
                  backend, endpoint_url, endpoint_model, endpoint_key, request: gr.Request = None):
        say = t.for_request(request)
        options = ExpandOptions(length, target, temperature, seed, variants, keep_english, trim, model_id)
        remote = service.RemoteChoice(backend, endpoint_url, endpoint_model, endpoint_key)
        job = request_of(ExpandRequest, {"text": text}, {"options": options, "remote": remote}, ctx.settings)
        result = work.expanded(request, job)
        best = result.best
        info_line = _language_markdown(say, result) + " · " + _tokens_markdown(say, best.tokens)
        if not best.expanded:  # the text came back as it was: say why here, not only in the variants
            info_line += "\n\n" + "\n\n".join(f"> {n}" for n in best.notes or [say("prompt.not_expanded")])
        return best.prompt, best.negative, info_line, _variants_markdown(result)

    expand_inputs = [form.text, form.length, form.target, form.temperature, form.seed, form.variants,
                     form.keep_english, form.trim, form.model_id, form.backend, form.endpoint_url,
                     form.endpoint_model, form.endpoint_key]
    form.expand_button.click(friendly(on_expand), expand_inputs, form.result_outputs, api_visibility="private",
                             **gpu_event(ctx))


SUMMARY = ("Turn `text` (any language) into an English image prompt and a negative prompt. Returns "
           "english_prompt, negative_prompt, clip_tokens (of 77), language, expanded (False: the original text "
           "came back, notes say why) and every variant.")


def register_api(ctx: TabContext, work: PromptWork) -> None:
    """/expand_prompt, its parameters made from ExpandRequest's declaration (tabs.tools.request_api)."""

    def run(job: ExpandRequest, request: gr.Request | None) -> dict:
        result = work.expanded(request, job)
        best = result.best
        return {
            "english_prompt": best.prompt, "negative_prompt": best.negative, "clip_tokens": best.tokens,
            "language": result.language.kind, "expanded": best.expanded, "notes": best.notes,
            "variants": [v.summary() for v in result.variants],
        }

    endpoint = request_api(ExpandRequest, "expand_prompt", SUMMARY, run, ctx.settings)
    gr.api(friendly(endpoint), api_name="expand_prompt", **gpu_event(ctx))
