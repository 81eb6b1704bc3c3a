"""A Korto entry set up against the stand-in: devices, sensors, failures, diagnostics."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from typing import Any

import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.meterhub.const import DOMAIN
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, EntityCategory
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er

from ..helpers import assert_remove_deletes_store
from .conftest import korto_entry, setup_korto
from .standin import APARTMENT_ID, GOOD_TOKEN, KortoStandIn

pytestmark = pytest.mark.usefixtures("korto_provider")


def entity_id(hass: HomeAssistant, unique_id: str) -> str:
    found = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id)
    assert found is not None, unique_id
    return found


def state(hass: HomeAssistant, meter: str, key: str) -> State:
    unique_id = f"korto_{APARTMENT_ID}_{meter}_{key}" if meter else f"korto_{APARTMENT_ID}_{key}"
    found = hass.states.get(entity_id(hass, unique_id))
    assert found is not None
    return found


async def test_meters_become_devices_with_the_right_sensors(
    hass: HomeAssistant, korto: KortoStandIn
) -> None:
    entry = await setup_korto(hass)
    assert entry.state is ConfigEntryState.LOADED
    devices = dr.async_get(hass)

    expected = {
        # meter: (device name, model, device class, unit, reading)
        "101": ("Külm vesi (Köök)", "Cold water meter", SensorDeviceClass.WATER, "m³", "123.456"),
        "102": ("Soe vesi (Köök)", "Hot water meter", SensorDeviceClass.WATER, "m³", "45.5"),
        "103": (
            "Elekter (päev)",
            "Electricity meter (day)",
            SensorDeviceClass.ENERGY,
            "kWh",
            "10234.0",
        ),
        "104": (
            "Electricity (night)",
            "Electricity meter (night)",
            SensorDeviceClass.ENERGY,
            "kWh",
            "5120.5",
        ),
        "105": ("Soojus", "Heat meter", SensorDeviceClass.ENERGY, "MWh", "12.345"),
        "106": ("Gaas", "Gas meter", SensorDeviceClass.GAS, "m³", STATE_UNKNOWN),
        "107": ("Prügikonteiner", "Meter", None, "tk", "7.0"),
    }
    for meter, (name, model, device_class, unit, reading) in expected.items():
        device = devices.async_get_device_by_identifier(
            (DOMAIN, f"korto_{APARTMENT_ID}_{meter}"), entry.entry_id
        )
        assert device is not None, meter
        assert (device.name, device.model, device.manufacturer) == (name, model, "Korto")
        value = state(hass, meter, "reading")
        assert value.state == reading, meter
        assert value.attributes.get("device_class") == device_class, meter
        assert value.attributes["unit_of_measurement"] == unit, meter
        assert value.attributes["state_class"] == SensorStateClass.TOTAL_INCREASING
        consumption = state(hass, meter, "consumption")
        assert consumption.attributes["unit_of_measurement"] == unit
        assert consumption.attributes.get("device_class") == device_class
        assert "state_class" not in consumption.attributes  # a period value, not a register

    reading = state(hass, "101", "reading")
    assert reading.attributes["reading_date"] == "2026-10-25"
    assert reading.attributes["reading_origin"] == "manual"
    assert reading.name == "Külm vesi (Köök) Reading"
    assert state(hass, "101", "consumption").state == "3.2"  # "3,2" from Korto
    assert state(hass, "101", "reading_date").state == "2026-10-25"
    assert state(hass, "104", "consumption").state == "98.5"

    # A meter with no reading yet: everything unknown, nothing invented.
    assert state(hass, "106", "consumption").state == STATE_UNKNOWN
    assert state(hass, "106", "reading_date").state == STATE_UNKNOWN
    assert state(hass, "106", "reading").attributes["reading_date"] is None

    registry = er.async_get(hass)
    date_entity = registry.async_get(entity_id(hass, f"korto_{APARTMENT_ID}_101_reading_date"))
    assert date_entity is not None
    assert date_entity.entity_category is EntityCategory.DIAGNOSTIC
    origin = registry.async_get(entity_id(hass, f"korto_{APARTMENT_ID}_101_reading_origin"))
    assert origin is not None
    assert origin.disabled_by is er.RegistryEntryDisabler.INTEGRATION

    # Two requests per poll: the meters and the balance.
    assert korto.operations() == ["GetMetersData", "GetApartmentBalance"]


async def test_balance_and_payment_keep_nulls_unknown(
    hass: HomeAssistant, korto: KortoStandIn
) -> None:
    await setup_korto(hass)
    balance = state(hass, "", "balance")
    assert balance.state == "-23.45"  # "-23,45" from Korto
    assert balance.attributes["unit_of_measurement"] == "EUR"
    assert balance.attributes["device_class"] == SensorDeviceClass.MONETARY
    assert "state_class" not in balance.attributes
    assert state(hass, "", "balance_date").state == "2026-11-01"
    assert state(hass, "", "last_payment").state == "80.5"
    # Korto has no date for the last payment: unknown, not 1970.
    assert state(hass, "", "last_payment_date").state == STATE_UNKNOWN
    expiry = state(hass, "", "token_expiry")
    assert datetime.fromisoformat(expiry.state) == datetime(2031, 1, 1, tzinfo=UTC)

    korto.balance = {
        "balance": None,
        "balance_date": None,
        "last_payment": None,
        "last_payment_date": "",
    }
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await entry.runtime_data.balance.async_refresh()
    await hass.async_block_till_done()
    for key in ("balance", "balance_date", "last_payment", "last_payment_date"):
        assert state(hass, "", key).state == STATE_UNKNOWN, key
    # A null balance object altogether is also just unknown.
    korto.balance = None
    await entry.runtime_data.balance.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "", "balance").state == STATE_UNKNOWN


async def test_graphql_error_makes_sensors_unavailable_until_it_clears(
    hass: HomeAssistant, korto: KortoStandIn
) -> None:
    entry = await setup_korto(hass)
    meters = entry.runtime_data.meters
    korto.extra_errors = [
        {"message": "Internal server error", "extensions": {"category": "internal"}}
    ]
    await meters.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "101", "reading").state == STATE_UNAVAILABLE
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)  # no reauth for this

    # A field error next to complete data (one meter's consumption failed) is not fatal.
    korto.errors_drop_data = False
    await meters.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "101", "reading").state == "123.456"

    korto.extra_errors = None
    korto.override = (503, "Service Unavailable", {})
    await meters.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "101", "reading").state == STATE_UNAVAILABLE
    korto.override = None
    await meters.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "101", "reading").state == "123.456"


async def test_meters_appearing_and_disappearing(hass: HomeAssistant, korto: KortoStandIn) -> None:
    entry = await setup_korto(hass)
    meters = entry.runtime_data.meters
    korto.meters.append(
        {
            "id": "108",
            "type": "Cold water",
            "description": "Bathroom",
            "unit": "m³",
            "precision": 3,
            "reading": "1,5",
            "reading_date": "02.11.2026",
            "reading_origin": "remote",
            "consumption": "0,5",
        }
    )
    korto.meters = [meter for meter in korto.meters if meter["id"] != "107"]
    await meters.async_refresh()
    await hass.async_block_till_done()
    new = state(hass, "108", "reading")
    assert new.state == "1.5"
    assert new.attributes["device_class"] == SensorDeviceClass.WATER
    # Issue 18 (stale-devices): a meter missing from a complete answer loses its device and
    # sensors (it used to stay, unavailable); its statistics stay (tests/korto/test_devices.py).
    assert (
        er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, f"korto_{APARTMENT_ID}_107_reading"
        )
        is None
    )
    assert state(hass, "101", "reading").state == "123.456"


async def test_duplicate_meter_names_are_numbered(hass: HomeAssistant, korto: KortoStandIn) -> None:
    korto.meter("102")["type"] = "Külm vesi"
    korto.meter("102")["description"] = "Köök"
    entry = await setup_korto(hass)
    devices = dr.async_get(hass)
    names = {
        meter: devices.async_get_device_by_identifier(
            (DOMAIN, f"korto_{APARTMENT_ID}_{meter}"), entry.entry_id
        )
        for meter in ("101", "102")
    }
    assert [device.name for device in names.values() if device] == [
        "Külm vesi (Köök)",
        "Külm vesi (Köök) 2",
    ]


async def test_diagnostics_hide_token_and_ids(
    hass: HomeAssistant, korto: KortoStandIn, hass_client: ClientSessionGenerator
) -> None:
    entry = await setup_korto(hass)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    assert GOOD_TOKEN not in text
    assert GOOD_TOKEN.split(".")[1] not in text
    assert APARTMENT_ID not in text
    for meter in ("101", "102", "103"):
        assert f'"{meter}"' not in text
    provider = diagnostics["provider"]
    assert provider["requests"] == 2
    assert len(provider["meters"]) == 7
    assert provider["meters"][0]["kind"] == "cold_water"
    assert provider["meters"][0]["meter_id"] == "**REDACTED**"
    assert provider["meters"][5]["has_reading"] is False
    names = [coordinator["name"] for coordinator in diagnostics["coordinators"]]
    assert names == ["Korto meters", "Korto balance"]


async def test_setup_retries_when_korto_is_down(hass: HomeAssistant, korto: KortoStandIn) -> None:
    korto.override = (500, "oops", {})
    entry = korto_entry()
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_logs_never_show_the_token_or_the_apartment_id(
    hass: HomeAssistant, korto: KortoStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="custom_components.meterhub")
    entry = await setup_korto(hass)
    meters = entry.runtime_data.meters
    # Korto echoes the id and the token in an error: our messages must not pass them on.
    korto.extra_errors = [{"message": f"Failure for apartment {APARTMENT_ID} token {GOOD_TOKEN}"}]
    await meters.async_refresh()
    korto.extra_errors = [{"message": f"Internal error {APARTMENT_ID} / {GOOD_TOKEN}"}]
    await meters.async_refresh()
    korto.extra_errors = None
    korto.override = (500, f"boom {APARTMENT_ID}", {})
    await entry.runtime_data.balance.async_refresh()
    korto.override = None
    korto.tokens = set()
    await meters.async_refresh()
    await hass.async_block_till_done()
    text = caplog.text
    assert "Error fetching Korto meters data" in text  # the failures were logged...
    assert GOOD_TOKEN not in text  # ...without the token
    assert GOOD_TOKEN.split(".")[1] not in text
    assert APARTMENT_ID not in text  # ...or the apartment id


async def test_removing_the_entry_deletes_its_reading_history(
    hass: HomeAssistant, korto: KortoStandIn, hass_storage: dict[str, Any]
) -> None:
    entry = await setup_korto(hass)
    await assert_remove_deletes_store(hass, hass_storage, entry, "korto")
