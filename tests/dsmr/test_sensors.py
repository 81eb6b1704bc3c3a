"""Entities, devices and state writes as users see them, fed through a real pty and TCP bridge."""

from __future__ import annotations

from typing import Any

from custom_components.meterhub.const import DOMAIN
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from . import telegrams
from .helpers import add_meter, set_options
from .standin import PtyMeter, Sender, TcpMeter, wait_for

POWER = "sensor.electricity_meter_power_consumption"
T1 = "sensor.electricity_meter_energy_consumption_tariff_1"
TARIFF = "sensor.electricity_meter_active_tariff"
GAS = "sensor.gas_meter_gas_consumption"
WATER = "sensor.water_meter_water_consumption"


def state(hass: HomeAssistant, entity_id: str) -> str | None:
    found = hass.states.get(entity_id)
    return None if found is None else found.state


async def test_dsmr5_sensors_devices_and_classes(hass: HomeAssistant, pty_meter: PtyMeter) -> None:
    sender = Sender(pty_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        await wait_for(lambda: state(hass, WATER) is not None)
        assert state(hass, POWER) == "0.456"
        assert state(hass, T1) == "1234.567"
        assert state(hass, TARIFF) == "normal"
        assert state(hass, GAS) == "1001.234"
        assert state(hass, WATER) == "55.5"

        energy = hass.states.get(T1).attributes
        assert energy["device_class"] == SensorDeviceClass.ENERGY
        assert energy["state_class"] == SensorStateClass.TOTAL_INCREASING
        assert energy["unit_of_measurement"] == "kWh"
        gas = hass.states.get(GAS).attributes
        assert gas["device_class"] == SensorDeviceClass.GAS
        assert gas["unit_of_measurement"] == "m³"
        assert gas["reading_taken"] == "2026-03-01T11:05:00+00:00"
        assert hass.states.get(WATER).attributes["device_class"] == SensorDeviceClass.WATER
        assert hass.states.get(POWER).attributes["unit_of_measurement"] == "kW"
        assert hass.states.get(TARIFF).attributes["options"] == ["low", "normal"]

        registry = er.async_get(hass)
        # Core's keys as unique-id suffixes; rarely used sensors exist but start disabled.
        assert (
            registry.async_get(T1).unique_id == f"dsmr_{telegrams.V5_ID}_electricity_used_tariff_1"
        )
        assert registry.async_get(GAS).unique_id == f"dsmr_{telegrams.GAS_ID}_gas_meter_reading"
        voltage = registry.async_get("sensor.electricity_meter_voltage_phase_l1")
        assert voltage is not None
        assert voltage.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert voltage.entity_category is not None
        assert hass.states.get("sensor.electricity_meter_voltage_phase_l1") is None

        devices = dr.async_get(hass)
        electricity = devices.async_get_device_by_identifier(
            (DOMAIN, f"dsmr_{telegrams.V5_ID}"), entry.entry_id
        )
        assert electricity is not None
        assert electricity.name == "Electricity meter"
        assert electricity.model == "DSMR 5"
        for meter_id, name in (
            (telegrams.GAS_ID, "Gas meter"),
            (telegrams.WATER_ID, "Water meter"),
        ):
            device = devices.async_get_device_by_identifier(
                (DOMAIN, f"dsmr_{meter_id}"), entry.entry_id
            )
            assert device is not None
            assert device.name == name
    finally:
        await sender.stop()


async def test_belgian_meter_tariffs_and_peak_demand(
    hass: HomeAssistant, pty_meter: PtyMeter
) -> None:
    sender = Sender(pty_meter.write, telegrams.v5b(tariff="0001"), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5B")
        assert entry.unique_id == telegrams.BE_ID
        await wait_for(lambda: state(hass, GAS) is not None)
        # In Belgium tariff 1 is the day (normal) tariff.
        assert state(hass, TARIFF) == "normal"
        assert state(hass, "sensor.electricity_meter_current_average_demand") == "1.234"
        assert state(hass, "sensor.electricity_meter_maximum_demand_current_month") == "3.21"
        assert state(hass, GAS) == "321.456"
        await set_options(hass, entry, time_between_update=0)
        sender.telegram = telegrams.v5b(tariff="0002", demand=2.5)
        await wait_for(lambda: state(hass, TARIFF) == "low")
        assert state(hass, "sensor.electricity_meter_current_average_demand") == "2.5"
    finally:
        await sender.stop()


async def test_dsmr4_and_22_sensors_over_tcp(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    sender = Sender(tcp_meter.write, telegrams.v4(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, tcp_meter.url, "4")
        await wait_for(lambda: state(hass, GAS) is not None)
        assert state(hass, T1) == "1073.079"
        assert state(hass, GAS) == "1550.123"
        await hass.config_entries.async_remove(entry.entry_id)
        sender.telegram = telegrams.v22()
        entry = await add_meter(hass, tcp_meter.url, "2.2")
        await wait_for(lambda: state(hass, GAS) == "2024.321")
        assert state(hass, T1) == "876.543"
        assert state(hass, TARIFF) == "low"
        # Unloading waits for the gas statistics under way (none left to race the recorder).
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await sender.stop()


async def test_updates_are_throttled_and_only_changes_are_written(
    hass: HomeAssistant, pty_meter: PtyMeter
) -> None:
    sender = Sender(pty_meter.write, telegrams.v5(), 0.05)
    sender.start()
    events: list[Event[Any]] = []
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        await wait_for(lambda: state(hass, WATER) is not None)
        runtime = entry.runtime_data

        # Default: at most one update per 30 s. A new power value is not shown yet...
        sender.telegram = telegrams.v5(power=1.5)
        await wait_for(lambda: runtime.reader.stats.telegrams > 10)
        assert state(hass, POWER) == "0.456"
        # ...but a new gas reading is, at once (it is never throttled away).
        sender.telegram = telegrams.v5(power=1.5, gas=1001.5, gas_at="260301121000W")
        await wait_for(lambda: state(hass, GAS) == "1001.5")
        assert state(hass, POWER) == "1.5"

        # Without throttle every telegram is shown, but unchanged values are not written.
        await set_options(hass, entry, time_between_update=0)
        runtime = entry.runtime_data
        await wait_for(lambda: runtime.shown >= 3)  # the reloaded entry's entities are back
        hass.bus.async_listen(EVENT_STATE_CHANGED, events.append)
        hass.bus.async_listen(
            EVENT_STATE_REPORTED, events.append, event_filter=callback(lambda _: True)
        )
        shown = runtime.shown
        await wait_for(lambda: runtime.shown >= shown + 10)
        assert events == []
        sender.telegram = telegrams.v5(power=2.0, gas=1001.5, gas_at="260301121000W")
        await wait_for(lambda: state(hass, POWER) == "2.0")
        await wait_for(lambda: runtime.shown >= shown + 20)
        assert [event.data["entity_id"] for event in events] == [POWER]
    finally:
        await sender.stop()


async def test_unload_makes_entities_unavailable(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    sender = Sender(tcp_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, tcp_meter.url, "5")
        await wait_for(lambda: state(hass, POWER) == "0.456")
        assert await hass.config_entries.async_unload(entry.entry_id)
        assert state(hass, POWER) == STATE_UNAVAILABLE
    finally:
        await sender.stop()
