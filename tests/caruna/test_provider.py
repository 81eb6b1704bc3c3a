"""Caruna Plus end to end: the config flow as the UI drives it, setup, backfill into the real
recorder, sensors, reauth, options, diagnostics and unload, all against the local portal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.meterhub.api.caruna import BACKOFF_FIRST
from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers.caruna import CarunaProvider
from custom_components.meterhub.providers.caruna.coordinator import CarunaPointCoordinator
from custom_components.meterhub.providers.caruna.reader import REQUESTS_PER_REFRESH
from custom_components.meterhub.providers.caruna.runtime import CarunaConfigEntry
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er

from ..helpers import answer_reauth, assert_aborted, changes, start_flow
from .standin import (
    ASSET_1,
    ASSET_2,
    GSRN_1,
    GSRN_2,
    OWN,
    PASSWORD,
    REPRESENTED,
    USERNAME,
    Portal,
    fees,
    local_day_hours,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 14:00 in Helsinki
TODAY = date(2026, 11, 20)
YESTERDAY = TODAY - timedelta(days=1)
CONSUMPTION_1 = f"meterhub:caruna_{GSRN_1}_consumption"
COST_1 = f"meterhub:caruna_{GSRN_1}_cost"
CONSUMPTION_2 = f"meterhub:caruna_{GSRN_2}_consumption"
DAYS_ONLY = {date(2026, 9, 10): 20.0, date(2026, 9, 11): 21.5, date(2026, 9, 12): 19.25}
HOURS_FROM = date(2026, 10, 20)
DST_END = date(2026, 10, 25)


def kwh(hour: datetime) -> float:
    """A recognisable amount per hour: higher in the evening."""
    return round(0.3 + (hour.hour % 12) / 10, 2)


def fill(portal: Portal, asset: str, first: date, last: date) -> None:
    """Measured hours for every Finnish day from ``first`` to ``last``."""
    hours = portal.hours.setdefault(asset, {})
    day = first
    while day <= last:
        for hour in local_day_hours(day):
            hours[hour] = kwh(hour)
        day += timedelta(days=1)


def seed(portal: Portal) -> None:
    """Asset 1: days-only in September, hours from 20 October, yesterday's last 4 not measured.

    Asset 2 (a represented customer): hours for the last five days only.
    """
    fill(portal, ASSET_1, HOURS_FROM, YESTERDAY)
    for hour in local_day_hours(YESTERDAY)[-4:]:
        portal.hours[ASSET_1][hour] = None
    portal.days_only[ASSET_1] = dict(DAYS_ONLY)
    fill(portal, ASSET_2, TODAY - timedelta(days=5), YESTERDAY)


async def caruna_form(hass: HomeAssistant) -> str:
    """The Caruna form as the UI shows it: username and password only."""
    result = await start_flow(hass, "caruna")
    assert set(result["data_schema"].schema) == {"username", "password"}
    return str(result["flow_id"])


async def log_in(hass: HomeAssistant, flow_id: str) -> ConfigFlowResult:
    """Submit the stand-in's username and password on the form."""
    return await hass.config_entries.flow.async_configure(
        flow_id, {"username": USERNAME, "password": PASSWORD}
    )


async def add_entry(hass: HomeAssistant) -> CarunaConfigEntry:
    result = await log_in(hass, await caruna_form(hass))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return result["result"]  # type: ignore[no-any-return]


