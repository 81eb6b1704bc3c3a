"""The shapes of the Korto GraphQL answers the client reads, in one place.

``data.viewer.apartment`` holds ``meters: [{id, type, unit, reading, reading_date, ...}]`` or
``balance: {balance, balance_date, last_payment, last_payment_date}``. Korto writes numbers as
JSON numbers or as text with a comma or a point (``"12,5"``, ``"1 234,5"``), and leaves unknown
values empty or null: those stay allowed. A meter's unit is free text that the provider shows
as it comes (a unit without a Home Assistant device class is still a useful sensor), so only its
type is checked here.
"""

from __future__ import annotations

import re
from typing import Any, Final

import probatio as vol

from .shapes import Shape, nullable, number, record

_NUMBER_TEXT_RE: Final = re.compile(r"^[\s\u00a0\u202f']*[+-]?[\d\s\u00a0\u202f'.,]*$")


def korto_number(value: Any) -> Any:
    """A JSON number, or digits with comma/point separators (empty text: not known)."""
    if isinstance(value, str):
        if _NUMBER_TEXT_RE.fullmatch(value) is None:
            raise vol.Invalid("expected a number written as text")
        return value
    return number(value)


_TEXT_OR_NUMBER: Final = nullable(vol.Any(str, int, float))

_METER: Final = record(
    {
        vol.Required("id"): _TEXT_OR_NUMBER,
        vol.Required("reading"): nullable(korto_number),
        vol.Optional("consumption"): nullable(korto_number),
        vol.Optional("unit"): nullable(str),
        vol.Optional("type"): nullable(str),
        vol.Optional("reading_date"): nullable(str),
    }
)


def some_readable_meter(meters: Any) -> Any:
    """A list of meters of which at least one has the shape we read (or an empty list).

    One odd meter shows as unknown rather than failing the whole apartment (Korto's data is
    typed in by hand); when *no* meter fits, the answer itself has changed.
    """
    if not isinstance(meters, list):
        raise vol.Invalid("expected a list")
    first: vol.Invalid | None = None
    for index, meter in enumerate(meters):
        try:
            _METER(meter)
        except vol.Invalid as err:
            if first is None:
                first = vol.Invalid(err.msg, path=[index, *err.path])
        else:
            return meters
    if first is not None:
        raise first
    return meters


METERS: Final = Shape(
    "meters",
    "a list of meters, each with an id and a numeric reading",
    record({vol.Optional("meters"): nullable(some_readable_meter)}),
)
BALANCE: Final = Shape(
    "balance",
    "a balance with numeric amounts",
    record(
        {
            vol.Optional("balance"): nullable(
                record(
                    {
                        vol.Required("balance"): nullable(korto_number),
                        vol.Optional("last_payment"): nullable(korto_number),
                        vol.Optional("balance_date"): nullable(str),
                        vol.Optional("last_payment_date"): nullable(str),
                    }
                )
            )
        }
    ),
)
APARTMENT: Final = Shape(
    "apartment",
    "data.viewer.apartment as an object",
    record({vol.Required("data"): record({vol.Required("viewer"): nullable(dict)})}),
)
