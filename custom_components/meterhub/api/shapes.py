"""Checking the shape of a provider's answer before anything of it is read.

Every client describes the answers it reads as schemas (``<provider>_shapes.py``, with probatio,
Home Assistant's voluptuous-compatible schema library) and runs each answer through
:func:`checked` where it arrives. An answer that does not fit raises the client's own
``ApiSchemaError`` with what was expected and the *shape* of what came; nothing of it is parsed,
so a renamed field or a number that became text can never turn into a ``KeyError`` deep in the
parser, nor into a half-read answer that gets imported.

Schemas allow extra fields (services add fields all the time) and check only what the client
reads: required fields, their types, and the units it knows how to convert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
import math
from typing import Any

import probatio as vol

from .errors import ApiSchemaError


def checked[T](
    schema: Callable[[Any], T],
    value: Any,
    *,
    what: str,
    expected: str,
    error: type[ApiSchemaError],
    sample: Any = None,
) -> T:
    """``value`` as ``schema`` returns it, or the client's schema error naming the first misfit.

    The misfit's place is named by field names only (``results[0].consumption``); digit runs that
    may be identifiers are masked, and no value is ever repeated.
    """
    try:
        return schema(value)
    except vol.Invalid as err:
        where = _path(err.path)
        received = value if sample is None else sample
        raise error(
            f"{what} ({where})" if where else what,
            expected,
            received,
            misfit=_misfit(value, err.path),
        ) from None


def _misfit(value: Any, path: Iterable[Any]) -> Any:
    """The part of ``value`` that did not fit, or the object missing a (renamed) field."""
    for step in path:
        if (isinstance(value, dict) and step in value) or (
            isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value)
        ):
            value = value[step]
        else:
            break
    return value


def _path(path: Iterable[Any]) -> str:
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
            continue
        name = str(step)
        if sum(char.isdigit() for char in name) >= 6 or "@" in name:
            name = "<value>"
        text += f".{name}" if text else name
    return text


def number(value: Any) -> float:
    """A JSON number (not a boolean), finite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise vol.Invalid("expected a number")
    if not math.isfinite(value):
        raise vol.Invalid("expected a finite number")
    return value


def numeric(value: Any) -> Any:
    """A JSON number or a decimal written as text (``"4078"``, ``"0.25"``); kept as it came."""
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise vol.Invalid("expected a number written as text") from None
        if not parsed.is_finite():
            raise vol.Invalid("expected a finite number")
        return value
    number(value)
    return value


def nullable(validator: Any) -> Any:
    """``validator`` or JSON null (a value the service does not know yet)."""
    return vol.Any(None, validator)


def one_of_units(known: Iterable[str]) -> Callable[[Any], str]:
    """A unit among ``known`` (compared without case and spaces): anything else is refused.

    A unit we do not know would be booked with a wrong factor; better a repair than a wrong
    energy dashboard.
    """
    units = {unit.strip().lower() for unit in known}

    def unit(value: Any) -> str:
        if not isinstance(value, str) or value.strip().lower() not in units:
            raise vol.Invalid("unknown unit")
        return value

    return unit


def record(fields: dict[Any, Any]) -> vol.Schema:
    """An object with at least ``fields`` (extra fields are allowed)."""
    return vol.Schema(fields, extra=vol.ALLOW_EXTRA)


@dataclass(frozen=True, slots=True)
class Shape:
    """One kind of answer: what it is, what we expect in words, and the schema that says so."""

    what: str
    expected: str
    schema: Callable[[Any], Any]

    def check(self, value: Any, error: type[ApiSchemaError], *, sample: Any = None) -> Any:
        """``value`` when it has this shape; else ``error`` (the client's schema error).

        ``sample`` is what the error keeps the shape of, when ``value`` is a part of the answer.
        """
        return checked(
            self.schema,
            value,
            what=self.what,
            expected=self.expected,
            error=error,
            sample=value if sample is None else sample,
        )
