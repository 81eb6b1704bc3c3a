"""Caruna Plus end to end against the 2026 portal: a year of backfill checked against a reference
computed by hand, the first look within a minute, today's hours the same day, a portal change in
the background, metering points that come and go, and a restart in the middle of the backfill."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.meterhub.api.caruna import BACKOFF_FIRST
from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers.caruna import POINTS_INTERVAL, CarunaProvider
from custom_components.meterhub.providers.caruna.coordinator import FIRST_LOOK_DELAY
from custom_components.meterhub.providers.caruna.reader import HELSINKI
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from ..helpers import changes
from .standin import (
    ASSET_1,
    ASSET_2,
    GSRN_1,
    GSRN_2,
    OWN,
    REPRESENTED,
    Portal,
    local_day_hours,
)
from .test_provider import (
    CONSUMPTION_1,
    COST_1,
    NOW,
    TODAY,
    add_entry,
    kwh,
    points,
    refresh_until_caught_up,
)

FLOOR = TODAY - timedelta(days=365)  # 2025-11-20, the oldest day the backfill reads
YEAR_START = local_day_hours(FLOOR)[0]
SPRING = date(2026, 3, 29)  # 23 hours
AUTUMN = date(2026, 10, 25)  # 25 hours
# Today's hours are measured up to 10:00 UTC (12:00 in Helsinki); later ones are null.
MEASURED_UNTIL = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

# The reference, by hand. kwh(h) = 0.3 + (UTC hour % 12) / 10. A Finnish day starts at 22:00 UTC
# in winter and 21:00 UTC in summer; either way its 24 UTC hours have hour % 12 summing to 132,
# so every ordinary day is 24 * 0.3 + 13.2 = 20.4 kWh.
# 2026-03-29 (23 h: UTC 22, 23, 0..20): 10 + 11 + 66 + 36 = 123 -> 6.9 + 12.3 = 19.2 kWh.
# 2026-10-25 (25 h: UTC 21, 22, 23, 0..21): 9 + 10 + 11 + 66 + 45 = 141 -> 7.5 + 14.1 = 21.6 kWh.
# The year 2025-11-20 .. 2026-11-19 has 363 ordinary days and both DST days:
# 363 * 20.4 + 19.2 + 21.6 = 7446.0 kWh. Today until 10:00 UTC (UTC 22, 23, 0..9):
# 10 + 11 + 45 = 66 -> 12 * 0.3 + 6.6 = 10.2 kWh.
ORDINARY_DAY = 20.4
SPRING_DAY = 19.2
AUTUMN_DAY = 21.6
YEAR = 7446.0
TODAY_SO_FAR = 10.2
# Fees per kWh in the stand-in: (0.05 + 0.02253) * 1.255.
FEE_PER_KWH = 0.09102515


def fill_year(portal: Portal, asset: str) -> None:
    """Hours for 400 days up to today; today's hours from MEASURED_UNTIL on are not measured."""
    hours = portal.hours.setdefault(asset, {})
    day = TODAY - timedelta(days=400)
    while day <= TODAY:
        for hour in local_day_hours(day):
            hours[hour] = kwh(hour) if hour < MEASURED_UNTIL else None
        day += timedelta(days=1)


def day_sum(got: dict[datetime, float], day: date) -> float:
    return round(sum(got.get(hour, 0.0) for hour in local_day_hours(day)), 6)


@pytest.fixture
def year(portal: Portal, provider: CarunaProvider, freezer: FrozenDateTimeFactory) -> Portal:
    freezer.move_to(NOW)
    fill_year(portal, ASSET_1)
    portal.represented = []  # one metering point keeps the year quick
    return portal


def older_portal(portal: Portal) -> None:
    """The portal as it answered before 2026: everything the client still has to understand."""
    portal.redirect_in = "header"
    portal.login_json_type = "application/json"
    portal.meteringpoints = False
    portal.monthly_day_refused = False
    portal.shape = "old"


