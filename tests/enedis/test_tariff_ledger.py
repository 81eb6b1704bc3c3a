"""Off-peak windows, and how stored readings become hourly amounts (no Home Assistant needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from custom_components.meterhub.api.enedis import DailyValue, IntervalValue
from custom_components.meterhub.providers.base import FormError
from custom_components.meterhub.providers.enedis.ledger import (
    Ledger,
    day_hours,
    project,
    project_day,
    summarize,
)
from custom_components.meterhub.providers.enedis.options import tariff_from, validate_options
from custom_components.meterhub.providers.enedis.tariff import (
    InvalidWindowsError,
    Tariff,
    Window,
    format_windows,
    offpeak_day_share,
    offpeak_minutes,
    parse_windows,
)

from .standin import PARIS, local_midnight

DAY = date(2026, 6, 2)


def half_hours(
    day: date, watts: float = 1000.0, skip: set[int] = frozenset()
) -> list[IntervalValue]:  # type: ignore[assignment]
    start = local_midnight(day)
    count = int((local_midnight(day + timedelta(days=1)) - start) / timedelta(minutes=30))
    return [
        IntervalValue(start=start + timedelta(minutes=30 * n), minutes=30, wh=watts / 2)
        for n in range(count)
        if n not in skip
    ]


def test_windows_parse_and_normalise() -> None:
    windows = parse_windows(" 12:30-14:30 ,01:00 - 07:00;22h30-23h00")
    assert windows == (Window(60, 420), Window(750, 870), Window(1350, 1380))
    assert format_windows(windows) == "01:00-07:00, 12:30-14:30, 22:30-23:00"
    assert parse_windows("") == ()
    assert parse_windows("22:00-24:00") == (Window(1320, 0),)
    for bad in (
        "1-7",
        "25:00-07:00",
        "01:00-01:00",
        "01:00-07:00, 06:00-08:00",
        "23:00-02:00, 01:00-03:00",
    ):
        with pytest.raises(InvalidWindowsError):
            parse_windows(bad)


def test_offpeak_minutes_across_midnight_and_partial_overlap() -> None:
    night = parse_windows("22:30-06:30")
    assert offpeak_minutes(night, 22 * 60, 30) == 0
    assert offpeak_minutes(night, 22 * 60 + 30, 30) == 30
    assert offpeak_minutes(night, 0, 30) == 30
    assert offpeak_minutes(night, 6 * 60, 60) == 30  # 06:00-07:00: half of it
    assert offpeak_minutes(night, 23 * 60 + 30, 60) == 60  # runs past midnight
    assert offpeak_day_share(night) == 8 / 24


def test_options_validation_and_tariff() -> None:
    cleaned = validate_options(
        {"offpeak_hours": "1:00-7:00", "price_peak_kwh": 0.27, "price_offpeak_kwh": 0.2}
    )
    assert cleaned["offpeak_hours"] == "01:00-07:00"
    with pytest.raises(FormError) as caught:
        validate_options({"offpeak_hours": "night"})
    assert (caught.value.field, caught.value.error_key) == (
        "offpeak_hours",
        "invalid_offpeak_hours",
    )
    with pytest.raises(FormError) as caught:
        validate_options({"offpeak_hours": "01:00-07:00", "price_peak_kwh": 0.27})
    assert (caught.value.field, caught.value.error_key) == ("price_offpeak_kwh", "price_missing")
    assert validate_options({"offpeak_hours": "", "price_peak_kwh": 0.27})  # a base tariff
    base = tariff_from({"price_base_kwh": 0.25, "subscription_per_month": 15.2})
    assert (base.price_peak, base.price_offpeak, base.priced) == (0.25, 0.25, True)
    assert round(base.subscription_per_day, 4) == 0.4997
    assert not tariff_from({}).priced
    assert not tariff_from({"offpeak_hours": "01:00-07:00", "price_peak_kwh": 0.3}).priced


def test_peak_offpeak_hourly_split_with_window_crossing_midnight() -> None:
    # 22:30-06:30 Paris in summer time; the usage rises by 100 W per local hour.
    tariff = Tariff(windows=parse_windows("22:30-06:30"), price_peak=0.3, price_offpeak=0.2)
    ledger = Ledger()
    start = local_midnight(DAY)
    ledger.add_curve(
        IntervalValue(
            start=start + timedelta(minutes=30 * n), minutes=30, wh=(1000 + 100 * (n // 2)) / 2
        )
        for n in range(48)
    )
    hours = project_day(DAY, ledger.days[DAY], tariff)
    assert len(hours.total) == 24
    local = {h.astimezone(PARIS).hour: h for h in hours.total}
    # 05:00 local: fully off-peak. 06:00: half and half. 12:00: peak. 22:00: half. 23:00: off-peak.
    assert (hours.peak[local[5]], hours.offpeak[local[5]]) == (0.0, 1.5)
    assert (hours.peak[local[6]], hours.offpeak[local[6]]) == (0.8, 0.8)
    assert (hours.peak[local[12]], hours.offpeak[local[12]]) == (2.2, 0.0)
    assert (hours.peak[local[22]], hours.offpeak[local[22]]) == (1.6, 1.6)
    assert (hours.peak[local[23]], hours.offpeak[local[23]]) == (0.0, 3.3)
    assert hours.cost[local[6]] == pytest.approx(0.8 * 0.3 + 0.8 * 0.2)
    for hour in hours.total:
        assert hours.total[hour] == pytest.approx(hours.peak[hour] + hours.offpeak[hour])
        assert hours.cost[hour] == pytest.approx(hours.cost_peak[hour] + hours.cost_offpeak[hour])
    summary = summarize(ledger, DAY, tariff)
    assert summary is not None
    # Off-peak: 00:00-06:30 (13 half hours) and 22:30-24:00 (3 half hours).
    offpeak = sum((1000 + 100 * (n // 2)) / 2 for n in [*list(range(13)), 45, 46, 47]) / 1000
    assert summary.offpeak_kwh == pytest.approx(offpeak)
    assert summary.total_kwh == pytest.approx(
        sum((1000 + 100 * (n // 2)) / 2 for n in range(48)) / 1000
    )


@pytest.mark.parametrize(
    ("day", "hours_count"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)]
)
def test_dst_days_project_every_hour_once(day: date, hours_count: int) -> None:
    tariff = Tariff(windows=parse_windows("01:00-07:00"), price_peak=0.3, price_offpeak=0.2)
    ledger = Ledger()
    ledger.add_curve(half_hours(day))
    assert ledger.curve_complete(day)
    hours = project_day(day, ledger.days[day], tariff)
    assert sorted(hours.total) == day_hours(day)
    assert len(hours.total) == hours_count
    assert set(hours.total.values()) == {1.0}
    assert sum(hours.total.values()) == hours_count
    # 01:00-07:00 wall clock: 5 real hours in spring (02:00-03:00 does not exist), 7 in autumn.
    assert sum(hours.offpeak.values()) == {23: 5.0, 25: 7.0}[hours_count]


def test_holes_filled_from_daily_total_and_left_empty_without_it() -> None:
    tariff = Tariff()
    ledger = Ledger()
    ledger.add_curve(half_hours(DAY, skip={0, 1, 30}))
    assert ledger.has_curve(DAY)
    assert not ledger.curve_complete(DAY)
    assert not ledger.final(DAY)
    before = project_day(DAY, ledger.days[DAY], tariff)
    assert sum(before.total.values()) == 22.5
    assert before.total[local_midnight(DAY)] == 0.0  # midnight hour given, as zero
    ledger.add_daily([DailyValue(DAY, 24_000.0)])
    after = project_day(DAY, ledger.days[DAY], tariff)
    assert sum(after.total.values()) == pytest.approx(24.0)
    assert after.total[local_midnight(DAY)] == pytest.approx(1.0)
    assert ledger.final(DAY)


def test_daily_placeholder_replaced_when_curve_arrives() -> None:
    tariff = Tariff(price_peak=0.25)
    ledger = Ledger()
    assert ledger.add_daily([DailyValue(DAY, 30_000.0)]) == {DAY}
    only_daily = project(ledger, [DAY], tariff)
    assert only_daily.total == {local_midnight(DAY): 30.0}
    assert only_daily.cost == {local_midnight(DAY): 7.5}
    assert only_daily.peak == {}
    assert only_daily.offpeak == {}
    assert ledger.add_curve(half_hours(DAY, watts=1000.0)) == {DAY}
    with_curve = project(ledger, [DAY], tariff)
    # Every hour of the day is handed over, the midnight hour with the curve's 1 kWh.
    assert with_curve.total[local_midnight(DAY)] == 1.0
    assert sum(with_curve.total.values()) == 24.0
    assert ledger.add_curve(half_hours(DAY, watts=1000.0)) == set()  # same again: no change


def test_ledger_round_trips_through_json() -> None:
    ledger = Ledger()
    ledger.add_curve(half_hours(date(2026, 10, 25), skip={3}))
    ledger.add_daily([DailyValue(date(2026, 10, 24), 12_345.0)])
    again = Ledger.from_json(ledger.as_json())
    assert again == ledger
    assert Ledger.from_json({"bad": 1, "2026-01-01": {"c": [["x"]]}}).days == {}
    assert UTC  # keep import
    assert datetime
