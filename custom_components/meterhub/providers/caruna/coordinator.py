"""Caruna Plus: one coordinator per metering point, recent days first, then a year back.

The reader (``reader.py``) decides what to ask Caruna for; this coordinator paces it and stores
what it returns as external statistics:

* The first refresh (during setup) reads and imports the recent window (today and the three days
  before: four requests), so setup stays quick and the dashboard shows the last days at once.
* ``FIRST_LOOK_DELAY`` later a first backfill pass reads the eleven days before that, newest
  first (13 requests with today and yesterday): the last two weeks are in within a minute of setup.
  Then it refreshes every ``BACKFILL_INTERVAL`` (at most 40 requests each, today and yesterday
  included), reading the rest of the year oldest first: about 20 minutes for a year, with one login
  per token lifetime (an hour) shared by all metering points of the entry.
* Caught up, it refreshes every ``STEADY_INTERVAL`` (four times a day): the recent window again,
  so today's measured hours and late or corrected hours are booked at the next refresh.

What the backfill has left is kept (``store.py``); what is read goes into the statistics through
``history.py``; the newest stored hour says which days were
missed while Home Assistant was down. The statistics importer upserts whole hours in any order, so
a re-read never counts anything twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ...api.caruna import CarunaClient, MeteringPoint
from ...coordinator import MeterHubCoordinator
from .history import PointHistory
from .reader import HELSINKI, PointData, PointReader
from .store import BackfillProgress

if TYPE_CHECKING:
    from .runtime import CarunaConfigEntry

FIRST_LOOK_DELAY: Final = timedelta(seconds=10)
BACKFILL_INTERVAL: Final = timedelta(minutes=2)
STEADY_INTERVAL: Final = timedelta(hours=6)
# Steady refreshes are spread over a few minutes so installs do not all ask Caruna at once.
STEADY_JITTER: Final = 0.05


class CarunaPointCoordinator(MeterHubCoordinator[PointData]):
    """Reads one metering point's energy and imports it as hourly statistics."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: CarunaConfigEntry,
        client: CarunaClient,
        point: MeteringPoint,
        *,
        index: int,
        history: PointHistory,
        transfer_price: float | None,
        progress: BackfillProgress,
    ) -> None:
        """``index`` names the coordinator in logs (never the GSRN)."""
        super().__init__(
            hass,
            entry,
            name=f"Caruna metering point {index}",
            update_interval=BACKFILL_INTERVAL,
            jitter=STEADY_JITTER,
        )
        self.point = point
        self.progress = progress
        self.history = history
        self.reader = PointReader(client, point, transfer_price=transfer_price)
        self._first = True

    @property
    def caught_up(self) -> bool:
        """The backfill is done; refreshes only re-read the recent days."""
        return self.reader.caught_up

    def diagnostics(self) -> dict[str, Any]:
        """Progress without identifiers."""
        pending = self.reader.oldest_pending
        return {
            "name": self.name,
            "backfill_cursor": pending.isoformat() if pending else None,
            "caught_up": self.reader.caught_up,
            "energy_requests": self.reader.requests,
            "hours_imported": self.history.hours_imported,
            "transfer_price_set": self.reader.transfer_price is not None,
        }

    async def _async_fetch(self) -> PointData:
        today = dt_util.now(HELSINKI).date()
        identifier = self.point.identifier
        if not self.reader.resumed:
            last = await self.history.async_last_hour()
            pending = await self.progress.async_pending(identifier)
            self.reader.resume(today, last_stored=last, pending=pending)
        first = self._first
        batch = await self.reader.read(today, backfill=not first)
        self._first = False
        await self.history.async_import(batch)
        await self.progress.async_set(identifier, self.reader.pending)
        if first and not self.reader.caught_up:
            self.update_interval = FIRST_LOOK_DELAY
        elif self.reader.caught_up:
            self.update_interval = self.jittered(STEADY_INTERVAL)
        else:
            self.update_interval = BACKFILL_INTERVAL
        return self.reader.data
