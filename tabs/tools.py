"""A declared tool (studio.tools) on the page and in the API: its controls, the request they make,
and its API function with typed parameters, all read from its one declaration.

    made = controls(ctx, tool.fields, prefix="edit-outpaint")   # name -> Gradio component
    request = request_of(tool.request, values_by_name)           # the request dataclass, checked
    endpoint = api_function(tool, run)                           # parameters, types, choices, docs

A field's label and hint are i18n keys; a tool added later without strings of its own shows its
English name instead of a bare key.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import TYPE_CHECKING, Any, Callable, Literal, TypeVar

import gradio as gr

from studio.tools import Tool
from studio.tools.fields import PICTURE_KINDS, Declared, checked, fields_of
from tabs import api_types
from tabs.common import TabContext, uploaded
from tabs.i18n import translations
from tabs.image_prompt_panel import ImagePromptPanel, api_slots, build_panel, previewing_work, wire_panel
from tabs.picture_input import PictureInput

if TYPE_CHECKING:
    from gradio.i18n import I18nData

    from studio.settings import Settings

# One declared field's control: a Gradio component, or the image-prompt panel (a composite of them).
Control = gr.components.Component | ImagePromptPanel
R = TypeVar("R")  # a request dataclass

EDITOR_BRUSH = gr.Brush(colors=[("#ff00c8", 0.6)], default_size=24, color_mode="fixed")


def text_of(ctx: TabContext, key: str, english: str) -> str | I18nData:
    """The label for ``key`` (an i18n key the page translates), or ``english`` where no table has it."""
    return ctx.t(key) if key and key in translations()["en"] else english


def _label(ctx: TabContext, field: Declared) -> str | I18nData:
    return text_of(ctx, field.spec.label, field.spec.name_in_sentences(field.name))


def _choices(ctx: TabContext, field: Declared) -> list[Any]:
    values = field.choices(ctx.settings)
    prefix = field.spec.choice_labels
    return [(text_of(ctx, f"{prefix}.{value}", str(value)), value) if prefix else value for value in values]


def control(ctx: TabContext, field: Declared, elem_id: str) -> Control:
    """One field's component, as its kind and hint say."""
    spec, kind = field.spec, field.kind
    label = _label(ctx, field)
    info = text_of(ctx, spec.info, "") if spec.info else None
    default = None if field.required else field.default
    common = {"label": label, "elem_id": elem_id}
    if kind == "picture" and spec.hint == "editor":
        return gr.ImageEditor(type="pil", height=420, sources=["upload", "clipboard"], brush=EDITOR_BRUSH,
                              transforms=(), layers=False, **common)
    if kind == "pictures":
        return gr.File(file_count="multiple", file_types=["image"], type="filepath", height=120, **common)
    if kind in PICTURE_KINDS:
        return PictureInput(type="filepath", height=360 if kind == "picture" else 140, **common)
    if kind == "image_prompts":  # the Image tab's slots, the same panel (its host wires it: wire_composites)
        with gr.Accordion(label, open=False, elem_id=elem_id):
            return build_panel(ctx.t, prefix=elem_id)
    if kind == "bool":
        return gr.Checkbox(default, info=info, **common)
    if kind == "choice":
        choices = _choices(ctx, field)
        if spec.hint == "radio":
            return gr.Radio(choices, value=default, info=info, **common)
        first = choices[0][1] if choices and isinstance(choices[0], tuple) else (choices[0] if choices else default)
        return gr.Dropdown(choices, value=default or first, allow_custom_value=spec.custom, info=info, **common)
    if kind in ("int", "float"):
        step = spec.step or (1 if kind == "int" else None)
        if spec.hint != "number" and spec.low is not None and spec.high is not None and not spec.optional:
            return gr.Slider(spec.low, spec.high, value=default, step=step or 0.01, info=info, **common)
        if spec.optional:
            return optional_number(default, info=info, **common)
        precision = 0 if kind == "int" else None
        return gr.Number(default, minimum=spec.low, maximum=spec.high, step=step, precision=precision, info=info,
                         **common)
    lines = int(spec.hint.split(":")[1]) if spec.hint.startswith("lines:") else 1
    placeholder = text_of(ctx, spec.placeholder, "") if spec.placeholder else None
    return gr.Textbox(default or "", lines=lines, info=info, placeholder=placeholder, **common)


