"""What to ask Caruna for, and in which order: a year of backfill spread out, then the last days.

Caruna gives one day of hours per request (``timespan=daily``) or one month of days
(``timespan=monthly``). A year of hours is therefore about 365 requests per metering point, and the
login behind them is slow, so the work is spread out:

* Each ``read`` makes at most ``REQUESTS_PER_REFRESH`` requests, oldest data first: per month one
  ``monthly`` request tells which days have data at all, then only those days' hours are read (a
  month without data costs one request; a day whose hours are gone is kept as its day total at
  local midnight). A year with data every day is 13 + 362 + 3 requests in 10 reads (plus
  one for yesterday's sensors per backfill pass).
* Caught up, a read re-reads the last ``REREAD_DAYS`` days (data comes 12-36 h late): three requests.

The reader only moves forward in time, so after a restart the newest stored hour says where to
resume. It knows nothing of Home Assistant: the coordinator stores what it returns, and the
benchmark drives it directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from ...api.caruna import CarunaClient, EnergyRow, MeteringPoint

HELSINKI: Final = ZoneInfo("Europe/Helsinki")
BACKFILL_DAYS: Final = 365
REREAD_DAYS: Final = 3
REQUESTS_PER_REFRESH: Final = 40
# Fewer days than this left in a month are read day by day, without asking for the month first.
MONTH_PROBE_MIN_DAYS: Final = 8


@dataclass(frozen=True, kw_only=True)
class PointData:
    """What the sensors of one metering point show."""

    point: MeteringPoint
    yesterday: date | None = None
    yesterday_consumption: float | None = None
    yesterday_cost: float | None = None
    yesterday_hours: int = 0
    last_data: datetime | None = None


@dataclass
class Batch:
    """Hours read in one pass: UTC hour start -> kWh, and -> EUR where a cost is known."""

    consumption: dict[datetime, float] = field(default_factory=dict)
    cost: dict[datetime, float] = field(default_factory=dict)


def local_midnight(day: date) -> datetime:
    """The UTC moment a Finnish calendar day starts."""
    return datetime(day.year, day.month, day.day, tzinfo=HELSINKI).astimezone(UTC)


def backfill_start(today: date) -> datetime:
    """How far back the first backfill reaches."""
    return local_midnight(today - timedelta(days=BACKFILL_DAYS))


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


class PointReader:
    """Reads one metering point: backfill first, then the recent days; keeps yesterday's figures."""

    def __init__(
        self, client: CarunaClient, point: MeteringPoint, *, transfer_price: float | None
    ) -> None:
        """``transfer_price`` (EUR/kWh) prices hours that come without fees."""
        self.client = client
        self.point = point
        self.transfer_price = transfer_price
        self.cursor: date | None = None
        self.caught_up = False
        self.requests = 0
        self.data = PointData(point=point)
        # The last month asked for: a pass that ran out of budget mid-month goes on without
        # asking for the same month again.
        self._month: tuple[date, dict[date, EnergyRow]] | None = None

    def resume(self, start: datetime, last_stored: datetime | None) -> None:
        """Start reading at the Finnish day of ``start`` (what the statistics already hold)."""
        self.cursor = start.astimezone(HELSINKI).date()
        if last_stored is not None:
            self._seen(last_stored)

    async def read_yesterday(self, today: date) -> None:
        """Only yesterday, for the sensors (the light first refresh)."""
        yesterday = today - timedelta(days=1)
        self._note_yesterday(yesterday, await self._hours(yesterday))

    async def read(self, today: date) -> Batch:
        """One pass: the next slice of backfill, or the recent days once caught up."""
        assert self.cursor is not None, "resume() first"
        batch = Batch()
        yesterday = today - timedelta(days=1)
        recent_from = today - timedelta(days=REREAD_DAYS)
        budget = REQUESTS_PER_REFRESH
        day = self.cursor
        while day < recent_from and budget > 0:
            month_end = min(_next_month(day), recent_from)
            totals: Mapping[date, EnergyRow] | None = None
            if (month_end - day).days >= MONTH_PROBE_MIN_DAYS:
                asked = self.requests
                totals = await self._days(day)
                budget -= self.requests - asked
            while day < month_end and budget > 0:
                summary = totals.get(day) if totals is not None else None
                if totals is None or summary is not None:
                    self._collect(await self._hours(day), summary, batch)
                    budget -= 1
                day += timedelta(days=1)
        self.cursor = day
        self.caught_up = day >= recent_from
        if self.caught_up:
            for offset in range(REREAD_DAYS, 0, -1):
                recent = today - timedelta(days=offset)
                rows = await self._hours(recent)
                self._collect(rows, None, batch)
                if recent == yesterday:
                    self._note_yesterday(yesterday, rows)
            self.cursor = today
        else:
            # Still backfilling: yesterday for the sensors only. It is stored once the backfill
            # reaches it, so the newest stored hour keeps meaning "everything before is done".
            self._note_yesterday(yesterday, await self._hours(yesterday))
        return batch

    async def _hours(self, day: date) -> list[EnergyRow]:
        self.requests += 1
        return await self.client.async_hours(self.point, day)

    async def _days(self, day: date) -> dict[date, EnergyRow]:
        """The month's days that have data, by Finnish date."""
        month = day.replace(day=1)
        if self._month is not None and self._month[0] == month:
            return self._month[1]
        self.requests += 1
        rows = await self.client.async_days(self.point, day.year, day.month)
        totals = {
            row.start.astimezone(HELSINKI).date(): row
            for row in rows
            if row.consumption is not None
        }
        self._month = (month, totals)
        return totals

    def hour_cost(self, row: EnergyRow) -> float | None:
        """Caruna's fees for the period, else the configured transfer price, else unknown."""
        if (fee := row.cost) is not None:
            return fee
        if self.transfer_price is not None and row.consumption is not None:
            return row.consumption * self.transfer_price
        return None

    def _collect(self, rows: Iterable[EnergyRow], summary: EnergyRow | None, batch: Batch) -> None:
        """Add measured hours; an unmeasured (null) hour is left out so a later read fills it.

        When a day has no hours at all but the month gave its total (hours no longer kept), the
        total goes into the hour the day starts.
        """
        measured = [row for row in rows if row.consumption is not None]
        if measured:
            self._seen(max(row.start for row in measured))
        elif summary is not None:
            measured = [summary]
        for row in measured:
            assert row.consumption is not None
            batch.consumption[row.start] = row.consumption
            if (amount := self.hour_cost(row)) is not None:
                batch.cost[row.start] = amount

    def _seen(self, hour: datetime) -> None:
        if self.data.last_data is None or hour > self.data.last_data:
            self.data = replace(self.data, last_data=hour)

    def _note_yesterday(self, day: date, rows: list[EnergyRow]) -> None:
        measured = [row for row in rows if row.consumption is not None]
        costs = [amount for row in measured if (amount := self.hour_cost(row)) is not None]
        self.data = replace(
            self.data,
            yesterday=day,
            yesterday_consumption=round(sum(r.consumption or 0.0 for r in measured), 3)
            if measured
            else None,
            yesterday_cost=round(sum(costs), 4) if costs else None,
            yesterday_hours=len(measured),
        )
        if measured:
            self._seen(max(row.start for row in measured))
