"""One importer for every delayed series: hourly external statistics the energy dashboard reads.

Providers deliver consumption hours, days or a month late, sometimes corrected later, sometimes out of
order. The energy dashboard books an hour's usage as the difference of two consecutive ``sum`` values,
so the importer's one job is to keep ``sum`` a faithful running total whatever order data arrives in.

How it does that: a call hands over whole hours (sub-hour points are summed into their UTC hour,
daily or monthly points sit at their period start). The importer reads the stored total just before
the first hour it was given and every stored row from there on, lays the new hours over the stored
ones (a new value replaces the stored value of the same hour; hours it was not given keep theirs),
recomputes the running total and writes back only the rows that changed. Importing the same data
twice therefore writes nothing, a late correction shifts every later total by exactly the
correction, and an old hour imported after newer ones fits in without a gap or a double count.

A call must hand over every sub-hour point of each hour it touches: an hour is replaced whole.

Providers read the recorder only through this module (:func:`async_last_rows`,
:func:`async_stored_rows`, :func:`async_last_hour`): those queries block and must run in the
recorder's executor, which is easy to forget once and costly to find.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
import re
from typing import Any, Final, NamedTuple

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    get_last_statistics,
    statistics_during_period,
)
from homeassistant.components.recorder.tasks import SynchronizeTask
from homeassistant.const import UnitOfEnergy, UnitOfVolume
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.unit_conversion import EnergyConverter, VolumeConverter

from .const import DOMAIN

HOUR: Final = timedelta(hours=1)
# How far back to look for the stored total before an import, widening step by step: most imports
# continue right where the last one stopped, so the first, cheapest window nearly always answers.
_LOOKBACK_STEPS: Final = (timedelta(days=2), timedelta(days=40), timedelta(days=800))
_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)
# Sums are rounded so that float noise never counts as a change (and never triggers a rewrite).
_DIGITS: Final = 6

_SLUG_RE: Final = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """Lowercase ``text`` to digits, letters and single underscores, as statistic ids require."""
    return _SLUG_RE.sub("_", text.lower()).strip("_")


@dataclass(frozen=True, kw_only=True)
class StatisticSeries:
    """An external statistic: which meter, which quantity, in which unit."""

    provider: str
    meter: str
    quantity: str
    name: str
    unit: str

    @property
    def statistic_id(self) -> str:
        """``meterhub:<provider>_<meter>_<quantity>``, the id the energy dashboard stores."""
        return f"{DOMAIN}:{slug(f'{self.provider}_{self.meter}_{self.quantity}')}"

    @property
    def unit_class(self) -> str | None:
        """The converter class Home Assistant needs to offer unit conversion (None for money)."""
        if self.unit in EnergyConverter.VALID_UNITS:
            return EnergyConverter.UNIT_CLASS
        if self.unit in VolumeConverter.VALID_UNITS:
            return VolumeConverter.UNIT_CLASS
        return None

    def metadata(self) -> StatisticMetaData:
        """Metadata for a summed statistic, in the shape Home Assistant 2026.x requires."""
        return StatisticMetaData(
            mean_type=StatisticMeanType.NONE,
            has_sum=True,
            name=self.name,
            source=DOMAIN,
            statistic_id=self.statistic_id,
            unit_class=self.unit_class,
            unit_of_measurement=self.unit,
        )


@dataclass(frozen=True, kw_only=True)
class ImportResult:
    """What one import did, for logs, diagnostics and tests."""

    hours_given: int
    rows_written: int
    last_hour: datetime | None
    total: float


ENERGY_KWH: Final = UnitOfEnergy.KILO_WATT_HOUR
VOLUME_M3: Final = UnitOfVolume.CUBIC_METERS


def hour_start(moment: datetime) -> datetime:
    """The UTC hour that contains ``moment`` (which must carry a time zone)."""
    if moment.tzinfo is None:
        raise ValueError("statistics need timezone-aware datetimes")
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The UTC moment ``day`` starts in ``zone``: where a daily value is booked.

    UTC, so that adding a timedelta to it counts real hours across a DST change.
    """
    return datetime.combine(day, time(), zone).astimezone(UTC)


def hourly_totals(points: Iterable[tuple[datetime, float]]) -> dict[datetime, float]:
    """Sum points into the UTC hour each starts in (half hours, quarter hours, ...)."""
    hours: dict[datetime, float] = {}
    for start, value in points:
        key = hour_start(start)
        hours[key] = hours.get(key, 0.0) + value
    return hours


_LOCKS: HassKey[dict[str, asyncio.Lock]] = HassKey(f"{DOMAIN}_statistics_locks")


def _lock_for(hass: HomeAssistant, statistic_id: str) -> asyncio.Lock:
    """One import at a time per statistic: two overlapping read-modify-writes would lose data."""
    return hass.data.setdefault(_LOCKS, {}).setdefault(statistic_id, asyncio.Lock())


