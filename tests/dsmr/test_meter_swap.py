"""The grid operator swaps the gas meter on channel 1: a new device, sensor and statistic at once.

The old meter's device goes stale (the user may delete it), its statistic keeps its history
untouched, the new register (restarting near zero) is never compared with the old one, so no hour
is counted twice or negative; a repair says to add the new gas statistic in the energy settings.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.meterhub.const import DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir

from ..helpers import changes, device_page_client, user_deletes_device
from . import telegrams
from .helpers import add_meter
from .standin import PtyMeter, Sender, wait_for

NEW_GAS_ID = "4730303332353631323831353939393939"  # "G0032561281599999"
OLD_STAT = f"meterhub:dsmr_{telegrams.GAS_ID.lower()}_gas"
NEW_STAT = f"meterhub:dsmr_{NEW_GAS_ID.lower()}_gas"
OLD_SENSOR = "sensor.gas_meter_gas_consumption"
NEW_SENSOR = "sensor.gas_meter_gas_consumption_2"
START = datetime(2026, 3, 1, tzinfo=UTC)


def at(hour: int) -> datetime:
    return datetime(2026, 3, 1, hour, tzinfo=UTC)


def state(hass: HomeAssistant, entity_id: str) -> str | None:
    found = hass.states.get(entity_id)
    return None if found is None else found.state


def issue_of(hass: HomeAssistant, entry_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"meter_replaced_{entry_id}")


async def test_a_swapped_gas_meter_gets_its_own_device_sensor_and_statistic(
    hass: HomeAssistant, pty_meter: PtyMeter, hass_ws_client: WebSocketGenerator
) -> None:
    client = await device_page_client(hass, hass_ws_client)
    # Winter time: the meter's local 12:05 is 11:05 UTC.
    sender = Sender(pty_meter.write, telegrams.v5(gas=1000.0, gas_at="260301120500W"), 0.05)
    sender.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        runtime = entry.runtime_data

        def imports() -> int:
            return int(runtime.diagnostics()["mbus_channels"]["1"]["imports"])

        await wait_for(lambda: "1" in runtime.diagnostics()["mbus_channels"])
        await wait_for(lambda: imports() == 1)
        sender.telegram = telegrams.v5(gas=1000.4, gas_at="260301121000W")
        await wait_for(lambda: imports() == 2)
        sender.telegram = telegrams.v5(gas=1000.9, gas_at="260301130000W")  # closes 11:00 UTC
        await wait_for(lambda: imports() == 3)
        await wait_for(lambda: state(hass, OLD_SENSOR) == "1000.9")
        assert issue_of(hass, entry.entry_id) is None

        # The operator swaps the meter: a new identifier, a register restarting at 0.5 m³.
        sender.telegram = telegrams.v5(gas=0.5, gas_at="260301131500W", gas_id=NEW_GAS_ID)
        await wait_for(lambda: state(hass, NEW_SENSOR) == "0.5")
        await wait_for(lambda: imports() == 1)  # the channel now books into the new series
        sender.telegram = telegrams.v5(gas=0.8, gas_at="260301132000W", gas_id=NEW_GAS_ID)
        await wait_for(lambda: imports() == 2)
        sender.telegram = telegrams.v5(gas=1.0, gas_at="260301141000W", gas_id=NEW_GAS_ID)
        await wait_for(lambda: imports() == 3)
        await wait_for(lambda: state(hass, NEW_SENSOR) == "1.0")

        # The old meter's sensor no longer shows the new meter's register.
        assert state(hass, OLD_SENSOR) == "unavailable"
        entities = er.async_get(hass)
        old_entity, new_entity = entities.async_get(OLD_SENSOR), entities.async_get(NEW_SENSOR)
        assert old_entity is not None
        assert new_entity is not None
        assert old_entity.device_id != new_entity.device_id
        assert new_entity.unique_id == f"dsmr_{NEW_GAS_ID}_gas_meter_reading"

        # The old series keeps its history; the new one starts at its first reading.
        assert await changes(hass, OLD_STAT, start=START) == {at(11): 0.9}
        assert await changes(hass, NEW_STAT, start=START) == {at(12): 0.3, at(13): 0.2}
        for statistic_id in (OLD_STAT, NEW_STAT):
            assert min((await changes(hass, statistic_id, start=START)).values()) >= 0

        # The repair names the channel, never an identifier.
        issue = issue_of(hass, entry.entry_id)
        assert issue is not None
        assert issue.translation_key == "meter_replaced"
        assert issue.translation_placeholders == {"channel": "1"}
        assert issue.severity is ir.IssueSeverity.WARNING

        # The new meter's device is provided, the old one stale: only the old one may go.
        assert not await user_deletes_device(hass, client, entry, f"dsmr_{NEW_GAS_ID}")
        assert await user_deletes_device(hass, client, entry, f"dsmr_{telegrams.GAS_ID}")
        assert entities.async_get(OLD_SENSOR) is None
        assert issue_of(hass, entry.entry_id) is None
        # Deleting the device leaves its statistic in the recorder.
        assert await changes(hass, OLD_STAT, start=START) == {at(11): 0.9}
        assert state(hass, NEW_SENSOR) == "1.0"
    finally:
        await sender.stop()
