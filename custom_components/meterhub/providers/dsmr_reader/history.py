"""DSMR-reader's hourly and daily statistics as external statistics for the energy dashboard.

Where to resume is read from the database, never from memory: the hours are imported page by page,
and in each page the "marker" series (electricity tariff 1, which every DSMR meter has) is written
last. Its newest hour therefore says how far every series got; after a restart or a server that
went away mid-backfill, the next run starts a short re-read window before it. Anything read twice
is upserted by the shared importer, so nothing is ever counted twice.

When the backfill depth is raised later, older hours appear in front of stored ones. That case is
read in one go and imported with one call per series: importing page by page in front of a year
of stored rows would rewrite those rows once per page.

Hours are imported a whole server day at a time: for each day the server has a day row for, the
electricity hours are made to add up to it (``whole_days``). The re-read window therefore starts at
the server's local midnight, so a day is never re-imported from only part of its hours; a day whose
day row is not there yet keeps its hour rows and is corrected when the row arrives (the importer
replaces whole hours, so nothing is counted twice).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Final

from homeassistant.core import HomeAssistant

from ...api.dsmr_reader import DayStatistic, DsmrReaderClient, HourStatistic
from ...const import LOGGER
from ...statistics import (
    ENERGY_KWH,
    VOLUME_M3,
    StatisticSeries,
    async_import_series,
    async_last_hour,
    async_stored_rows,
    fetch_start,
    hour_start,
    local_midnight,
)
from .whole_days import book_whole_day

# DSMR-reader writes a whole day of hour statistics after midnight and never revises them on its
# own; two days of re-reading covers a server that caught up late after being down.
HOUR_REREAD: Final = timedelta(days=2)
DAY_REREAD: Final = timedelta(days=3)


def server_zone(sample: datetime | None, candidates: Iterable[tzinfo]) -> tzinfo:
    """The server's time zone, learned from a datetime it sent (which carries its offset).

    DSMR-reader reads filter values in its local time. The first candidate (Home Assistant's own
    zone, then DSMR-reader's default Europe/Amsterdam) whose offset at that moment matches wins;
    otherwise the fixed offset itself. An offset alone would be an hour off across a DST change.
    """
    zones = list(candidates)
    if sample is None or (offset := sample.utcoffset()) is None:
        return zones[0] if zones else UTC
    for zone in zones:
        if sample.astimezone(zone).utcoffset() == offset:
            return zone
    return timezone(offset)


@dataclass(frozen=True, kw_only=True)
class HourSeries:
    """One quantity of ``statistics/hour`` and the statistic it goes to."""

    series: StatisticSeries
    value: Callable[[HourStatistic], float | None]


@dataclass(frozen=True, kw_only=True)
class DaySeries:
    """One cost of ``statistics/day`` and the statistic it goes to."""

    series: StatisticSeries
    value: Callable[[DayStatistic], float | None]


@dataclass(frozen=True, kw_only=True)
class HistoryStatus:
    """What the last history run did (diagnostics and tests)."""

    last_hour: datetime | None
    hours_read: int
    days_read: int
    rows_written: int
    gap_filled: bool
    #: Days whose electricity hours were made to add up to the server's day row in this run.
    days_booked: int = 0


def hour_series(key: str, meter: str, title: str) -> list[HourSeries]:
    """The hourly series, marker (electricity tariff 1) last: see the module docstring."""

    def make(quantity: str, name: str, unit: str) -> StatisticSeries:
        return StatisticSeries(
            provider=key,
            meter=meter,
            quantity=quantity,
            name=f"{title} {name}",
            unit=unit,
        )

    return [
        HourSeries(
            series=make("electricity2", "electricity delivered tariff 2", ENERGY_KWH),
            value=lambda row: row.electricity2,
        ),
        HourSeries(
            series=make("electricity1_returned", "electricity returned tariff 1", ENERGY_KWH),
            value=lambda row: row.electricity1_returned,
        ),
        HourSeries(
            series=make("electricity2_returned", "electricity returned tariff 2", ENERGY_KWH),
            value=lambda row: row.electricity2_returned,
        ),
        HourSeries(series=make("gas", "gas", VOLUME_M3), value=lambda row: row.gas),
        HourSeries(
            series=make("electricity1", "electricity delivered tariff 1", ENERGY_KWH),
            value=lambda row: row.electricity1,
        ),
    ]


def day_series(key: str, meter: str, title: str, currency: str) -> list[DaySeries]:
    """The daily cost series, marker (total cost) last."""

    def make(quantity: str, name: str) -> StatisticSeries:
        return StatisticSeries(
            provider=key,
            meter=meter,
            quantity=quantity,
            name=f"{title} {name}",
            unit=currency,
        )

    return [
        DaySeries(
            series=make("electricity_cost", "electricity cost"),
            value=lambda row: row.electricity_cost,
        ),
        DaySeries(series=make("gas_cost", "gas cost"), value=lambda row: row.gas_cost),
        DaySeries(series=make("total_cost", "total cost"), value=lambda row: row.total_cost),
    ]


class HistoryImporter:
    """Reads the server's statistics and hands them to the shared importer."""

    def __init__(
        self,
        hass: HomeAssistant,
        client: DsmrReaderClient,
        hours: list[HourSeries],
        days: list[DaySeries],
    ) -> None:
        """Keep the series; ``hours[-1]`` and ``days[-1]`` are the resume markers."""
        self._hass = hass
        self._client = client
        self.hours = hours
        self.days = days
        self._head_checked = False
        # A first backfill on a slow server can outlast the hourly interval: runs never overlap.
        self._lock = asyncio.Lock()

    async def async_run(self, *, now: datetime, depth: timedelta, zone: tzinfo) -> HistoryStatus:
        """One run at a time (see ``_lock``)."""
        async with self._lock:
            return await self._async_run(now=now, depth=depth, zone=zone)

    async def _async_run(self, *, now: datetime, depth: timedelta, zone: tzinfo) -> HistoryStatus:
        """Fill a gap in front (once per setup), then read from the resume point on."""
        backfill_from = hour_start(now - depth)
        marker = self.hours[-1].series
        last = await async_last_hour(self._hass, marker)
        gap = False
        if last is not None and not self._head_checked:
            gap = await self._async_missing_head(backfill_from, zone)
        self._head_checked = True
        if gap:
            start = backfill_from
        else:
            start = fetch_start(last, backfill_from=backfill_from, reread=HOUR_REREAD)
            start = max(backfill_from, local_midnight(start.astimezone(zone).date(), zone))

        cost_last = None if gap else await async_last_hour(self._hass, self.days[-1].series)
        cost_from = fetch_start(cost_last, backfill_from=backfill_from, reread=DAY_REREAD)
        first_day = min(start, cost_from).astimezone(zone).date()
        days: list[DayStatistic] = []
        async for day_page in self._client.day_statistics(first_day):
            days.extend(day_page)
        day_rows = {row.day: row for row in days}
        run = _DayBatcher(day_rows, zone, whole_from=start)

        hours_read = written = 0
        if gap:  # in front of stored rows: one import per series (see the module docstring)
            rows: list[HourStatistic] = []
            async for page in self._client.hour_statistics(start, zone):
                rows.extend(page)
            hours_read = len(rows)
            written += await self._async_import_hours(run.book(rows) + run.rest())
        else:
            async for page in self._client.hour_statistics(start, zone):
                hours_read += len(page)
                written += await self._async_import_hours(run.book(page) + run.unbookable())
            written += await self._async_import_hours(run.rest())

        cost_day = cost_from.astimezone(zone).date()
        costs = [row for row in days if row.day >= cost_day]
        written += await self._async_import_days(costs, zone)

        return HistoryStatus(
            last_hour=await async_last_hour(self._hass, marker),
            hours_read=hours_read,
            days_read=len(days),
            rows_written=written,
            gap_filled=gap,
            days_booked=run.booked,
        )

    async def _async_missing_head(self, backfill_from: datetime, zone: tzinfo) -> bool:
        """Whether the server has hours inside the depth that we never stored (depth was raised)."""
        first = await self._client.async_first_hour(backfill_from, zone)
        if first is None:
            return False
        statistic_id = self.hours[-1].series.statistic_id
        start = hour_start(first)
        if await async_stored_rows(self._hass, statistic_id, start, start + timedelta(days=1)):
            return False
        LOGGER.debug("DSMR-reader history: older hours than stored, reading the whole depth")
        return True

    async def _async_import_hours(self, rows: list[HourStatistic]) -> int:
        """Import each series of these hours; the marker last. Returns rows written."""
        written = 0
        if not rows:
            return 0
        for item in self.hours:
            values = _valid({row.hour_start: item.value(row) for row in rows})
            if values:
                result = await async_import_series(self._hass, item.series, values)
                written += result.rows_written
        return written

    async def _async_import_days(self, rows: list[DayStatistic], zone: tzinfo) -> int:
        """Import daily costs at the server's local midnight. Returns rows written."""
        written = 0
        for item in self.days:
            values = _valid({local_midnight(row.day, zone): item.value(row) for row in rows})
            if values:
                result = await async_import_series(self._hass, item.series, values)
                written += result.rows_written
        return written


class _DayBatcher:
    """Collects hours by the server's day and hands out whole days, booked to their day rows.

    Hours come oldest first, so a day is complete once an hour of a later day arrives. A day is
    booked only when the read window holds all of it (it starts at or before the day's midnight)
    and the server has a row for it; other days pass through as the server's hours.
    """

    def __init__(
        self, day_rows: dict[date, DayStatistic], zone: tzinfo, *, whole_from: datetime
    ) -> None:
        self._day_rows = day_rows
        self._zone = zone
        self._whole_from = whole_from
        self._day: date | None = None
        self._pending: list[HourStatistic] = []
        self.booked = 0

    def book(self, rows: list[HourStatistic]) -> list[HourStatistic]:
        """The hours of every day these rows complete; the last day waits for more rows."""
        done: list[HourStatistic] = []
        for row in rows:
            day = row.hour_start.astimezone(self._zone).date()
            if self._day is not None and day != self._day:
                done += self.rest()
            self._day = day
            self._pending.append(row)
        return done

    def unbookable(self) -> list[HourStatistic]:
        """The day still being collected, when it will not be booked.

        Stored right away, so an interrupted run keeps what it read; a day that will be booked
        waits instead of being written twice.
        """
        if self._day is None or self._bookable(self._day):
            return []
        return list(self._pending)

    def _bookable(self, day: date) -> bool:
        return day in self._day_rows and self._whole_from <= local_midnight(day, self._zone)

    def rest(self) -> list[HourStatistic]:
        """The day collected so far, booked when its day row is there."""
        hours, self._pending = self._pending, []
        day, self._day = self._day, None
        if day is None or not hours:
            return []
        if not self._bookable(day):
            return hours
        self.booked += 1
        return book_whole_day(hours, self._day_rows[day])


def _valid(values: dict[datetime, float | None]) -> dict[datetime, float]:
    """Drop nulls and negative amounts.

    Null means the server did not measure it (no gas meter, no returned power). A negative amount
    for a counter that only goes up is a meter swap or a repair on the server, not usage.
    """
    return {start: value for start, value in values.items() if value is not None and value >= 0}
