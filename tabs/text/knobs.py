"""The sampling knobs, declared once: their controls (the right-hand column), the presets that set
them, and how their values become a ``SamplingSettings``. Adding a knob = a SamplingSettings field
+ one line in KNOBS (+ its labels in assets/i18n/text.json); the UI, the presets, saved records and
the API all follow it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from studio.text.sampling import MAX_BEAMS, MAX_NEW_TOKENS, PRESETS, SamplingSettings
from tabs.i18n import Translator

BALANCED = PRESETS["Balanced"]
# The explorer starts from the raw distribution: every filter off.
UNFILTERED = SamplingSettings(decoding="sample", temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)


@dataclass(frozen=True)
class Knob:
    """One sampling control: the SamplingSettings field it sets (also its API parameter's
    name) and how its component is made (starting at the Balanced preset)."""

    name: str
    control: Callable[[Translator], gr.components.Component]
    advanced: bool = False  # under "More settings"
    preset: bool = True  # a preset sets it
    explorer: bool = False  # it also steers the next-token explorer


KNOBS = (
    Knob("decoding", lambda t: gr.Radio(
        [(t("text.greedy"), "greedy"), (t("text.sampling"), "sample"), (t("text.beam"), "beam")],
        value=BALANCED.decoding, label=t("text.decoding"), elem_id="text-decoding"), explorer=True),
    Knob("temperature", lambda t: gr.Slider(
        0, 2, value=BALANCED.temperature, step=0.05, label=t("text.temperature"), info=t("text.temperature_info")),
        explorer=True),
    Knob("top_k", lambda t: gr.Slider(
        0, 200, value=BALANCED.top_k, step=1, label=t("text.top_k"), info=t("text.top_k_info"), elem_id="text-top-k"),
        explorer=True),
    Knob("top_p", lambda t: gr.Slider(
        0.01, 1, value=BALANCED.top_p, step=0.01, label=t("text.top_p"), info=t("text.top_p_info")), explorer=True),
    Knob("min_p", lambda t: gr.Slider(
        0, 0.5, value=BALANCED.min_p, step=0.01, label=t("text.min_p"), info=t("text.min_p_info")), explorer=True),
    Knob("typical_p", lambda t: gr.Slider(
        0.01, 1, value=BALANCED.typical_p, step=0.01, label=t("text.typical_p"), info=t("text.typical_p_info")),
        advanced=True),
    Knob("repetition_penalty", lambda t: gr.Slider(
        1, 2, value=BALANCED.repetition_penalty, step=0.01, label=t("text.repetition_penalty"),
        info=t("text.repetition_penalty_info")), advanced=True),
    Knob("no_repeat_ngram_size", lambda t: gr.Slider(
        0, 10, value=BALANCED.no_repeat_ngram_size, step=1, label=t("text.no_repeat"), info=t("text.no_repeat_info")),
        advanced=True),
    Knob("num_beams", lambda t: gr.Slider(
        1, MAX_BEAMS, value=4, step=1, label=t("text.num_beams"), info=t("text.num_beams_info")),
        advanced=True, preset=False),
    Knob("max_new_tokens", lambda t: gr.Slider(
        1, MAX_NEW_TOKENS, value=BALANCED.max_new_tokens, step=1, label=t("text.max_new_tokens"),
        elem_id="text-max-new-tokens"), preset=False),
    Knob("stop_strings", lambda t: gr.Textbox(
        label=t("text.stop_strings"), info=t("text.stop_strings_info"), lines=2), advanced=True, preset=False),
)
KNOB_NAMES = tuple(k.name for k in KNOBS)
EXPLORER_KNOBS = tuple(k.name for k in KNOBS if k.explorer)


def knob_value(settings: SamplingSettings, name: str) -> Any:
    """A settings field as its control shows it (a list of stop strings is one per line)."""
    value = getattr(settings, name)
    return "\n".join(value) if isinstance(value, tuple) else value


def settings_from(named: dict[str, Any]) -> SamplingSettings:
    """SamplingSettings from whichever knobs ``named`` holds (the others keep their defaults)."""
    return SamplingSettings(**{k.name: named[k.name] for k in KNOBS if k.name in named})


@dataclass
class KnobsColumn:
    preset: gr.Radio
    knobs: dict[str, gr.components.Component]  # in KNOBS order
    seed: gr.Number


def knobs_column(t: Translator) -> KnobsColumn:
    """The preset, the plain knobs and the seed, then the advanced knobs under "More controls"."""
    preset = gr.Radio([(t(f"text.preset.{name}"), name) for name in PRESETS], value="Balanced", label=t("text.preset"),
                      info=t("text.preset_info"))
    built = {k.name: k.control(t) for k in KNOBS if not k.advanced}
    seed = gr.Number(-1, precision=0, label=t("text.seed"), info=t("text.seed_info"), elem_id="text-seed")
    with gr.Accordion(t("text.more"), open=False):
        built.update({k.name: k.control(t) for k in KNOBS if k.advanced})
    column = KnobsColumn(preset, {name: built[name] for name in KNOB_NAMES}, seed)
    wire_presets(column)
    return column


def wire_presets(column: KnobsColumn) -> None:
    """Picking a preset sets the knobs it names."""
    preset_controls = {k.name: column.knobs[k.name] for k in KNOBS if k.preset}

    def apply_preset(name: str) -> dict:
        return {control: knob_value(PRESETS[name], knob) for knob, control in preset_controls.items()}

    column.preset.change(apply_preset, column.preset, list(preset_controls.values()), api_visibility="private")
