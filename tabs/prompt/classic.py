"""Classic: GPT-2, restricted to visual words, extends the idea (Fooocus V2's way); its result
fills the same boxes as an expansion."""

from __future__ import annotations

import gradio as gr

from tabs import owner
from tabs.common import TabContext, friendly, gpu_event
from tabs.prompt.form import PromptForm
from tabs.prompt.work import PromptWork


def wire_classic(ctx: TabContext, work: PromptWork, form: PromptForm) -> None:
    t = ctx.t

    def on_classic(text, temperature, seed, request: gr.Request = None):
        say = t.for_request(request)
        result = work.classic_expanding.call(request, owner.key_for(ctx, request), "Prompt: classic", text, temperature,
                                             seed)
        tokenizer_note = say("prompt.classic_added").format(count=len(result.added), seed=result.seed)
        return result.prompt, gr.update(), "\n\n".join([tokenizer_note] + [f"> {n}" for n in result.notes]), ""

    form.classic_button.click(friendly(on_classic), [form.text, form.temperature, form.seed], form.result_outputs,
                              api_visibility="private", **gpu_event(ctx))
