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

METERS: Final = Shape(
    "meters",
    "a list of meters, each with an id and a numeric reading",
    record(
        {
            vol.Optional("meters"): nullable(
                [
                    record(
                        {
                            vol.Required("id"): _TEXT_OR_NUMBER,
                            vol.Required("reading"): nullable(korto_number),
                            vol.Optional("consumption"): nullable(korto_number),
                            vol.Optional("unit"): nullable(str),
                            vol.Optional("type"): nullable(str),
                            vol.Optional("reading_date"): nullable(str),
                        }
                    )
                ]
            )
        }
    ),
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
