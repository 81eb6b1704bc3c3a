"""What goes into long-term statistics: gas and water readings, booked in the hour the meter took them.

An M-Bus meter reports its register with its own timestamp, hourly (DSMR 4) or every five minutes
(DSMR 5). A sensor books the change in the hour the telegram arrives, which can be the next hour; this
importer books it in the hour the reading covers: the reading stamped ``t`` ends the interval that
contains ``t - 1 µs`` (a reading at 14:00:00 closes the 13:00 hour).

Each hour is imported whole (the importer replaces an hour it is given): the amount of an hour is the
last reading in it minus the last reading before it. The meter reading at the end of each hour is
stored as the statistic's ``state``, so after a restart the amount of the hour in progress is
recovered from the stored rows instead of being restarted from zero.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Final

from homeassistant.core import HomeAssistant

from ...const import LOGGER
from ...statistics import StatisticSeries, async_import_series, async_last_rows, hour_start

_JUST_BEFORE: Final = timedelta(microseconds=1)


def reading_hour(taken: datetime) -> datetime:
    """The UTC hour a reading stamped ``taken`` closes."""
    return hour_start(taken - _JUST_BEFORE)


class MbusStatistics:
    """Imports one M-Bus meter's readings as hourly external statistics."""

    def __init__(self, hass: HomeAssistant, series: StatisticSeries) -> None:
        """Book into ``series``; the stored rows are read on the first reading."""
        self.hass = hass
        self.series = series
        self._lock = asyncio.Lock()
        self._loaded = False
        self._hour: datetime | None = None  # the newest hour booked
        self._base: float | None = None  # the reading at the end of the hour before it
        self._last: tuple[datetime, float] | None = None  # the newest reading seen
        self.imports = 0
        self.ignored = 0

    async def async_add(self, taken: datetime, value: float) -> None:
        """Book the reading ``value`` taken at ``taken`` (calls are serialised, in order)."""
        async with self._lock:
            if not self._loaded:
                await self._async_load()
                self._loaded = True
            if self._last is not None and taken <= self._last[0]:
                return  # the same reading again (a meter repeats it until the next one)
            hour = reading_hour(taken)
            if self._hour is None or self._base is None:
                # Nothing stored: the first reading only sets where counting starts.
                self._hour, self._base, self._last = hour, value, (taken, value)
                await self._async_book(hour, 0.0, value)
                return
            if hour < self._hour:
                self.ignored += 1  # older than what is booked: the meter's clock jumped back
                return
            if hour > self._hour and self._last is not None:
                self._base = self._last[1]  # the last reading of the hour that just closed
                self._hour = hour
            if value < self._base:
                # A replaced or reset meter: count on from the new register.
                LOGGER.info("An M-Bus meter reading went down; counting on from the new value")
                self.ignored += 1
                self._base = value
            self._last = (taken, value)
            await self._async_book(hour, value - self._base, value)

    async def _async_book(self, hour: datetime, amount: float, reading: float) -> None:
        await async_import_series(
            self.hass, self.series, {hour: round(amount, 6)}, states={hour: reading}
        )
        self.imports += 1

    async def _async_load(self) -> None:
        """Where counting resumes: the newest stored hour and the reading before it."""
        rows = await async_last_rows(self.hass, self.series.statistic_id, 2)
        if not rows or (state := rows[0].state) is None:
            return
        newest = rows[0]
        amount = newest.sum - (rows[1].sum if len(rows) > 1 else 0.0)
        self._hour = newest.start
        self._base = state - amount
        # The stored reading closes the newest hour; a later reading in that hour adds to it.
        self._last = (self._hour, state)
