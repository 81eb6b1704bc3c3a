"""The base coordinator: provider errors become Home Assistant's, and polling stays gentle."""

from __future__ import annotations

from abc import abstractmethod
from datetime import timedelta
import random
from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api.errors import ApiAuthError, ApiRateLimitError, MeterHubApiError
from .const import DOMAIN, LOGGER

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

    from .providers.base import (
        MeterHubConfigEntry as MeterHubConfigEntry,  # noqa: PLC0414 - re-export
    )


def __getattr__(name: str) -> object:
    """Old import path of ``MeterHubConfigEntry``, kept for enedis/caruna until phase B.

    The alias lives in providers/base.py beside the Provider class; it is imported lazily here so
    this module never imports the providers back.
    """
    if name == "MeterHubConfigEntry":
        from .providers.base import MeterHubConfigEntry  # noqa: PLC0415

        return MeterHubConfigEntry
    raise AttributeError(name)


def translate_error(err: MeterHubApiError) -> ConfigEntryAuthFailed | UpdateFailed:
    """The Home Assistant exception for a client error, with a translated message.

    Authentication failures start a reauth flow; everything else marks the entities unavailable
    until the next successful update. A rate limit carries the provider's ``Retry-After``. The
    message is the exception's own ``error_key`` under ``exceptions`` in strings.json, so a
    provider's specific error (a changed login page, say) tells the user what it is.
    """
    if isinstance(err, ApiAuthError):
        return ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed")
    retry_after = err.retry_after if isinstance(err, ApiRateLimitError) else None
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=err.error_key,
        translation_placeholders=err.placeholders or None,
        retry_after=retry_after,
    )


def setup_error(err: MeterHubApiError) -> ConfigEntryAuthFailed | ConfigEntryNotReady:
    """The Home Assistant exception for a client error while an entry is being set up.

    Rejected credentials start a reauth; anything else retries the setup later, with the
    exception's own ``error_key`` as the message (a changed login page reads differently from an
    unreachable server).
    """
    if isinstance(err, ApiAuthError):
        return ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed")
    return ConfigEntryNotReady(translation_domain=DOMAIN, translation_key=err.error_key)


class MeterHubCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Polls one provider resource.

    Subclasses implement :meth:`_async_fetch` and raise client errors; this class maps them.
    ``DataUpdateCoordinator`` already logs once when a source goes down and once when it is back.
    The interval gets a little random jitter so that many installs do not hit a provider in step.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        *,
        name: str,
        update_interval: timedelta | None,
        jitter: float = 0.1,
    ) -> None:
        """Set up polling at ``update_interval`` stretched by up to ``jitter`` (a fraction)."""
        self.jitter = jitter
        if update_interval is not None:
            update_interval = self.jittered(update_interval)
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=name,
            update_interval=update_interval,
        )

    def jittered(self, interval: timedelta) -> timedelta:
        """``interval`` stretched by up to ``jitter``: for a subclass that changes its interval."""
        return interval * (1 + random.uniform(0, self.jitter)) if self.jitter else interval

    async def _async_update_data(self) -> DataT:
        try:
            return await self._async_fetch()
        except MeterHubApiError as err:
            raise translate_error(err) from err

    @abstractmethod
    async def _async_fetch(self) -> DataT:
        """Fetch fresh data from the provider (raise ``api.errors`` exceptions)."""
