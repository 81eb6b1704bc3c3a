"""Driving the integration the way the UI does, and reading what users and the dashboard see."""

from __future__ import annotations

from typing import Any

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from ..helpers import start_flow


async def open_dsmr_form(hass: HomeAssistant) -> dict[str, Any]:
    return await start_flow(hass, "dsmr")


async def choose_port(hass: HomeAssistant, port: str) -> dict[str, Any]:
    """The form's first step: the port. The meter must be sending; returns the version step."""
    form = await open_dsmr_form(hass)
    result = await hass.config_entries.flow.async_configure(form["flow_id"], {"port": port})
    assert result.get("step_id") == "dsmr_details", result.get("errors")
    return result  # type: ignore[return-value]


def preselected(form: dict[str, Any]) -> str:
    """The version the version step offers first (what the probe recognised)."""
    (marker,) = [key for key in form["data_schema"].schema if str(key) == "dsmr_version"]
    return str(marker.default())


async def configure(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, Any]:
    """Both steps of the form: ``data["port"]`` in the first, the rest in the version step."""
    form = await choose_port(hass, data["port"])
    rest = {key: value for key, value in data.items() if key != "port"}
    return await hass.config_entries.flow.async_configure(  # type: ignore[return-value]
        form["flow_id"], rest
    )


async def add_meter(hass: HomeAssistant, port: str, version: str) -> config_entries.ConfigEntry:
    """Add a P1 meter through the flow; the meter must be sending."""
    result = await configure(hass, {"port": port, "dsmr_version": version})
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
