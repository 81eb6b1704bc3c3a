"""What goes into long-term statistics: each reading's consumption, booked at its reading date.

Korto shows a meter's latest reading only; the readings kept in :mod:`.store` give the consumption
of each period as the difference between two readings. Each reading's consumption is booked at its
reading date (local midnight in Tallinn, where Korto's dates are written), so the energy dashboard
shows a month's water in the month it was read rather than in the hour Home Assistant happened to
poll.

A reading far below the one before means the meter was replaced: the new meter counted from
zero, so its reading is the consumption since the swap. A month never goes negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant

from ...api.korto import KortoMeter
from ...const import LOGGER
from ...statistics import ImportResult, StatisticSeries, async_import_series, local_midnight
from .kinds import profile
from .sensors import meter_names
from .store import ReadingStore

# A reading below this share of the one before means the meter was replaced.
REPLACED_BELOW: Final = 0.9
# Korto is Estonian: its reading dates are Tallinn dates.
KORTO_TIME_ZONE: Final = ZoneInfo("Europe/Tallinn")


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


def consumption_series(key: str, meter_id: str, name: str, unit: str) -> StatisticSeries:
    """``meterhub:korto_<meter id>_consumption``: the consumption booked at each reading date."""
    return StatisticSeries(
        provider=key, meter=meter_id, quantity="consumption", name=f"Korto {name}", unit=unit
    )


def reading_statistics(
    readings: Mapping[date, float],
) -> tuple[dict[datetime, float], dict[datetime, float]]:
    """A meter's consumption and readings keyed by the local midnight of each reading date."""
    amounts = {
        local_midnight(day, KORTO_TIME_ZONE): amount
        for day, amount in consumption_by_date(readings).items()
    }
    states = {local_midnight(day, KORTO_TIME_ZONE): value for day, value in readings.items()}
    return amounts, states


class KortoHistory:
    """Imports the consumption of meters whose readings changed; a failure is retried later."""

    def __init__(self, hass: HomeAssistant, key: str, store: ReadingStore) -> None:
        """Import into ``meterhub:<key>_...`` from the readings ``store`` keeps."""
        self.hass = hass
        self.key = key
        self.store = store
        # Meters whose statistics must be (re)imported: all kept ones once per start, so a
        # statistic lost or never written (the recorder was busy) is filled in again.
        self.pending: set[str] = set()
        self.last_imports: dict[str, ImportResult] = {}
        self.import_failures = 0

    async def async_import(self, meters: Iterable[KortoMeter]) -> None:
        """Import the pending meters' consumption.

        The statistics are a by-product of the poll: when the recorder refuses them the sensors
        still update, and the meter stays pending.
        """
        meters = list(meters)
        listed = [meter for meter in meters if meter.id in self.pending]
        names = meter_names(meters) if listed else {}
        for meter in listed:
            unit = profile(meter.type, meter.unit).unit
            if unit is None:
                # Without a unit the dashboard cannot use the statistic.
                self.pending.discard(meter.id)
                continue
            amounts, states = reading_statistics(self.store.readings(meter.id))
            series = consumption_series(self.key, meter.id, names[meter.id], unit)
            try:
                result = await async_import_series(self.hass, series, amounts, states=states)
            except Exception:  # any recorder failure: keep polling, retry later
                self.import_failures += 1
                LOGGER.warning("Importing Korto meter statistics failed; retrying next update")
                continue
            self.last_imports[meter.id] = result
            self.pending.discard(meter.id)
