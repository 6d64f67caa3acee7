"""The image-prompt panel: up to four slots (picture, type, weight, stop-at), each slot's map
beside its picture, the type's defaults, and what the picked checkpoint lacks. The Image tab
shows it, and so does every declared tool with an ``image_prompts`` field (tabs.tools): the
Edit tab's shared diffusion settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gradio as gr

from studio.errors import BadInput, StudioError, shown
from studio.image import checkpoints, image_prompts
from studio.image.image_prompts.slots import STOP_RANGE, WEIGHT_RANGE
from tabs import owner
from tabs.common import TabContext, friendly, uploaded
from tabs.gpu import GpuWork
from tabs.i18n import or_english
from tabs.picture_input import PictureInput

if TYPE_CHECKING:
    from PIL import Image

    from tabs.i18n import Translator


@dataclass
class ImagePromptPanel:
    note: gr.Markdown
    advanced: gr.Checkbox  # off: each type's own weight and stop-at
    images: list[PictureInput] = field(default_factory=list)
    types: list[gr.Radio] = field(default_factory=list)
    weights: list[gr.Slider] = field(default_factory=list)
    stops: list[gr.Slider] = field(default_factory=list)
    maps: list[gr.Image] = field(default_factory=list)
    says: list[gr.Markdown] = field(default_factory=list)

    @property
    def inputs(self) -> list[gr.components.Component]:
        """What a request reads: every slot's picture, type, weight and stop-at, and the switch."""
        return [*self.images, *self.types, *self.weights, *self.stops, self.advanced]

    def slots(self, values: dict) -> tuple[dict, ...]:
        """The request's image prompts, from the handler's {component: value}."""
        advanced = values[self.advanced]
        return tuple(
            {"image": values[image], "type": values[kind], "weight": values[weight] if advanced else None,
             "stop_at": values[stop] if advanced else None}
            for image, kind, weight, stop in zip(self.images, self.types, self.weights, self.stops) if values[image]
        )


    def value_from(self, values: dict) -> tuple[dict, ...]:  # tabs.tools reads every composite control so
        return self.slots(values)


PROMPT_PICTURE = "each image prompt's picture"


def api_slots(slots: Any) -> tuple:
    """The API's image prompts ([{image, type, weight, stop_at}, ...]) with their uploaded files."""
    if not slots:
        return ()
    if isinstance(slots, dict):  # one slot on its own
        slots = [slots]
    if not isinstance(slots, (list, tuple)):
        raise BadInput(f"Image prompts must be a list of slots ([{{image, type, weight, stop_at}}]), not {shown(slots)}.",
                       key="errors.field_list", field="Image prompts", value=shown(slots))
    out = []
    for slot in slots:
        if isinstance(slot, dict):
            slot = {**slot, "image": uploaded(slot.get("image"), PROMPT_PICTURE)}
        elif isinstance(slot, (list, tuple)) and slot:  # [image, type, weight, stop_at]
            slot = [uploaded(slot[0], PROMPT_PICTURE), *slot[1:]]
        out.append(slot)
    return tuple(out)