@pytest.mark.parametrize(
    "variant", ["2026", "quarter-hours", "months-refused", "before-2026"], ids=str
)
async def test_a_year_of_backfill_equals_the_reference(
    hass: HomeAssistant, year: Portal, variant: str
) -> None:
    if variant == "quarter-hours":
        year.shape = "quarter"
    elif variant == "months-refused":
        year.monthly_status = 400
    elif variant == "before-2026":
        older_portal(year)
    entry = await add_entry(hass)
    rounds = await refresh_until_caught_up(entry)
    assert rounds <= 12

    got = await changes(hass, CONSUMPTION_1, YEAR_START - timedelta(days=30), NOW)
    assert day_sum(got, SPRING) == pytest.approx(SPRING_DAY)
    assert day_sum(got, AUTUMN) == pytest.approx(AUTUMN_DAY)
    assert len([h for h in local_day_hours(SPRING) if got.get(h)]) == 23
    assert len([h for h in local_day_hours(AUTUMN) if got.get(h)]) == 25
    for day in (FLOOR, date(2026, 1, 1), date(2026, 7, 15), TODAY - timedelta(days=1)):
        assert day_sum(got, day) == pytest.approx(ORDINARY_DAY)
    assert day_sum(got, TODAY) == pytest.approx(TODAY_SO_FAR)
    # Nothing before the backfill's reach, and the whole year plus today, each hour once.
    assert all(v == 0 for h, v in got.items() if h < YEAR_START)
    assert sum(got.values()) == pytest.approx(YEAR + TODAY_SO_FAR)
    # Every hour in its own UTC hour, as Caruna measured it (quarter hours summed, not replaced).
    for hour in local_day_hours(AUTUMN) + local_day_hours(date(2026, 2, 14)):
        assert got[hour] == pytest.approx(kwh(hour))

    cost = await changes(hass, COST_1, YEAR_START - timedelta(days=30), NOW)
    assert sum(cost.values()) == pytest.approx((YEAR + TODAY_SO_FAR) * FEE_PER_KWH, abs=0.02)

    requests = [r for r in year.energy_requests if r[0] == ASSET_1]
    if variant == "months-refused":
        assert len([r for r in requests if r[1] == "refused"]) == 1
    else:
        # One probe per month from 2025-11 to 2026-10 (November 2026 is recent enough to read
        # day by day), never with a day.
        assert len([r for r in requests if r[1] == "monthly"]) == 12
    assert len(requests) <= 13 + 366 + 4 + 2 * rounds + 1
    # A steady refresh afterwards changes nothing.
    await points(entry)[0].async_refresh()
    assert await changes(hass, CONSUMPTION_1, YEAR_START, NOW) == {
        h: v for h, v in got.items() if h >= YEAR_START
    }


