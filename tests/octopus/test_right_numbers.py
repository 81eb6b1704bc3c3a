"""Issue 16: right numbers for every meter (window, units, inactive serials, product codes, auth
codes, Economy 7) and live power from a Home Mini.

Expected statistics are computed here from the stand-in's data by plain arithmetic.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.meterhub.api.octopus import (
    GRAPHQL_PAUSE,
    FuelType,
    GasUnit,
    Meter,
    MeterPoint,
)
from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers.octopus import history
from custom_components.meterhub.providers.octopus.coordinator import TELEMETRY_INTERVAL
from custom_components.meterhub.providers.octopus.meters import GasSettings, OctopusMeter
from custom_components.meterhub.statistics import async_import_series
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from ..helpers import changes, only_reauth_flow, statistic_ids, statistic_rows
from .conftest import (
    AGILE_STANDING,
    DATA_FROM,
    DATA_TO,
    FIXED_STANDING,
    GAS_RATE,
    GAS_SERIAL,
    GAS_STANDING,
    MPAN,
    MPRN,
    NOW,
    SERIAL,
    SWITCH,
    fill_standard,
    import_kwh,
    setup_entry,
)
from .standin import FakeOctopus, electricity_point, rate_row, telemetry_rows
from .test_history import ELEC, GAS, close, expected_hours, import_rate

pytestmark = pytest.mark.usefixtures("london")

DEVICE = "00-AA-11-BB-22-CC-33-01"
DEMAND = "sensor.electricity_meter_current_demand"
TODAY = "sensor.electricity_meter_today_s_consumption"
LAST_READING = "sensor.electricity_meter_last_smart_meter_reading"


def state(hass: HomeAssistant, entity_id: str) -> str:
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found.state


def import_reference() -> tuple[dict[datetime, float], dict[datetime, float]]:
    return expected_hours(
        import_kwh,
        import_rate,
        lambda day: FIXED_STANDING if day < SWITCH else AGILE_STANDING,
    )


async def test_rows_outside_the_window_are_dropped_at_every_chunk_edge(
    hass: HomeAssistant, octopus: FakeOctopus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Octopus answers half an hour too much on both sides of each request; with two-day chunks
    every second UK midnight is a chunk edge, and every hour still equals the reference."""
    fill_standard(octopus)
    octopus.overreach = True
    monkeypatch.setattr(history, "CHUNK", timedelta(days=2))
    entry = await setup_entry(hass, {"backfill_days": 10})
    assert entry.state is ConfigEntryState.LOADED
    assert octopus.count(f"/{MPAN}/meters/{SERIAL}/consumption/") >= 5  # several chunks

    quantity, cost = import_reference()
    close(await changes(hass, f"{ELEC}_consumption", DATA_FROM, DATA_TO), quantity)
    close(await changes(hass, f"{ELEC}_cost", DATA_FROM, DATA_TO), cost)
    # nothing before or after the data, and the running sum is the plain total
    rows = await statistic_rows(hass, f"{ELEC}_consumption", {"sum"})
    assert rows[-1]["sum"] == pytest.approx(sum(quantity.values()))
    assert datetime.fromtimestamp(rows[0]["start"], UTC) == DATA_FROM


