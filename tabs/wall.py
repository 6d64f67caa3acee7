"""Class wall tab: results students chose to show the class, with their prompts. A student sends
one of their own results here ("Send to: Class wall", from the Image, Edit or Face swap tab) and
publishes it; everyone sees the wall, the teacher hides what should not be there and projects it
full screen; "Try this prompt" puts an item's settings into your own Image tab."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from studio import safety
from studio.errors import BadInput
from tabs import owner, roles
from tabs.common import TabContext, friendly
from tabs.gpu import GpuWork

REFRESH_SECONDS = 10.0
# Full screen on the projector: the browser's own full-screen view of the wall's gallery.
FULL_SCREEN_JS = "() => { document.querySelector('#wall-gallery')?.requestFullscreen?.(); }"


def build(ctx: TabContext) -> None:
    t, studio = ctx.t, ctx.studio

    def screen_on_gpu(path: str, safe: bool) -> bool:
        """Whether the picture may go on the wall (the safety checker, when it is on)."""
        from PIL import Image

        if not safe:
            return True
        with Image.open(path) as picture, safety.screening(studio, True):
            return safety.screen(picture.convert("RGB"))[1] is None

    screening = GpuWork(ctx, screen_on_gpu)

    def listing(request: gr.Request | None) -> list:
        teacher = roles.is_teacher(ctx, request)
        return [(item.path, ("🙈 " if item.hidden else "") + (item.author + ": " if item.author else "") + item.prompt[:80])
                for item in studio.wall.items(with_hidden=teacher)]

    def publish(path: str | None, browser_id: str, request: gr.Request | None) -> str:
        mine = owner.folder_for(ctx, request, browser_id)
        if path and Path(path).is_file() and Path(mine).resolve() in Path(path).resolve().parents:
            if not screening.call(request, owner.key_for(ctx, request, browser_id), "Wall: check", path,
                                  studio.class_rules.limits.safety):
                raise BadInput(safety.NOTE)
        author = str(getattr(request, "username", None) or "")
        return studio.wall.publish(owner.key_for(ctx, request, browser_id), mine, path, author).id

    # --- API ------------------------------------------------------------------------------

    def wall_items(request: gr.Request = None) -> list[dict]:
        """The class wall, newest first: each item's id, author, prompt and picture."""
        teacher = roles.is_teacher(ctx, request)
        return [{"id": i.id, "author": i.author, "prompt": i.prompt, "hidden": i.hidden,
                 "image": gr.FileData(path=i.path)} for i in studio.wall.items(with_hidden=teacher)]

    def wall_hide(item_id: str, hidden: bool = True, request: gr.Request = None) -> dict:
        """Hide (or show again) an item of the class wall. The teacher's only."""
        roles.require_teacher(ctx, request, "roles.hide_wall")
        item = studio.wall.set_hidden(str(item_id), bool(hidden))
        return {"id": item.id, "hidden": item.hidden}

    # --- the page -------------------------------------------------------------------------

    with gr.Tab(t("wall.tab"), id="wall") as tab:
        gr.Markdown(t("wall.intro"))
        with gr.Row():
            with gr.Column(scale=1):
                chosen = gr.State(None)  # the path a "send to" put here: one of the student's own results
                chosen_view = gr.Image(label=t("wall.chosen"), interactive=False, height=220, elem_id="wall-chosen")
                publish_button = gr.Button(t("wall.publish"), variant="primary", elem_id="wall-publish")
                said = gr.Markdown(elem_id="wall-said")
            with gr.Column(scale=3):
                gallery = gr.Gallery(label=t("wall.wall"), columns=4, height=520, allow_preview=True,
                                     elem_id="wall-gallery")
                picked = gr.State(None)  # the item's id
                to_try = gr.State(None)  # the picked item's picture, for "Try this prompt"
                prompt = gr.Markdown(elem_id="wall-prompt")
                with gr.Row():
                    try_button = gr.Button(t("wall.try"), elem_id="wall-try")
                    full = gr.Button(t("wall.full_screen"), elem_id="wall-full-screen")
                    refresh = gr.Button(t("wall.refresh"), size="sm")
                    hide = gr.Button(t("wall.hide"), variant="stop", visible=False, elem_id="wall-hide")
        timer = gr.Timer(REFRESH_SECONDS)
    ctx.send_to.register("wall", t("wall.send"), chosen, "wall")

    chosen.change(lambda path: path, chosen, chosen_view, api_visibility="private", show_progress="hidden")

    def ui_publish(path: str | None, browser_id: str, request: gr.Request = None):
        publish(path, browser_id, request)
        return t.for_request(request)("wall.published"), listing(request), None

    publish_button.click(friendly(ui_publish), [chosen, ctx.browser_id], [said, gallery, chosen],
                         api_visibility="private", show_progress="hidden")

    def ui_pick(event: gr.SelectData, request: gr.Request = None):
        items = studio.wall.items(with_hidden=roles.is_teacher(ctx, request))
        index = event.index if isinstance(event.index, int) else -1
        if not 0 <= index < len(items):
            return None, ""
        item = items[index]
        return item.id, f"**{item.author or t.for_request(request)('wall.someone')}:** {item.prompt or '—'}"

    gallery.select(friendly(ui_pick), None, [picked, prompt], api_visibility="private")

    def ui_hide(item_id: str | None, request: gr.Request = None):
        if not item_id:
            raise gr.Error(t.for_request(request)("wall.pick_first"), print_exception=False)
        item = studio.wall.find(item_id)
        wall_hide(item_id, not item.hidden, request)
        return listing(request)

    hide.click(friendly(ui_hide), picked, gallery, api_visibility="private")
    full.click(None, None, None, js=FULL_SCREEN_JS, api_visibility="private")

    def ui_refresh(request: gr.Request = None):
        return listing(request)

    refresh.click(friendly(ui_refresh), None, gallery, api_visibility="private")
    timer.tick(friendly(ui_refresh), None, gallery, api_visibility="private", show_progress="hidden")

    def on_load(_browser_id: str, request: gr.Request = None):
        return listing(request), gr.update(visible=roles.is_teacher(ctx, request))

    ctx.after_load.append((friendly(on_load), [gallery, hide]))

    def item_path(item_id: str | None, request: gr.Request = None) -> str:
        if not item_id:
            raise gr.Error(t.for_request(request)("wall.pick_first"), print_exception=False)
        return studio.wall.find(item_id).path

    # "Try this prompt": the Image tab's own restore, fed with the item's PNG (tabs.image).
    restore, restore_outputs = ctx.image_restore
    try_button.click(friendly(item_path), picked, to_try, api_visibility="private").success(
        restore, to_try, restore_outputs, api_visibility="private").success(
        lambda: gr.Tabs(selected="image"), None, ctx.main_tabs, api_visibility="private")
    with tab:  # an endpoint is a block: inside the tab, never loose among the tabs
        gr.api(friendly(wall_items), api_name="wall_items")
        gr.api(friendly(wall_hide), api_name="wall_hide")
