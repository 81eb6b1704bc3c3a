"""The three polls of a DSMR-reader server: live values, energy prices and history.

Live values change with every telegram (every few seconds), prices at most daily, and DSMR-reader
writes its hour statistics a whole day at a time after midnight (once a reading of the next day is
processed). So the history runs shortly after the server's midnight and, until yesterday's hours
are there, again every hour; once they are, it waits for the next midnight instead of asking
hourly for nothing new.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ...api.dsmr_reader import (
    DsmrReaderClient,
    DsmrReaderNotFoundError,
    EnergyPrices,
    MeterStatistics,
)
from ...coordinator import MeterHubCoordinator
from ...statistics import local_midnight
from .history import HistoryImporter, HistoryStatus, server_zone
from .sensors import LiveData

if TYPE_CHECKING:
    from .runtime import DsmrReaderConfigEntry

PRICE_INTERVAL = timedelta(hours=1)
#: Until yesterday's hours are there (and after a failed run): try again this often.
HISTORY_RETRY = timedelta(hours=1)
#: How long after the server's midnight the daily run starts (its statistics job needs a moment).
HISTORY_AFTER_MIDNIGHT = timedelta(minutes=15)


def next_history_run(now: datetime, zone: tzinfo, last_hour: datetime | None) -> datetime:
    """When to read the history next: after the next midnight once yesterday is complete."""
    today = now.astimezone(zone).date()
    if last_hour is not None and last_hour >= local_midnight(today, zone) - timedelta(hours=1):
        return local_midnight(today + timedelta(days=1), zone) + HISTORY_AFTER_MIDNIGHT
    return now + HISTORY_RETRY


class LiveCoordinator(MeterHubCoordinator[LiveData]):
    """The newest reading and today's totals, every ``scan_interval``."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: DsmrReaderConfigEntry,
        client: DsmrReaderClient,
        interval: timedelta,
    ) -> None:
        """Poll at the user's interval (a little jitter is added by the base class)."""
        super().__init__(hass, entry, name="DSMR-reader live", update_interval=interval)
        self.client = client
        #: False once the server turned out not to have ``datalogger/meter-statistics``.
        self.meter_exposed = True

    async def _async_fetch(self) -> LiveData:
        reading = await self.client.async_latest_reading()
        today = await self.client.async_today()
        return LiveData(reading=reading, today=today, meter=await self._async_meter())

    async def _async_meter(self) -> MeterStatistics | None:
        if not self.meter_exposed:
            return None
        try:
            return await self.client.async_meter_statistics()
        except DsmrReaderNotFoundError:
            self.meter_exposed = False
            return None


class PriceCoordinator(MeterHubCoordinator[EnergyPrices | None]):
    """The energy prices valid today in the server's calendar; None when none are entered."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: DsmrReaderConfigEntry,
        client: DsmrReaderClient,
        zone: Callable[[], tzinfo],
    ) -> None:
        """Poll hourly; ``zone`` gives the server's time zone as last learned."""
        super().__init__(hass, entry, name="DSMR-reader prices", update_interval=PRICE_INTERVAL)
        self.client = client
        self._zone = zone
        #: False when the server is too old to have the prices endpoint.
        self.exposed = True

    async def _async_fetch(self) -> EnergyPrices | None:
        today = dt_util.utcnow().astimezone(self._zone()).date()
        try:
            return await self.client.async_prices(today)
        except DsmrReaderNotFoundError:
            self.exposed = False
            return None


class HistoryCoordinator(MeterHubCoordinator[HistoryStatus]):
    """Imports the hourly and daily statistics after the server's midnight; the first run backfills."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: DsmrReaderConfigEntry,
        importer: HistoryImporter,
        depth: timedelta,
        zone: Callable[[], tzinfo],
    ) -> None:
        """Backfill ``depth`` on the first run; ``zone`` gives the server's time zone."""
        super().__init__(hass, entry, name="DSMR-reader history", update_interval=HISTORY_RETRY)
        self.importer = importer
        self.depth = depth
        self._zone = zone

    async def _async_fetch(self) -> HistoryStatus:
        self.update_interval = HISTORY_RETRY  # what a failed run falls back to
        now = dt_util.utcnow()
        zone = self._zone()
        status = await self.importer.async_run(now=now, depth=self.depth, zone=zone)
        self.update_interval = next_history_run(now, zone, status.last_hour) - now
        return status


def zone_of(live: LiveCoordinator, candidates: Sequence[tzinfo]) -> Callable[[], tzinfo]:
    """A function giving the server's zone, learned from the newest reading's offset."""

    def zone() -> tzinfo:
        data: LiveData | None = live.data  # None until the first poll succeeded
        sample = data.reading.timestamp if data is not None and data.reading is not None else None
        return server_zone(sample, candidates)

    return zone