def build_panel(t: Translator, prefix: str = "image") -> ImagePromptPanel:
    """The slots, in the layout block open now; ``prefix`` starts their element ids."""
    gr.Markdown(t("image.prompts_info"))
    panel = ImagePromptPanel(
        note=gr.Markdown(elem_id=f"{prefix}-prompts-note"),
        advanced=gr.Checkbox(False, label=t("image.prompts_advanced"), elem_id=f"{prefix}-prompts-advanced"),
    )
    first = image_prompts.TYPES[0]
    stop, weight = image_prompts.DEFAULTS[first]
    for number in range(1, image_prompts.MAX_SLOTS + 1):
        with gr.Row(elem_id=f"{prefix}-prompt-{number}"):
            panel.images.append(PictureInput(type="filepath", label=t(f"image.prompt_slot_{number}"),
                                         sources=["upload", "clipboard"], height=180, scale=2,
                                         elem_id=f"{prefix}-prompt-{number}-input"))
            with gr.Column(scale=2, min_width=160):
                panel.types.append(gr.Radio(list(image_prompts.TYPES), value=first, label=t("image.prompt_type"),
                                            elem_id=f"{prefix}-prompt-{number}-type"))
                panel.weights.append(gr.Slider(*WEIGHT_RANGE, value=weight, step=0.05, label=t("image.prompt_weight"),
                                               visible=False, elem_id=f"{prefix}-prompt-{number}-weight"))
                panel.stops.append(gr.Slider(*STOP_RANGE, value=stop, step=0.01, label=t("image.prompt_stop"),
                                             visible=False, elem_id=f"{prefix}-prompt-{number}-stop"))
                panel.says.append(gr.Markdown(elem_id=f"{prefix}-prompt-{number}-says"))
            panel.maps.append(gr.Image(label=t("image.prompt_map"), interactive=False, height=180, scale=2,
                                       elem_id=f"{prefix}-prompt-{number}-map"))
    return panel


def previewing_work(ctx: TabContext) -> GpuWork:
    """The GPU's part of a slot's map (a face needs the detector): plain values in and out."""

    def preview_on_gpu(path: str, kind: str) -> Image.Image:
        return image_prompts.preview(ctx.studio, path, kind)

    return GpuWork(ctx, preview_on_gpu)


def wire_panel(ctx: TabContext, panel: ImagePromptPanel, checkpoint: gr.Dropdown, default_checkpoint: str,
               previewing: GpuWork) -> None:
    """Each slot's map and type defaults, the advanced switch, and the checkpoint's note.
    ``previewing``: the Image tab's GPU function for a slot's map (a face needs the detector)."""
    studio = ctx.studio

    def show_map(image: str | None, kind: str, browser_id: str, request: gr.Request = None):
        """The slot's map, or a sentence (no face found...) under it; never an error toast."""
        if not image:
            return None, ""
        try:
            return previewing.call(request, owner.key_for(ctx, request, browser_id), f"Image prompt preview: {kind}",
                                   image, kind), ""
        except (StudioError, gr.Error) as exc:
            return None, f"> {getattr(exc, 'message', None) or exc}"

    def type_defaults(kind: str):
        stop, weight = image_prompts.DEFAULTS.get(kind, (0.5, 1.0))
        return weight, stop

    for image, kind, weight, stop, shown, says in zip(panel.images, panel.types, panel.weights, panel.stops,
                                                      panel.maps, panel.says):
        for trigger in (image.change, kind.change):
            trigger(friendly(show_map), [image, kind, ctx.browser_id], [shown, says], api_visibility="private",
                    show_progress="minimal")
        kind.change(type_defaults, kind, [weight, stop], api_visibility="private", show_progress="hidden")

    def show_advanced(on: bool):
        return [gr.update(visible=on) for _ in panel.weights + panel.stops]

    panel.advanced.change(show_advanced, panel.advanced, panel.weights + panel.stops, api_visibility="private",
                          show_progress="hidden")

    def family_note(name: str, request: gr.Request = None):
        family = checkpoints.family_hint(studio, name)
        if family is None:
            return ""
        lacking = [kind for kind in image_prompts.TYPES if kind not in family.image_prompt_models]
        if not lacking:
            return ""
        say = ctx.t.for_request(request)
        note = or_english(say, family.image_prompt_key, family.image_prompt_note)
        return "> " + say("image.prompts_lacks").format(label=family.label, kinds=", ".join(lacking), note=note)

    checkpoint.change(friendly(family_note), checkpoint, panel.note, api_visibility="private", show_progress="hidden")

    def note_on_load(_browser_id: str, request: gr.Request = None):
        return family_note(default_checkpoint, request)

    ctx.after_load.append((friendly(note_on_load), [panel.note]))
