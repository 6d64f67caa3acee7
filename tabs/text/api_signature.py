"""The text endpoints' signatures: one typed parameter per knob, backend field and option, so
Gradio describes each endpoint (view_api lists the choices) and gradio_client scripts call it by
these names, or by position in this order. Also how an event's values come back by name."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any, Callable

import gradio as gr

from studio.text import service
from studio.text.sampling import SamplingSettings
from tabs import api_types
from tabs.text.knobs import knob_value

BROWSER = "browser_id"  # the per-browser id among an event's named values (tabs.owner)
BACKEND_FIELDS = tuple(f.name for f in dataclasses.fields(service.BackendChoice))
# Parameters whose choices the API lists (view_api shows them as enums).
CHOICE_TYPES = {"decoding": api_types.Decoding, "mode": api_types.TextMode, "backend": api_types.TextBackend}


def parameter(name: str, kind: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=kind)


# A trained adapter, by the job id the Train tab / /train_start gave ("" = the base model).
ADAPTER_PARAMETER = parameter("adapter", str, "")
# Gradio fills a gr.Request parameter itself; it is not part of the endpoint's API.
REQUEST_PARAMETER = parameter("request", gr.Request, None)


def knob_parameters(defaults: SamplingSettings, names: tuple[str, ...]) -> list[inspect.Parameter]:
    """API parameters for these knobs, typed as the settings fields (stop strings: one text)."""
    hints = typing.get_type_hints(SamplingSettings) | CHOICE_TYPES
    return [
        parameter(name, str if typing.get_origin(hints[name]) is tuple else hints[name], knob_value(defaults, name))
        for name in names
    ]


def backend_parameters() -> list[inspect.Parameter]:
    defaults = service.BackendChoice()
    return [parameter(name, CHOICE_TYPES.get(name, str), getattr(defaults, name)) for name in BACKEND_FIELDS]


def backend_from(named: dict[str, Any]) -> service.BackendChoice:
    return service.BackendChoice(**{name: named[name] for name in BACKEND_FIELDS})


def api_endpoint(run: Callable[[dict[str, Any]], dict], parameters: list[inspect.Parameter]) -> Callable[..., dict]:
    """``run(named_values)`` behind a function with exactly these parameters: Gradio reads
    the signature and type hints to describe the endpoint, and gradio_client scripts call
    it by these names (or by position, in this order)."""
    signature = inspect.Signature(parameters, return_annotation=dict)

    def endpoint(*args: Any, **kwargs: Any) -> dict:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return run(dict(bound.arguments))

    endpoint.__name__ = endpoint.__qualname__ = run.__name__
    endpoint.__doc__ = run.__doc__
    endpoint.__signature__ = signature  # type: ignore[attr-defined]
    endpoint.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": dict}
    return endpoint


def by_name(values: dict[gr.blocks.Block, Any], components: dict[str, gr.blocks.Block]) -> dict[str, Any]:
    """An event's input values (Gradio passes {component: value}) keyed by parameter name."""
    return {name: values[component] for name, component in components.items() if component in values}
