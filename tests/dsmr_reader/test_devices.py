"""A DSMR-reader entry is one server and one device (its meters are sensors of that device), so
there is nothing to add or remove later and the user cannot delete it while the entry is loaded."""

from __future__ import annotations

from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.meterhub.const import DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from ..helpers import device_page_client, user_deletes_device
from .conftest import add_entry
from .standin import FakeDsmrReader


async def test_the_server_device_cannot_be_deleted_while_loaded(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader, hass_ws_client: WebSocketGenerator
) -> None:
    entry = await add_entry(hass, dsmr_server)
    client = await device_page_client(hass, hass_ws_client)
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    (identifier,) = (ident for domain, ident in device.identifiers if domain == DOMAIN)
    assert not await user_deletes_device(hass, client, entry, identifier)
