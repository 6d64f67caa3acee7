"""A declared tool (studio.tools) on the page and in the API: its controls, the request they make,
and its API function with typed parameters, all read from its one declaration.

    made = controls(ctx, tool.fields, prefix="edit-outpaint")   # name -> Gradio component
    request = request_of(tool.request, values_by_name)           # the request dataclass, checked
    endpoint = api_function(tool, run)                           # parameters, types, choices, docs

A field's label and hint are i18n keys; a tool added later without strings of its own shows its
English name instead of a bare key.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Literal

import gradio as gr

from studio.tools import Tool
from studio.tools.fields import PICTURE_KINDS, Declared, checked, fields_of
from tabs.common import TabContext, uploaded
from tabs.i18n import translations

EDITOR_BRUSH = gr.Brush(colors=[("#ff00c8", 0.6)], default_size=24, color_mode="fixed")


def text_of(ctx: TabContext, key: str, english: str) -> Any:
    """The label for ``key`` (an i18n key the page translates), or ``english`` where no table has it."""
    return ctx.t(key) if key and key in translations()["en"] else english


def _label(ctx: TabContext, field: Declared) -> Any:
    return text_of(ctx, field.spec.label, field.spec.name_in_sentences(field.name))


def _choices(ctx: TabContext, field: Declared) -> list[Any]:
    values = field.choices(ctx.settings)
    prefix = field.spec.choice_labels
    return [(text_of(ctx, f"{prefix}.{value}", str(value)), value) if prefix else value for value in values]


def control(ctx: TabContext, field: Declared, elem_id: str) -> Any:
    """One field's component, as its kind and hint say."""
    spec, kind = field.spec, field.kind
    label = _label(ctx, field)
    info = text_of(ctx, spec.info, "") if spec.info else None
    default = None if field.required else field.default
    common = {"label": label, "elem_id": elem_id}
    if kind == "picture" and spec.hint == "editor":
        return gr.ImageEditor(type="pil", height=420, sources=["upload", "clipboard"], brush=EDITOR_BRUSH,
                              transforms=(), layers=False, **common)
    if kind in PICTURE_KINDS:
        return gr.Image(type="filepath", height=360 if kind == "picture" else 140, **common)
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
        # No precision for an optional field: Gradio shows an empty whole-number box as 0, which is not "empty".
        precision = 0 if kind == "int" and not spec.optional else None
        return gr.Number(default, minimum=spec.low, maximum=spec.high, step=step, precision=precision, info=info,
                         **common)
    lines = int(spec.hint.split(":")[1]) if spec.hint.startswith("lines:") else 1
    placeholder = text_of(ctx, spec.placeholder, "") if spec.placeholder else None
    return gr.Textbox(default or "", lines=lines, info=info, placeholder=placeholder, **common)


def controls(ctx: TabContext, fields: list[Declared], prefix: str, advanced_label: Any = None) -> dict[str, Any]:
    """Components for ``fields`` (groups left to their host), the advanced ones in an accordion."""
    made: dict[str, Any] = {}
    plain = [f for f in fields if f.kind != "group" and not f.spec.advanced]
    advanced = [f for f in fields if f.kind != "group" and f.spec.advanced]
    for field in plain:
        made[field.name] = control(ctx, field, f"{prefix}-{field.name.replace('_', '-')}")
    if advanced:
        with gr.Accordion(advanced_label or ctx.t("edit.advanced"), open=False):
            for field in advanced:
                made[field.name] = control(ctx, field, f"{prefix}-{field.name.replace('_', '-')}")
    return made


def request_of(request_class: type, values: dict[str, Any], groups: dict[str, Any] | None = None,
               settings: Any = None) -> Any:
    """The request ``values`` (by field name) make, groups (nested requests) given whole; checked."""
    fields = fields_of(request_class)
    named = {f.name: values[f.name] for f in fields if f.kind != "group" and f.name in values}
    named.update(groups or {})
    return checked(request_class(**named), settings)


# --- the API ---------------------------------------------------------------------------------------

def _api_type(field: Declared) -> Any:
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


def api_function(tool: Tool, run: Callable[[Any, gr.Request | None], dict], settings: Any = None) -> Callable[..., dict]:
    """The tool's API endpoint: a function with one parameter per declared field (its group's
    flattened after it, e.g. prompt and checkpoint), typed and defaulted as declared, and
    ``run(request, gr_request)`` behind it. Every file must be an upload (``uploaded``)."""
    fields = api_fields(tool.request)
    parameters = [inspect.Parameter(f.api_name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=_api_default(f),
                                    annotation=_api_type(f)) for f, _ in fields]
    parameters.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                        annotation=gr.Request))
    signature = inspect.Signature(parameters, return_annotation=dict)
    group_classes = {f.name: type(f.default) for f in fields_of(tool.request) if f.kind == "group"}

    def endpoint(*args: Any, **kwargs: Any) -> dict:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        named = dict(bound.arguments)
        gr_request = named.pop("request")
        own: dict[str, Any] = {}
        grouped: dict[str, dict[str, Any]] = {name: {} for name in group_classes}
        for field, group in fields:
            value = named[field.api_name]
            if field.kind in PICTURE_KINDS and (value is not None or field.required):
                value = uploaded(value, field.spec.doc or field.spec.name_in_sentences(field.name).lower())
            (grouped[group] if group else own)[field.name] = value
        groups = {name: cls(**grouped[name]) for name, cls in group_classes.items()}
        return run(request_of(tool.request, own, groups, settings), gr_request)

    endpoint.__name__ = endpoint.__qualname__ = f"{tool.name}_image"
    docs = [f"{f.api_name}: {f.spec.doc}" for f, _ in fields if f.spec.doc]
    endpoint.__doc__ = tool.summary + ("\n" + "\n".join(docs) if docs else "")
    endpoint.__signature__ = signature  # type: ignore[attr-defined]
    endpoint.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": dict}
    return endpoint


def group_request(group_class: type, values: dict[str, Any]) -> Any:
    """A nested request (the Edit tab's shared prompt and model) from its controls' values."""
    return group_class(**{f.name: values[f.name] for f in fields_of(group_class) if f.name in values})
