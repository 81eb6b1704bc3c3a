"""The Enedis projection through the shared importer, read back as the energy dashboard reads it."""

from __future__ import annotations

from datetime import date, timedelta

from custom_components.meterhub.api.enedis import DailyValue, IntervalValue
from custom_components.meterhub.providers.enedis import EnedisProvider
from custom_components.meterhub.providers.enedis.history import EnedisSeries
from custom_components.meterhub.providers.enedis.ledger import Ledger, project
from custom_components.meterhub.providers.enedis.tariff import Tariff, parse_windows
from custom_components.meterhub.statistics import async_import_series
from homeassistant.core import HomeAssistant

from ..helpers import changes
from .conftest import stat_id
from .standin import PRM, local_midnight

DST = date(2026, 10, 25)  # 25 hours
SERIES = EnedisSeries(EnedisProvider.key, PRM)
TARIFF = Tariff(windows=parse_windows("22:00-06:00"), price_peak=0.3, price_offpeak=0.2)


def curve(day: date, watts: float) -> list[IntervalValue]:
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    count = int((end - start) / timedelta(minutes=30))
    return [
        IntervalValue(start=start + timedelta(minutes=30 * n), minutes=30, wh=watts / 2)
        for n in range(count)
    ]


async def import_days(hass: HomeAssistant, ledger: Ledger, days: list[date]) -> list[int]:
    hours = project(ledger, days, TARIFF)
    written = []
    for series, values in (
        (SERIES.consumption, hours.total),
        (SERIES.peak, hours.peak),
        (SERIES.offpeak, hours.offpeak),
        (SERIES.cost, hours.cost),
    ):
        if values:
            written.append((await async_import_series(hass, series, values)).rows_written)
    return written


async def test_reimport_changes_nothing_and_curve_replaces_daily(
    recorder_mock: object, hass: HomeAssistant
) -> None:
    days = [DST - timedelta(days=1), DST, DST + timedelta(days=1)]
    ledger = Ledger()
    ledger.add_daily([DailyValue(day, 30_000.0) for day in days])
    assert await import_days(hass, ledger, days) == [3, 3]  # total and cost, one row a day
    start, end = local_midnight(days[0]), local_midnight(days[-1] + timedelta(days=1))
    placeholder = await changes(hass, stat_id("consumption"), start, end)
    assert list(placeholder.values()) == [30.0, 30.0, 30.0]

    # The load curve of the DST day arrives (1200 W: 0.6 kWh per half hour, 1.2 kWh per hour).
    ledger.add_curve(curve(DST, 1200.0))
    # 25 x 1.2 = 30 kWh, as the daily total said: the next day's running total stays, only the
    # day's 25 hours are written; the cost estimate differed, so the next day's cost row moves too.
    assert await import_days(hass, ledger, [DST]) == [25, 25, 25, 26]
    total = await changes(hass, stat_id("consumption"), start, end)
    assert total[local_midnight(days[0])] == 30.0
    assert total[local_midnight(days[-1])] == 30.0
    dst_hours = [h for h in total if local_midnight(DST) <= h < local_midnight(days[-1])]
    assert len(dst_hours) == 25
    assert [total[h] for h in dst_hours] == [1.2] * 25  # the 30 kWh placeholder is gone
    offpeak = await changes(hass, stat_id("consumption_offpeak"), start, end)
    # 22:00-06:00 wall clock on a 25-hour day: 00:00-06:00 is 7 real hours, plus 22:00-24:00.
    assert round(sum(offpeak.values()), 6) == round(9 * 1.2, 6)
    cost = await changes(hass, stat_id("cost"), local_midnight(DST), local_midnight(days[-1]))
    assert round(sum(cost.values()), 6) == round(9 * 1.2 * 0.2 + 16 * 1.2 * 0.3, 6)

    # Importing the same days again writes nothing and changes nothing.
    assert await import_days(hass, ledger, days) == [0, 0, 0, 0]
    assert await changes(hass, stat_id("consumption"), start, end) == total
