"""What to ask Caruna for, and in which order: the recent days first, then a year back, gently.

Caruna gives one day of hours per request (``timespan=daily``) or one month of days
(``timespan=monthly``, which must not name a day). A year of hours is therefore about 365 requests
per metering point, and the login behind them is slow, so the work is ordered for the user:

* Every read starts with the *recent window*: today and the ``REREAD_DAYS`` days before it (data
  arrives 12-36 h late, and today's hours appear during the day). Hours not measured yet are null
  and left out; they are read again by the next read. The first read, during setup, is only this.
  While the backfill runs (a pass every two minutes), passes read only today and yesterday of it.
* Then, while there is history left to read, the *backfill*, with at most
  ``REQUESTS_PER_REFRESH`` requests per read. First, in a pass of its own, the ``FIRST_LOOK_DAYS``
  before the recent window, newest first (seconds after setup, so the last two weeks are there at
  once); then the rest oldest first: per month one ``monthly`` request tells which days have data,
  then only those days' hours are read (a month without data costs one request; a day whose hours
  are gone is kept as its day total at local midnight). If the portal refuses the month request,
  months are read day by day.

The statistics importer takes older hours after newer ones, but it has to rewrite the running
total of every stored hour after the oldest one it is given. Filling the history oldest first
keeps that to the pass's own hours plus the two weeks after them, instead of everything stored
on every pass (benchmarks/caruna_backfill.py: about 12,000 rows written per statistic for a year
read oldest first, against about 56,000 newest first).
What is still to read (``pending``, ranges of days) is kept by the coordinator between restarts;
days missed while Caruna or Home Assistant was down are added to it. The reader knows nothing of
Home Assistant: the coordinator stores what it returns, and the benchmark drives it directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
import logging
from typing import Final
from zoneinfo import ZoneInfo

from ...api.caruna import CarunaClient, CarunaHttpError, EnergyRow, MeteringPoint

_LOGGER = logging.getLogger(__name__)

HELSINKI: Final = ZoneInfo("Europe/Helsinki")
BACKFILL_DAYS: Final = 365
REREAD_DAYS: Final = 3
REQUESTS_PER_REFRESH: Final = 40
# Fewer days than this left in a month are read day by day, without asking for the month first.
MONTH_PROBE_MIN_DAYS: Final = 8
# Days before the recent window the first backfill pass reads first, newest first.
FIRST_LOOK_DAYS: Final = 11

type DayRange = tuple[date, date]
"""Days ``[first, end)`` by Finnish date."""


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


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def backfill_floor(today: date) -> date:
    """The oldest day the backfill reaches."""
    return today - timedelta(days=BACKFILL_DAYS)


def normalise(ranges: Iterable[DayRange], floor: date, ceiling: date) -> list[DayRange]:
    """Ranges clipped to ``[floor, ceiling)``, merged where they touch, oldest first."""
    clipped = sorted(
        (max(first, floor), min(end, ceiling))
        for first, end in ranges
        if max(first, floor) < min(end, ceiling)
    )
    merged: list[DayRange] = []
    for first, end in clipped:
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((first, end))
    return merged


class PointReader:
    """Reads one metering point: the recent days each time, then history newest first."""

    def __init__(
        self, client: CarunaClient, point: MeteringPoint, *, transfer_price: float | None
    ) -> None:
        """``transfer_price`` (EUR/kWh) prices hours that come without fees."""
        self.client = client
        self.point = point
        self.transfer_price = transfer_price
        #: Days still to read, oldest range first; read from the newest end.
        self.pending: list[DayRange] = []
        self.resumed = False
        self.requests = 0
        self.data = PointData(point=point)
        # The first day of the last recent window read: a later window that starts more than a
        # day after it (an outage) leaves days in between, which go to ``pending``.
        self._recent_from: date | None = None
        # The last month asked for: a pass that ran out of budget mid-month goes on without
        # asking for the same month again.
        self._month: tuple[date, dict[date, EnergyRow]] | None = None
        # The portal refused a month request (HTTP 4xx): months are read day by day from then on.
        self._months_refused = False

    @property
    def caught_up(self) -> bool:
        """Nothing older is left to read; reads only cover the recent window."""
        return self.resumed and not self.pending

    @property
    def oldest_pending(self) -> date | None:
        """The oldest day the backfill has still to read (diagnostics)."""
        return self.pending[0][0] if self.pending else None

    def resume(
        self,
        today: date,
        *,
        last_stored: datetime | None,
        pending: Sequence[DayRange] | None,
    ) -> None:
        """Decide what is left to read from the statistics and the kept progress.

        Nothing stored: the whole year. Otherwise the days since the newest stored hour (less the
        re-read window), plus what the kept progress says the backfill has not reached yet (none
        kept: an install from before progress was kept, whose backfill ran oldest first and is
        complete up to the newest stored hour).
        """
        floor = backfill_floor(today)
        recent_from = today - timedelta(days=REREAD_DAYS)
        ranges: list[DayRange] = []
        if last_stored is None:
            ranges.append((floor, recent_from))
        else:
            last_day = last_stored.astimezone(HELSINKI).date()
            ranges.append((last_day - timedelta(days=REREAD_DAYS), recent_from))
            ranges.extend(pending or ())
        self.pending = normalise(ranges, floor, recent_from)
        self.resumed = True

    async def read(self, today: date, *, backfill: bool = True) -> Batch:
        """One pass: the recent window, then (``backfill``) the next slice of history.

        State moves on only when the whole pass succeeded: a failure in the middle leaves
        everything to be read again by the next pass, and the importer never counts twice.
        """
        assert self.resumed, "resume() first"
        batch = Batch()
        yesterday = today - timedelta(days=1)
        recent_from = today - timedelta(days=REREAD_DAYS)
        ranges = list(self.pending)
        if self._recent_from is not None and recent_from - self._recent_from > timedelta(days=1):
            ranges.append((self._recent_from, recent_from))
        ranges = normalise(ranges, backfill_floor(today), recent_from)
        # A backfill pass comes minutes after the last full window: today and yesterday will do.
        whole_window = not (backfill and ranges and self._recent_from == recent_from)
        days = REREAD_DAYS + 1 if whole_window else 2
        for offset in range(days):
            day = today - timedelta(days=offset)
            rows = await self._hours(day)
            self._collect(rows, None, batch)
            if day == yesterday:
                self._note_yesterday(yesterday, rows)
        if backfill:
            ranges = await self._backfill(ranges, REQUESTS_PER_REFRESH - days, batch, recent_from)
        self.pending = ranges
        if whole_window:
            self._recent_from = recent_from
        return batch

    async def _backfill(
        self, ranges: list[DayRange], budget: int, batch: Batch, recent_from: date
    ) -> list[DayRange]:
        """The first-look days newest first, then the rest oldest first, until the budget is spent.

        A pass that reads first-look days reads only those, so they are imported (and on the
        dashboard) seconds after setup rather than after a full pass of 40 requests.
        """
        look_from = recent_from - timedelta(days=FIRST_LOOK_DAYS)
        first_look = bool(ranges) and ranges[-1][1] > look_from
        while budget > 0 and ranges and ranges[-1][1] > look_from:
            first, end = ranges[-1]
            day = end - timedelta(days=1)
            self._collect(await self._hours(day), None, batch)
            budget -= 1
            if day > first:
                ranges[-1] = (first, day)
            else:
                ranges.pop()
        while ranges and budget > 0 and not first_look:
            first, end = ranges[0]
            month_end = min(end, _next_month(first))
            totals: Mapping[date, EnergyRow] | None = None
            if (month_end - first).days >= MONTH_PROBE_MIN_DAYS and not self._months_refused:
                asked = self.requests
                totals = await self._days(first)
                budget -= self.requests - asked
            while first < month_end and budget > 0:
                summary = totals.get(first) if totals is not None else None
                if totals is None or summary is not None:
                    self._collect(await self._hours(first), summary, batch)
                    budget -= 1
                first += timedelta(days=1)
            if first < end:
                ranges[0] = (first, end)
            else:
                ranges.pop(0)
        return ranges

    async def _hours(self, day: date) -> list[EnergyRow]:
        self.requests += 1
        return await self.client.async_hours(self.point, day)

    async def _days(self, day: date) -> dict[date, EnergyRow] | None:
        """The month's days that have data, by Finnish date; None when the portal refuses."""
        month = day.replace(day=1)
        if self._month is not None and self._month[0] == month:
            return self._month[1]
        self.requests += 1
        try:
            rows = await self.client.async_days(self.point, day.year, day.month)
        except CarunaHttpError as err:
            # Seen in 2026 when a request named a day; whatever the reason, days still work.
            _LOGGER.debug("Month request refused (HTTP %s); reading day by day", err.status)
            self._months_refused = True
            return None
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
