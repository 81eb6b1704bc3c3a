"""The shape of the Conso API gateway's v2 measurement answers, in one place.

``{idPrm, periode, pas, grandeur: [{grandeurMetier, grandeurPhysique, unite, points: [{v, d, p}]}]}``
where ``v`` is a decimal written as text, or null for "not measured"; ``d`` a date or a Paris
wall time; ``p`` the interval length. The units each kind may carry are checked per kind by the
client (:func:`unit`), because the same field holds W, Wh or VA.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import probatio as vol

from .shapes import Shape, nullable, numeric, one_of_units, record

POINT: Final = record(
    {
        vol.Required("d"): str,
        vol.Required("v"): nullable(numeric),
        vol.Optional("p"): nullable(str),
    }
)
MEASUREMENT: Final = Shape(
    "measurement",
    "a v2 measurement: grandeur entries with a unit and points of a date and a value",
    record(
        {
            vol.Required("grandeur"): [
                record(
                    {
                        vol.Required("grandeurMetier"): str,
                        vol.Required("unite"): str,
                        vol.Required("points"): [POINT],
                    }
                )
            ],
            vol.Optional("pas"): nullable(str),
            vol.Optional("idPrm"): nullable(vol.Any(str, int)),
        }
    ),
)


def unit(kind: str, known: Iterable[str]) -> Shape:
    """The unit of a ``kind`` answer: one of ``known`` (W/kW, Wh/kWh or VA/kVA)."""
    names = sorted(known)
    return Shape(f"{kind} unit", f"one of {', '.join(names)}", one_of_units(names))
