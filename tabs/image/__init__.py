"""Image tab: Fooocus-style generation (styles, presets, preset files, aspect ratios, seeds,
LoRAs, sharpness and the other guidance hooks, image prompts) with live previews, Cancel, a
per-browser history, PNG metadata round trip and "send to". One module per part:

- ``form``: the controls (the declared Advanced ones from ImageRequest's declaration);
- ``generation``: the GPU's part, a run in its turn, the page's run and the API;
- ``results``: details, the gallery and history, a picture's settings back into the form;
- ``follow``: a reloaded page finds its run;
- ``family``: the controls follow the checkpoint's family; lists; preset files;
- ``tabs.image_prompt_panel`` (the Edit tab shows it too): the image prompts' slots.

Only components and wiring here: the work is in ``studio.image``."""

from __future__ import annotations

import gradio as gr

from studio.image import checkpoints
from tabs.common import TabContext, friendly, gpu_event
from tabs.image import family, follow, generation, grid, results
from tabs.image.form import build_form
from tabs.image_prompt_panel import wire_panel


def build(ctx: TabContext) -> None:
    t = ctx.t
    work = generation.Generation(ctx)
    grid_work = grid.GridWork(ctx)
    with gr.Tab(t("image.tab"), id="image") as tab:
        gr.Markdown(t("image.intro"))
        form = build_form(ctx)
        grid_controls = grid.build_grid(ctx)
    ctx.send_to.register_prompt("image", form.fields["prompt"], form.fields["negative_prompt"], "image")
    default_checkpoint = checkpoints.offered(ctx.settings)[0]
    with tab:
        generation.wire_generation(ctx, work, form)
        follow.wire_follow(ctx, work.runs, form)
        results.wire_results(ctx, form)
        results.wire_restore(ctx, form)
        family.wire_family_controls(ctx, form, default_checkpoint)
        family.wire_lists(ctx, form)
        family.wire_expand_default(ctx, form)
        family.wire_preset_file(ctx, form, lambda fields, said: {**results.field_updates(form, fields),
                                                                 form.status: said})
        wire_panel(ctx, form.prompt_panel, form.fields["checkpoint"], default_checkpoint, work.previewing)
        grid.wire_grid(ctx, grid_work, form, grid_controls)
        endpoints = generation.api_endpoints(ctx, work)
        gr.api(friendly(endpoints["generate_image"]), api_name="generate_image", **gpu_event(ctx))
        gr.api(friendly(grid.grid_endpoint(ctx, grid_work, endpoints["generate_image"])), api_name="xyz_grid",
               **gpu_event(ctx))
        gr.api(friendly(endpoints["image_prompt_preview"]), api_name="image_prompt_preview", **gpu_event(ctx))
        gr.api(friendly(endpoints["styles"]), api_name="styles")