def optional_number(value: float | None = None, **options: Any) -> gr.Textbox:
    """A number that may be left empty (empty = a preset's or a model's own). Gradio's Number
    box shows an empty value as 0, which reads as "0 steps"; this one-line box stays empty and
    can say in its placeholder what will run. The request's check reads the number (and words a
    refusal for anything else)."""
    return gr.Textbox("" if value is None else f"{value:g}", max_lines=1, **options)


def element_id(prefix: str, field: Declared) -> str:
    """A declared field's control's element id: "image-prompt-strength" for image_prompt_strength."""
    return f"{prefix}-{field.name.replace('_', '-')}"


def controls(ctx: TabContext, fields: list[Declared], prefix: str, advanced_label: str | I18nData | None = None,
             open_advanced: bool = False) -> dict[str, Control]:
    """Components for ``fields`` (groups left to their host), the advanced ones in an accordion
    (or in place, ``open_advanced``, when the host puts them in its own)."""
    made: dict[str, Control] = {}
    plain = [f for f in fields if f.kind != "group" and not f.spec.advanced]
    advanced = [f for f in fields if f.kind != "group" and f.spec.advanced]
    sections = list(dict.fromkeys(f.spec.section for f in plain if f.spec.section))
    for field in plain:
        if not field.spec.section:
            made[field.name] = control(ctx, field, element_id(prefix, field))
        elif field.spec.section == sections[0] and field.name not in made:  # every section's tab, where the first is
            with gr.Tabs():
                for section in sections:
                    with gr.Tab(text_of(ctx, section, section.rsplit(".", 1)[-1].replace("_", " ").capitalize())):
                        for inner in (f for f in plain if f.spec.section == section):
                            made[inner.name] = control(ctx, inner, element_id(prefix, inner))
    if advanced and open_advanced:
        for field in advanced:
            made[field.name] = control(ctx, field, element_id(prefix, field))
    elif advanced:
        with gr.Accordion(advanced_label or ctx.t("edit.advanced"), open=False):
            for field in advanced:
                made[field.name] = control(ctx, field, element_id(prefix, field))
    return made


def inputs_of(made: dict[str, Control]) -> set[gr.components.Component]:
    """The components ``controls`` made, a composite control (the image-prompt panel) by its parts."""
    found: set[gr.components.Component] = set()
    for component in made.values():
        found |= set(component.inputs) if isinstance(component, ImagePromptPanel) else {component}
    return found


def values_of(made: dict[str, Control], values: dict) -> dict[str, Any]:
    """Each field's value from a handler's {component: value}, a composite's assembled."""
    return {name: component.value_from(values) if isinstance(component, ImagePromptPanel) else values[component]
            for name, component in made.items()}


def wire_composites(ctx: TabContext, made: dict[str, Control], checkpoint: gr.Dropdown,
                    default_checkpoint: str) -> None:
    """The image-prompt panel's own events (maps, type defaults, the checkpoint's note)."""
    for component in made.values():
        if isinstance(component, ImagePromptPanel):
            wire_panel(ctx, component, checkpoint, default_checkpoint, previewing_work(ctx))


def request_of(request_class: type[R], values: dict[str, Any], groups: dict[str, Any] | None = None,
               settings: Settings | None = None) -> R:
    """The request ``values`` (by field name; a field without a Spec too) make, groups (nested
    requests) given whole; its declared fields checked."""
    names = {item.name for item in dataclasses.fields(request_class)}
    named = {name: value for name, value in values.items() if name in names}
    named.update(groups or {})
    return checked(request_class(**named), settings)


# --- the API ---------------------------------------------------------------------------------------

def _api_type(field: Declared) -> Any:
    if field.kind == "image_prompts":
        return list[api_types.ImagePromptSlot] | None
    if field.kind == "pictures":
        return list[gr.FileData] | None if not field.required else list[gr.FileData]
    if field.kind in PICTURE_KINDS:
        return gr.FileData | None if not field.required else gr.FileData
    if field.kind == "choice" and not callable(field.spec.choices) and not field.spec.custom:
        return Literal[tuple(field.choices())]  # view_api() lists them
    kind = {"int": int, "float": float, "bool": bool}.get(field.kind, str)
    return kind | None if field.spec.optional else kind


