"""An Enedis entry is one PRM: its Linky device lives as long as the entry (nothing to add later,
nothing to remove), so the user cannot delete it while the entry is loaded."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from homeassistant.core import HomeAssistant

from ..helpers import device_page_client, user_deletes_device
from .conftest import add_entry
from .standin import PRM


@pytest.mark.usefixtures("gateway")
async def test_the_linky_cannot_be_deleted_while_its_entry_is_loaded(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    entry = await add_entry(hass)
    client = await device_page_client(hass, hass_ws_client)
    assert not await user_deletes_device(hass, client, entry, f"enedis_{PRM}")
