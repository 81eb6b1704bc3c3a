"""Meter Hub: utility-meter data from six sources in Home Assistant's energy dashboard."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .api.errors import MeterHubApiError
from .const import CONF_PROVIDER, DOMAIN
from .coordinator import setup_error
from .devices import meterhub_identifiers
from .privacy_rename import async_offer_renames
from .providers import REGISTRY
from .providers.base import MeterHubConfigEntry
from .repairs import async_remove_entry_issues, entry_problems

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the providers' actions, so they exist (and explain themselves) with no entry loaded."""
    for provider in REGISTRY.providers.values():
        provider.async_setup(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: MeterHubConfigEntry) -> bool:
    """Look the provider up, build its runtime, start it, then add the platforms.

    This is the one place a failed start is cleaned up and a client error translated: a runtime
    that cannot start is shut down (tasks, timers, sessions) before Home Assistant retries, asks
    for reauthentication or gives up.
    """
    provider = REGISTRY.get(entry.data.get(CONF_PROVIDER, ""))
    if provider is None:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="unknown_provider",
            translation_placeholders={"provider": str(entry.data.get(CONF_PROVIDER))},
        )
    try:
        runtime = await provider.async_create_runtime(hass, entry)
    except MeterHubApiError as err:
        raise setup_error(err) from err
    try:
        await runtime.async_start()
    except Exception as err:
        await runtime.async_shutdown()
        if isinstance(err, MeterHubApiError):
            raise setup_error(err) from err
        raise
    entry.runtime_data = runtime
    entry.async_on_unload(runtime.async_shutdown)
    await hass.config_entries.async_forward_entry_setups(entry, provider.platforms)
    # The entities are registered now: offer to rename ids an older version made from a serial
    # or an address (issue 23).
    await async_offer_renames(hass, entry, runtime.legacy_names())
    return True


async def async_unload_entry(hass: HomeAssistant, entry: MeterHubConfigEntry) -> bool:
    """Unload the platforms; ``async_on_unload`` then stops the provider's runtime.

    Who reports which problem is forgotten with the runtime: the issues stay until the reloaded
    entry's sources answer, and the first one that answers well removes an issue nobody reports.
    """
    provider = REGISTRY.get(entry.data.get(CONF_PROVIDER, ""))
    platforms = provider.platforms if provider is not None else ()
    unloaded = await hass.config_entries.async_unload_platforms(entry, platforms)
    if unloaded:
        entry_problems(hass, entry.entry_id).reporting.clear()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: MeterHubConfigEntry) -> None:
    """Let the provider remove what it stored for this entry; imported statistics are history.

    The entry's repair issues go too: there is nothing left to repair.
    """
    async_remove_entry_issues(hass, entry.entry_id)
    if (provider := REGISTRY.get(entry.data.get(CONF_PROVIDER, ""))) is not None:
        await provider.async_remove_entry(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: MeterHubConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a device whose meter the source no longer names (statistics stay).

    A device the source still lists is refused: it would come back with the next answer. With
    the entry not loaded nothing is known, so the device may go (a meter still there returns).
    """
    ours = meterhub_identifiers(device)
    if entry.state is not ConfigEntryState.LOADED:
        return True
    runtime = entry.runtime_data
    provided = runtime.provided_device_ids()
    if provided is None or ours & provided:
        return False
    for identifier in ours:
        runtime.forget_device(identifier)
    return True
