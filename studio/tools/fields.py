"""A tool's fields, declared once: a request dataclass whose fields carry their ``Spec``.

    @dataclass(frozen=True)
    class OutpaintRequest:
        image: Any = declared(kind="picture", label="edit.image")
        left: float = declared(0.0, low=0, high=4096, unit="pixels", label="edit.left")
        unit: str = declared("px", choices=("px", "%"), label="edit.unit")

The dataclass is the declaration: its name, type and default are the field's; the ``Spec`` adds
the range, the choices, the label's i18n key, how the page shows it and whether it is an upload.
The request's checks (``checked``), the page's controls and the API's parameters (tabs.tools)
all read it, so a default or a range is written once. No Gradio here.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable

from studio.errors import BadInput, shown

MAX_TEXT_CHARS = 20_000  # far past any text encoder's window; longer is a paste mistake
MAX_CUSTOM_CHOICE_CHARS = 500  # a Hub id or a file name, with room to spare
PICTURE_KINDS = ("picture", "mask", "pictures")  # uploads (a path, a picture in memory; "pictures": a list),
# read by the tool itself with its own sentences


@dataclass(frozen=True)
class Spec:
    kind: str = ""  # text | int | float | bool | choice | picture(s) | mask | group | object | list ("" = the type's)
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] | Callable[[Any], list[str]] = ()  # values, or settings -> values (files in a folder)
    choice_labels: str = ""  # i18n prefix of each choice's label ("edit.mode" -> "edit.mode.<value>")
    aliases: dict[str, str] = dataclasses.field(default_factory=dict)  # other spellings the API accepts
    custom: bool = False  # other values than the choices are the tool's to judge (a Hub id, a file)
    label: str = ""  # i18n key of the control's label
    info: str = ""  # i18n key of the line under it
    placeholder: str = ""  # i18n key of an empty text box's grey hint
    hint: str = ""  # slider | number | radio | dropdown | textbox | lines:N | checkbox | editor | hidden
    advanced: bool = False  # under the tool's "Advanced"
    section: str = ""  # i18n key of the sub-tab it sits in; fields of one section share a tab (Enhance's regions)
    optional: bool = False  # None (empty) allowed: it follows a default
    unit: str = ""  # pixels, %, steps ... (the refusals say it)
    api: str = ""  # the API's parameter name, where it differs from the field's
    doc: str = ""  # one line for the API reference
    english: str = ""  # the field's name in a sentence ("Mask grow"); "" = from the field's name

    def name_in_sentences(self, field_name: str) -> str:
        return self.english or field_name.replace("_", " ").capitalize()


def declared(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING, **spec: Any) -> Any:
    """A dataclass field with its ``Spec`` (see the module's docstring)."""
    metadata = {"spec": Spec(**spec)}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Declared:
    """One declared field of a request class, with its type resolved."""

    name: str
    kind: str
    default: Any  # dataclasses.MISSING when the field must be given
    spec: Spec
    type: Any

    @property
    def api_name(self) -> str:
        return self.spec.api or self.name

    @property
    def required(self) -> bool:
        return self.default is dataclasses.MISSING

    def choices(self, settings: Any = None) -> list[Any]:
        found = self.spec.choices
        return list(found(settings) if callable(found) else found)


def _kind_of(annotation: Any, spec: Spec) -> str:
    if spec.kind:
        return spec.kind
    if spec.choices:
        return "choice"
    base = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    kind = base[0]
    if dataclasses.is_dataclass(kind):
        return "group"
    return {bool: "bool", int: "int", float: "float", str: "text"}.get(kind, "text")


def fields_of(request_class: type) -> list[Declared]:
    """The declared fields of ``request_class``, in their order (a field without a Spec is the
    tool's own business and is not shown or sent)."""
    hints = typing.get_type_hints(request_class)
    found = []
    for item in dataclasses.fields(request_class):
        spec = item.metadata.get("spec")
        if spec is None:
            continue
        default = item.default
        if default is dataclasses.MISSING and item.default_factory is not dataclasses.MISSING:
            default = item.default_factory()
        found.append(Declared(item.name, _kind_of(hints[item.name], spec), default, spec, hints[item.name]))
    return found


def refuse(field: Declared, english: str, key: str, **values: Any) -> BadInput:
    """A refusal about ``field``, keyed (assets/i18n/errors.json) with the field's own label."""
    labels = {"field": (field.spec.label, field.spec.name_in_sentences(field.name))} if field.spec.label else {}
    if str(values.get("unit", "")).strip():  # " pixels": a word of its own in each language
        labels["unit"] = (f"errors.unit.{values['unit'].strip()}", values["unit"])
    return BadInput(english.format(field=field.spec.name_in_sentences(field.name), **values), key=key, labels=labels,
                    field=field.spec.name_in_sentences(field.name), **values)


def check_value(field: Declared, value: Any, settings: Any = None) -> Any:
    """``value`` for ``field`` as the tool may use it, or a sentence saying what is wrong. Every
    number passes here: text, booleans, NaN and infinity are refused, ranges kept."""
    spec, kind = field.spec, field.kind
    if value is None or (isinstance(value, str) and not value.strip() and kind in ("int", "float")):
        if spec.optional or (not field.required and field.default is None):
            return None  # empty: it follows a default (the preset, the family's)
        if field.required:
            raise refuse(field, "{field} is missing.", "errors.field_missing")
        return field.default
    if kind in ("int", "float"):
        unit = f" {spec.unit}" if spec.unit else ""
        if isinstance(value, bool):
            raise refuse(field, "{field} must be a number, not {value}.", "errors.field_number", value=shown(value))
        try:  # a whole number stays exact (a seed past 2**53); anything else is read as a float
            number = value if isinstance(value, int) else float(value)
        except (TypeError, ValueError):
            raise refuse(field, "{field} must be a number, not {value}.", "errors.field_number",
                         value=shown(value)) from None
        if isinstance(number, float) and not math.isfinite(number):
            raise refuse(field, "{field} must be a number, not {value}.", "errors.field_number", value=shown(value))
        if spec.optional and number == 0 and (spec.low or 0) > 0:
            return None  # an optional field's 0 (below its range) is "empty", as the API has always taken it
        if kind == "int" and number != int(number):
            raise refuse(field, "{field} must be a whole number, not {value}.", "errors.field_whole",
                         value=f"{number:g}")
        low = -math.inf if spec.low is None else spec.low
        high = math.inf if spec.high is None else spec.high
        if not low <= number <= high:
            raise refuse(field, "{field} must be between {low} and {high}{unit}, not {value}.", "errors.field_range",
                         low=f"{low:g}", high=f"{high:g}", unit=unit, value=f"{number:g}")
        return int(number) if kind == "int" else number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if value in (0, 1, "0", "1", "true", "false", "True", "False"):
            return str(value).lower() in ("1", "true")
        raise refuse(field, "{field} must be true or false, not {value}.", "errors.field_bool", value=shown(value))
    if kind == "choice":
        text = str(value).strip()
        text = spec.aliases.get(text.lower(), spec.aliases.get(text, text))
        if spec.custom:  # a Hub id or a file: the tool's own checks judge it (a paste mistake is cut here)
            if len(text) > MAX_CUSTOM_CHOICE_CHARS:
                raise refuse(field, "{field} is {count:,} characters long; at most {most:,} are read.",
                             "errors.field_long", count=len(text), most=MAX_CUSTOM_CHOICE_CHARS)
            return text
        offered = field.choices(settings)
        if text in offered:
            return text
        by_case = {str(choice).lower(): choice for choice in offered}  # "faceswap" is FaceSwap
        if text.lower() in by_case:
            return by_case[text.lower()]
        raise refuse(field, "{field} must be one of {choices}, not {value}.", "errors.field_choice",
                     choices=", ".join(map(str, offered)), value=shown(value))
    if kind == "text":
        if not isinstance(value, str):
            raise refuse(field, "{field} must be text.", "errors.field_text")
        if len(value) > MAX_TEXT_CHARS:
            raise refuse(field, "{field} is {count:,} characters long; at most {most:,} are read.",
                         "errors.field_long", count=len(value), most=MAX_TEXT_CHARS)
        return value
    if kind == "object" and not isinstance(value, dict):
        raise refuse(field, "{field} must be an object of names and values ({example}), not {value}.",
                     "errors.field_object", example='{"name": value}', value=shown(value))
    if kind == "list" and not isinstance(value, (list, tuple)):
        raise refuse(field, "{field} must be a list ([...]), not {value}.", "errors.field_list", value=shown(value))
    return value  # pictures, masks and groups: the tool reads them with its own sentences


def parameter_field(name: str, annotation: Any, default: Any) -> Declared | None:
    """A plain function parameter as a field, where its type says what may come: a number, a
    choice (``Literal``), true or false. Endpoints that are not a declared tool (/generate_image's
    own parameters, /next_token, /server_health...) are checked by the same ``check_value``."""
    base = [a for a in typing.get_args(annotation) if a is not type(None)] if _is_union(annotation) else [annotation]
    if len(base) != 1:
        return None
    kind_type, spec = base[0], Spec(optional=type(None) in typing.get_args(annotation))
    if typing.get_origin(kind_type) is typing.Literal:
        spec = dataclasses.replace(spec, choices=typing.get_args(kind_type))
        kind = "choice"
    elif kind_type in (bool, int, float):
        kind = {bool: "bool", int: "int", float: "float"}[kind_type]
    elif (typing.get_origin(kind_type) or kind_type) in (dict, list):
        kind = "object" if (typing.get_origin(kind_type) or kind_type) is dict else "list"
    else:
        return None
    return Declared(name, kind, default, spec, annotation)


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def checked(request: Any, settings: Any = None) -> Any:
    """``request`` with every declared field checked (nested groups too), or the first sentence."""
    changes = {}
    for field in fields_of(type(request)):
        value = getattr(request, field.name)
        if field.kind == "group":
            changes[field.name] = checked(value, settings)
        else:
            changes[field.name] = check_value(field, value, settings)
    return dataclasses.replace(request, **changes)
