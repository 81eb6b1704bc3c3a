"""Driving the integration the way the UI does, and reading what users and the dashboard see."""

from __future__ import annotations

from typing import Any

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from ..helpers import start_flow


async def open_dsmr_form(hass: HomeAssistant) -> dict[str, Any]:
    return await start_flow(hass, "dsmr")


async def add_meter(hass: HomeAssistant, port: str, version: str) -> config_entries.ConfigEntry:
    """Add a P1 meter through the flow; the meter must be sending."""
    form = await open_dsmr_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {"port": port, "dsmr_version": version}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    return result["result"]


async def set_options(
    hass: HomeAssistant, entry: config_entries.ConfigEntry, **options: Any
) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"time_between_update": 30, "forward_to": "", **options}
    )
    await hass.async_block_till_done()
    return result  # type: ignore[return-value]
