"""What goes into long-term statistics for a Caruna metering point: hourly energy and its cost.

Two external statistics per point, ``meterhub:<key>_<gsrn>_consumption`` (kWh) and
``meterhub:<key>_<gsrn>_cost`` (EUR), fed with what the reader (``reader.py``) returns. The
importer upserts whole hours in any order, so a re-read never counts anything twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from homeassistant.core import HomeAssistant

from ...api.caruna import MeteringPoint
from ...statistics import ENERGY_KWH, StatisticSeries, async_import_series, async_last_hour
from .reader import Batch

CURRENCY: Final = "EUR"


class PointHistory:
    """The consumption and cost statistics of one metering point."""

    def __init__(self, hass: HomeAssistant, key: str, point: MeteringPoint, label: str) -> None:
        """Name the series after the point's ``label`` (what it is, never its address or GSRN).

        The ids keep the GSRN: they are what the energy dashboard's configuration points at, and
        renaming them would orphan the long-term history; Home Assistant shows names, not ids.
        """
        self.hass = hass

        def series(quantity: str, unit: str) -> StatisticSeries:
            return StatisticSeries(
                provider=key,
                meter=point.identifier,
                quantity=quantity,
                name=f"{label} {quantity}",
                unit=unit,
            )

        self.consumption = series("consumption", ENERGY_KWH)
        self.cost = series("cost", CURRENCY)
        self.hours_imported = 0

    async def async_last_hour(self) -> datetime | None:
        """The newest stored consumption hour (where a restart resumes)."""
        return await async_last_hour(self.hass, self.consumption)

    async def async_import(self, batch: Batch) -> None:
        """Upsert the pass's hours into both statistics."""
        if batch.consumption:
            result = await async_import_series(self.hass, self.consumption, batch.consumption)
            self.hours_imported += result.hours_given
        if batch.cost:
            await async_import_series(self.hass, self.cost, batch.cost)