async def test_smets1_gas_meter_books_kwh_and_its_cost(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    fill_standard(octopus)
    octopus.gas_units[GAS_SERIAL] = "KWH"
    await setup_entry(hass)
    kwh, cost = expected_hours(lambda s: 0.1, lambda s: GAS_RATE, lambda d: GAS_STANDING)
    close(await changes(hass, f"{GAS}_consumption", DATA_FROM, DATA_TO), kwh)
    close(await changes(hass, f"{GAS}_cost", DATA_FROM, DATA_TO), cost)
    assert f"{GAS}_volume" not in await statistic_ids(hass, "octopus")
    # a day: 48 half hours of 0.1 kWh at 6.5 p plus the standing charge (not 11 times that)
    day = datetime(2026, 3, 27, tzinfo=UTC)
    day_cost = await changes(hass, f"{GAS}_cost", DATA_FROM, DATA_TO, "day")
    assert day_cost[day] == pytest.approx(48 * 0.1 * GAS_RATE / 100 + GAS_STANDING / 100)


async def test_entry_from_before_keeps_its_statistic_and_sum(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    """An entry made with the retired "gas reports kWh" option, statistics already stored: the
    option goes, the statistic id and its running sum carry on."""
    fill_standard(octopus)
    octopus.gas_units[GAS_SERIAL] = "KWH"
    # what the earlier version stored: 100 kWh up to the hour before the stand-in's data
    point = MeterPoint(
        fuel=FuelType.GAS,
        identifier=MPRN,
        is_export=False,
        meters=(Meter(serial_number=GAS_SERIAL),),
        agreements=(),
    )
    series = OctopusMeter(
        provider="octopus", point=point, serial_number=GAS_SERIAL, gas_unit=GasUnit.KWH
    ).quantity_series(GasSettings())
    assert series.statistic_id == f"{GAS}_consumption"
    await async_import_series(hass, series, {DATA_FROM - timedelta(hours=1): 100.0})

    entry = await setup_entry(
        hass, {"backfill_days": 30, "gas_reports_kwh": True, "calorific_value": 39.5}
    )
    assert entry.state is ConfigEntryState.LOADED
    assert "gas_reports_kwh" not in entry.options
    assert entry.options["calorific_value"] == 39.5

    kwh, _ = expected_hours(lambda s: 0.1, lambda s: GAS_RATE, lambda d: GAS_STANDING)
    close(await changes(hass, f"{GAS}_consumption", DATA_FROM, DATA_TO), kwh)
    rows = await statistic_rows(hass, f"{GAS}_consumption", {"sum"})
    assert rows[-1]["sum"] == pytest.approx(100.0 + sum(kwh.values()))
    assert f"{GAS}_volume" not in await statistic_ids(hass, "octopus")


async def test_inactive_serial_gets_no_device_and_a_stale_one_goes(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    fill_standard(octopus)
    point = octopus.accounts["A-1234ABCD"]["properties"][0]["electricity_meter_points"][0]
    point["meters"].append({"serial_number": "19K0000007", "registers": []})
    octopus.inactive_serials.add("19K0000007")
    octopus.add_consumption(MPAN, "19K0000007", {DATA_FROM: 5.0})
    entry = await setup_entry(hass)
    devices = dr.async_get(hass)
    # a device left by an earlier version for the replaced serial
    stale = devices.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, f"octopus_{MPAN}_19k0000007")}
    )
    await entry.runtime_data.account.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    idents = {
        ident
        for device in dr.async_entries_for_config_entry(devices, entry.entry_id)
        for _, ident in device.identifiers
    }
    assert f"octopus_{MPAN}_19k0000007" not in idents
    assert f"octopus_{MPAN}_{SERIAL.lower()}" in idents
    assert devices.async_get(stale.id) is None
    assert octopus.count("/meters/19K0000007/") == 0
    assert f"meterhub:octopus_{MPAN}_19k0000007_consumption" not in await statistic_ids(
        hass, "octopus"
    )


