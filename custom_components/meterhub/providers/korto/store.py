"""Every reading Korto ever showed us, kept on disk per config entry.

Korto only ever shows a meter's latest reading. The consumption of a period is the difference
between two readings (see :mod:`.history`), so the earlier readings must outlive a restart: they
are kept in a ``Store`` per config entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from ...api.korto import KortoMeter
from ...const import DOMAIN

STORAGE_VERSION: Final = 1


class ReadingStore:
    """The readings of an entry's meters by date, persisted in ``.storage``."""

    def __init__(self, hass: HomeAssistant, key: str, entry_id: str) -> None:
        """One store per entry, ``meterhub.<provider key>.<entry id>``; read by :meth:`async_load`."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{key}.{entry_id}"
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
