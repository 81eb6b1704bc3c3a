"""The shape of the Caruna Plus energy answers the client books, in one place.

The portal has answered energy in several shapes over the years (a flat list since 2026,
``{"results": [{"data": [...]}]}`` before, rows under ``values``/``data``/...); the client finds the
rows whichever it is. Each row must then have a ``timestamp`` and one of the consumption fields
(``totalConsumption`` today, ``consumption`` or ``invoicedConsumption`` before) holding kWh as a
number (or null: not measured yet). Field names are compared without case, as the portal's
versions spell them differently. Fees may be numbers, numeric text or null.
"""

from __future__ import annotations

from typing import Any, Final

import probatio as vol

from .shapes import Shape, nullable, numeric, record

CONSUMPTION_KEYS: Final = ("totalconsumption", "consumption", "invoicedconsumption")
_NUMBER_KEYS: Final = (
    *CONSUMPTION_KEYS,
    "distributionfee",
    "electricitytax",
    "valueaddedtax",
    "totalfee",
    "totalcost",
)
_ROW: Final = record(
    {
        vol.Required("timestamp"): str,
        **{vol.Optional(key): nullable(numeric) for key in _NUMBER_KEYS},
    }
)


def energy_row(item: Any) -> Any:
    """One energy row: a timestamp and a consumption field, whatever their case."""
    if not isinstance(item, dict):
        raise vol.Invalid("expected an object")
    fields = {str(key).lower(): value for key, value in item.items()}
    if not any(key in fields for key in CONSUMPTION_KEYS):
        raise vol.Invalid("no consumption field", path=["totalConsumption"])
    _ROW(fields)
    return item


ENERGY_ROWS: Final = Shape(
    "energy",
    "rows with a timestamp and totalConsumption in kWh",
    vol.Schema([energy_row]),
)
