"""A Home Mini over time: going quiet (a repair, once, gone by itself) and one bought after setup.

The stand-in's Home Mini either answers fixed rows or :func:`moving_telemetry` at the frozen
clock; time moves with ``freezer`` and ``async_fire_time_changed`` only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers.octopus.coordinator import (
    ACCOUNT_INTERVAL,
    TELEMETRY_MAX_BACKOFF,
    TELEMETRY_REPAIR_AFTER,
)
from custom_components.meterhub.repairs import HOME_MINI_QUIET, issue_id
from custom_components.meterhub.statistics import slug
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.translation import async_get_translations

from .conftest import ACCOUNT, MPAN, NOW, SERIAL, fill_standard, setup_entry
from .standin import FakeOctopus, half_hours, moving_demand, moving_telemetry, telemetry_rows

pytestmark = pytest.mark.usefixtures("london")

DEVICE = "00-AA-11-BB-22-CC-33-01"
METER_KEY = slug(f"{MPAN}_{SERIAL}")
UK_MIDNIGHT = datetime(2026, 4, 1, 23, 0, tzinfo=UTC)  # 2 April 00:00 BST


def entity_id(hass: HomeAssistant, key: str) -> str | None:
    """The entity id of the import meter's sensor ``key``, by its (public, stable) unique id."""
    return er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"octopus_{METER_KEY}_{key}")


def state(hass: HomeAssistant, key: str) -> str:
    found = entity_id(hass, key)
    assert found is not None, key
    current = hass.states.get(found)
    assert current is not None, found
    return current.state


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def watch_issue(hass: HomeAssistant, entry: ConfigEntry) -> list[str]:
    """The actions (create, update, remove) the issue registry announces for the quiet repair."""
    wanted = issue_id(HOME_MINI_QUIET, entry.entry_id)
    actions: list[str] = []

    def record(event: Event[Any]) -> None:
        if event.data["domain"] == DOMAIN and event.data["issue_id"] == wanted:
            actions.append(event.data["action"])

    hass.bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, record)
    return actions


def quiet_issue(hass: HomeAssistant, entry: ConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id(HOME_MINI_QUIET, entry.entry_id))


async def as_user_sees_it(hass: HomeAssistant, issue: ir.IssueEntry) -> str:
    """The repair's title and text in English, placeholders filled in as the frontend does."""
    texts = await async_get_translations(hass, "en", "issues", {DOMAIN})
    prefix = f"component.{DOMAIN}.issues.{issue.translation_key}"
    placeholders = issue.translation_placeholders or {}
    title = texts[f"{prefix}.title"].format(**placeholders)
    description = texts[f"{prefix}.description"].format(**placeholders)
    return f"{title}\n\n{description}"


def assert_names_no_identifier(text: str) -> None:
    for secret in (DEVICE, SERIAL, MPAN, ACCOUNT, SERIAL.lower(), DEVICE.replace("-", "")):
        assert secret not in text


