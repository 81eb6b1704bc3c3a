"""M-Bus meters that appear later get their device without a reload; one that left the telegram
can be deleted by the user (never automatically: a gas meter's radio link drops now and then),
and comes back should it return."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.meterhub.api.dsmr import readable_identifier
from custom_components.meterhub.const import DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from ..helpers import device_page_client, user_deletes_device
from . import telegrams
from .helpers import add_meter
from .standin import PtyMeter, Sender, wait_for

GAS = "sensor.gas_meter_gas_consumption"
WATER = "sensor.water_meter_water_consumption"


def state(hass: HomeAssistant, entity_id: str) -> str | None:
    found = hass.states.get(entity_id)
    return None if found is None else found.state


async def test_a_water_meter_appears_leaves_and_is_deleted_by_the_user(
    hass: HomeAssistant, pty_meter: PtyMeter, hass_ws_client: WebSocketGenerator
) -> None:
    client = await device_page_client(hass, hass_ws_client)
    sender = Sender(pty_meter.write, telegrams.v5(water=None), 0.05)
    sender.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        await wait_for(lambda: state(hass, GAS) == "1001.234")
        assert er.async_get(hass).async_get(WATER) is None

        # A water meter is paired with the electricity meter: its channel appears in the telegram.
        sender.telegram = telegrams.v5()
        await wait_for(lambda: state(hass, WATER) == "55.5")
        water_device = f"dsmr_{telegrams.WATER_ID}"
        assert not await user_deletes_device(hass, client, entry, water_device)
        assert not await user_deletes_device(hass, client, entry, f"dsmr_{telegrams.V5_ID}")

        # It leaves the telegram: the device stays (it may be a radio hiccup) until deleted.
        sender.telegram = telegrams.v5(water=None)
        coordinator = entry.runtime_data.coordinator
        await wait_for(lambda: 2 not in coordinator.data.mbus)
        assert er.async_get(hass).async_get(WATER) is not None
        assert not await user_deletes_device(hass, client, entry, f"dsmr_{telegrams.GAS_ID}")
        assert await user_deletes_device(hass, client, entry, water_device)
        assert er.async_get(hass).async_get(WATER) is None
        assert state(hass, GAS) == "1001.234"

        # Back again: device and sensor return, with the same entity id.
        sender.telegram = telegrams.v5(water=56.0)
        await wait_for(lambda: state(hass, WATER) == "56.0")
    finally:
        await sender.stop()


async def test_device_pages_show_the_identifiers_as_the_meter_labels_print_them(
    hass: HomeAssistant, pty_meter: PtyMeter
) -> None:
    """The serial number reads "E0044007131610216", not its hex; the identifiers stay as sent."""
    sender = Sender(pty_meter.write, telegrams.v5(), 0.05)
    sender.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        await wait_for(lambda: state(hass, WATER) == "55.5")
    finally:
        await sender.stop()
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    shown = {
        identifier: device.serial_number
        for device in devices
        for domain, identifier in device.identifiers
        if domain == DOMAIN
    }
    assert shown == {
        f"dsmr_{telegrams.V5_ID}": "E0044007131610216",
        f"dsmr_{telegrams.GAS_ID}": "G0032561281586719",
        f"dsmr_{telegrams.WATER_ID}": "2222ABCD123456789",
    }


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        (telegrams.BE_GAS_ID, "7FKK221170190500"),
        ("4530303434303037313331363130323136", "E0044007131610216"),
        ("4530", "E0"),
        ("E0044007131610216", "E0044007131610216"),  # sent as text already
        ("1234567", "1234567"),  # an odd number of digits is no hex
        ("00FF1F41", "00FF1F41"),  # bytes that are no printable text
        ("2020", "2020"),  # blanks only
        ("p1_0123456789abcdef", "p1_0123456789abcdef"),  # a meter without identifier
        ("", ""),
    ],
)
def test_an_identifier_is_decoded_only_when_it_is_printable_text(sent: str, shown: str) -> None:
    assert readable_identifier(sent) == shown