async def test_first_look_books_the_recent_weeks_within_a_minute(
    hass: HomeAssistant, year: Portal, freezer: FrozenDateTimeFactory
) -> None:
    await add_entry(hass)
    week = [TODAY - timedelta(days=i) for i in range(1, 8)]
    # Setup itself booked today and the three days before it.
    got = await changes(hass, CONSUMPTION_1, NOW - timedelta(days=10), NOW)
    assert [day_sum(got, day) for day in week[:3]] == [pytest.approx(ORDINARY_DAY)] * 3
    assert day_sum(got, TODAY) == pytest.approx(TODAY_SO_FAR)
    # The first backfill pass comes FIRST_LOOK_DELAY later, newest days first.
    assert timedelta(minutes=1) > FIRST_LOOK_DELAY
    freezer.tick(FIRST_LOOK_DELAY + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    got = await changes(hass, CONSUMPTION_1, NOW - timedelta(days=60), NOW)
    assert [day_sum(got, day) for day in week] == [pytest.approx(ORDINARY_DAY)] * 7
    booked_days = {h.astimezone(HELSINKI).date() for h, v in got.items() if v}
    assert len(booked_days) >= 14  # two weeks in the first minute


async def test_todays_measured_hours_are_booked_the_same_day(
    hass: HomeAssistant, year: Portal, freezer: FrozenDateTimeFactory
) -> None:
    entry = await add_entry(hass)
    await refresh_until_caught_up(entry)
    today = local_day_hours(TODAY)
    got = await changes(hass, CONSUMPTION_1, today[0], NOW + timedelta(hours=12))
    measured = [h for h in today if h < MEASURED_UNTIL]
    assert [got[h] for h in measured] == [kwh(h) for h in measured]
    assert all(not got.get(h) for h in today if h >= MEASURED_UNTIL)  # null: not booked
    # Two more hours appear in the portal; the next refresh, still today, books them.
    for hour in today[len(measured) : len(measured) + 2]:
        year.hours[ASSET_1][hour] = kwh(hour)
    freezer.tick(timedelta(hours=2))
    await points(entry)[0].async_refresh()
    got = await changes(hass, CONSUMPTION_1, today[0], NOW + timedelta(hours=12))
    booked = [h for h in today if got.get(h)]
    assert booked == today[: len(measured) + 2]
    assert sum(got.values()) == pytest.approx(TODAY_SO_FAR + kwh(today[12]) + kwh(today[13]))


async def test_a_portal_change_in_the_background_is_login_changed_not_reauth(
    hass: HomeAssistant, year: Portal, freezer: FrozenDateTimeFactory
) -> None:
    entry = await add_entry(hass)
    coordinator = points(entry)[0]
    year.break_step = "login_page_changed"
    year.expire_tokens()
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert coordinator.last_exception is not None
    assert coordinator.last_exception.translation_key == "login_changed"  # type: ignore[attr-defined]
    starts = year.calls["start"]
    for _ in range(3):
        await coordinator.async_refresh()
    assert year.calls["start"] == starts  # nothing during the back-off
    freezer.tick(timedelta(seconds=BACKOFF_FIRST + 1))
    await coordinator.async_refresh()
    assert year.calls["start"] == starts + 1  # one attempt per back-off step
    await hass.async_block_till_done()
    assert hass.config_entries.flow.async_progress() == []  # never a reauth
    assert entry.state is ConfigEntryState.LOADED
    # Meter Hub is updated (here: the portal is back as we know it): data flows again.
    year.break_step = None
    freezer.tick(timedelta(seconds=2 * BACKOFF_FIRST + 1))
    await coordinator.async_refresh()
    assert coordinator.last_update_success


async def test_metering_points_appear_and_vanish_without_a_reload(
    hass: HomeAssistant, portal: Portal, provider: CarunaProvider, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    fill_year(portal, ASSET_1)
    entry = await add_entry(hass)
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    assert (
        devices.async_get_device_by_identifier((DOMAIN, f"caruna_{GSRN_2}"), entry.entry_id)
        is not None
    )
    assert entities.async_get("sensor.caruna_metering_point_0002_fuse_size") is not None

    # A new household meter (listed with its metering point number only) and one gone.
    portal.meteringpoint_extras[OWN] = [
        {
            "type": "consumptionMeteringPoint",
            "assetId": "A-300",
            "meteringPointNumber": "MP-300",
            "fuseSize": "3x20",
            "address": {"streetName": "Uusitie", "houseNumber": "3"},
        }
    ]
    fill_year(portal, "A-300")
    portal.assets[REPRESENTED] = []
    freezer.tick(POINTS_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.state is ConfigEntryState.LOADED
    new = devices.async_get_device_by_identifier((DOMAIN, "caruna_MP-300"), entry.entry_id)
    assert new is not None
    assert new.name == "Caruna metering point P300"
    fuse = hass.states.get("sensor.caruna_metering_point_p300_fuse_size")
    assert fuse is not None
    assert fuse.state == "3x20"
    state = hass.states.get("sensor.caruna_metering_point_p300_yesterday_s_consumption")
    assert state is not None
    assert float(state.state) == pytest.approx(ORDINARY_DAY)
    got = await changes(hass, "meterhub:caruna_mp_300_consumption", NOW - timedelta(days=3), NOW)
    assert day_sum(got, TODAY - timedelta(days=1)) == pytest.approx(ORDINARY_DAY)
    assert day_sum(got, TODAY) == pytest.approx(TODAY_SO_FAR)

    assert (
        devices.async_get_device_by_identifier((DOMAIN, f"caruna_{GSRN_2}"), entry.entry_id) is None
    )
    assert entities.async_get("sensor.caruna_metering_point_0002_fuse_size") is None
    assert [c.point.identifier for c in points(entry)] == [GSRN_1, "MP-300"]
    # The existing point kept its ids although the portal now also gives its number.
    assert (
        devices.async_get_device_by_identifier((DOMAIN, f"caruna_{GSRN_1}"), entry.entry_id)
        is not None
    )
    assert entities.async_get("sensor.caruna_metering_point_0001_fuse_size") is not None
    assert ASSET_2 not in {c.point.asset_id for c in points(entry)}


async def test_restart_in_the_middle_of_the_backfill_goes_on_where_it_was(
    hass: HomeAssistant, year: Portal
) -> None:
    entry = await add_entry(hass)
    coordinator = points(entry)[0]
    await coordinator.async_refresh()  # the first look
    await coordinator.async_refresh()  # one more pass
    assert not coordinator.caught_up
    read_before = {r[2:] for r in year.energy_requests if r[1] == "daily"}
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    year.energy_requests.clear()
    await refresh_until_caught_up(entry)
    read_after = {r[2:] for r in year.energy_requests if r[1] == "daily"}
    recent = {(d.year, d.month, d.day) for d in (TODAY - timedelta(days=i) for i in range(4))}
    assert not (read_before & read_after) - recent  # no day of history read twice
    got = await changes(hass, CONSUMPTION_1, YEAR_START - timedelta(days=30), NOW)
    assert sum(got.values()) == pytest.approx(YEAR + TODAY_SO_FAR)


async def test_removing_the_entry_forgets_the_progress(
    hass: HomeAssistant, year: Portal, hass_storage: dict[str, Any]
) -> None:
    entry = await add_entry(hass)
    await points(entry)[0].async_refresh()
    assert await hass.config_entries.async_unload(entry.entry_id)
    key = f"{DOMAIN}.caruna_backfill.{entry.entry_id}"
    assert key in hass_storage
    stored = hass_storage[key]["data"]["points"]
    assert list(stored) == [GSRN_1]
    assert OWN not in repr(stored)
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_an_empty_listing_keeps_the_known_points(
    hass: HomeAssistant, year: Portal, freezer: FrozenDateTimeFactory
) -> None:
    entry = await add_entry(hass)
    year.assets[OWN] = []  # a hiccup: the portal lists nothing at all
    freezer.tick(POINTS_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert year.calls["meteringpoints"] >= 3  # the form, the setup and the watch
    devices = dr.async_get(hass)
    assert devices.async_get_device_by_identifier((DOMAIN, f"caruna_{GSRN_1}"), entry.entry_id)
    assert [c.point.identifier for c in points(entry)] == [GSRN_1]
    assert entry.runtime_data.diagnostics()["point_listings"] == 1
