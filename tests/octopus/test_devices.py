"""Meters joining or leaving the Octopus account: at the next account poll, without a reload;
a meter that left loses its device, never its history; the user may delete only what left."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.meterhub.const import DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from ..helpers import device_page_client, statistic_ids, user_deletes_device
from .conftest import EXPORT_MPAN, MPAN, MPRN, SERIAL, fill_standard, setup_entry
from .standin import ACCOUNT, FakeOctopus

pytestmark = pytest.mark.usefixtures("london")

#: Past the twelve-hour account poll and its jitter (up to a tenth longer).
ACCOUNT_POLL = timedelta(hours=14)
GAS_DEVICE = f"octopus_{MPRN}_g4p0000001"
EXPORT_DEVICE = f"octopus_{EXPORT_MPAN}_{SERIAL.lower()}"
PRODUCTION = f"meterhub:octopus_{EXPORT_MPAN}_{SERIAL.lower()}_production"


def has_device(hass: HomeAssistant, identifier: str) -> bool:
    return bool(dr.async_get(hass).async_get_devices(identifiers={(DOMAIN, identifier)}))


async def next_account_poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(ACCOUNT_POLL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_meters_follow_the_account_at_the_next_poll(
    hass: HomeAssistant,
    octopus: FakeOctopus,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: WebSocketGenerator,
) -> None:
    fill_standard(octopus)
    gas_points = octopus.accounts[ACCOUNT]["properties"][0].pop("gas_meter_points")
    octopus.accounts[ACCOUNT]["properties"][0]["gas_meter_points"] = []
    entry = await setup_entry(hass)
    client = await device_page_client(hass, hass_ws_client)
    assert not has_device(hass, GAS_DEVICE)
    assert PRODUCTION in await statistic_ids(hass, "octopus")

    # The gas meter joins the account: device and sensors at the next account poll.
    octopus.accounts[ACCOUNT]["properties"][0]["gas_meter_points"] = gas_points
    await next_account_poll(hass, freezer)
    assert has_device(hass, GAS_DEVICE)
    assert hass.states.get("sensor.gas_meter_current_unit_rate") is not None
    assert not await user_deletes_device(hass, client, entry, GAS_DEVICE)

    # The export meter leaves: its device goes at the next poll, its statistics stay.
    points = octopus.accounts[ACCOUNT]["properties"][0]["electricity_meter_points"]
    octopus.accounts[ACCOUNT]["properties"][0]["electricity_meter_points"] = [
        point for point in points if point["mpan"] == MPAN
    ]
    await next_account_poll(hass, freezer)
    assert not has_device(hass, EXPORT_DEVICE)
    assert has_device(hass, f"octopus_{MPAN}_{SERIAL.lower()}")
    assert PRODUCTION in await statistic_ids(hass, "octopus")
