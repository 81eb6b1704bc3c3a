"""Devices that come and go with the meters at the source: one rule for every provider.

A device is removed only when a complete, successful answer no longer names its meter (never on
an error or a partial answer: the caller decides what "complete" means for its source). Removing
a device removes its entities from the registries; long-term statistics, including the external
``meterhub:`` ones, stay in the recorder, so the energy dashboard keeps the meter's history.
"""

from __future__ import annotations

from collections.abc import Collection

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN


def meterhub_identifiers(device: dr.DeviceEntry) -> set[str]:
    """The Meter Hub identifiers of a registry device (``<provider>_<meter>...``)."""
    return {ident for domain, ident in device.identifiers if domain == DOMAIN}


@callback
def async_remove_stale_devices(
    hass: HomeAssistant, entry: ConfigEntry, keep: Collection[str]
) -> list[str]:
    """Detach this entry from its devices that are not in ``keep``; returns their identifiers.

    A device left without config entries is deleted by the registry, its entities with it.
    """
    registry = dr.async_get(hass)
    removed: list[str] = []
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        ours = meterhub_identifiers(device)
        if ours and not ours & set(keep):
            registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)
            removed.extend(sorted(ours))
    return removed