class StoredRow(NamedTuple):
    """One stored hour of a statistic."""

    start: datetime
    sum: float
    state: float | None


async def async_last_rows(hass: HomeAssistant, statistic_id: str, count: int) -> list[StoredRow]:
    """The newest ``count`` stored hours of a statistic, newest first."""
    found = await get_instance(hass).async_add_executor_job(
        get_last_statistics, hass, count, statistic_id, False, {"sum", "state"}
    )
    return [_stored(row) for row in found.get(statistic_id, [])]


async def async_last_hour(hass: HomeAssistant, series: StatisticSeries) -> datetime | None:
    """The start of the newest stored hour of ``series``, or None when nothing is stored yet."""
    rows = await async_last_rows(hass, series.statistic_id, 1)
    return rows[0].start if rows else None


def fetch_start(
    last_hour: datetime | None, *, backfill_from: datetime, reread: timedelta
) -> datetime:
    """Where a provider should start reading: the backfill depth on first run, else a re-read window.

    The re-read window takes the provider's late corrections; it never reaches past the backfill depth.
    """
    if last_hour is None:
        return backfill_from
    return max(backfill_from, last_hour - reread)


async def async_import_series(
    hass: HomeAssistant,
    series: StatisticSeries,
    values: Mapping[datetime, float],
    *,
    states: Mapping[datetime, float] | None = None,
) -> ImportResult:
    """Upsert hourly ``values`` (UTC hour start -> amount) into ``series`` without double counting.

    ``states`` optionally gives the meter reading at the end of an hour (shown by statistics cards;
    the energy dashboard reads ``sum`` only).
    """
    hours = {hour_start(start): value for start, value in values.items()}
    readings = {hour_start(start): value for start, value in (states or {}).items()}
    if not hours:
        return ImportResult(hours_given=0, rows_written=0, last_hour=None, total=0.0)
    statistic_id = series.statistic_id
    async with _lock_for(hass, statistic_id):
        first = min(hours)
        base = await _async_total_before(hass, statistic_id, first)
        stored = await _async_rows_from(hass, statistic_id, first)

        # Per-hour amounts of what is stored, recovered from the running total.
        merged: dict[datetime, float] = {}
        stored_sums: dict[datetime, float] = {}
        stored_states: dict[datetime, float | None] = {}
        previous = base
        for start, total, state in stored:
            merged[start] = total - previous
            stored_sums[start] = total
            stored_states[start] = state
            previous = total
        merged.update(hours)

        rows: list[StatisticData] = []
        running = base
        for start in sorted(merged):
            running = round(running + merged[start], _DIGITS)
            state = readings.get(start, stored_states.get(start))
            old = stored_sums.get(start)
            if (
                old is not None
                and abs(old - running) < 10**-_DIGITS
                and state == stored_states.get(start)
            ):
                continue
            row = StatisticData(start=start, sum=running)
            if state is not None:
                row["state"] = state
            rows.append(row)
        if rows:
            async_add_external_statistics(hass, series.metadata(), rows)
            await _async_written(hass)
        return ImportResult(
            hours_given=len(hours),
            rows_written=len(rows),
            last_hour=max(merged),
            total=running,
        )


async def _async_written(hass: HomeAssistant) -> None:
    """Wait until the recorder has committed what we queued.

    The recorder writes in its own thread, in queue order. ``Recorder.async_block_till_done`` returns
    at once when the queue is empty, which it already is while our import task is being processed,
    so we queue a synchronize task behind ours and wait for it: the next import (and anyone reading
    right after us) then sees these rows.
    """
    future: asyncio.Future[None] = hass.loop.create_future()
    get_instance(hass).queue_task(SynchronizeTask(future))
    await future


async def _async_total_before(hass: HomeAssistant, statistic_id: str, first: datetime) -> float:
    """The stored running total of the newest hour before ``first`` (0 when there is none)."""
    for step in (*_LOOKBACK_STEPS, None):
        start = _EPOCH if step is None else first - step
        rows = await async_stored_rows(hass, statistic_id, start, first)
        if rows:
            return rows[-1].sum
    return 0.0


async def _async_rows_from(
    hass: HomeAssistant, statistic_id: str, first: datetime
) -> list[StoredRow]:
    """Every stored hour from ``first`` on."""
    return await async_stored_rows(hass, statistic_id, first, None)


async def async_stored_rows(
    hass: HomeAssistant, statistic_id: str, start: datetime, end: datetime | None
) -> list[StoredRow]:
    """Stored hourly rows in [start, end), oldest first, read in the recorder's executor."""
    result = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        start,
        end,
        {statistic_id},
        "hour",
        None,
        {"sum", "state"},
    )
    return [_stored(row) for row in result.get(statistic_id, [])]


def _stored(row: Mapping[str, Any]) -> StoredRow:
    state = row.get("state")
    return StoredRow(
        start=datetime.fromtimestamp(row["start"], UTC),
        sum=row.get("sum") or 0.0,
        state=None if state is None else float(state),
    )
