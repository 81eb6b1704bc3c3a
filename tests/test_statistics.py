"""The statistics importer against the real recorder: what the energy dashboard would read.

Every test checks the per-hour (or per-day) ``change`` Home Assistant derives from the stored sums,
which is exactly what the energy dashboard books, not only our own return values.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.meterhub.statistics import (
    ENERGY_KWH,
    VOLUME_M3,
    StatisticSeries,
    async_import_series,
    async_last_hour,
    fetch_start,
    hourly_totals,
    slug,
)
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.statistics import (
    get_metadata,
    statistics_during_period,
    valid_statistic_id,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance

from .helpers import changes as dashboard_changes, statistic_rows

SERIES = StatisticSeries(
    provider="octopus",
    meter="1200012345678 / Z16N",
    quantity="consumption",
    name="Electricity",
    unit=ENERGY_KWH,
)
T0 = datetime(2026, 3, 1, tzinfo=UTC)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def hours(start: datetime, values: list[float]) -> dict[datetime, float]:
    return {start + timedelta(hours=i): v for i, v in enumerate(values)}


async def changes(
    hass: HomeAssistant,
    start: datetime,
    end: datetime,
    period: str = "hour",
    statistic_id: str = SERIES.statistic_id,
) -> dict[datetime, float]:
    """What the energy dashboard reads: the change of the sum per period."""
    return await dashboard_changes(hass, statistic_id, start, end, period)


async def stored_sums(hass: HomeAssistant) -> dict[datetime, float]:
    rows = await statistic_rows(hass, SERIES.statistic_id, {"sum"}, start=T0 - timedelta(days=400))
    return {datetime.fromtimestamp(row["start"], UTC): round(row["sum"] or 0.0, 6) for row in rows}


def test_statistic_ids_are_valid_and_stable() -> None:
    assert SERIES.statistic_id == "meterhub:octopus_1200012345678_z16n_consumption"
    assert valid_statistic_id(SERIES.statistic_id)
    assert slug("__Électricité  (jour)__") == "lectricit_jour"
    odd = StatisticSeries(provider="korto", meter="A--b", quantity="_x_", name="x", unit="EUR")
    assert valid_statistic_id(odd.statistic_id)


def test_metadata_for_2026() -> None:
    meta = SERIES.metadata()
    assert meta["mean_type"] is StatisticMeanType.NONE
    assert meta["has_sum"] is True
    assert meta["source"] == "meterhub"
    assert meta["unit_class"] == "energy"
    assert "has_mean" not in meta
    gas = StatisticSeries(provider="p", meter="m", quantity="gas", name="Gas", unit=VOLUME_M3)
    assert gas.metadata()["unit_class"] == "volume"
    cost = StatisticSeries(provider="p", meter="m", quantity="cost", name="Cost", unit="GBP")
    assert cost.metadata()["unit_class"] is None


def test_hourly_totals_sum_sub_hours_in_utc() -> None:
    # Two half hours in BST (+01:00) and one in UTC land in their UTC hours.
    london = ZoneInfo("Europe/London")
    points = [
        (datetime(2026, 6, 1, 10, 0, tzinfo=london), 0.5),
        (datetime(2026, 6, 1, 10, 30, tzinfo=london), 0.25),
        (datetime(2026, 6, 1, 9, 30, tzinfo=UTC), 1.0),
    ]
    assert hourly_totals(points) == {datetime(2026, 6, 1, 9, tzinfo=UTC): 1.75}
    with pytest.raises(ValueError, match="timezone"):
        hourly_totals([(datetime(2026, 6, 1), 1.0)])


async def test_first_import_and_metadata(recorder_mock: object, hass: HomeAssistant) -> None:
    result = await async_import_series(hass, SERIES, hours(T0, [1.0, 2.0, 0.5]))
    assert result.rows_written == 3
    assert result.total == 3.5
    assert result.last_hour == T0 + timedelta(hours=2)
    assert await changes(hass, T0, T0 + timedelta(hours=3)) == hours(T0, [1.0, 2.0, 0.5])
    meta = await get_instance(hass).async_add_executor_job(
        lambda: get_metadata(hass, statistic_ids={SERIES.statistic_id})
    )
    stored = meta[SERIES.statistic_id][1]
    assert stored["unit_of_measurement"] == "kWh"
    assert stored["has_sum"] is True
    assert await async_last_hour(hass, SERIES) == T0 + timedelta(hours=2)


async def test_reimport_same_data_writes_nothing(
    recorder_mock: object, hass: HomeAssistant
) -> None:
    data = hours(T0, [1.0] * 48)
    await async_import_series(hass, SERIES, data)
    before = await stored_sums(hass)
    again = await async_import_series(hass, SERIES, data)
    assert again.rows_written == 0
    assert await stored_sums(hass) == before
    assert before[T0 + timedelta(hours=47)] == 48.0


async def test_overlapping_windows_never_double_count(
    recorder_mock: object, hass: HomeAssistant
) -> None:
    # Day 1-3, then a re-read of day 2-5 (the usual "last few days" poll).
    await async_import_series(hass, SERIES, hours(T0, [1.0] * 72))
    await async_import_series(hass, SERIES, hours(T0 + timedelta(days=1), [1.0] * 96))
    got = await changes(hass, T0, T0 + timedelta(days=5))
    assert len(got) == 120
    assert set(got.values()) == {1.0}
    sums = await stored_sums(hass)
    assert sums[T0 + timedelta(hours=119)] == 120.0


async def test_late_correction_shifts_later_sums_only(
    recorder_mock: object, hass: HomeAssistant
) -> None:
    await async_import_series(hass, SERIES, hours(T0, [1.0] * 24))
    # The provider corrects 05:00 from 1.0 to 3.5 a day later, and sends only that hour.
    result = await async_import_series(hass, SERIES, {T0 + timedelta(hours=5): 3.5})
    assert result.rows_written == 19  # 05:00 and every later hour, nothing before
    got = await changes(hass, T0, T0 + timedelta(days=1))
    assert got[T0 + timedelta(hours=5)] == 3.5
    assert all(v == 1.0 for k, v in got.items() if k != T0 + timedelta(hours=5))
    assert result.total == 26.5


async def test_out_of_order_import_fits_without_gap(
    recorder_mock: object, hass: HomeAssistant
) -> None:
    # Newer days arrive first (the provider was down), older ones later.
    await async_import_series(hass, SERIES, hours(T0 + timedelta(days=2), [2.0] * 24))
    await async_import_series(hass, SERIES, hours(T0, [1.0] * 48))
    got = await changes(hass, T0, T0 + timedelta(days=3))
    assert [got[T0 + timedelta(hours=h)] for h in (0, 47, 48, 71)] == [1.0, 1.0, 2.0, 2.0]
    await hass.config.async_set_time_zone("UTC")  # days of the dashboard are local days
    daily = await changes(hass, T0, T0 + timedelta(days=3), period="day")
    assert list(daily.values()) == [24.0, 24.0, 48.0]


async def test_gap_filled_later_keeps_following_hours(
    recorder_mock: object, hass: HomeAssistant
) -> None:
    data = hours(T0, [1.0] * 10)
    missing = [T0 + timedelta(hours=h) for h in (3, 4)]
    for hour in missing:
        del data[hour]
    await async_import_series(hass, SERIES, data)
    assert (await stored_sums(hass))[T0 + timedelta(hours=9)] == 8.0
    await async_import_series(hass, SERIES, dict.fromkeys(missing, 0.75))
    got = await changes(hass, T0, T0 + timedelta(hours=10))
    assert got == {**hours(T0, [1.0] * 10), missing[0]: 0.75, missing[1]: 0.75}
    assert (await stored_sums(hass))[T0 + timedelta(hours=9)] == 9.5


async def test_resume_after_restart_reads_only_the_database(
    recorder_mock: object, hass: HomeAssistant
) -> None:
    """A restart loses everything in memory; the resume point and the running sum come from the DB."""
    await async_import_series(hass, SERIES, hours(T0, [1.0] * 30))
    # Nothing of ours survives a restart but the database: drop the importer's in-memory state.
    for key in [k for k in hass.data if str(k).startswith("meterhub")]:
        del hass.data[key]
    last = await async_last_hour(hass, SERIES)
    assert last == T0 + timedelta(hours=29)
    start = fetch_start(last, backfill_from=T0 - timedelta(days=365), reread=timedelta(days=3))
    assert start == last - timedelta(days=3)
    await async_import_series(hass, SERIES, hours(T0 + timedelta(hours=30), [2.0] * 10))
    assert (await stored_sums(hass))[T0 + timedelta(hours=39)] == 50.0


def test_fetch_start_first_run_and_window_limits() -> None:
    depth = T0 - timedelta(days=365)
    assert fetch_start(None, backfill_from=depth, reread=timedelta(days=3)) == depth
    # A re-read window never reaches further back than the configured backfill depth.
    assert fetch_start(depth, backfill_from=depth, reread=timedelta(days=30)) == depth


async def test_dst_change_days_in_local_time(recorder_mock: object, hass: HomeAssistant) -> None:
    """Half-hours of the 25-hour day (50 of them) and the 23-hour day (46) land in the right hours."""
    autumn = datetime(2026, 10, 25, tzinfo=AMSTERDAM)
    spring = datetime(2026, 3, 29, tzinfo=AMSTERDAM)
    points = []
    for day in (autumn, spring):
        utc_start = day.astimezone(UTC)
        utc_end = (day + timedelta(days=1)).astimezone(UTC)  # local midnight to midnight
        n = int((utc_end - utc_start) / timedelta(minutes=30))
        points += [
            ((utc_start + timedelta(minutes=30 * i)).astimezone(AMSTERDAM), 0.1) for i in range(n)
        ]
        assert n == (50 if day is autumn else 46)
    await async_import_series(hass, SERIES, hourly_totals(points))
    got = await changes(hass, spring.astimezone(UTC), (autumn + timedelta(days=1)).astimezone(UTC))
    autumn_hours = [k for k in got if autumn <= k < autumn + timedelta(days=1)]
    spring_hours = [k for k in got if spring <= k < spring + timedelta(days=1)]
    assert len(autumn_hours) == 25
    assert len(spring_hours) == 23
    assert all(v == pytest.approx(0.2) for v in got.values())
    total = sum(got.values())
    assert total == pytest.approx(5.0 + 4.6)  # 50 and 46 half hours of 0.1 kWh


async def test_daily_points_at_local_midnight(recorder_mock: object, hass: HomeAssistant) -> None:
    """Daily values sit at their local period start, also across the DST change."""
    days = [datetime(2026, 10, 24 + i, tzinfo=AMSTERDAM) for i in range(3)]
    await async_import_series(hass, SERIES, dict.fromkeys(days, 10.0))
    got = await changes(
        hass, days[0].astimezone(UTC), days[-1].astimezone(UTC) + timedelta(hours=1)
    )
    assert got == {
        datetime(2026, 10, 23, 22, tzinfo=UTC): 10.0,
        datetime(2026, 10, 24, 22, tzinfo=UTC): 10.0,
        datetime(2026, 10, 25, 23, tzinfo=UTC): 10.0,  # winter time after the change
    }


async def test_concurrent_imports_are_serialised(
    recorder_mock: object, hass: HomeAssistant
) -> None:
    await asyncio.gather(
        async_import_series(hass, SERIES, hours(T0, [1.0] * 24)),
        async_import_series(hass, SERIES, hours(T0 + timedelta(days=1), [1.0] * 24)),
        async_import_series(hass, SERIES, hours(T0 + timedelta(hours=12), [1.0] * 24)),
    )
    sums = await stored_sums(hass)
    assert sums[T0 + timedelta(hours=47)] == 48.0
    assert set((await changes(hass, T0, T0 + timedelta(days=2))).values()) == {1.0}


async def test_meter_readings_kept_as_state(recorder_mock: object, hass: HomeAssistant) -> None:
    await async_import_series(
        hass,
        SERIES,
        hours(T0, [0.5, 0.25]),
        states={T0: 1000.5, T0 + timedelta(hours=1): 1000.75},
    )
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        T0,
        None,
        {SERIES.statistic_id},
        "hour",
        None,
        {"state", "sum"},
    )
    assert [(r["state"], r["sum"]) for r in rows[SERIES.statistic_id]] == [
        (1000.5, 0.5),
        (1000.75, 0.75),
    ]


async def test_old_history_far_before_stored_rows(
    recorder_mock: object, hass: HomeAssistant
) -> None:
    """Backfill a year behind data that is already there: the newer rows move up, no jump."""
    await async_import_series(hass, SERIES, hours(T0, [1.0] * 24))
    year_ago = T0 - timedelta(days=365)
    await async_import_series(hass, SERIES, hours(year_ago, [2.0] * 24))
    sums = await stored_sums(hass)
    assert sums[year_ago + timedelta(hours=23)] == 48.0
    assert sums[T0 + timedelta(hours=23)] == 72.0
    got = await changes(hass, T0, T0 + timedelta(days=1))
    assert set(got.values()) == {1.0}
    # And an import after a long gap finds the old total through the widening look-back.
    later = T0 + timedelta(days=300)
    await async_import_series(hass, SERIES, hours(later, [1.0]))
    assert (await stored_sums(hass))[later] == 73.0


async def test_empty_import_is_a_no_op(recorder_mock: object, hass: HomeAssistant) -> None:
    result = await async_import_series(hass, SERIES, {})
    assert result.rows_written == 0
    assert await async_last_hour(hass, SERIES) is None
