"""Fixtures for the DSMR-reader tests: the stand-in server on 127.0.0.1 and setup through the flow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.meterhub.const import DOMAIN
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from ..helpers import start_flow
from .standin import API_KEY, FakeDsmrReader, start_standin


@pytest.fixture
async def dsmr_server(socket_enabled: None) -> AsyncIterator[FakeDsmrReader]:
    """A running stand-in server (sockets only to 127.0.0.1, as Home Assistant's tests allow)."""
    server = FakeDsmrReader()
    runner = await start_standin(server)
    yield server
    await runner.cleanup()


async def add_entry(
    hass: HomeAssistant, server: FakeDsmrReader, *, url: str | None = None
) -> config_entries.ConfigEntry[Any]:
    """Add the server as the UI does, and wait for the first history run to finish."""
    flow_id = (await start_flow(hass, "dsmr_reader"))["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": url or server.url, "api_key": API_KEY}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done(wait_background_tasks=True)
    entry: config_entries.ConfigEntry[Any] = result["result"]
    return entry


def saved_entry(hass: HomeAssistant, server: FakeDsmrReader, backfill_days: int) -> MockConfigEntry:
    """An entry saved earlier for ``server`` (as after a restart), added but not set up."""
    server_id = f"127.0.0.1:{server.url.rsplit(':', 1)[1]}"
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"DSMR-reader {server_id}",
        unique_id=server_id,
        data={
            "provider": "dsmr_reader",
            "url": server.url,
            "api_key": API_KEY,
            "server_id": server_id,
        },
        options={"scan_interval": 30, "backfill_days": backfill_days},
    )
    entry.add_to_hass(hass)
    return entry
