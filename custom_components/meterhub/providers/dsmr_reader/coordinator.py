"""The three polls of a DSMR-reader server: live values, energy prices and history.

Live values change with every telegram (every few seconds), prices and statistics at most hourly;
separate coordinators keep the frequent poll to two small requests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta, tzinfo
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ...api.dsmr_reader import DsmrReaderClient, DsmrReaderNotFoundError, EnergyPrices
from ...coordinator import MeterHubCoordinator
from .history import HistoryImporter, HistoryStatus, server_zone
from .sensors import LiveData

if TYPE_CHECKING:
    from .runtime import DsmrReaderConfigEntry

PRICE_INTERVAL = timedelta(hours=1)
HISTORY_INTERVAL = timedelta(hours=1)


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

    async def _async_fetch(self) -> LiveData:
        reading = await self.client.async_latest_reading()
        today = await self.client.async_today()
        return LiveData(reading=reading, today=today)


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
    """Imports the hourly and daily statistics, hourly; the first run backfills."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: DsmrReaderConfigEntry,
        importer: HistoryImporter,
        depth: timedelta,
        zone: Callable[[], tzinfo],
    ) -> None:
        """Backfill ``depth`` on the first run; ``zone`` gives the server's time zone."""
        super().__init__(hass, entry, name="DSMR-reader history", update_interval=HISTORY_INTERVAL)
        self.importer = importer
        self.depth = depth
        self._zone = zone

    async def _async_fetch(self) -> HistoryStatus:
        return await self.importer.async_run(
            now=dt_util.utcnow(), depth=self.depth, zone=self._zone()
        )


def zone_of(live: LiveCoordinator, candidates: Sequence[tzinfo]) -> Callable[[], tzinfo]:
    """A function giving the server's zone, learned from the newest reading's offset."""

    def zone() -> tzinfo:
        data: LiveData | None = live.data  # None until the first poll succeeded
        sample = data.reading.timestamp if data is not None and data.reading is not None else None
        return server_zone(sample, candidates)

    return zone
