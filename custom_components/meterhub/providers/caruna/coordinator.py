"""Caruna Plus: one coordinator per metering point, backfilling a year and then keeping up.

The reader (``reader.py``) decides what to ask Caruna for; this coordinator paces it and stores
what it returns as external statistics:

* The first refresh (during setup) reads only yesterday, for the sensors: setup stays quick.
* While backfilling it refreshes every ``BACKFILL_INTERVAL`` (at most 40 requests each), so a year
  takes about 10 refreshes, some twenty minutes, with one login per token lifetime (an hour)
  shared by all metering points of the entry.
* Caught up, it refreshes every ``STEADY_INTERVAL`` (four times a day) and re-reads the last days.

On (re)start the newest stored hour says where to resume; the statistics importer upserts whole
hours, so a re-read never counts anything twice.
"""

from __future__ import annotations

from datetime import timedelta
import random
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ...api.caruna import CarunaClient, MeteringPoint
from ...coordinator import MeterHubCoordinator
from ...statistics import (
    ENERGY_KWH,
    StatisticSeries,
    async_import_series,
    async_last_hour,
    fetch_start,
)
from .reader import HELSINKI, REREAD_DAYS, PointData, PointReader, backfill_start

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

BACKFILL_INTERVAL: Final = timedelta(minutes=2)
STEADY_INTERVAL: Final = timedelta(hours=6)
CURRENCY: Final = "EUR"


class CarunaPointCoordinator(MeterHubCoordinator[PointData]):
    """Reads one metering point's energy and imports it as hourly statistics."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        client: CarunaClient,
        point: MeteringPoint,
        *,
        index: int,
        label: str,
        transfer_price: float | None,
    ) -> None:
        """``index`` names the coordinator in logs (never the GSRN)."""
        super().__init__(
            hass,
            entry,
            name=f"Caruna metering point {index}",
            update_interval=BACKFILL_INTERVAL,
        )
        self.point = point
        self.reader = PointReader(client, point, transfer_price=transfer_price)
        self.consumption = StatisticSeries(
            provider="caruna",
            meter=point.gsrn,
            quantity="consumption",
            name=f"{label} consumption",
            unit=ENERGY_KWH,
        )
        self.cost = StatisticSeries(
            provider="caruna",
            meter=point.gsrn,
            quantity="cost",
            name=f"{label} cost",
            unit=CURRENCY,
        )
        self._first = True
        self.hours_imported = 0

    @property
    def caught_up(self) -> bool:
        """The backfill is done; refreshes only re-read the recent days."""
        return self.reader.caught_up

    def diagnostics(self) -> dict[str, Any]:
        """Progress without identifiers."""
        cursor = self.reader.cursor
        return {
            "name": self.name,
            "backfill_cursor": cursor.isoformat() if cursor else None,
            "caught_up": self.reader.caught_up,
            "energy_requests": self.reader.requests,
            "hours_imported": self.hours_imported,
            "transfer_price_set": self.reader.transfer_price is not None,
        }

    async def _async_fetch(self) -> PointData:
        today = dt_util.now(HELSINKI).date()
        if self.reader.cursor is None:
            last = await async_last_hour(self.hass, self.consumption)
            start = fetch_start(
                last, backfill_from=backfill_start(today), reread=timedelta(days=REREAD_DAYS)
            )
            self.reader.resume(start, last)
        if self._first:
            self._first = False
            await self.reader.read_yesterday(today)
            return self.reader.data
        batch = await self.reader.read(today)
        if self.reader.caught_up:
            self.update_interval = _jittered(STEADY_INTERVAL)
        else:
            self.update_interval = BACKFILL_INTERVAL
        if batch.consumption:
            result = await async_import_series(self.hass, self.consumption, batch.consumption)
            self.hours_imported += result.hours_given
        if batch.cost:
            await async_import_series(self.hass, self.cost, batch.cost)
        return self.reader.data


def _jittered(interval: timedelta) -> timedelta:
    """Spread installs over a few minutes so they do not all ask Caruna at the same moment."""
    return interval * (1 + random.uniform(0, 0.05))
