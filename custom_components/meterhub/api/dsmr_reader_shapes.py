"""The shapes of the DSMR-reader answers that fill long-term statistics, in one place.

``statistics/hour`` and ``statistics/day`` are paged lists ``{count, next, previous, results}``;
an hour row has ``hour_start`` (ISO time with its offset) and the kWh per tariff and gas in m³ as
decimals written as text (``"0.125"``) or null; a day row has ``day`` and the same quantities and
their costs. One unreadable value (``"n/a"``) is the server's business and skipped by the client;
a quantity that is missing, or became an object or a list, means the API changed. DSMR-reader's own units are fixed (kWh, m³, the contract's currency), so a field
keeping its name but changing its unit cannot be seen here; one renamed or turned into something
that is not a number can.
"""

from __future__ import annotations

from typing import Final

import probatio as vol

from .shapes import Shape, nullable, number, record

_QUANTITIES: Final = (
    "electricity1",
    "electricity2",
    "electricity1_returned",
    "electricity2_returned",
)
#: A quantity: a decimal as text (unreadable text is skipped per value) or a JSON number.
_VALUE: Final = nullable(vol.Any(str, number))
_OPTIONAL: Final = ("gas", "electricity1_cost", "electricity2_cost", "gas_cost", "fixed_cost")


def _page(key: str, costs: tuple[str, ...]) -> vol.Schema:
    row = record(
        {
            vol.Required(key): str,
            **{vol.Required(name): _VALUE for name in _QUANTITIES},
            **{vol.Optional(name): _VALUE for name in (*_OPTIONAL, *costs)},
        }
    )
    return record({vol.Required("results"): [row], vol.Optional("count"): nullable(int)})


HOUR_PAGE: Final = Shape(
    "statistics/hour",
    "a paged list of hours, each with hour_start and kWh per tariff",
    _page("hour_start", ()),
)
DAY_PAGE: Final = Shape(
    "statistics/day",
    "a paged list of days, each with day and kWh per tariff",
    _page("day", ("total_cost",)),
)
