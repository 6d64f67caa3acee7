"""The Edit tab's smaller wiring: "use this result again", a choice's hint that follows it, and a
picture's own model and prompts brought along when it arrives."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from studio.image import checkpoints
from studio.pictures import outputs
from studio.pictures.reading import path_of
from studio.tools import Tool
from tabs.common import TabContext, friendly
from tabs.edit.layout import EditPage

if TYPE_CHECKING:
    from tabs.picture_input import PictureInput
    from tabs.tools import Control


def wire_again(ctx: TabContext, page: EditPage, edit_tools: list[Tool]) -> None:
    """"Use the result again": into the tool that made it (extend again, upscale again...)."""
    p = page
    pictures = [p.picture(tool) for tool in edit_tools]

    def use_again(path: str | None, made_by: str | None, request: gr.Request = None):
        if not path or made_by not in p.forms:
            raise gr.Error(ctx.t.for_request(request)("send.nothing"), print_exception=False)
        values = [path if tool.name == made_by else gr.update() for tool in edit_tools]
        return (*values, gr.Tabs(selected=f"edit-{made_by}"))

    p.again.click(friendly(use_again), [p.result_path, p.result_tool], [*pictures, p.tabs], api_visibility="private")
    for tool in edit_tools:  # the button belongs to the sub-tab whose tool made the result
        p.sub_tabs[tool.name].select(
            lambda made_by, name=tool.name, shown=tool.again: gr.update(visible=shown and made_by == name),
            p.result_tool, p.again, api_visibility="private", show_progress="hidden")


def wire_choice_hints(ctx: TabContext, edit_tools: list[Tool], forms: dict[str, dict[str, Any]]) -> None:
    """A choice whose hint depends on it (the outpaint unit: pixels or percent) says the one picked."""
    for tool in edit_tools:
        for field in tool.fields:
            if field.kind != "choice" or field.spec.hint != "radio" or not field.spec.info:
                continue
            component = forms[tool.name][field.name]
            keys = {value: f"{field.spec.info}.{value}" for value in field.choices(ctx.settings)}

            def hint(chosen: str, request: gr.Request = None, keys: dict = keys, base: str = field.spec.info):
                say = ctx.t.for_request(request)
                key = keys.get(chosen, base)
                said = say(key)
                return gr.update(info=said if said != key else say(base))

            component.change(hint, component, component, api_visibility="private", show_progress="hidden")


def wire_made_with(ctx: TabContext, pictures: list[PictureInput | gr.ImageEditor | gr.State],
                   shared: dict[str, Control]) -> None:
    """A picture made here (or by any A1111-style tool) brings its model and prompts along: the
    edit then redraws with the checkpoint it was made with (already in the cache)."""
    settings = ctx.settings
    checkpoint, prompt, negative = shared["checkpoint"], shared["prompt"], shared["negative_prompt"]
    default = checkpoints.offered(settings)[0]

    def made_with(value: Any, current_prompt: str, current_negative: str):
        path = path_of(value.get("background") if isinstance(value, dict) else value)
        if not path or not str(path).lower().endswith(".png"):
            return gr.update(), gr.update(), gr.update()
        try:
            found = outputs.read_request(Path(path))
        except Exception:  # no metadata, or a damaged file: the edit's own settings stay
            return gr.update(), gr.update(), gr.update()
        checkpoint_update = gr.update()
        if found.get("checkpoint") in checkpoints.offered(settings):
            checkpoint_update = gr.update(value=found["checkpoint"])
        elif "checkpoint" in found and not found["checkpoint"]:
            checkpoint_update = gr.update(value=default)
        prompt_update = gr.update(value=found["prompt"]) if found.get("prompt") and not current_prompt else gr.update()
        negative_update = (gr.update(value=found["negative_prompt"])
                           if found.get("negative_prompt") and not current_negative else gr.update())
        return checkpoint_update, prompt_update, negative_update

    for picture in pictures:
        picture.change(made_with, [picture, prompt, negative], [checkpoint, prompt, negative],
                       api_visibility="private", show_progress="hidden")
