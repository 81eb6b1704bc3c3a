"""Sensors of a DSMR-reader server: values, units, availability and bad answers."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.meterhub.api.dsmr_reader import (
    DsmrReaderApiDisabledError,
    DsmrReaderNotJsonError,
)
from custom_components.meterhub.const import DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .conftest import add_entry
from .standin import API_KEY, FakeDsmrReader

PREFIX = "sensor.dsmr_reader_"


def state(hass: HomeAssistant, name: str) -> str:
    found = hass.states.get(PREFIX + name)
    assert found is not None, name
    return found.state


async def test_sensors_from_reading_today_and_prices(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    entry = await add_entry(hass, dsmr_server)
    expected = {
        "electricity_used_tariff_1": "12345.678",
        "electricity_used_tariff_2": "23456.789",
        "electricity_returned_tariff_1": "1234.5",
        "electricity_returned_tariff_2": "2345.001",
        "power_used": "0.456",
        "power_returned": "0.0",
        "power_used_phase_l1": "0.123",
        "power_used_phase_l3": "0.111",
        "gas_meter_reading": "4567.89",
        "gas_meter_reading_time": "2026-11-22T01:00:00+00:00",
        "latest_reading_time": "2026-11-22T01:14:50+00:00",
        "electricity_used_today_tariff_1": "1.234",
        "gas_used_today": "0.512",
        "energy_cost_today": "1.03",
        "electricity_price_tariff_1": "0.251",
        "electricity_price_tariff_2": "0.274",
        "gas_price": "1.402",
        "return_compensation_tariff_1": "0.07",
    }
    assert {name: state(hass, name) for name in expected} == expected

    gas = hass.states.get(PREFIX + "gas_meter_reading")
    assert gas.attributes["unit_of_measurement"] == "m³"
    assert gas.attributes["device_class"] == "gas"
    assert gas.attributes["state_class"] == "total_increasing"
    assert gas.attributes["reading_time"] == "2026-11-22T02:00:00+01:00"
    register = hass.states.get(PREFIX + "electricity_used_tariff_1").attributes
    assert (register["unit_of_measurement"], register["state_class"]) == (
        "kWh",
        "total_increasing",
    )
    cost = hass.states.get(PREFIX + "energy_cost_today").attributes
    assert (cost["unit_of_measurement"], cost["state_class"]) == ("EUR", "total")
    price = hass.states.get(PREFIX + "gas_price").attributes
    assert price["unit_of_measurement"] == "EUR/m³"
    assert "state_class" not in price
    assert hass.states.get(PREFIX + "electricity_price_tariff_1").attributes[
        "unit_of_measurement"
    ] == ("EUR/kWh")

    registry = er.async_get(hass)
    voltage = registry.async_get(PREFIX + "voltage_phase_l1")
    assert voltage is not None
    assert voltage.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    diagnostic = registry.async_get(PREFIX + "latest_reading_time")
    assert diagnostic is not None
    assert diagnostic.entity_category == "diagnostic"
    port = dsmr_server.url.rsplit(":", 1)[1]
    assert (
        registry.async_get(PREFIX + "electricity_used_tariff_1").unique_id
        == f"dsmr_reader_127_0_0_1_{port}_electricity_delivered_1"
    )

    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"dsmr_reader_127_0_0_1_{port}"), entry.entry_id
    )
    assert device is not None
    assert device.sw_version == "5.11.0"
    assert device.configuration_url == dsmr_server.url


async def test_no_readings_today_yet_and_nulls(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    """The 200-with-a-string answer and null values give unknown states, not errors."""
    dsmr_server.today = "No electricity readings found for: 2026-11-22"
    dsmr_server.readings[0]["extra_device_delivered"] = None
    dsmr_server.readings[0]["electricity_currently_returned"] = "not a number"
    dsmr_server.readings[0]["electricity_delivered_2"] = 23456  # a plain number is fine too
    await add_entry(hass, dsmr_server)
    assert state(hass, "electricity_used_today_tariff_1") == STATE_UNKNOWN
    assert state(hass, "energy_cost_today") == STATE_UNKNOWN
    assert state(hass, "gas_meter_reading") == STATE_UNKNOWN
    assert state(hass, "power_returned") == STATE_UNKNOWN
    assert state(hass, "electricity_used_tariff_2") == "23456.0"
    assert state(hass, "electricity_used_tariff_1") == "12345.678"


async def test_server_without_any_reading(hass: HomeAssistant, dsmr_server: FakeDsmrReader) -> None:
    dsmr_server.readings = []
    await add_entry(hass, dsmr_server)
    assert state(hass, "electricity_used_tariff_1") == STATE_UNKNOWN
    assert state(hass, "electricity_used_today_tariff_1") == "1.234"


async def test_old_server_without_prices_has_no_price_sensors(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    dsmr_server.prices = None  # the endpoint answers 404
    await add_entry(hass, dsmr_server)
    assert hass.states.get(PREFIX + "gas_price") is None
    assert state(hass, "electricity_used_tariff_1") == "12345.678"


async def test_no_prices_entered_gives_unknown(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    dsmr_server.prices = [p for p in dsmr_server.prices or [] if p["end"] is not None]  # expired
    await add_entry(hass, dsmr_server)
    assert state(hass, "gas_price") == STATE_UNKNOWN


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        ("server_error", None),
        ("html", DsmrReaderNotJsonError),
        ("api_disabled", DsmrReaderApiDisabledError),
    ],
)
async def test_failures_make_entities_unavailable_until_the_server_answers(
    hass: HomeAssistant,
    dsmr_server: FakeDsmrReader,
    failure: str,
    error: type[Exception] | None,
) -> None:
    entry = await add_entry(hass, dsmr_server)
    live = entry.runtime_data.live
    if failure == "server_error":
        dsmr_server.fail_status = 503
    elif failure == "html":
        dsmr_server.html = True
    else:
        dsmr_server.api = "disabled_403"
    await live.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "electricity_used_tariff_1") == STATE_UNAVAILABLE
    assert state(hass, "power_used") == STATE_UNAVAILABLE
    if error is not None:
        assert isinstance(live.last_exception.__cause__, error)
    # Not a key problem: no reauth, polling goes on.
    assert hass.config_entries.flow.async_progress() == []
    assert entry.state is ConfigEntryState.LOADED

    dsmr_server.fail_status = None
    dsmr_server.html = False
    dsmr_server.api = "enabled"
    dsmr_server.readings[0]["electricity_delivered_1"] = "12346.001"
    await live.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "electricity_used_tariff_1") == "12346.001"


async def test_setup_retries_while_the_server_is_down(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    entry = await add_entry(hass, dsmr_server)
    assert await hass.config_entries.async_unload(entry.entry_id)
    dsmr_server.fail_status = 500
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_diagnostics_hide_key_and_address(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader, hass_client: ClientSessionGenerator
) -> None:
    entry = await add_entry(hass, dsmr_server)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = repr(diagnostics)
    port = dsmr_server.url.rsplit(":", 1)[1]
    for secret in (API_KEY, "127.0.0.1", port):
        assert secret not in text
    assert diagnostics["entry"]["data"]["server_id"] == "**REDACTED**"
    assert diagnostics["provider"]["requests"] > 0
    assert diagnostics["provider"]["prices_exposed"] is True


async def test_polls_at_the_configured_interval(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader, freezer: FrozenDateTimeFactory
) -> None:
    entry = await add_entry(hass, dsmr_server)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 10, "backfill_days": 365}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    polls = len(dsmr_server.requests_to("datalogger/dsmrreading"))
    dsmr_server.readings[0]["electricity_currently_delivered"] = "1.500"
    freezer.tick(timedelta(seconds=13))  # 10 s, up to 10 % jitter, whole-second alignment
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(dsmr_server.requests_to("datalogger/dsmrreading")) == polls + 1
    assert state(hass, "power_used") == "1.5"
    # The history is not read on every poll.
    assert len(dsmr_server.requests_to("statistics/hour")) == 2  # first setup, then the reload