async def test_quiet_home_mini_raises_one_repair_that_clears_itself(
    hass: HomeAssistant, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    fill_standard(octopus)
    octopus.device_ids[SERIAL] = DEVICE
    octopus.telemetry[DEVICE] = telemetry_rows(UK_MIDNIGHT, NOW, 432.0)  # newest: 10:30 UTC
    entry = await setup_entry(hass)
    actions = watch_issue(hass, entry)
    assert float(state(hass, "current_demand")) == 432.0

    # an hour without readings: the sensors are unavailable, but no repair yet
    for _ in range(4):
        await tick(hass, freezer, timedelta(minutes=15))
    assert state(hass, "current_demand") == "unavailable"
    assert quiet_issue(hass, entry) is None

    # more than two hours since the last reading (10:30 UTC): one repair, in plain words
    quiet_at = datetime(2026, 4, 2, 10, 30, tzinfo=UTC) + TELEMETRY_REPAIR_AFTER
    while datetime.now(UTC) <= quiet_at:
        await tick(hass, freezer, timedelta(minutes=15))
    issue = quiet_issue(hass, entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    text = await as_user_sees_it(hass, issue)
    assert text.startswith("Octopus Energy: the Home Mini has gone quiet\n\n")
    assert "since 2026-04-02 11:30" in text  # the last reading, UK time
    assert "Wi-Fi" in text
    assert "Octopus Energy app" in text
    assert_names_no_identifier(text + json.dumps(issue.translation_placeholders))

    # raised once: further quiet polls change nothing
    for _ in range(6):
        await tick(hass, freezer, timedelta(minutes=15))
    assert actions == ["create"]

    # readings again: the repair goes by itself, demand is back
    octopus.telemetry[DEVICE] = telemetry_rows(UK_MIDNIGHT, datetime.now(UTC), 250.0)
    await tick(hass, freezer, timedelta(minutes=1))
    assert quiet_issue(hass, entry) is None
    assert float(state(hass, "current_demand")) == 250.0
    assert actions == ["create", "remove"]


async def test_home_mini_silent_from_the_start(
    hass: HomeAssistant, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    """An empty telemetry answer from the first poll on: quiet since setup, then a repair."""
    fill_standard(octopus)
    octopus.device_ids[SERIAL] = DEVICE
    octopus.telemetry[DEVICE] = []
    entry = await setup_entry(hass)
    assert entry.state is ConfigEntryState.LOADED
    assert state(hass, "current_demand") == "unavailable"
    assert state(hass, "today_consumption") == "unavailable"

    await tick(hass, freezer, TELEMETRY_REPAIR_AFTER - timedelta(minutes=5))
    assert quiet_issue(hass, entry) is None
    await tick(hass, freezer, timedelta(minutes=10))
    issue = quiet_issue(hass, entry)
    assert issue is not None
    # quiet since Meter Hub started asking (12:00 BST)
    assert "since 2026-04-02 12:00" in await as_user_sees_it(hass, issue)

    # a device that never reported and then does: cleared
    octopus.telemetry[DEVICE] = telemetry_rows(UK_MIDNIGHT, datetime.now(UTC), 300.0)
    await tick(hass, freezer, timedelta(minutes=1))
    assert quiet_issue(hass, entry) is None
    assert float(state(hass, "current_demand")) == 300.0


async def test_rate_limit_alone_backs_off_and_raises_no_repair(
    hass: HomeAssistant, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    """Three hours of rate limits: nothing is known about the device, so nothing is raised."""
    fill_standard(octopus)
    octopus.device_ids[SERIAL] = DEVICE
    octopus.live_telemetry.add(DEVICE)  # the Home Mini itself keeps reporting all along
    entry = await setup_entry(hass)
    actions = watch_issue(hass, entry)
    assert float(state(hass, "current_demand")) == moving_demand(NOW)

    octopus.telemetry_errors = ["KT-CT-1199"] * 1000
    asked = octopus.count("/graphql/")
    for _ in range(36):
        await tick(hass, freezer, timedelta(minutes=5))
    assert state(hass, "current_demand") == "unavailable"
    assert quiet_issue(hass, entry) is None
    # backing off: once a minute would be 180 requests; the pause is at least 15 minutes
    made = octopus.count("/graphql/") - asked
    assert 0 < made <= 3 * 60 // 15 + 2
    telemetry = entry.runtime_data.telemetry[METER_KEY]
    assert telemetry.update_interval is not None
    assert telemetry.update_interval <= TELEMETRY_MAX_BACKOFF

    # Octopus answers again: the device was fine, demand is back, no repair was ever raised
    octopus.telemetry_errors = []
    for _ in range(8):
        await tick(hass, freezer, timedelta(minutes=5))
    assert float(state(hass, "current_demand")) == moving_demand(datetime.now(UTC))
    assert actions == []


async def test_home_mini_added_after_setup_gets_live_sensors_without_reload(
    hass: HomeAssistant, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    fill_standard(octopus)
    entry = await setup_entry(hass)
    runtime = entry.runtime_data
    assert entity_id(hass, "current_demand") is None
    assert runtime.telemetry == {}

    # the account gets a Home Mini: GraphQL names the meter's device id from now on
    octopus.device_ids[SERIAL] = DEVICE
    octopus.live_telemetry.add(DEVICE)
    await tick(hass, freezer, ACCOUNT_INTERVAL * 1.1 + timedelta(minutes=1))

    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is runtime  # no reload
    demand = entity_id(hass, "current_demand")
    assert demand is not None
    assert float(state(hass, "current_demand")) == moving_demand(datetime.now(UTC))
    assert float(state(hass, "today_consumption")) > 0
    registry = er.async_get(hass)
    # on the meter's own device, next to its other sensors
    demand_entry = registry.async_get(demand)
    rate = entity_id(hass, "current_unit_rate")
    assert demand_entry is not None
    assert rate is not None
    rate_entry = registry.async_get(rate)
    assert rate_entry is not None
    assert demand_entry.device_id == rate_entry.device_id

    # it keeps moving with the clock, once a minute
    first = float(state(hass, "current_demand"))
    await tick(hass, freezer, timedelta(minutes=1))
    assert moving_demand(datetime.now(UTC)) != first
    assert float(state(hass, "current_demand")) == moving_demand(datetime.now(UTC))


async def test_demand_stays_available_just_after_uk_midnight(
    hass: HomeAssistant, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    """Seconds after midnight the new day has no reading yet; the device is not quiet for that."""
    fill_standard(octopus)
    octopus.device_ids[SERIAL] = DEVICE
    midnight = datetime(2026, 4, 2, 23, 0, tzinfo=UTC)  # 3 April 00:00 BST
    octopus.telemetry[DEVICE] = telemetry_rows(UK_MIDNIGHT, midnight, 432.0)  # last: 23:30 BST
    entry = await setup_entry(hass)
    await tick(hass, freezer, midnight - timedelta(minutes=1) - NOW)
    assert float(state(hass, "today_consumption")) == pytest.approx(4.8)  # 48 half hours
    await tick(hass, freezer, timedelta(minutes=1, seconds=5))
    assert float(state(hass, "current_demand")) == 432.0
    # today's consumption counts from the new day's first reading on
    assert state(hass, "today_consumption") == "unavailable"
    assert quiet_issue(hass, entry) is None


def test_moving_telemetry_rows_move_and_add_up() -> None:
    """The demo's Home Mini: a row per half hour, the newest one's demand is now's."""
    now = datetime(2026, 12, 4, 18, 47, tzinfo=UTC)
    rows = moving_telemetry(now - timedelta(hours=2), now)
    assert [row["readAt"] for row in rows][-1] == "2026-12-04T18:30:00Z"
    assert len(rows) == 5
    assert rows[-1]["demand"] == moving_demand(now)
    assert moving_demand(now) != moving_demand(now + timedelta(minutes=1))
    assert rows[-1]["consumption"] - rows[0]["consumption"] == pytest.approx(
        sum(row["consumptionDelta"] for row in rows[1:])
    )


def minute_rows(start: datetime, end: datetime) -> list[dict[str, Any]]:
    """ONE_MINUTE rows: 25 Wh each, demand 1000 W plus the minute's index (all distinct)."""
    rows: list[dict[str, Any]] = []
    moment = start
    while moment < end:
        index = len(rows)
        rows.append(
            {
                "readAt": moment.isoformat(),
                "consumption": 2_000_000 + 25 * index,
                "consumptionDelta": 25,
                "demand": 1000.0 + index,
                "export": 0,
            }
        )
        moment += timedelta(minutes=1)
    return rows


async def test_demand_is_the_newest_minute_and_today_adds_minutes_to_half_hours(
    hass: HomeAssistant, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    """Live demand from ONE_MINUTE rows; today = finished half hours + the minutes since.

    Half-hourly rows up to 10:00 UTC are 100 Wh; from 10:30 on 750 Wh (30 one-minute rows of
    25 Wh). Their demand (432 W) is a half hour's figure, never what the sensor shows.
    """
    fill_standard(octopus)
    octopus.device_ids[SERIAL] = DEVICE
    switch = datetime(2026, 4, 2, 10, 30, tzinfo=UTC)
    halves = telemetry_rows(UK_MIDNIGHT, switch, 432.0)  # 23 rows: 2.3 kWh
    for moment in half_hours(switch, switch + timedelta(hours=2)):
        halves.append({**halves[-1], "readAt": moment.isoformat(), "consumptionDelta": 750})
    octopus.telemetry[DEVICE] = halves
    octopus.telemetry_minutes[DEVICE] = minute_rows(switch, switch + timedelta(hours=2))
    entry = await setup_entry(hass)
    assert entry.state is ConfigEntryState.LOADED
    assert octopus.telemetry_groupings == ["HALF_HOURLY", "ONE_MINUTE"]

    # 11:00 UTC: the newest minute (11:00, index 30), not the half hour's 432 W; today is the
    # half hours up to 11:00 and that first minute
    assert float(state(hass, "current_demand")) == 1030.0
    assert float(state(hass, "today_consumption")) == pytest.approx(2.3 + 0.75 + 0.025)
    assert state(hass, "telemetry_last_reading") == "2026-04-02T11:00:00+00:00"

    for minute in range(1, 61):
        await tick(hass, freezer, timedelta(minutes=1))
        now = NOW + timedelta(minutes=minute)
        assert float(state(hass, "current_demand")) == 1000.0 + 30 + minute
        # the half hours finished at the last :00/:30, plus every minute since, each once
        settled = 2.3 + 0.75 * (1 + minute // 30)
        since = now.replace(minute=now.minute // 30 * 30)
        minutes = (now - since) // timedelta(minutes=1) + 1
        assert float(state(hass, "today_consumption")) == pytest.approx(settled + 0.025 * minutes)

    # the request budget over that hour: one ONE_MINUTE read a minute, HALF_HOURLY twice
    hour = octopus.telemetry_groupings[2:]
    assert hour.count("ONE_MINUTE") == 60
    assert hour.count("HALF_HOURLY") == 2
    assert len(hour) <= 62


async def test_live_home_mini_budget_over_an_hour(
    hass: HomeAssistant, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    """The demo's moving Home Mini: demand moves every minute within 62 requests an hour."""
    fill_standard(octopus)
    octopus.device_ids[SERIAL] = DEVICE
    octopus.live_telemetry.add(DEVICE)
    await setup_entry(hass)
    graphql = octopus.count("/graphql/")
    asked = len(octopus.telemetry_groupings)
    seen: set[float] = set()
    for _ in range(60):
        await tick(hass, freezer, timedelta(minutes=1))
        demand = float(state(hass, "current_demand"))
        assert demand == moving_demand(datetime.now(UTC))
        seen.add(demand)
    assert len(seen) > 5
    assert float(state(hass, "today_consumption")) > 0
    telemetry_requests = len(octopus.telemetry_groupings) - asked
    assert telemetry_requests <= 62
    # everything else on GraphQL in that hour (a token renewal at most)
    assert octopus.count("/graphql/") - graphql <= telemetry_requests + 1


async def test_rate_limit_on_the_minute_read_backs_off(
    hass: HomeAssistant, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    """KT-CT-1199 on a ONE_MINUTE read: unavailable, no request during the pause, then back."""
    fill_standard(octopus)
    octopus.device_ids[SERIAL] = DEVICE
    octopus.live_telemetry.add(DEVICE)
    entry = await setup_entry(hass)
    await tick(hass, freezer, timedelta(minutes=1))  # a minute-only poll comes next
    octopus.telemetry_errors = ["KT-CT-1199"]
    before = len(octopus.telemetry_groupings)
    await tick(hass, freezer, timedelta(minutes=1))
    assert octopus.telemetry_groupings[before:] == ["ONE_MINUTE"]
    assert state(hass, "current_demand") == "unavailable"
    asked = octopus.count("/graphql/")
    for _ in range(5):
        await tick(hass, freezer, timedelta(minutes=1))
    assert octopus.count("/graphql/") == asked
    telemetry = entry.runtime_data.telemetry[METER_KEY]
    assert telemetry.update_interval is not None
    assert telemetry.update_interval > timedelta(minutes=5)
    await tick(hass, freezer, TELEMETRY_MAX_BACKOFF)
    assert float(state(hass, "current_demand")) == moving_demand(datetime.now(UTC))
    assert quiet_issue(hass, entry) is None


async def test_minutes_missed_during_a_rate_limit_are_counted_and_today_never_dips(
    hass: HomeAssistant, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    """After a pause the minute read reaches back to the last reading; a lower half hour is held."""
    fill_standard(octopus)
    octopus.device_ids[SERIAL] = DEVICE
    switch = datetime(2026, 4, 2, 10, 30, tzinfo=UTC)
    halves = telemetry_rows(UK_MIDNIGHT, switch, 432.0)  # 2.3 kWh
    for moment, wh in ((switch, 750), (NOW, 700), (NOW + timedelta(minutes=30), 750)):
        halves.append({**halves[-1], "readAt": moment.isoformat(), "consumptionDelta": wh})
    octopus.telemetry[DEVICE] = halves
    octopus.telemetry_minutes[DEVICE] = minute_rows(switch, switch + timedelta(hours=2))
    entry = await setup_entry(hass)
    await tick(hass, freezer, timedelta(minutes=4))  # 11:04
    assert float(state(hass, "today_consumption")) == pytest.approx(3.05 + 0.025 * 5)

    # a rate limit at 11:05: nothing is asked for a while
    octopus.telemetry_errors = ["KT-CT-1199"]
    await tick(hass, freezer, timedelta(minutes=1))
    assert state(hass, "today_consumption") == "unavailable"
    telemetry = entry.runtime_data.telemetry[METER_KEY]
    while state(hass, "today_consumption") == "unavailable":
        await tick(hass, freezer, timedelta(minutes=1))
    now = datetime.now(UTC)
    assert NOW + timedelta(minutes=15) < now < NOW + timedelta(minutes=30)
    # every minute since 11:00, the missed ones included, each once
    minutes = (now - NOW) // timedelta(minutes=1) + 1
    assert float(state(hass, "today_consumption")) == pytest.approx(3.05 + 0.025 * minutes)
    assert telemetry.update_interval == timedelta(minutes=1)

    # 11:29 -> 11:30: the 11:00 half hour settles at 700 Wh, below its 30 minutes (750 Wh)
    while datetime.now(UTC) < NOW + timedelta(minutes=29):
        await tick(hass, freezer, timedelta(minutes=1))
    assert float(state(hass, "today_consumption")) == pytest.approx(3.8)
    await tick(hass, freezer, timedelta(minutes=1))
    assert float(state(hass, "today_consumption")) == pytest.approx(3.8)  # not 3.775
    for _ in range(3):
        await tick(hass, freezer, timedelta(minutes=1))
    assert float(state(hass, "today_consumption")) == pytest.approx(3.75 + 0.025 * 4)
