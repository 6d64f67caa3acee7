"""Prompt tab: an idea in any language expanded into an English image prompt (LLM, or GPT-2
restricted to visual words), an image described as a prompt, the result sent to the Image
tab, and the same seed drawn from both prompts. The work is in ``studio.prompts``.
One module per part:

- ``work``: the GPU's part, and a student's model checked at the door;
- ``form``: the idea, the result and the expansion's options;
- ``expand`` / ``classic``: the two ways to expand (and /expand_prompt);
- ``describe``: a picture into a caption, taken as the prompt on request (and /describe_image);
- ``compare``: the same seed from both prompts;
- ``links``: Send to Image, and "use the Text tab's model".
"""

from __future__ import annotations

import gradio as gr

from studio.models import catalog
from tabs.common import TabContext
from tabs.prompt import expand
from tabs.prompt.classic import wire_classic
from tabs.prompt.compare import layout_compare, wire_compare
from tabs.prompt.describe import layout_describe, wire_describe
from tabs.prompt.form import build_form
from tabs.prompt.links import wire_links
from tabs.prompt.work import PromptWork


def build(ctx: TabContext) -> None:
    t = ctx.t
    model_choices = catalog.choices(ctx.settings, "text")
    work = PromptWork(ctx)
    with gr.Tab(t("prompt.tab"), id="prompt"):
        gr.Markdown(t("prompt.intro"))
        form = build_form(ctx)
        describing = layout_describe(ctx)
        comparing = layout_compare(t)
        expand.wire_expand(ctx, work, form)
        wire_classic(ctx, work, form)
        wire_describe(ctx, work, form, describing)
        wire_links(ctx, form, model_choices[0])
        wire_compare(ctx, work, form, comparing)
        expand.register_api(ctx, work)
