"""Meter Hub: utility-meter data from six sources in Home Assistant's energy dashboard."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .const import CONF_PROVIDER, DOMAIN
from .coordinator import MeterHubConfigEntry
from .providers import REGISTRY

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the providers' actions, so they exist (and explain themselves) with no entry loaded."""
    for provider in REGISTRY.providers.values():
        provider.async_setup(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: MeterHubConfigEntry) -> bool:
    """Look the provider up, let it build its client and first refresh, then add the platforms."""
    provider = REGISTRY.get(entry.data.get(CONF_PROVIDER, ""))
    if provider is None:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="unknown_provider",
            translation_placeholders={"provider": str(entry.data.get(CONF_PROVIDER))},
        )
    runtime = await provider.async_setup_entry(hass, entry)
    entry.runtime_data = runtime
    entry.async_on_unload(runtime.async_shutdown)
    await hass.config_entries.async_forward_entry_setups(entry, provider.platforms)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: MeterHubConfigEntry) -> bool:
    """Unload the platforms; ``async_on_unload`` then stops the provider's runtime."""
    provider = REGISTRY.get(entry.data.get(CONF_PROVIDER, ""))
    platforms = provider.platforms if provider is not None else ()
    return await hass.config_entries.async_unload_platforms(entry, platforms)


async def async_remove_entry(hass: HomeAssistant, entry: MeterHubConfigEntry) -> None:
    """Let the provider remove what it stored for this entry; imported statistics are history."""
    if (provider := REGISTRY.get(entry.data.get(CONF_PROVIDER, ""))) is not None:
        await provider.async_remove_entry(hass, entry)