async def set_up_saved(
    hass: HomeAssistant, password: str = PASSWORD, title: str = "Caruna Plus"
) -> MockConfigEntry:
    """Set up an entry saved earlier (as after a restart), whatever the outcome."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=OWN,
        data={"provider": "caruna", "username": USERNAME, "password": password},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    return entry


def points(entry: CarunaConfigEntry) -> list[CarunaPointCoordinator]:
    return entry.runtime_data.points


async def refresh_until_caught_up(entry: config_entries.ConfigEntry[Any]) -> int:
    """Run the scheduled refreshes (as the timer would) until every point is caught up."""
    for rounds in range(1, 30):
        for coordinator in points(entry):
            await coordinator.async_refresh()
            assert coordinator.last_update_success, coordinator.last_exception
        if all(coordinator.caught_up for coordinator in points(entry)):
            return rounds
    raise AssertionError("backfill never finished")


@pytest.fixture
def seeded(portal: Portal, provider: CarunaProvider, freezer: FrozenDateTimeFactory) -> Portal:
    freezer.move_to(NOW)
    seed(portal)
    return portal


async def test_an_older_title_naming_the_user_is_replaced(
    hass: HomeAssistant, seeded: Portal
) -> None:
    """Entries from before issue 23 were titled "Caruna Plus (<e-mail>)": logged, and in repairs."""
    entry = await set_up_saved(hass, title=f"Caruna Plus ({USERNAME})")
    await hass.async_block_till_done()
    assert entry.title == "Caruna Plus"
    assert entry.state is ConfigEntryState.LOADED


async def test_flow_creates_one_entry_for_all_customer_numbers(
    hass: HomeAssistant, seeded: Portal
) -> None:
    entry = await add_entry(hass)
    assert entry.unique_id == OWN
    assert entry.title == "Caruna Plus"  # issue 23: never the user's e-mail
    assert entry.data == {"provider": "caruna", "username": USERNAME, "password": PASSWORD}
    assert entry.state is ConfigEntryState.LOADED

    devices = dr.async_get(hass)
    for gsrn, name, model in (
        (GSRN_1, "Caruna metering point 0001", "Yösiirto 25 A"),
        (GSRN_2, "Caruna metering point 0002", "Yleissiirto"),
    ):
        device = devices.async_get_device_by_identifier((DOMAIN, f"caruna_{gsrn}"), entry.entry_id)
        assert device is not None
        assert device.name == name
        assert device.serial_number == gsrn
        assert device.model == model
        assert device.manufacturer == "Caruna"

    measured = [kwh(h) for h in local_day_hours(YESTERDAY)[:-4]]
    state = hass.states.get("sensor.caruna_metering_point_0001_yesterday_s_consumption")
    assert state is not None
    assert float(state.state) == pytest.approx(sum(measured), abs=1e-3)
    assert state.attributes["unit_of_measurement"] == "kWh"
    assert state.attributes["device_class"] == "energy"
    assert state.attributes["hours_measured"] == 20
    assert state.attributes["date"] == YESTERDAY.isoformat()
    cost = hass.states.get("sensor.caruna_metering_point_0001_yesterday_s_cost")
    assert cost is not None
    assert cost.attributes["unit_of_measurement"] == "EUR"
    assert float(cost.state) == pytest.approx(sum(fees(v)["totalFee"] for v in measured), abs=1e-3)
    last = hass.states.get("sensor.caruna_metering_point_0001_last_data")
    assert last is not None
    assert last.state == local_day_hours(YESTERDAY)[-5].isoformat()
    fuse = hass.states.get("sensor.caruna_metering_point_0002_fuse_size")
    assert fuse is not None
    assert fuse.state == "3x35"
    registry = er.async_get(hass)
    fuse_entity = registry.async_get("sensor.caruna_metering_point_0002_fuse_size")
    assert fuse_entity is not None
    assert fuse_entity.entity_category is not None
    assert fuse_entity.unique_id == f"caruna_{GSRN_2}_fuse_size"
    # Setup stayed light: one login, the asset lists and the recent window per point (today and
    # the three days before it: issue 21 reads today, issue 14 books the recent days at once).
    assert seeded.tokens_issued == 2  # one for the form's check, one for the entry
    recent = [("daily", 2026, 11, day) for day in (20, 19, 18, 17)]
    assert [r[1:] for r in seeded.energy_requests] == recent * 2


async def test_duplicate_login_is_aborted(hass: HomeAssistant, seeded: Portal) -> None:
    await add_entry(hass)
    assert_aborted(await log_in(hass, await caruna_form(hass)), "already_configured")


async def test_form_errors_for_each_kind_of_failure_then_success(
    hass: HomeAssistant, seeded: Portal
) -> None:
    flow_id = await caruna_form(hass)
    cases: list[tuple[dict[str, str], str | None, str]] = [
        ({"username": USERNAME, "password": "väärä"}, None, "invalid_auth"),
        ({"username": USERNAME, "password": PASSWORD}, "login_page_changed", "login_changed"),
        ({"username": USERNAME, "password": PASSWORD}, "callback_without_code", "login_changed"),
        ({"username": USERNAME, "password": PASSWORD}, "token_500", "cannot_connect"),
    ]
    for data, break_step, error in cases:
        seeded.break_step = break_step
        result = await hass.config_entries.flow.async_configure(flow_id, data)
        assert result["type"] is FlowResultType.FORM, break_step
        assert result["errors"] == {"base": error}
    seeded.break_step = None
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"username": f"  {USERNAME} ", "password": PASSWORD}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["username"] == USERNAME


async def test_backfill_imports_what_the_dashboard_reads(
    hass: HomeAssistant, seeded: Portal
) -> None:
    entry = await add_entry(hass)
    rounds = await refresh_until_caught_up(entry)
    assert rounds <= 4

    # Hours: every measured hour in its own UTC hour; yesterday's unmeasured hours are absent.
    start = local_day_hours(HOURS_FROM)[0]
    got = await changes(hass, CONSUMPTION_1, start, NOW)
    expected = {h: v for h, v in seeded.hours[ASSET_1].items() if v is not None}
    assert {h: v for h, v in got.items() if h in expected} == pytest.approx(expected)
    assert all(v == 0 for h, v in got.items() if h not in expected)
    assert max(h for h, v in got.items() if v) == local_day_hours(YESTERDAY)[-5]

    # The DST day (25 hours) is booked hour by hour, the repeated 03:00 included.
    dst_hours = local_day_hours(DST_END)
    assert len(dst_hours) == 25
    assert [got[h] for h in dst_hours] == [kwh(h) for h in dst_hours]

    # Days whose hours are gone: the day total at local midnight.
    days = await changes(hass, CONSUMPTION_1, datetime(2026, 9, 1, tzinfo=UTC), start)
    booked = {h: v for h, v in days.items() if v}
    assert booked == {local_day_hours(d)[0]: v for d, v in DAYS_ONLY.items()}

    # Cost: the API's fees per hour.
    cost = await changes(hass, COST_1, start, NOW)
    assert sum(cost.values()) == pytest.approx(
        sum(fees(v)["totalFee"] for v in expected.values()), abs=1e-3
    )
    assert sum(days.values()) + sum(got.values()) == pytest.approx(
        sum(DAYS_ONLY.values()) + sum(expected.values())
    )

    # The represented customer's point is there too.
    other = await changes(hass, CONSUMPTION_2, NOW - timedelta(days=7), NOW)
    assert sum(other.values()) == pytest.approx(
        sum(v for v in seeded.hours[ASSET_2].values() if v is not None)
    )

    # Requests: one month probe per month of the year; hours only for days that have data.
    asset_1 = [r for r in seeded.energy_requests if r[0] == ASSET_1]
    monthly = [r for r in asset_1 if r[1] == "monthly"]
    daily = {date(*r[2:]) for r in asset_1 if r[1] == "daily"}
    # 2025-11 .. 2026-10; November 2026 is read day by day by the recent window and first look.
    assert len({r[2:4] for r in monthly}) == 12
    assert len(monthly) <= 13 + rounds
    # Today is read too (issue 21: its measured hours are booked the same day).
    with_data = {
        d for d in (HOURS_FROM + timedelta(days=i) for i in range(60)) if d <= TODAY
    } | set(DAYS_ONLY)
    assert daily <= with_data
    assert len([r for r in asset_1 if r[1] == "daily"]) <= len(with_data) + 3 + 2 * rounds
    for coordinator in points(entry):
        assert coordinator.reader.requests <= REQUESTS_PER_REFRESH * rounds + 4 * (rounds + 1)

    # Importing again (the next steady refresh) changes nothing and counts nothing twice.
    before = await changes(hass, CONSUMPTION_1, start, NOW)
    await points(entry)[0].async_refresh()
    assert await changes(hass, CONSUMPTION_1, start, NOW) == before


async def test_late_hours_fill_in_on_a_later_refresh(
    hass: HomeAssistant, seeded: Portal, freezer: FrozenDateTimeFactory
) -> None:
    entry = await add_entry(hass)
    await refresh_until_caught_up(entry)
    late = local_day_hours(YESTERDAY)[-4:]
    got = await changes(hass, CONSUMPTION_1, late[0] - timedelta(hours=1), NOW)
    assert [got.get(h, 0) for h in late] == [0, 0, 0, 0]
    # Caruna delivers the missing hours (and a whole new day) 12-36 h later.
    for hour in late:
        seeded.hours[ASSET_1][hour] = 2.0
    fill(seeded, ASSET_1, TODAY, TODAY)
    freezer.move_to(NOW + timedelta(days=1))
    await points(entry)[0].async_refresh()
    got = await changes(hass, CONSUMPTION_1, late[0] - timedelta(hours=1), NOW + timedelta(days=1))
    assert [got[h] for h in late] == [2.0] * 4
    assert sum(got[h] for h in local_day_hours(TODAY)) == pytest.approx(
        sum(kwh(h) for h in local_day_hours(TODAY))
    )
    state = hass.states.get("sensor.caruna_metering_point_0001_yesterday_s_consumption")
    assert state is not None
    assert state.attributes["date"] == TODAY.isoformat()


async def test_restart_resumes_without_backfilling_again(
    hass: HomeAssistant, seeded: Portal
) -> None:
    entry = await add_entry(hass)
    await refresh_until_caught_up(entry)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    seeded.energy_requests.clear()
    await refresh_until_caught_up(entry)
    # Only the days since the stored data minus the re-read window: no month probes, no year.
    assert all(r[1] == "daily" for r in seeded.energy_requests)
    assert len([r for r in seeded.energy_requests if r[0] == ASSET_1]) <= 6


async def test_expired_session_during_refresh_logs_in_again(
    hass: HomeAssistant, seeded: Portal
) -> None:
    entry = await add_entry(hass)
    seeded.expire_tokens()
    seeded.html_for_api = 1
    coordinator = points(entry)[0]
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert seeded.tokens_issued == 3


async def test_rejected_password_backs_off_then_asks_for_reauth(
    hass: HomeAssistant, seeded: Portal, freezer: FrozenDateTimeFactory
) -> None:
    entry = await add_entry(hass)
    seeded.password = "vaihdettu-salasana"
    seeded.expire_tokens()
    coordinator = points(entry)[0]
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert hass.config_entries.flow.async_progress() == []  # one rejection: not yet
    posts = seeded.calls["login_post"]
    await points(entry)[1].async_refresh()  # the other point waits for the back-off too
    assert seeded.calls["login_post"] == posts
    freezer.tick(timedelta(seconds=BACKOFF_FIRST + 1))
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    await answer_reauth(hass, entry, "password", "still-wrong", "vaihdettu-salasana")


async def test_setup_with_rejected_password_asks_at_once(
    hass: HomeAssistant, seeded: Portal
) -> None:
    entry = await set_up_saved(hass, "old")
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert [f["context"]["source"] for f in hass.config_entries.flow.async_progress()] == ["reauth"]


@pytest.mark.parametrize("break_step", ["login_page_changed", "token_500"])
async def test_setup_retries_when_portal_is_down_or_changed(
    hass: HomeAssistant, seeded: Portal, break_step: str
) -> None:
    seeded.break_step = break_step
    entry = await set_up_saved(hass)
    assert entry.state is ConfigEntryState.SETUP_RETRY


@pytest.mark.parametrize(
    ("break_step", "reason_key"),
    [
        ("login_page_changed", "login_changed"),
        ("token_garbage", "login_changed"),
        ("token_500", "cannot_connect"),
        ("start_429", "rate_limited"),
        ("start_html", "login_changed"),
    ],
)
async def test_failed_setup_names_the_cause_and_a_retry_loads(
    hass: HomeAssistant, seeded: Portal, break_step: str, reason_key: str
) -> None:
    """The spine translates the client's error; the runtime it shut down leaves nothing behind,
    so the next attempt, once the portal is back, starts clean."""
    seeded.break_step = break_step
    entry = await set_up_saved(hass)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == reason_key
    seeded.break_step = None
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert len(entry.runtime_data.points) == 2


async def test_transfer_price_option_prices_data_without_fees(
    hass: HomeAssistant, seeded: Portal
) -> None:
    seeded.with_fees = False
    entry = await add_entry(hass)
    assert hass.states.get("sensor.caruna_metering_point_0001_yesterday_s_cost").state == "unknown"
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"transfer_price": 0.0412}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {"transfer_price": 0.0412}
    assert entry.state is ConfigEntryState.LOADED
    measured = [kwh(h) for h in local_day_hours(YESTERDAY)[:-4]]
    cost = hass.states.get("sensor.caruna_metering_point_0001_yesterday_s_cost")
    assert float(cost.state) == pytest.approx(sum(measured) * 0.0412, abs=1e-3)
    await refresh_until_caught_up(entry)
    got = await changes(hass, COST_1, NOW - timedelta(days=3), NOW)
    assert sum(got.values()) == pytest.approx(
        sum(v * 0.0412 for h, v in seeded.hours[ASSET_1].items() if v is not None and h in got),
        abs=1e-4,
    )


def test_transfer_price_is_checked(provider: CarunaProvider) -> None:
    from custom_components.meterhub.providers.base import FormError

    assert provider.validate_options({}) == {}
    assert provider.validate_options({"transfer_price": "0.05"}) == {"transfer_price": 0.05}
    for bad in (-1, 7, "abc"):
        with pytest.raises(FormError):
            provider.validate_options({"transfer_price": bad})


async def test_diagnostics_hide_identifiers_and_unload_releases_the_session(
    hass: HomeAssistant, seeded: Portal, hass_client: ClientSessionGenerator
) -> None:
    entry = await add_entry(hass)
    await refresh_until_caught_up(entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = repr(diagnostics)
    for secret in (USERNAME, PASSWORD, GSRN_1, GSRN_2, OWN, REPRESENTED, ASSET_1, ASSET_2):
        assert secret not in text
    assert "tok-" not in text
    provider_diag = diagnostics["provider"]
    assert provider_diag["logins"] == 1
    assert provider_diag["metering_points"][0]["caught_up"] is True
    names = [c["name"] for c in diagnostics["coordinators"]]
    assert names == ["Caruna metering point 1", "Caruna metering point 2"]

    login_session = entry.runtime_data.login_session
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert login_session.connector is None  # detached from Home Assistant's connector
    assert len(login_session.cookie_jar) == 0


async def test_failure_in_the_middle_of_a_backfill_loses_nothing_and_counts_nothing_twice(
    hass: HomeAssistant, seeded: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.meterhub")
    entry = await add_entry(hass)
    coordinator = points(entry)[0]
    # Dies in the middle of the first backfill pass (the first look: 13 requests since 2026).
    seeded.energy_fails_after = 5
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert hass.states.get("sensor.caruna_metering_point_0001_yesterday_s_consumption").state == (
        "unavailable"
    )
    seeded.energy_fails_after = 7  # and again in the next one
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    seeded.energy_fails_after = None
    while not coordinator.caught_up:
        await coordinator.async_refresh()
        assert coordinator.last_update_success
    start = local_day_hours(HOURS_FROM)[0]
    got = await changes(hass, CONSUMPTION_1, start, NOW)
    expected = {h: v for h, v in seeded.hours[ASSET_1].items() if v is not None}
    assert {h: v for h, v in got.items() if v} == pytest.approx(expected)
    days = await changes(hass, CONSUMPTION_1, datetime(2026, 9, 1, tzinfo=UTC), start)
    assert sum(days.values()) == pytest.approx(sum(DAYS_ONLY.values()))
    # What was logged on the way (errors, recoveries, debug) names no person, meter or secret.
    ours = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if record.name.startswith("custom_components.meterhub")
    )
    assert "Error fetching Caruna metering point 1 data" in ours
    for secret in (USERNAME, PASSWORD, GSRN_1, GSRN_2, OWN, REPRESENTED, ASSET_1, "tok-"):
        assert secret not in ours


async def test_a_represented_customer_that_cannot_be_read_is_skipped(
    hass: HomeAssistant, seeded: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    seeded.forbidden_customers = {REPRESENTED}
    entry = await add_entry(hass)
    assert entry.state is ConfigEntryState.LOADED
    assert [c.point.gsrn for c in points(entry)] == [GSRN_1]
    assert "could not be read; skipped" in caplog.text
    assert REPRESENTED not in caplog.text


async def test_own_customer_that_cannot_be_read_is_a_form_error(
    hass: HomeAssistant, seeded: Portal
) -> None:
    seeded.forbidden_customers = {OWN}
    flow_id = await caruna_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"username": USERNAME, "password": PASSWORD}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unexpected_response"}


async def test_reconfigure_keeps_the_same_customer(hass: HomeAssistant, seeded: Portal) -> None:
    entry = await add_entry(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id},
    )
    assert result["step_id"] == "reconfigure"
    seeded.own = ["7777777"]  # the login now belongs to someone else
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": USERNAME, "password": PASSWORD}
    )
    assert result["reason"] == "wrong_account"
    seeded.own = [OWN]
    seeded.password = "uusi-salasana"
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id},
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": USERNAME, "password": "uusi-salasana"}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data["password"] == "uusi-salasana"
    assert entry.state is ConfigEntryState.LOADED
