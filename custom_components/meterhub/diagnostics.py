"""Diagnostics: what a maintainer needs to help, with every secret and identifier redacted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import REDACT_KEYS

if TYPE_CHECKING:
    from .providers.base import MeterHubConfigEntry


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: MeterHubConfigEntry
) -> dict[str, Any]:
    """The entry's settings, its coordinators' health and the provider's own counters."""
    runtime = entry.runtime_data
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "coordinators": [
                {
                    "name": coordinator.name,
                    "last_update_success": coordinator.last_update_success,
                    "update_interval": str(coordinator.update_interval),
                    "last_exception": repr(coordinator.last_exception)
                    if coordinator.last_exception
                    else None,
                }
                for coordinator in runtime.coordinators
            ],
            "provider": runtime.diagnostics(),
        },
        REDACT_KEYS,
    )