async def test_product_code_from_graphql_for_a_code_without_prefix(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    """A tariff code that is not ``E-1R-<product>-<region>``: the product comes from GraphQL."""
    fill_standard(octopus)
    code = "OE-FIX-TRACKER-B"
    point = octopus.accounts["A-1234ABCD"]["properties"][0]["electricity_meter_points"][0]
    point["agreements"] = electricity_point(
        MPAN, [SERIAL], [(code, datetime(2025, 1, 1, tzinfo=UTC), None)]
    )["agreements"]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    octopus.add_rates(code, "standard-unit-rates", [rate_row(20.0, start, None)], product="TRK-1")
    octopus.add_rates(code, "standing-charges", [rate_row(50.0, start, None)], product="TRK-1")
    await setup_entry(hass)
    _, cost = expected_hours(import_kwh, lambda s: 20.0, lambda d: 50.0)
    close(await changes(hass, f"{ELEC}_cost", DATA_FROM, DATA_TO), cost)
    assert octopus.count("/products/TRK-1/") > 0


@pytest.mark.parametrize("code", ["KT-CT-1111", "KT-CT-1134", "KT-CT-1135", "OE-0103"])
async def test_kraken_auth_codes_start_reauth(
    hass: HomeAssistant, octopus: FakeOctopus, code: str
) -> None:
    fill_standard(octopus)
    entry = await setup_entry(hass)
    octopus.account_errors = [code]
    await entry.runtime_data.account.async_refresh()
    await hass.async_block_till_done()
    assert only_reauth_flow(hass)


async def test_graphql_rate_limit_falls_back_to_rest_with_known_meters(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    fill_standard(octopus)
    point = octopus.accounts["A-1234ABCD"]["properties"][0]["electricity_meter_points"][0]
    point["meters"].append({"serial_number": "19K0000007", "registers": []})
    octopus.inactive_serials.add("19K0000007")
    entry = await setup_entry(hass)
    runtime = entry.runtime_data
    meters_before = set(runtime.meters)
    octopus.account_errors = ["KT-CT-1199"]
    await runtime.account.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert runtime.account.last_update_success
    assert not runtime.account.data.from_graphql
    # REST lists the inactive serial; what GraphQL said before keeps it out
    assert set(runtime.meters) == meters_before
    assert runtime.client.graphql_paused_for > 0


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_home_mini_demand_today_quiet_empty_and_rate_limit(
    hass: HomeAssistant, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    fill_standard(octopus)
    octopus.device_ids[SERIAL] = DEVICE
    midnight = datetime(2026, 4, 2, tzinfo=UTC) - timedelta(hours=1)  # UK midnight in BST
    octopus.telemetry[DEVICE] = telemetry_rows(midnight, NOW, 432.0)
    entry = await setup_entry(hass)
    assert entry.state is ConfigEntryState.LOADED

    # a valid power source for the energy dashboard's "Now" view
    demand = hass.states.get(DEMAND)
    assert demand is not None
    assert float(demand.state) == 432.0
    assert demand.attributes["device_class"] == "power"
    assert demand.attributes["unit_of_measurement"] == "W"
    assert demand.attributes["state_class"] == "measurement"
    # 24 half hours since UK midnight, 100 Wh each
    assert float(state(hass, TODAY)) == pytest.approx(2.4)
    assert state(hass, LAST_READING) == "2026-04-02T10:30:00+00:00"

    # polled at most once a minute
    asked = octopus.count("/graphql/")
    await _tick(hass, freezer, timedelta(seconds=30))
    assert octopus.count("/graphql/") == asked
    telemetry = next(iter(entry.runtime_data.telemetry.values()))
    await _tick(hass, freezer, TELEMETRY_INTERVAL)
    assert octopus.count("/graphql/") == asked + 1

    # the device goes quiet: no new rows for an hour -> unavailable, never the old value
    await _tick(hass, freezer, timedelta(minutes=50))
    assert state(hass, DEMAND) == "unavailable"
    assert state(hass, TODAY) == "unavailable"
    assert state(hass, LAST_READING) == "2026-04-02T10:30:00+00:00"

    # an empty answer
    octopus.telemetry[DEVICE] = []
    await _tick(hass, freezer, TELEMETRY_INTERVAL)
    assert state(hass, DEMAND) == "unavailable"
    assert state(hass, LAST_READING) == "unavailable"

    # readings again
    now = NOW + timedelta(minutes=51, seconds=30) + TELEMETRY_INTERVAL
    octopus.telemetry[DEVICE] = telemetry_rows(midnight, now, 250.0)
    await _tick(hass, freezer, TELEMETRY_INTERVAL)
    assert float(state(hass, DEMAND)) == 250.0

    # a rate limit: unavailable, and GraphQL rests for the pause (no request a minute later)
    octopus.telemetry_errors = ["KT-CT-1199"]
    await _tick(hass, freezer, TELEMETRY_INTERVAL)
    assert state(hass, DEMAND) == "unavailable"
    asked = octopus.count("/graphql/")
    assert telemetry.update_interval is not None
    assert telemetry.update_interval >= GRAPHQL_PAUSE
    await _tick(hass, freezer, TELEMETRY_INTERVAL)
    await _tick(hass, freezer, TELEMETRY_INTERVAL)
    assert octopus.count("/graphql/") == asked
    await _tick(hass, freezer, GRAPHQL_PAUSE)
    assert octopus.count("/graphql/") > asked
    assert telemetry.update_interval == TELEMETRY_INTERVAL
    assert state(hass, DEMAND) != "unavailable"


async def test_economy7_cost_follows_the_products_night_rows(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    fill_standard(octopus)
    code = "E-2R-VAR-22-11-01-C"
    point = octopus.accounts["A-1234ABCD"]["properties"][0]["electricity_meter_points"][0]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    point["agreements"] = electricity_point(MPAN, [SERIAL], [(code, start, None)])["agreements"]
    first_night = DATA_FROM - timedelta(hours=1)
    nights = [
        (first_night + timedelta(days=n, minutes=30), first_night + timedelta(days=n, hours=7))
        for n in range(9)
    ]
    octopus.add_rates(code, "day-unit-rates", [rate_row(30.0, start, None)])
    octopus.add_rates(code, "night-unit-rates", [rate_row(9.0, a, b) for a, b in nights])
    octopus.add_rates(code, "standing-charges", [rate_row(50.0, start, None)])
    await setup_entry(hass)

    def price(moment: datetime) -> float:
        return 9.0 if any(a <= moment < b for a, b in nights) else 30.0

    _, cost = expected_hours(import_kwh, price, lambda d: 50.0)
    close(await changes(hass, f"{ELEC}_cost", DATA_FROM, DATA_TO), cost)
