"""The Image tab's results: what a picture's details say, the gallery and the history (this
browser's own), and a picture's settings put back into the form (the studio's, Fooocus's or an
A1111 PNG's: studio.image.picture_settings)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import gradio as gr

from studio.image import picture_settings
from studio.pictures import metadata, outputs
from tabs import owner
from tabs.common import TabContext, friendly
from tabs.image.form import PRESET_SAMPLER, ImageForm

if TYPE_CHECKING:
    from studio.image.edit.results import EditResult
    from studio.image.request import ImageResult


def gallery_item(result: ImageResult | EditResult) -> tuple[str, str]:
    return result.path or result.image, f"seed {result.seed}"


def details_markdown(summary: dict[str, Any], say: Callable[[str], str] | None = None) -> str:
    """A picture's details (its parameters), in the reader's language where ``say`` is given."""
    said = say or (lambda key: {"image.details_prompt": "Prompt sent to the model:", "image.details_negative":
                                "Negative:", "image.details_steps": "steps"}.get(key, key))
    resolved = summary.get("resolved", {})
    lines = [
        f"**seed {resolved.get('seed')}** · {resolved.get('width')}×{resolved.get('height')} · "
        f"{resolved.get('steps')} {said('image.details_steps')} · {resolved.get('scheduler')} · "
        f"CFG {resolved.get('cfg')} · `{resolved.get('model')}`",
        f"**{said('image.details_prompt')}** {resolved.get('prompt') or '(empty)'}",
    ]
    if resolved.get("negative_prompt"):
        lines.append(f"**{said('image.details_negative')}** {resolved['negative_prompt']}")
    if resolved.get("loras"):
        lines.append("**LoRAs:** " + ", ".join(f"{name} ({weight:g})" for name, weight in resolved["loras"]))
    slots = (summary.get("request") or {}).get("image_prompts") or []
    if slots:
        lines.append("**Image prompts:** " + ", ".join(
            f"{s['type']} (weight {s['weight']:g}, stop at {s['stop_at']:g}, picture #{(s.get('image_sha256') or '')[:8]})"
            for s in slots))
    if summary.get("safety"):
        lines.append("**Safety:** " + str(summary["safety"]))
    return "\n\n".join(lines)


def wire_results(ctx: TabContext, form: ImageForm) -> None:
    """Picking a result or a history picture shows its details; the history is this browser's."""

    def pick_result(summaries: list, event: gr.SelectData, request: gr.Request = None):
        index = event.index if isinstance(event.index, int) else 0
        value = event.value or {}
        path = (value.get("image") or {}).get("path") if isinstance(value, dict) else None
        info = summaries[index] if index < len(summaries) else {}
        return path, details_markdown(info, ctx.t.for_request(request)) if info else ""

    form.gallery.select(pick_result, form.last_results, [form.selected_path, form.details], api_visibility="private")

    def pick_history(event: gr.SelectData, request: gr.Request = None):
        value = event.value or {}
        path = (value.get("image") or {}).get("path") if isinstance(value, dict) else None
        if not path:
            return None, ""
        found = metadata.read_parameters(path)
        return path, details_markdown(found["studio"], ctx.t.for_request(request)) if "studio" in found else ""

    form.history.select(friendly(pick_history), None, [form.selected_path, form.details], api_visibility="private")

    def show_history(browser_id: str, request: gr.Request = None):
        return outputs.history(owner.folder_for(ctx, request, browser_id))

    form.history_button.click(friendly(show_history), ctx.browser_id, form.history, api_visibility="private")
    ctx.after_load.append((friendly(show_history), [form.history]))


def field_updates(form: ImageForm, data: dict[str, Any]) -> dict:
    """Updates that put request fields (by name) into the form; LoRA rows filled in order."""
    updates: dict = {}
    for name, component in form.fields.items():
        if name in data:
            value = data[name]
            if name == "styles":
                value = list(value)
            if name == "scheduler":
                value = value or PRESET_SAMPLER
            updates[component] = value
    if "loras" in data:
        loras = data.get("loras") or []
        for i, (name_box, weight_box) in enumerate(zip(form.lora_names, form.lora_weights)):
            name, weight = loras[i] if i < len(loras) else ("None", 1.0)
            updates[name_box], updates[weight_box] = name, weight
    return updates


def wire_restore(ctx: TabContext, form: ImageForm) -> None:
    """A PNG's settings back into the form: the picked result or history picture, or a dropped file."""
    t, settings = ctx.t, ctx.settings

    def restore(path: str | None, request: gr.Request = None):
        """Put the settings a PNG carries back into the controls (the studio's, Fooocus's, A1111's)."""
        say = t.for_request(request)
        if not path:
            raise gr.Error(say("send.nothing"), print_exception=False)
        data, notes = picture_settings.request_fields(metadata.read_parameters(path), settings.styles_dir)
        updates = field_updates(form, data)
        updates[form.status] = say("image.status_restored") + "".join(f"\n\n> {n}" for n in notes)
        return updates

    restore_outputs = [*form.fields.values(), *form.lora_names, *form.lora_weights, form.status]
    for trigger, source in ((form.restore_button.click, form.selected_path), (form.drop_png.upload, form.drop_png)):
        trigger(friendly(restore), source, restore_outputs, api_visibility="private")
    ctx.image_restore = (friendly(restore), restore_outputs)  # the class wall's "Try this prompt"
