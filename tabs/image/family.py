"""The Image tab's controls follow the picked checkpoint: its family's note, what it ignores
(greyed out, with why, and showing what will run instead), its samplers and default CFG; the
checkpoint and LoRA lists; Expand into English's default; and a Fooocus-style preset file."""

from __future__ import annotations

from typing import Callable

import gradio as gr

from studio.image import checkpoints, preset_files, presets
from studio.image.families.base import ImageFamily
from studio.prompts.for_image import should_expand
from tabs import owner
from tabs.common import TabContext, friendly
from tabs.i18n import or_english
from tabs.image.form import PRESET_SAMPLER, ImageForm, style_choices

# Controls a family may not use, by the name its ``unused`` table gives them.
GREYED = ("sharpness", "adaptive_cfg", "clip_skip")
ADM_FIELDS = ("adm_scaler_positive", "adm_scaler_negative", "adm_scaler_end")


def describe_family(family: ImageFamily, say: Callable[[str], str]) -> str:
    """What the Image tab says of a checkpoint's family: its note, and each control it ignores."""
    note = say(family.note_key)
    if note == family.note_key:  # a family with no strings in assets/i18n: its own description
        note = f"**{family.label}**: {family.description}" if family.description else f"**{family.label}**"
    return "\n".join([note] + [f"- {unused_reason(family, control, say)}" for control in family.unused])


def unused_reason(family: ImageFamily, control: str, say: Callable[[str], str]) -> str:
    """Why the family ignores ``control``, in the reader's language where translated."""
    return or_english(say, family.unused_key(control), family.unused[control])


def will_run(family: ImageFamily, performance: str | None, say: Callable[[str], str]) -> tuple[str, str]:
    """The empty steps and CFG boxes' placeholders: the numbers that will run, the preset's where
    the family follows presets, else the family's own."""
    if family.uses("performance"):
        preset = presets.performance(performance or presets.DEFAULT_PERFORMANCE)
        steps, cfg, whose = preset.steps, preset.cfg, say("image.will_run_preset")
    else:
        steps, cfg, whose = family.defaults.steps, family.defaults.cfg, say("image.will_run_model")
    return whose.format(value=steps), whose.format(value=f"{cfg:g}")


def wire_family_controls(ctx: TabContext, form: ImageForm, default_checkpoint: str) -> None:
    t, studio = ctx.t, ctx.studio
    fields = form.fields
    guided = [fields[name] for name in (*GREYED, *ADM_FIELDS)]
    outputs = [form.family_note, fields["performance"], fields["scheduler"], fields["negative_prompt"], fields["cfg"],
               fields["steps"], *guided]

    def on_checkpoint(name: str, performance: str | None, request: gr.Request = None):
        say = t.for_request(request)
        family = checkpoints.family_hint(studio, name)
        if family is None:
            return (say("image.family_unknown"), *(gr.update() for _ in outputs[1:]))
        uses_presets = family.uses("performance")
        sampler_choices = [(say("image.sampler_preset"), PRESET_SAMPLER)] + list(family.schedulers)
        # What will run: no preset shown selected where the family's own steps run (it looked
        # selected while 4 or 8 steps ran), and the empty steps and CFG boxes say the numbers.
        steps_hint, cfg_hint = will_run(family, performance, say)
        greyed = [gr.update(interactive=family.uses(control), info=None if family.uses(control)
                            else unused_reason(family, control, say)) for control in GREYED]
        adm = family.uses("adm_guidance")
        adm_updates = [gr.update(interactive=adm) for _ in ADM_FIELDS]
        return (
            describe_family(family, say),
            gr.update(interactive=uses_presets,
                      value=(performance or presets.DEFAULT_PERFORMANCE) if uses_presets else None),
            gr.update(choices=sampler_choices, value=PRESET_SAMPLER, interactive=family.uses("scheduler")),
            gr.update(info=unused_reason(family, "negative_prompt", say) if not family.uses("negative_prompt")
                      else say("image.negative_info")),
            gr.update(value=family.defaults.cfg if not uses_presets else None, placeholder=cfg_hint),
            gr.update(placeholder=steps_hint), *greyed, *adm_updates,
        )

    fields["checkpoint"].change(friendly(on_checkpoint), [fields["checkpoint"], fields["performance"]], outputs,
                                api_visibility="private")

    def on_performance(name: str, performance: str | None, request: gr.Request = None):
        family = checkpoints.family_hint(studio, name)
        if family is None:
            return gr.update(), gr.update()
        steps_hint, cfg_hint = will_run(family, performance, t.for_request(request))
        return gr.update(placeholder=steps_hint), gr.update(placeholder=cfg_hint)

    fields["performance"].change(friendly(on_performance), [fields["checkpoint"], fields["performance"]],
                                 [fields["steps"], fields["cfg"]], api_visibility="private", show_progress="hidden")

    def on_load(_browser_id: str, request: gr.Request = None):
        return on_checkpoint(default_checkpoint, presets.DEFAULT_PERFORMANCE, request)

    ctx.after_load.append((friendly(on_load), outputs))


