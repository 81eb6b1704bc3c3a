"""Done-when checks of the v2 move: a year of backfill and a week of daily steady state against the
v2 stand-in give the hourly statistics a hand computation gives (DST days included), cost within a
cent per day, no legacy request, and requests far under the ban threshold.

The reference is computed here from the stand-in's house model alone (half-hour starts in UTC,
peak/off-peak from the Paris wall clock), not with the provider's code.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
import pytest

from homeassistant.core import HomeAssistant

from ..helpers import changes
from .conftest import add_entry, follow_plan, stat_id
from .standin import CURVE, DAILY, MAX_POWER, PARIS, FakeGateway, local_midnight

START = datetime(2026, 6, 10, 5, 0, tzinfo=UTC)  # 07:00 Paris
FIRST_DAY = date(2025, 6, 10)  # a year back
LAST_DAY = date(2026, 6, 17)  # the last day in after a week of steady state
PRICE_PEAK, PRICE_OFFPEAK = 0.2516, 0.1828
OPTIONS = {
    "offpeak_hours": "22:30-06:30",
    "price_peak_kwh": PRICE_PEAK,
    "price_offpeak_kwh": PRICE_OFFPEAK,
}


@pytest.fixture(autouse=True)
async def paris(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("Europe/Paris")


def house(start: datetime) -> float:
    """Average W of the half hour starting at ``start``: varies by hour, day and half hour."""
    local = start.astimezone(PARIS)
    return 200.0 + 40 * local.hour + 10 * (local.day % 5) + (300 if local.minute == 30 else 0)


def half_hours(day: date) -> list[datetime]:
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    return [
        start + timedelta(minutes=30 * n) for n in range(int((end - start).total_seconds()) // 1800)
    ]


def offpeak(start: datetime) -> bool:
    local = start.astimezone(PARIS)
    minute = local.hour * 60 + local.minute
    return minute >= 22 * 60 + 30 or minute < 6 * 60 + 30


def reference() -> tuple[dict[datetime, float], dict[date, float]]:
    """kWh per UTC hour and EUR per Paris day, by hand from the model."""
    hours: dict[datetime, float] = defaultdict(float)
    cost: dict[date, float] = defaultdict(float)
    day = FIRST_DAY
    while day <= LAST_DAY:
        for start in half_hours(day):
            kwh = house(start) / 2 / 1000
            hours[start.replace(minute=0)] += kwh
            cost[day] += kwh * (PRICE_OFFPEAK if offpeak(start) else PRICE_PEAK)
        day += timedelta(days=1)
    return dict(hours), dict(cost)


@pytest.mark.timeout(900)  # a whole year through the real recorder: minutes on a busy CI machine
async def test_year_backfill_and_a_week_of_steady_state_match_the_hand_computed_reference(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    gateway.watts = house
    gateway.curve_from = gateway.daily_from = FIRST_DAY
    entry = await add_entry(hass, OPTIONS)
    await follow_plan(hass, freezer, entry, datetime(2026, 6, 18, 9, 0, tzinfo=UTC) - START)

    requests = gateway.requests
    assert {r.kind for r in requests} <= {*DAILY, *CURVE, MAX_POWER}  # no legacy type, ever
    plan = entry.runtime_data.coordinator.plan
    assert not plan.backfilling
    backfill_end = max(r.at for r in requests if r.kind in CURVE and r.start < date(2026, 6, 1))
    backfill = [r for r in requests if r.at <= backfill_end]
    steady = [r for r in requests if r.at > backfill_end]
    worst_backfill = gateway.max_in_window()
    steady_gateway = FakeGateway(gateway.mocker, requests=steady)
    worst_steady = steady_gateway.max_in_window()
    print(
        f"\nv2 year: {len(backfill)} backfill requests until {backfill_end:%m-%d %H:%M}, worst 12 h "
        f"{worst_backfill}; steady state {len(steady)} requests in "
        f"{(requests[-1].at - backfill_end).days + 1} days, worst 12 h {worst_steady}"
    )
    assert worst_backfill < 100  # the ban threshold
    assert worst_steady < 20

    expected_hours, expected_cost = reference()
    first, end = local_midnight(FIRST_DAY), local_midnight(LAST_DAY + timedelta(days=1))
    got = await changes(hass, stat_id("consumption"), first, end)
    assert len(expected_hours) == 373 * 24  # 373 days; the DST days' 23 and 25 hours cancel out
    assert set(got) == set(expected_hours)
    wrong = {h: (got[h], v) for h, v in expected_hours.items() if abs(got[h] - v) > 1e-6}
    assert not wrong, list(wrong.items())[:5]
    # The DST days: 23 and 25 hours, each equal to the model.
    for dst, count in ((date(2025, 10, 26), 25), (date(2026, 3, 29), 23)):
        day_hours = [
            h for h in got if local_midnight(dst) <= h < local_midnight(dst + timedelta(1))
        ]
        assert len(day_hours) == count

    cost = await changes(hass, stat_id("cost"), first, end)
    per_day: dict[date, float] = defaultdict(float)
    for hour, value in cost.items():
        per_day[hour.astimezone(PARIS).date()] += value
    assert set(per_day) == set(expected_cost)
    worst_cent = max(abs(per_day[d] - expected_cost[d]) for d in expected_cost)
    print(f"cost: worst day off by {worst_cent:.6f} EUR")
    assert worst_cent < 0.01
