"""Enedis end to end: setup, the request plan, statistics as the dashboard reads them, sensors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.meterhub.const import DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from ..helpers import assert_remove_deletes_store, changes
from .conftest import add_entry, advance, day_changes, stat_id, sums
from .standin import PARIS, PRM, FakeGateway, local_midnight

START = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)  # 09:00 in Paris


def entity_id(hass: HomeAssistant, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"enedis_{PRM}_{key}")
    assert found is not None, key
    return found


def kinds(gateway: FakeGateway) -> list[str]:
    return [request.kind for request in gateway.requests]


@pytest.fixture(autouse=True)
async def paris(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("Europe/Paris")


async def test_setup_backfills_daily_then_load_curve_without_double_counting(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    gateway.curve_from = date(2026, 5, 20)
    entry = await add_entry(hass)
    assert entry.state is ConfigEntryState.LOADED
    assert gateway.requests == []  # setup itself never calls the gateway
    await advance(hass, freezer, timedelta(hours=3))
    assert kinds(gateway) == [
        "consommation_quotidienne",
        "courbe_de_charge_consommation",
        "puissance_conso_max_quotidienne",
        "courbe_de_charge_consommation",
        "courbe_de_charge_consommation",
        "courbe_de_charge_consommation",  # 404 for 05-13..05-20: nothing older, backfill done
    ]
    first = gateway.requests[0]
    assert (first.start, first.end) == (date(2025, 6, 10), date(2026, 6, 10))
    assert [(r.start, r.end) for r in gateway.requests[3:]] == [
        (date(2026, 5, 27), date(2026, 6, 3)),
        (date(2026, 5, 20), date(2026, 5, 27)),
        (date(2026, 5, 13), date(2026, 5, 20)),
    ]

    # Every day holds 24 kWh whether it came from the daily total or the load curve.
    daily = await day_changes(hass, "consumption", date(2026, 5, 1), date(2026, 6, 9))
    assert len(daily) == 40
    assert set(daily.values()) == {24.0}
    # A day from the load curve: 1 kWh in every hour; a day before it: all at Paris midnight.
    curve_day = await changes(
        hass,
        stat_id("consumption"),
        local_midnight(date(2026, 5, 20)),
        local_midnight(date(2026, 5, 21)),
    )
    assert list(curve_day.values()) == [1.0] * 24
    old_day = await changes(
        hass,
        stat_id("consumption"),
        local_midnight(date(2026, 5, 19)),
        local_midnight(date(2026, 5, 20)),
    )
    assert old_day == {local_midnight(date(2026, 5, 19)): 24.0}
    # No off-peak hours configured: no split statistics that would only repeat the total.
    assert await day_changes(hass, "consumption_peak", date(2026, 5, 20), date(2026, 6, 9)) == {}
    assert await changes(hass, stat_id("cost"), START - timedelta(days=30), START) == {}

    state = hass.states.get(entity_id(hass, "yesterday_consumption"))
    assert state is not None
    assert state.state == "24.0"
    assert state.attributes["date"] == "2026-06-09"
    assert hass.states.get(entity_id(hass, "last_data_date")).state == "2026-06-09"
    power = hass.states.get(entity_id(hass, "yesterday_max_power"))
    assert power.state == "6120.0"
    assert power.attributes["time"] == "2026-06-09T17:12:40+00:00"
    assert hass.states.get(entity_id(hass, "yesterday_cost")).state == STATE_UNAVAILABLE

    # A reload (restart) re-derives nothing new and sends nothing.
    before = await sums(hass, "consumption")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await advance(hass, freezer, timedelta(minutes=30))
    assert len(gateway.requests) == 6
    assert await sums(hass, "consumption") == before


async def test_day_imported_from_daily_total_is_replaced_when_its_curve_arrives(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    gateway.curve_from = date(2026, 6, 3)
    gateway.publish_lag = timedelta(days=1)  # the curve of a day comes a day after its total
    gateway.watts = lambda start: 2000.0 if start.astimezone(PARIS).hour < 12 else 1000.0
    await add_entry(hass)
    await advance(hass, freezer, timedelta(hours=2))
    june9 = local_midnight(date(2026, 6, 9))
    hours = await changes(hass, stat_id("consumption"), june9, june9 + timedelta(days=1))
    assert hours == {june9: 36.0}  # the daily total at Paris midnight, as a placeholder
    # The next morning the curve of June 9 is published: the placeholder hour is replaced.
    freezer.move_to(datetime(2026, 6, 11, 5, 0, tzinfo=UTC))
    await advance(hass, freezer, timedelta(hours=6))
    hours = await changes(hass, stat_id("consumption"), june9, june9 + timedelta(days=1))
    assert list(hours.values()) == [2.0] * 12 + [1.0] * 12
    daily = await day_changes(hass, "consumption", date(2026, 6, 3), date(2026, 6, 10))
    assert daily == {date(2026, 6, 3) + timedelta(days=n): 36.0 for n in range(8)}


async def test_dst_day_and_window_across_midnight_in_statistics(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(datetime(2026, 10, 27, 9, 0, tzinfo=UTC))
    gateway.curve_from = date(2026, 10, 20)
    options = {
        "offpeak_hours": "22:30-06:30",
        "price_peak_kwh": 0.25,
        "price_offpeak_kwh": 0.2,
        "subscription_per_month": 15.2,
    }
    await add_entry(hass, options)
    await advance(hass, freezer, timedelta(hours=1))
    dst = date(2026, 10, 25)
    start, end = local_midnight(dst), local_midnight(dst + timedelta(days=1))
    total = await changes(hass, stat_id("consumption"), start, end)
    peak = await changes(hass, stat_id("consumption_peak"), start, end)
    offpeak = await changes(hass, stat_id("consumption_offpeak"), start, end)
    assert len(total) == 25
    assert set(total.values()) == {1.0}
    # Off-peak: 00:00-06:30 wall clock is 7.5 real hours on this day, plus 22:30-24:00.
    assert sum(offpeak.values()) == 9.0
    assert sum(peak.values()) == 16.0
    for hour in total:
        assert peak[hour] + offpeak[hour] == total[hour]
    # The two 02:00 hours (summer, then winter time) are both off-peak.
    assert [offpeak[h] for h in total if h.astimezone(PARIS).hour == 2] == [1.0, 1.0]
    cost = await changes(hass, stat_id("cost"), start, end)
    assert round(sum(cost.values()), 6) == round(16 * 0.25 + 9 * 0.2, 6)
    days = await day_changes(hass, "consumption_offpeak", date(2026, 10, 24), date(2026, 10, 26))
    assert days == {date(2026, 10, 24): 8.0, dst: 9.0, date(2026, 10, 26): 8.0}

    state = hass.states.get(entity_id(hass, "yesterday_consumption_offpeak"))
    assert (state.state, state.attributes["date"]) == ("8.0", "2026-10-26")
    cost_state = hass.states.get(entity_id(hass, "yesterday_cost"))
    assert cost_state.state == str(round(16 * 0.25 + 8 * 0.2 + 15.2 * 12 / 365, 2))
    assert cost_state.attributes["subscription_cost"] == 0.5


async def test_options_change_recomputes_without_a_request(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    gateway.curve_from = date(2026, 6, 3)
    entry = await add_entry(hass)
    await advance(hass, freezer, timedelta(hours=1))
    sent = len(gateway.requests)
    total_before = await sums(hass, "consumption")
    june9 = local_midnight(date(2026, 6, 9))
    assert (
        await changes(hass, stat_id("consumption_offpeak"), june9, june9 + timedelta(days=1)) == {}
    )
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "enedis"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"offpeak_hours": "1:00-7:00, 25:00-26:00", "price_base_kwh": 0.2}
    )
    assert result["errors"] == {"offpeak_hours": "invalid_offpeak_hours"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"offpeak_hours": "1:00-7:00", "price_base_kwh": 0.2}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options["offpeak_hours"] == "01:00-07:00"
    assert entry.state is ConfigEntryState.LOADED
    assert len(gateway.requests) == sent
    offpeak = await day_changes(hass, "consumption_offpeak", date(2026, 6, 3), date(2026, 6, 9))
    assert set(offpeak.values()) == {6.0}
    cost = await day_changes(hass, "cost", date(2026, 6, 3), date(2026, 6, 9))
    assert set(cost.values()) == {4.8}
    assert await sums(hass, "consumption") == total_before  # the total does not move


async def test_holes_in_the_curve_are_filled_from_the_daily_total(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    gateway.curve_from = date(2026, 6, 3)
    june9 = local_midnight(date(2026, 6, 9))
    gateway.holes = {june9 + timedelta(hours=5), june9 + timedelta(hours=5, minutes=30)}
    await add_entry(hass)
    await advance(hass, freezer, timedelta(minutes=10))
    # The curve of June 9 lacks an hour: the total was asked for and fills it.
    assert kinds(gateway) == [
        "consommation_quotidienne",
        "courbe_de_charge_consommation",
        "consommation_quotidienne",
        "puissance_conso_max_quotidienne",
    ]
    hours = await changes(hass, stat_id("consumption"), june9, june9 + timedelta(days=1))
    assert hours[june9 + timedelta(hours=5)] == 1.0
    assert sum(hours.values()) == 24.0


async def test_gateway_failure_backs_off_and_recovers(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    gateway.curve_from = date(2026, 6, 3)
    gateway.fail = {"consommation_quotidienne": (500, "technical_error")}
    await add_entry(hass)
    await advance(hass, freezer, timedelta(minutes=50))
    assert kinds(gateway) == ["consommation_quotidienne"]
    state = hass.states.get(entity_id(hass, "yesterday_consumption"))
    assert state.state == STATE_UNAVAILABLE
    gateway.fail = {}
    await advance(hass, freezer, timedelta(hours=1))
    assert kinds(gateway)[:2] == ["consommation_quotidienne", "consommation_quotidienne"]
    assert hass.states.get(entity_id(hass, "yesterday_consumption")).state == "24.0"


async def test_rejected_token_starts_reauth(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    gateway.tokens = {"another-token"}
    await add_entry(hass)
    await advance(hass, freezer, timedelta(minutes=5))
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    assert len(gateway.requests) == 1


async def test_removing_the_entry_deletes_its_local_copy(
    hass: HomeAssistant,
    gateway: FakeGateway,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(START)
    entry = await add_entry(hass)
    await advance(hass, freezer, timedelta(hours=1))
    await assert_remove_deletes_store(hass, hass_storage, entry, "enedis")


async def test_unmeasured_points_book_nothing_and_are_fetched_again(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    """``"v": null`` is "not measured": no zero is booked, the day is asked for again later."""
    freezer.move_to(START)
    gateway.curve_from = date(2026, 6, 3)
    gateway.daily_from = date(2026, 6, 20)  # no daily totals to fill the hole with
    june9 = local_midnight(date(2026, 6, 9))
    gateway.unmeasured = {june9 + timedelta(hours=20), june9 + timedelta(hours=20, minutes=30)}
    gateway.order = "shuffled"  # points in any order
    entry = await add_entry(hass)
    await advance(hass, freezer, timedelta(minutes=10))
    hours = await changes(hass, stat_id("consumption"), june9, june9 + timedelta(days=1))
    assert hours[june9 + timedelta(hours=20)] == 0.0  # nothing booked for the null hour
    assert sum(hours.values()) == 23.0
    assert hass.states.get(entity_id(hass, "last_data_date")).state == "2026-06-08"
    # Enedis measures it later; the afternoon retry asks for June 9 again and books it.
    gateway.unmeasured = set()
    await advance(hass, freezer, timedelta(hours=8), step=timedelta(minutes=30))
    newest = [
        (r.start, r.end)
        for r in gateway.requests
        if r.kind == "courbe_de_charge_consommation" and r.end == date(2026, 6, 10)
    ]
    assert newest == [(date(2026, 6, 3), date(2026, 6, 10)), (date(2026, 6, 9), date(2026, 6, 10))]
    hours = await changes(hass, stat_id("consumption"), june9, june9 + timedelta(days=1))
    assert list(hours.values()) == [1.0] * 24
    assert hass.states.get(entity_id(hass, "last_data_date")).state == "2026-06-09"
    assert entry.runtime_data.coordinator.consumption.curve_complete(date(2026, 6, 9))


async def test_refused_daily_request_shows_enedis_words_and_recovers(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    gateway.curve_from = date(2026, 6, 3)
    entry = await add_entry(hass)
    await advance(hass, freezer, timedelta(hours=1))
    assert hass.states.get(entity_id(hass, "yesterday_consumption")).state == "24.0"
    # The next morning Enedis refuses the newest week with a reason of its own.
    gateway.fail = {"courbe_de_charge_consommation": (400, "Service momentanément restreint")}
    freezer.move_to(datetime(2026, 6, 11, 5, 0, tzinfo=UTC))
    await advance(hass, freezer, timedelta(hours=2))
    coordinator = entry.runtime_data.coordinator
    assert not coordinator.last_update_success
    error = coordinator.last_exception
    assert error is not None
    assert error.translation_key == "request_refused"
    assert error.translation_placeholders == {"gateway_error": "Service momentanément restreint"}
    assert hass.states.get(entity_id(hass, "yesterday_consumption")).state == STATE_UNAVAILABLE
    assert coordinator.last_problem is not None
    assert coordinator.plan.daily_depth == 0  # history depth untouched by the refusal
    gateway.fail = {}
    await advance(hass, freezer, timedelta(hours=3))
    assert coordinator.last_update_success
    assert hass.states.get(entity_id(hass, "yesterday_consumption")).attributes["date"] == (
        "2026-06-10"
    )


@pytest.mark.parametrize("minutes", [10, 15, 60])
async def test_other_interval_lengths_book_the_same_hours(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory, minutes: int
) -> None:
    freezer.move_to(datetime(2026, 10, 27, 9, 0, tzinfo=UTC))
    gateway.curve_from = date(2026, 10, 20)
    gateway.step_minutes = minutes
    gateway.watts = lambda start: 1200.0 if start.astimezone(PARIS).hour < 6 else 600.0
    entry = await add_entry(hass)
    await advance(hass, freezer, timedelta(hours=1))
    assert entry.runtime_data.coordinator.consumption.curve_complete(date(2026, 10, 25))
    dst = date(2026, 10, 25)
    hours = await changes(
        hass, stat_id("consumption"), local_midnight(dst), local_midnight(dst + timedelta(1))
    )
    # 25 hours: 00:00-06:00 wall clock is 7 real hours at 1.2 kWh, then 18 at 0.6 kWh.
    assert list(hours.values()) == [1.2] * 7 + [0.6] * 18
