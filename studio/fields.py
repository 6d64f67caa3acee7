"""Numbers typed into a form or sent to the API, checked into a value or a sentence that names
the field, its range and its unit."""

from __future__ import annotations

from typing import Any

from studio.errors import BadInput


def number_between(name: str, value: Any, low: float, high: float, unit: str = "") -> float:
    """``value`` as a number in [low, high]; text, booleans, NaN and out-of-range values are
    refused with one sentence."""
    of_unit = f" of {unit}" if unit else ""
    if isinstance(value, bool):  # float(True) is 1.0: a JSON true is not a number the user meant
        raise BadInput(f"{name} must be a number{of_unit}, not {value!r}.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{name} must be a number{of_unit}, not {str(value)[:30]!r}.") from None
    if not low <= number <= high:  # False for NaN too
        raise BadInput(f"{name} must be between {low:g} and {high:g}{' ' + unit if unit else ''}, not {number:g}.")
    return number
