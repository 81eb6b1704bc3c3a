"""Caruna Plus: one coordinator per metering point, backfilling a year and then keeping up.

Caruna gives one day of hours per request (``timespan=daily``) or one month of days
(``timespan=monthly``). A year of hours is therefore about 365 requests per metering point, and the
login behind them is slow, so the work is spread out:

* The first refresh (during setup) reads only yesterday, for the sensors: setup stays quick.
* Then every ``BACKFILL_INTERVAL`` a refresh reads at most ``REQUESTS_PER_REFRESH`` requests, oldest
  first: per month one ``monthly`` request to learn which days have data at all, then the hours of
  those days only (a month without data costs one request; a day whose hours are gone is imported as
  its day total at local midnight). A year takes about 13 + 365 requests in 12-13 refreshes, about
  half an hour, with one login per token lifetime (an hour) shared by all metering points.
* Caught up, it refreshes every ``STEADY_INTERVAL`` and re-reads the last ``REREAD_DAYS`` days (data
  comes 12-36 h late): three requests per metering point, four times a day.

Everything goes forward in time, so after a restart the newest stored hour says where to resume;
the statistics importer upserts hours, so a re-read never counts anything twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
import random
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ...api.caruna import CarunaClient, EnergyRow, MeteringPoint
from ...coordinator import MeterHubCoordinator
from ...statistics import (
    ENERGY_KWH,
    StatisticSeries,
    async_import_series,
    async_last_hour,
    fetch_start,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

HELSINKI: Final = ZoneInfo("Europe/Helsinki")
BACKFILL_DAYS: Final = 365
REREAD_DAYS: Final = 3
REQUESTS_PER_REFRESH: Final = 40
# Fewer days than this left in a month are read day by day, without asking the month first.
MONTH_PROBE_MIN_DAYS: Final = 8
BACKFILL_INTERVAL: Final = timedelta(minutes=2)
STEADY_INTERVAL: Final = timedelta(hours=6)
CURRENCY: Final = "EUR"


@dataclass(frozen=True, kw_only=True)
class PointData:
    """What the sensors of one metering point show."""

    point: MeteringPoint
    yesterday: date | None = None
    yesterday_consumption: float | None = None
    yesterday_cost: float | None = None
    yesterday_hours: int = 0
    last_data: datetime | None = None


def local_midnight(day: date) -> datetime:
    """The UTC moment a Finnish calendar day starts."""
    return datetime(day.year, day.month, day.day, tzinfo=HELSINKI).astimezone(UTC)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


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
        self.client = client
        self.point = point
        self.transfer_price = transfer_price
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
        self._cursor: date | None = None
        self._first = True
        self._state = PointData(point=point)
        self.caught_up = False
        self.requests = 0
        self.hours_imported = 0

    def diagnostics(self) -> dict[str, Any]:
        """Progress without identifiers."""
        return {
            "name": self.name,
            "backfill_cursor": self._cursor.isoformat() if self._cursor else None,
            "caught_up": self.caught_up,
            "energy_requests": self.requests,
            "hours_imported": self.hours_imported,
            "transfer_price_set": self.transfer_price is not None,
        }

    async def _async_fetch(self) -> PointData:
        today = dt_util.now(HELSINKI).date()
        yesterday = today - timedelta(days=1)
        if self._cursor is None:
            last = await async_last_hour(self.hass, self.consumption)
            start = fetch_start(
                last,
                backfill_from=local_midnight(today - timedelta(days=BACKFILL_DAYS)),
                reread=timedelta(days=REREAD_DAYS),
            )
            self._cursor = start.astimezone(HELSINKI).date()
            if last is not None:
                self._state = replace(self._state, last_data=last)
        if self._first:
            self._first = False
            self._note_yesterday(yesterday, await self._hours(yesterday))
            return self._state

        consumption: dict[datetime, float] = {}
        cost: dict[datetime, float] = {}
        recent_from = today - timedelta(days=REREAD_DAYS)
        budget = REQUESTS_PER_REFRESH
        day = self._cursor
        while day < recent_from and budget > 0:
            month_end = min(_next_month(day), recent_from)
            totals: Mapping[date, EnergyRow] | None = None
            if (month_end - day).days >= MONTH_PROBE_MIN_DAYS:
                totals = await self._days(day)
                budget -= 1
            while day < month_end and budget > 0:
                summary = totals.get(day) if totals is not None else None
                if totals is None or summary is not None:
                    self._collect(await self._hours(day), summary, consumption, cost)
                    budget -= 1
                day += timedelta(days=1)
        self._cursor = day

        if day >= recent_from:
            for offset in range(REREAD_DAYS, 0, -1):
                recent = today - timedelta(days=offset)
                rows = await self._hours(recent)
                self._collect(rows, None, consumption, cost)
                if recent == yesterday:
                    self._note_yesterday(yesterday, rows)
            self._cursor = today
            self.caught_up = True
            self.update_interval = _jittered(STEADY_INTERVAL)
        else:
            self.caught_up = False
            self.update_interval = BACKFILL_INTERVAL
            self._note_yesterday(yesterday, await self._hours(yesterday))

        if consumption:
            result = await async_import_series(self.hass, self.consumption, consumption)
            self.hours_imported += result.hours_given
        if cost:
            await async_import_series(self.hass, self.cost, cost)
        return self._state

    async def _hours(self, day: date) -> list[EnergyRow]:
        self.requests += 1
        return await self.client.async_hours(self.point, day)

    async def _days(self, day: date) -> dict[date, EnergyRow]:
        """The month's days that have data, by Finnish date."""
        self.requests += 1
        rows = await self.client.async_days(self.point, day.year, day.month)
        return {
            row.start.astimezone(HELSINKI).date(): row
            for row in rows
            if row.consumption is not None
        }

    def _hour_cost(self, row: EnergyRow) -> float | None:
        if (fee := row.cost) is not None:
            return fee
        if self.transfer_price is not None and row.consumption is not None:
            return row.consumption * self.transfer_price
        return None

    def _collect(
        self,
        rows: Iterable[EnergyRow],
        summary: EnergyRow | None,
        consumption: dict[datetime, float],
        cost: dict[datetime, float],
    ) -> None:
        """Add measured hours; an unmeasured (null) hour is left out so a later read fills it.

        When a day has no hours at all but the month gave its total (hours no longer kept), the
        total goes into the hour the day starts.
        """
        measured = [row for row in rows if row.consumption is not None]
        if not measured and summary is not None:
            measured = [summary]
        for row in measured:
            assert row.consumption is not None
            consumption[row.start] = row.consumption
            if (amount := self._hour_cost(row)) is not None:
                cost[row.start] = amount
        if measured and summary is None:
            newest = max(row.start for row in measured)
            if self._state.last_data is None or newest > self._state.last_data:
                self._state = replace(self._state, last_data=newest)

    def _note_yesterday(self, day: date, rows: list[EnergyRow]) -> None:
        measured = [row for row in rows if row.consumption is not None]
        costs = [amount for row in measured if (amount := self._hour_cost(row)) is not None]
        self._state = replace(
            self._state,
            yesterday=day,
            yesterday_consumption=round(sum(r.consumption or 0.0 for r in measured), 3)
            if measured
            else None,
            yesterday_cost=round(sum(costs), 4) if costs else None,
            yesterday_hours=len(measured),
        )
        if measured:
            newest = max(row.start for row in measured)
            if self._state.last_data is None or newest > self._state.last_data:
                self._state = replace(self._state, last_data=newest)


def _jittered(interval: timedelta) -> timedelta:
    """Spread installs over a few minutes so they do not all ask Caruna at the same moment."""
    return interval * (1 + random.uniform(0, 0.05))
