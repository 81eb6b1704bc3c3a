"""Half-hourly history into long-term statistics: backfill once, then re-read the last few days.

The import of a range works in chunks that each end on a UK midnight: a chunk is fetched (one
consumption page of up to 25,000 half hours, about 520 days, plus the rates of the tariffs in force),
priced and stored before the next one is asked for. If Octopus fails half-way through a backfill,
the chunks already stored stay, and the next poll resumes from the newest stored hour (minus the
re-read window): no gap, and since the importer upserts whole hours, nothing is counted twice.
Chunks and re-read windows start at UK midnight so that a day's standing charge, booked in the
hour the day starts, is always recomputed together with that hour's consumption.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Final

from homeassistant.core import HomeAssistant

from ...api.octopus import Interval, OctopusClient, OctopusNotFoundError
from ...statistics import async_import_series, async_last_hour, fetch_start, local_midnight
from .meters import GasSettings, MeterKind, OctopusMeter
from .tariffs import LONDON, async_price_book, hourly_amounts, local_day

#: How much a chunk asks for: just under the consumption endpoint's 25,000-row page.
CHUNK: Final = timedelta(days=500)
#: Every poll re-reads this much before the newest stored hour (data arrives a day or two late).
REREAD: Final = timedelta(days=3)
DEFAULT_BACKFILL_DAYS: Final = 365
HISTORY_INTERVAL: Final = timedelta(hours=6)


@dataclass(frozen=True, kw_only=True)
class MeterSummary:
    """What the meter's sensors show after an import."""

    last_data: datetime | None = None
    yesterday: date | None = None
    yesterday_quantity: float | None = None
    yesterday_money: float | None = None
    yesterday_half_hours: int = 0
    unpriced_hours: int = 0


@dataclass(frozen=True, kw_only=True)
class RangeResult:
    """What importing a range did."""

    intervals: int
    last_data: datetime | None
    quantity_hours: dict[datetime, float]
    money_hours: dict[datetime, float]
    half_hour_starts: list[datetime]
    unpriced_hours: int


class HistoryImporter:
    """Imports one meter's consumption and cost for a range, one chunk at a time."""

    def __init__(
        self,
        hass: HomeAssistant,
        client: OctopusClient,
        *,
        gas: GasSettings,
        backfill_days: int = DEFAULT_BACKFILL_DAYS,
    ) -> None:
        """Keep the client and the settings that shape the statistics."""
        self.hass = hass
        self.client = client
        self.gas = gas
        self.backfill_days = backfill_days
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, meter: OctopusMeter) -> asyncio.Lock:
        return self._locks.setdefault(meter.key, asyncio.Lock())

    async def async_update(
        self, meter: OctopusMeter, now: datetime, previous: MeterSummary | None = None
    ) -> MeterSummary:
        """Backfill on first run, else re-read the last few days; return the sensors' values.

        A gas meter whose unit GraphQL has not told yet books nothing (no kWh-or-m³ guess).
        """
        if not meter.history_ready:
            return previous or MeterSummary()
        last = await async_last_hour(self.hass, meter.quantity_series(self.gas))
        today = local_day(now)
        backfill_from = local_midnight(today - timedelta(days=self.backfill_days), LONDON)
        start = local_midnight(
            local_day(fetch_start(last, backfill_from=backfill_from, reread=REREAD)), LONDON
        )
        result = await self.async_import_range(meter, start, now)
        yesterday = today - timedelta(days=1)
        day_start, day_end = local_midnight(yesterday, LONDON), local_midnight(today, LONDON)
        summary = previous or MeterSummary()
        if start <= day_start:
            halves = [s for s in result.half_hour_starts if day_start <= s < day_end]
            quantity = [v for h, v in result.quantity_hours.items() if day_start <= h < day_end]
            money = [v for h, v in result.money_hours.items() if day_start <= h < day_end]
            summary = replace(
                summary,
                yesterday=yesterday,
                yesterday_quantity=round(sum(quantity), 3) if halves else None,
                yesterday_money=round(sum(money), 2) if halves and money else None,
                yesterday_half_hours=len(halves),
            )
        return replace(
            summary,
            last_data=result.last_data or summary.last_data,
            unpriced_hours=result.unpriced_hours,
        )

    async def async_import_range(
        self, meter: OctopusMeter, start: datetime, end: datetime
    ) -> RangeResult:
        """Fetch, price and store [start, end) chunk by chunk (``start`` on a UK midnight)."""
        quantity_series = meter.quantity_series(self.gas)
        money_series = meter.money_series()
        quantity_factor, kwh_factor = meter.factors(self.gas)
        standing = meter.kind is not MeterKind.EXPORT
        quantity_hours: dict[datetime, float] = {}
        money_hours: dict[datetime, float] = {}
        starts: list[datetime] = []
        last_data: datetime | None = None
        unpriced = 0
        async with self._lock(meter):
            chunk_start = start
            while chunk_start < end:
                chunk_end = min(end, local_midnight(local_day(chunk_start + CHUNK), LONDON))
                intervals = await self._async_consumption(meter, chunk_start, chunk_end)
                if intervals:
                    first_day = local_midnight(local_day(intervals[0].start), LONDON)
                    book = await async_price_book(
                        self.client,
                        meter.point,
                        first_day,
                        intervals[-1].end,
                        standing_charges=standing,
                    )
                    amounts = hourly_amounts(
                        intervals,
                        book,
                        quantity_factor=quantity_factor,
                        kwh_factor=kwh_factor,
                        standing_charges=standing,
                    )
                    await async_import_series(self.hass, quantity_series, amounts.quantity)
                    await async_import_series(self.hass, money_series, amounts.cost)
                    quantity_hours.update(amounts.quantity)
                    money_hours.update(amounts.cost)
                    starts.extend(i.start for i in intervals)
                    last_data = max(i.end for i in intervals)
                    unpriced += amounts.unpriced_hours
                chunk_start = chunk_end
        return RangeResult(
            intervals=len(starts),
            last_data=last_data,
            quantity_hours=quantity_hours,
            money_hours=money_hours,
            half_hour_starts=starts,
            unpriced_hours=unpriced,
        )

    async def _async_consumption(
        self, meter: OctopusMeter, start: datetime, end: datetime
    ) -> list[Interval]:
        """The meter's half hours; a meter Octopus has no data for yet gives none."""
        try:
            return await self.client.async_get_consumption(
                meter.point, meter.serial_number, start, end
            )
        except OctopusNotFoundError:
            return []