def _api_default(field: Declared) -> Any:
    if field.required:
        return inspect.Parameter.empty
    return None if field.kind in PICTURE_KINDS else field.default


def api_fields(request_class: type) -> list[tuple[Declared, str | None]]:
    """(field, its group's name or None), a group's fields after the request's own."""
    own, grouped = [], []
    for field in fields_of(request_class):
        if field.kind == "group":
            grouped += [(inner, field.name) for inner in fields_of(type(field.default))]
        else:
            own.append((field, None))
    return own + grouped


def api_function(tool: Tool, run: Callable[[Any, gr.Request | None], dict],
                 settings: Settings | None = None) -> Callable[..., dict]:
    """The tool's API endpoint (``request_api`` of its request class)."""
    return request_api(tool.request, f"{tool.name}_image", tool.summary, run, settings)


def request_api(request_class: type, name: str, summary: str, run: Callable[[Any, gr.Request | None], Any],
                settings: Settings | None = None, returns: type = dict) -> Callable[..., Any]:
    """An API endpoint made from a declared request class: one parameter per declared field (its
    group's flattened after it, e.g. prompt and checkpoint), typed and defaulted as declared, and
    ``run(request, gr_request)`` behind it, answering a ``returns``. Every file must be an upload
    (``uploaded``)."""
    fields = api_fields(request_class)
    parameters = [inspect.Parameter(f.api_name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=_api_default(f),
                                    annotation=_api_type(f)) for f, _ in fields]
    parameters.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                        annotation=gr.Request))
    signature = inspect.Signature(parameters, return_annotation=returns)
    group_classes = {f.name: type(f.default) for f in fields_of(request_class) if f.kind == "group"}

    def endpoint(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        named = dict(bound.arguments)
        gr_request = named.pop("request")
        own: dict[str, Any] = {}
        grouped: dict[str, dict[str, Any]] = {name: {} for name in group_classes}
        for field, group in fields:
            value = named[field.api_name]
            what = field.spec.doc or field.spec.name_in_sentences(field.name).lower()
            if field.kind == "pictures":
                value = [uploaded(item, what) for item in (value or [])]
            elif field.kind in PICTURE_KINDS and (value is not None or field.required):
                value = uploaded(value, what)
            elif field.kind == "image_prompts":
                value = api_slots(value) or None
            (grouped[group] if group else own)[field.name] = value
        groups = {name: cls(**grouped[name]) for name, cls in group_classes.items()}
        return run(request_of(request_class, own, groups, settings), gr_request)

    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__doc__ = documented(summary, fields)
    endpoint.__signature__ = signature  # type: ignore[attr-defined]
    endpoint.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": returns}
    endpoint.checks_its_fields = True  # type: ignore[attr-defined]  (request_of checks them, aliases included)
    return endpoint


def documented(summary: str, fields: list[tuple[Declared, str | None]]) -> str:
    """``summary`` and an ``Args:`` section of the fields' docs: Gradio reads each line as its
    parameter's description (view_api(), MCP, docs/api.md)."""
    docs = [f"    {f.api_name}: {said}" for f, _ in fields if (said := _described(f))]
    return summary.strip() + ("\n\nArgs:\n" + "\n".join(docs) if docs else "")


def _described(field: Declared) -> str:
    """A field's doc, then its range ("0 to 1")."""
    words = [" ".join(field.spec.doc.split())] if field.spec.doc else []
    if field.spec.low is not None and field.spec.high is not None:
        words.append(f"{_plain(field.spec.low)} to {_plain(field.spec.high)}")
    return "; ".join(words)


def _plain(number: float) -> str:
    """2147483647, not 2.14748e+09."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def group_request(group_class: type[R], values: dict[str, Any]) -> R:
    """A nested request (the Edit tab's shared prompt and model) from its controls' values."""
    return group_class(**{f.name: values[f.name] for f in fields_of(group_class) if f.name in values})
