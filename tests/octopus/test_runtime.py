"""Sensors, rate-change timers, meter discovery, the refresh_history action and diagnostics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.meterhub.api.octopus import GRAPHQL_PAUSE
from custom_components.meterhub.const import DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er

from ..helpers import changes
from .conftest import (
    AGILE,
    DATA_TO,
    EXPORT_MPAN,
    MPAN,
    MPRN,
    NOW,
    SERIAL,
    SWITCH,
    agile_pence,
    fill_standard,
    import_kwh,
    setup_entry,
)
from .standin import (
    ACCOUNT,
    GOOD_KEY,
    LONDON,
    Failure,
    FakeOctopus,
    electricity_point,
    gas_point,
    half_hours,
)

pytestmark = pytest.mark.usefixtures("london")

ELEC = "sensor.electricity_meter"
EXPORT = "sensor.electricity_export_meter"
GAS = "sensor.gas_meter"


def state(hass: HomeAssistant, entity_id: str) -> str:
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found.state


def attributes(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return dict(found.attributes)


async def test_an_older_title_with_the_account_number_is_replaced(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    """Titles once named the account (issue 23): Home Assistant logs them and puts them in repairs."""
    entry = await setup_entry(hass)  # saved as "Octopus Energy <account number>"
    assert entry.title == "Octopus Energy"


async def test_sensors(hass: HomeAssistant, octopus: FakeOctopus) -> None:
    fill_standard(octopus)
    await setup_entry(hass)

    assert float(state(hass, f"{ELEC}_current_unit_rate")) == pytest.approx(0.21)
    assert attributes(hass, f"{ELEC}_current_unit_rate")["unit_of_measurement"] == "GBP/kWh"
    assert attributes(hass, f"{ELEC}_current_unit_rate")["tariff_code"] == AGILE
    assert state(hass, f"{ELEC}_next_rate_change") == "2026-04-02T11:30:00+00:00"
    assert attributes(hass, f"{ELEC}_next_rate_change")["next_rate"] == pytest.approx(0.215)
    assert float(state(hass, f"{ELEC}_standing_charge_per_day")) == pytest.approx(0.475)
    assert float(state(hass, f"{EXPORT}_current_unit_rate")) == pytest.approx(0.15)
    assert state(hass, f"{EXPORT}_next_rate_change") == "unknown"  # a fixed export rate
    assert hass.states.get(f"{EXPORT}_standing_charge_per_day") is None
    assert float(state(hass, f"{GAS}_current_unit_rate")) == pytest.approx(0.065)
    assert float(state(hass, "sensor.octopus_energy_account_balance")) == pytest.approx(12.34)
    assert attributes(hass, "sensor.octopus_energy_account_balance")["unit_of_measurement"] == "GBP"

    april_1 = datetime(2026, 4, 1, tzinfo=LONDON).astimezone(UTC)
    slots = half_hours(april_1, april_1 + timedelta(days=1))
    assert float(state(hass, f"{ELEC}_yesterday_s_consumption")) == pytest.approx(
        round(sum(import_kwh(s) for s in slots), 3)
    )
    assert float(state(hass, f"{ELEC}_yesterday_s_cost")) == pytest.approx(
        round(sum(import_kwh(s) * agile_pence(s) for s in slots) / 100 + 0.475, 2)
    )
    assert attributes(hass, f"{ELEC}_yesterday_s_cost")["half_hours"] == 48
    assert float(state(hass, f"{EXPORT}_yesterday_s_export")) == pytest.approx(2.4)
    assert float(state(hass, f"{EXPORT}_yesterday_s_export_earnings")) == pytest.approx(0.36)
    assert float(state(hass, f"{GAS}_yesterday_s_consumption")) == pytest.approx(4.8)
    assert attributes(hass, f"{GAS}_yesterday_s_consumption")["unit_of_measurement"] == "m³"
    assert state(hass, f"{ELEC}_last_data_received") == DATA_TO.isoformat()
    entity = er.async_get(hass).async_get(f"{ELEC}_last_data_received")
    assert entity is not None
    assert entity.entity_category == "diagnostic"


async def test_rate_sensors_follow_boundaries_without_requests(
    hass: HomeAssistant, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    fill_standard(octopus)
    await setup_entry(hass)
    rate_requests = octopus.count("/products/")
    for minutes, pence in ((30, 21.5), (60, 22.0), (90, 22.5)):
        freezer.move_to(NOW + timedelta(minutes=minutes))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert float(state(hass, f"{ELEC}_current_unit_rate")) == pytest.approx(pence / 100)
    assert octopus.count("/products/") == rate_requests


async def test_rates_fetched_again_when_they_run_out(
    hass: HomeAssistant, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    fill_standard(octopus)
    rows = octopus.products["AGILE-24-10-01"][AGILE]["standard-unit-rates"]
    later = [r for r in rows if r["valid_from"] >= "2026-04-02T13:00"]
    rows[:] = [r for r in rows if r["valid_from"] < "2026-04-02T13:00"]  # known until 12:00 UTC
    await setup_entry(hass)
    requests = octopus.count("standard-unit-rates")
    rows.extend(later)  # tomorrow's prices are published
    freezer.move_to(datetime(2026, 4, 2, 12, tzinfo=UTC))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert octopus.count("standard-unit-rates") > requests
    assert float(state(hass, f"{ELEC}_current_unit_rate")) == pytest.approx(
        agile_pence(datetime(2026, 4, 2, 12, tzinfo=UTC)) / 100
    )


async def test_meters_discovered_added_and_removed(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    fill_standard(octopus)
    long_ago = datetime(2024, 1, 1, tzinfo=UTC)
    octopus.accounts[ACCOUNT] = {
        "properties": [
            {  # moved out: ignored
                "moved_out_at": "2025-01-01T00:00:00Z",
                "electricity_meter_points": [
                    electricity_point("1999999999999", ["OLD1"], [(AGILE, long_ago, None)])
                ],
                "gas_meter_points": [],
            },
            {
                "moved_out_at": None,
                "electricity_meter_points": [
                    # two meters on one point (a replacement): both are devices
                    electricity_point(MPAN, [SERIAL, "21L0000009"], [(AGILE, SWITCH, None)])
                ],
                "gas_meter_points": [
                    # supply ended: not current
                    gas_point(MPRN, ["G4P0000001"], [("G-1R-VAR-22-11-01-C", long_ago, SWITCH)])
                ],
            },
        ]
    }
    entry = await setup_entry(hass)
    devices = dr.async_get(hass)

    def identifiers() -> set[str]:
        return {
            ident
            for device in dr.async_entries_for_config_entry(devices, entry.entry_id)
            for _, ident in device.identifiers
        }

    assert identifiers() == {
        "octopus_a_1234abcd",
        f"octopus_{MPAN}_21l0000001",
        f"octopus_{MPAN}_21l0000009",
    }

    # An export meter appears: its device, sensors and history arrive without a reload.
    account = octopus.accounts[ACCOUNT]
    account["properties"][1]["electricity_meter_points"].append(
        electricity_point(
            EXPORT_MPAN,
            [SERIAL],
            [("E-1R-OUTGOING-FIX-12M-19-05-13-C", long_ago, None)],
            export=True,
        )
    )
    # ... and the replaced meter vanishes.
    account["properties"][1]["electricity_meter_points"][0]["meters"].pop()
    await entry.runtime_data.account.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert identifiers() == {
        "octopus_a_1234abcd",
        f"octopus_{MPAN}_21l0000001",
        f"octopus_{EXPORT_MPAN}_21l0000001",
    }
    assert float(state(hass, f"{EXPORT}_current_unit_rate")) == pytest.approx(0.15)
    production = await changes(
        hass,
        f"meterhub:octopus_{EXPORT_MPAN}_21l0000001_production",
        DATA_TO - timedelta(days=1),
        DATA_TO,
    )
    assert sum(production.values()) == pytest.approx(2.4)
    assert hass.states.get("sensor.electricity_meter_0009_current_unit_rate") is None
    assert er.async_get(hass).async_get("sensor.electricity_meter_0009_current_unit_rate") is None


async def test_refresh_history_action(hass: HomeAssistant, octopus: FakeOctopus) -> None:
    fill_standard(octopus)
    entry = await setup_entry(hass)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"octopus_{MPAN}_21l0000001"), entry.entry_id
    )
    assert device is not None
    stat = f"meterhub:octopus_{MPAN}_21l0000001_consumption"
    before = await changes(hass, stat, SWITCH - timedelta(days=3), DATA_TO)

    # Octopus corrects 30 March: every half hour doubled.
    march_30 = datetime(2026, 3, 30, tzinfo=LONDON).astimezone(UTC)
    values = octopus.consumption[(MPAN, SERIAL)]
    for start in half_hours(march_30, march_30 + timedelta(days=1)):
        values[start] *= 2
    response = await hass.services.async_call(
        DOMAIN,
        "refresh_history",
        {"device_id": device.id, "start": "2026-03-30", "end": "2026-03-30"},
        blocking=True,
        return_response=True,
    )
    assert response == {"half_hours": 48, "last_data": "2026-03-30T23:00:00+00:00"}
    after = await changes(hass, stat, SWITCH - timedelta(days=3), DATA_TO)
    for hour, value in before.items():
        inside = march_30 <= hour < march_30 + timedelta(days=1)
        assert after[hour] == pytest.approx(value * 2 if inside else value), hour

    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "refresh_history",
            {"device_id": device.id, "start": "2026-03-30", "end": "2026-03-20"},
            blocking=True,
        )
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "refresh_history",
            {"device_id": "nope", "start": "2026-03-30"},
            blocking=True,
        )


async def test_action_exists_with_no_entry_and_says_so(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    """Registered when the integration loads; with the entry unloaded it explains, not vanishes."""
    fill_standard(octopus)
    entry = await setup_entry(hass)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"octopus_{MPAN}_21l0000001"), entry.entry_id
    )
    assert device is not None
    await hass.config_entries.async_unload(entry.entry_id)
    assert hass.services.has_service(DOMAIN, "refresh_history")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "refresh_history",
            {"device_id": device.id, "start": "2026-03-30"},
            blocking=True,
        )
    assert err.value.translation_key == "entry_not_loaded"


async def test_diagnostics_redacted(
    hass: HomeAssistant, octopus: FakeOctopus, hass_client: ClientSessionGenerator
) -> None:
    fill_standard(octopus)
    entry = await setup_entry(hass)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = repr(diagnostics)
    for secret in (GOOD_KEY, ACCOUNT, MPAN, EXPORT_MPAN, MPRN, SERIAL, "G4P0000001"):
        assert secret not in text
        assert secret.lower() not in text
    assert diagnostics["provider"]["meters"] == {
        "electricity_import": 1,
        "electricity_export": 1,
        "gas": 1,
    }
    assert diagnostics["provider"]["requests"]["consumption"] == 3
    names = [c["name"] for c in diagnostics["coordinators"]]
    assert names == ["Octopus account", "Octopus balance", "Octopus prices", "Octopus history"]


async def test_balance_rate_limit_and_prices_down_at_setup(
    hass: HomeAssistant, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    fill_standard(octopus)
    octopus.graphql_errors = ["KT-CT-1199"]
    octopus.failures.append(Failure("/products/", 503, times=100))
    entry = await setup_entry(hass)
    # the account could be read: the entry loads; what failed waits for its next poll
    assert entry.state is ConfigEntryState.LOADED
    assert state(hass, "sensor.octopus_energy_account_balance") == "unavailable"
    assert state(hass, f"{ELEC}_current_unit_rate") == "unavailable"
    assert not entry.runtime_data.balance.last_update_success
    octopus.failures.clear()
    # the GraphQL limit is shared: nothing is asked until the pause is over
    freezer.tick(GRAPHQL_PAUSE + timedelta(seconds=1))
    await entry.runtime_data.balance.async_refresh()
    await entry.runtime_data.rates.async_refresh()
    await hass.async_block_till_done()
    assert float(state(hass, "sensor.octopus_energy_account_balance")) == pytest.approx(12.34)
    assert float(state(hass, f"{ELEC}_current_unit_rate")) == pytest.approx(0.21)
