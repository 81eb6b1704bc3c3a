"""Diagnostics: what a maintainer needs to help, with every secret and identifier redacted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import REDACT_KEYS
from .repairs import entry_problems

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
            "problems": _problems(hass, entry.entry_id),
        },
        REDACT_KEYS,
    )


def _problems(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    """The repair causes reported now, and the last answer the client could not read.

    That answer is kept as its shape only (field names and types), so a user can attach it to a
    bug report without giving away a meter number or a key.
    """
    problems = entry_problems(hass, entry_id)
    return {
        "reporting": {cause: len(sources) for cause, sources in problems.reporting.items()},
        "last_schema_error": problems.last_schema_error,
    }
