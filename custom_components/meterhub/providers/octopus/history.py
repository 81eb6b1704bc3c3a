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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ...api.errors import ApiAuthError, ApiRateLimitError, MeterHubApiError
from ...api.octopus import Interval, OctopusClient, OctopusNotFoundError
from ...coordinator import MeterHubCoordinator
from ...statistics import async_import_series, async_last_hour, fetch_start
from .meters import GasSettings, MeterKind, OctopusMeter
from .tariffs import async_price_book, hourly_amounts, local_day, local_midnight

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
        """Backfill on first run, else re-read the last few days; return the sensors' values."""
        last = await async_last_hour(self.hass, meter.quantity_series(self.gas))
        today = local_day(now)
        backfill_from = local_midnight(today - timedelta(days=self.backfill_days))
        start = local_midnight(
            local_day(fetch_start(last, backfill_from=backfill_from, reread=REREAD))
        )
        result = await self.async_import_range(meter, start, now)
        yesterday = today - timedelta(days=1)
        day_start, day_end = local_midnight(yesterday), local_midnight(today)
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
                chunk_end = min(end, local_midnight(local_day(chunk_start + CHUNK)))
                intervals = await self._async_consumption(meter, chunk_start, chunk_end)
                if intervals:
                    first_day = local_midnight(local_day(intervals[0].start))
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


class OctopusHistoryCoordinator(MeterHubCoordinator[dict[str, MeterSummary]]):
    """Imports every current meter's history a few times a day."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[object],
        importer: HistoryImporter,
        meters: Callable[[], Mapping[str, OctopusMeter]],
    ) -> None:
        """Poll every few hours; ``meters`` gives the meters current on the account."""
        super().__init__(hass, entry, name="Octopus history", update_interval=HISTORY_INTERVAL)
        self.importer = importer
        self._meters = meters

    async def _async_fetch(self) -> dict[str, MeterSummary]:
        """One meter at a time; a rejected key or a rate limit stops the round at once."""
        now = dt_util.utcnow()
        previous = self.data or {}
        data: dict[str, MeterSummary] = {}
        failure: MeterHubApiError | None = None
        for key, meter in self._meters().items():
            try:
                data[key] = await self.importer.async_update(meter, now, previous.get(key))
            except ApiAuthError, ApiRateLimitError:
                raise
            except MeterHubApiError as err:
                failure = failure or err
                if key in previous:
                    data[key] = previous[key]
        if failure is not None:
            raise failure
        return data
