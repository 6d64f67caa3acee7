"""Edit tab: every edit tool (studio.tools, declared once) as a sub-tab of one tab.

One tab, because the tools share everything around the picture: the Image tab's model and
prompt (the tools' ``diffusion`` group, shown once), the progress / preview / Cancel column, and
the result, which goes straight into another sub-tab (outpaint again, inpaint the outpainted
picture, upscale the inpainted one). Each sub-tab, its API endpoint, its GPU estimate and its
"send to" target are made from the tool's declaration (tabs.tools): a new tool is a new module
in studio/image/edit/ and nothing here. The work is in ``studio.image.edit``. One module per part:

- ``work``: the GPU's part and how a run starts;
- ``layout``: the components;
- ``runs``: a tool's run from the page;
- ``wiring``: "use again", choice hints, a picture's own model and prompts.
"""

from __future__ import annotations

import gradio as gr

from studio import tools
from studio.image import checkpoints
from tabs.common import TabContext, friendly, gpu_event
from tabs.edit.layout import build_page
from tabs.edit.runs import wire_runs
from tabs.edit.wiring import wire_again, wire_choice_hints, wire_made_with
from tabs.edit.work import EditWork
from tabs.tools import api_function, text_of, wire_composites


def build(ctx: TabContext) -> None:
    edit_tools = tools.tools("edit")
    work = EditWork(ctx)
    with gr.Tab(ctx.t("edit.tab"), id="edit"):
        page = build_page(ctx, edit_tools)
        sent = gr.State(None)  # the path of a picture sent from another tab, as it was sent
        for tool in edit_tools:
            ctx.send_to.register(f"edit-{tool.name}", text_of(ctx, f"edit.send_{tool.name}", f"Edit: {tool.name}"),
                                 page.picture(tool), "edit", inner=((page.tabs, f"edit-{tool.name}"),), sent=sent)
        wire_runs(ctx, work, page, edit_tools)
        wire_again(ctx, page, edit_tools)
        wire_composites(ctx, page.shared, page.shared["checkpoint"], checkpoints.offered(ctx.settings)[0])
        wire_choice_hints(ctx, edit_tools, page.forms)
        wire_made_with(ctx, [*(page.picture(tool) for tool in edit_tools), sent], page.shared)
        for tool in edit_tools:
            gr.api(friendly(api_function(tool, work.api_runner(tool), ctx.settings)), api_name=tool.name,
                   **gpu_event(ctx))
