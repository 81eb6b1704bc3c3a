"""Every reading Korto ever showed us, kept on disk, turned into monthly consumption statistics.

Korto only ever shows a meter's latest reading. The consumption of a period is the difference
between two readings, so the earlier readings must outlive a restart: they are kept in a
``Store`` per config entry. Each reading's consumption is booked at its reading date (local
midnight in Tallinn, where Korto's dates are written), so the energy dashboard shows a month's
water in the month it was read rather than in the hour Home Assistant happened to poll.

A reading far below the one before means the meter was replaced: the new meter counted from
zero, so its reading is the consumption since the swap. A month never goes negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from ...api.korto import KortoMeter
from ...const import DOMAIN

STORAGE_VERSION: Final = 1
# A reading below this share of the one before means the meter was replaced.
REPLACED_BELOW: Final = 0.9
# Korto is Estonian: its reading dates are Tallinn dates.
KORTO_TIME_ZONE: Final = ZoneInfo("Europe/Tallinn")


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in Tallinn, where a reading's consumption is booked."""
    return datetime(day.year, day.month, day.day, tzinfo=KORTO_TIME_ZONE)


def consumption_by_date(readings: Mapping[date, float]) -> dict[date, float]:
    """The consumption each reading closes: its rise over the reading before.

    The first reading only sets the baseline (0). A reading that goes down is never a negative
    month. Far down (below 90 % of the baseline, as Home Assistant's own ``total_increasing``
    tells a reset) it is a replaced meter that started again from zero: its whole reading is the
    consumption since the swap, and it is the new baseline. Slightly down it is a misread being
    put right: nothing is booked and the higher reading stays the baseline, so the next rise is
    not counted twice.
    """
    amounts: dict[date, float] = {}
    baseline: float | None = None
    for day in sorted(readings):
        value = readings[day]
        if baseline is None:
            amounts[day] = 0.0
            baseline = value
        elif value >= baseline:
            amounts[day] = value - baseline
            baseline = value
        elif value < baseline * REPLACED_BELOW:
            amounts[day] = value
            baseline = value
        else:
            amounts[day] = 0.0
    return amounts


class ReadingHistory:
    """The readings of an entry's meters by date, persisted in ``.storage``."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """One store per entry; nothing is read before :meth:`async_load`."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.korto.{entry_id}"
        )
        self._readings: dict[str, dict[date, float]] = {}

    async def async_remove(self) -> None:
        """Delete the stored readings (the entry is being removed)."""
        await self._store.async_remove()

    async def async_load(self) -> None:
        """Read what earlier runs kept; a damaged entry is skipped rather than fatal."""
        stored = await self._store.async_load() or {}
        meters = stored.get("meters")
        if not isinstance(meters, dict):
            return
        for meter_id, readings in meters.items():
            if not isinstance(readings, dict):
                continue
            kept: dict[date, float] = {}
            for day, value in readings.items():
                try:
                    kept[date.fromisoformat(day)] = float(value)
                except TypeError, ValueError:
                    continue
            self._readings[str(meter_id)] = kept

    async def async_save(self) -> None:
        """Write the history (a few bytes per reading: it is never trimmed)."""
        await self._store.async_save(
            {
                "meters": {
                    meter_id: {day.isoformat(): value for day, value in sorted(readings.items())}
                    for meter_id, readings in self._readings.items()
                }
            }
        )

    def record(self, meters: Iterable[KortoMeter], *, today: date) -> set[str]:
        """Add the latest readings; returns the ids of meters whose history changed.

        A new value for a date already known is Korto correcting it, and replaces it. A meter
        without a reading or without a date adds nothing: there is nowhere to book it. Nor does
        a reading dated after ``today`` (a typo in the year): kept, it would stay in the history
        after Korto fixed the date and skew every later month.
        """
        changed: set[str] = set()
        for meter in meters:
            if meter.reading is None or meter.reading_date is None or meter.reading_date > today:
                continue
            readings = self._readings.setdefault(meter.id, {})
            if readings.get(meter.reading_date) != meter.reading:
                readings[meter.reading_date] = meter.reading
                changed.add(meter.id)
        return changed

    def meter_ids(self) -> set[str]:
        """Every meter with at least one reading kept."""
        return {meter_id for meter_id, readings in self._readings.items() if readings}

    def readings(self, meter_id: str) -> dict[date, float]:
        """A copy of one meter's readings by date."""
        return dict(self._readings.get(meter_id, {}))

    def statistics(self, meter_id: str) -> tuple[dict[datetime, float], dict[datetime, float]]:
        """The meter's consumption and readings keyed by the local midnight of each reading date."""
        readings = self._readings.get(meter_id, {})
        amounts = {
            local_midnight(day): amount for day, amount in consumption_by_date(readings).items()
        }
        states = {local_midnight(day): value for day, value in readings.items()}
        return amounts, states