def wire_lists(ctx: TabContext, form: ImageForm) -> None:
    """Refresh lists: new checkpoint and LoRA files without a restart; each user's own LoRAs."""
    settings = ctx.settings
    checkpoint, lora_names = form.fields["checkpoint"], form.lora_names

    def lora_choices(browser_id: str, request: gr.Request | None) -> list:
        """Shared LoRAs plus the ones this user trained (nobody else's)."""
        names = ["None"] + checkpoints.offered_loras(settings, owner.key_for(ctx, request, browser_id))
        return [gr.update(choices=names) for _ in lora_names]

    def refresh_lists(current: str, browser_id: str, request: gr.Request = None):
        names = checkpoints.offered(settings)
        return [gr.update(choices=names, value=current), gr.update(choices=preset_files.names(settings)),
                gr.update(choices=style_choices(ctx, ctx.t.for_request(request)))] + lora_choices(browser_id, request)

    form.refresh_button.click(friendly(refresh_lists), [checkpoint, ctx.browser_id],
                              [checkpoint, form.preset_file, form.fields["styles"], *lora_names],
                              api_visibility="private")

    def own_loras_on_load(browser_id: str, request: gr.Request = None):
        return lora_choices(browser_id, request)

    ctx.after_load.append((friendly(own_loras_on_load), lora_names))
    form.no_style.click(lambda: [], None, form.fields["styles"], api_visibility="private")


def wire_expand_default(ctx: TabContext, form: ImageForm) -> None:
    """Expand-into-English follows the prompt's language and the checkpoint's family."""
    studio = ctx.studio
    prompt, checkpoint = form.fields["prompt"], form.fields["checkpoint"]

    def expand_default(text: str, name: str) -> bool:
        """On for a family that reads English only (SDXL, SD 1.5, FLUX) when the prompt is not
        English; off for Z-Image (reads Chinese)."""
        family = checkpoints.family_hint(studio, name)
        return should_expand(text or "", family.name if family else "sdxl")

    for trigger in (prompt.blur, checkpoint.change):
        trigger(friendly(expand_default), [prompt, checkpoint], form.expand_toggle,
                api_visibility="private", show_progress="hidden")


def wire_preset_file(ctx: TabContext, form: ImageForm, apply_fields: Callable[..., dict]) -> None:
    """A Fooocus-style preset file (assets/presets, or the user's presets folder) sets the form:
    its checkpoint, LoRAs, performance, CFG, sharpness, sampler, styles and ratio; what it names
    that is not here is said, with what to download."""
    settings = ctx.settings

    def choose(name: str | None, request: gr.Request = None):
        if not name:
            return {}
        fields, notes = preset_files.request_fields(settings, preset_files.load(settings, name))
        say = ctx.t.for_request(request)
        said = say("image.preset_applied").format(name=name) + "".join(f"\n\n> {note}" for note in notes)
        return apply_fields(fields, said)

    form.preset_file.change(friendly(choose), form.preset_file, [*form.fields.values(), *form.lora_names,
                                                                 *form.lora_weights, form.status],
                            api_visibility="private")
