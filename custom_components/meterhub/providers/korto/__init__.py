"""Korto (Estonia): an apartment's utility meters, balance and last payment.

The user pastes the ``auth_token`` cookie of the Korto web app and the apartment id. Readings
change about once a month, so polling a few times a day is plenty; each new reading's consumption
is also imported at its reading date (see :mod:`.history`).

Layout (the same in every provider): the provider here, the loaded entry in :mod:`.runtime`, the
polls in :mod:`.coordinator`, entity descriptions in :mod:`.sensors`, long-term statistics in
:mod:`.history`, state kept on disk in :mod:`.store`; :mod:`.kinds` tells meter types apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
import re
from typing import Any, ClassVar, Final

import probatio as vol

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ...api.errors import jwt_expiry
from ...api.korto import (
    DEFAULT_BASE_URL,
    KortoAuthError,
    KortoClient,
    KortoUnknownApartmentError,
    normalise_token,
)
from ..base import FormError, Provider, Validated, base_url, entry_title, number_box
from .runtime import KortoConfigEntry, KortoRuntime
from .store import ReadingStore

CONF_TOKEN: Final = "token"
CONF_APARTMENT_ID: Final = "apartment_id"
CONF_UPDATE_INTERVAL: Final = "update_interval_hours"
DEFAULT_UPDATE_INTERVAL_HOURS: Final = 6
MIN_UPDATE_INTERVAL_HOURS: Final = 1
MAX_UPDATE_INTERVAL_HOURS: Final = 24

_APARTMENT_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


class KortoProvider(Provider[KortoRuntime]):
    """Korto apartments: one config entry per apartment id."""

    key: ClassVar[str] = "korto"
    secret_fields = (CONF_TOKEN,)
    has_base_url = True

    def __init__(self, base_url: str = DEFAULT_BASE_URL) -> None:
        """``base_url`` is Korto's GraphQL endpoint (a local stand-in in tests)."""
        self.base_url = base_url

    async def async_schema(self, hass: HomeAssistant, defaults: Mapping[str, Any]) -> vol.Schema:
        """The token (hidden as a password) and the apartment id."""
        return vol.Schema(
            {
                vol.Required(CONF_TOKEN): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.PASSWORD)
                ),
                vol.Required(CONF_APARTMENT_ID): str,
            }
        )

    async def async_remove_entry(self, hass: HomeAssistant, entry: KortoConfigEntry) -> None:
        """Delete the readings kept in ``.storage`` for this entry."""
        await ReadingStore(hass, self.key, entry.entry_id).async_remove()

    async def async_validate(self, hass: HomeAssistant, data: Mapping[str, Any]) -> Validated:
        """Read the apartment's meters with the token: the one call that proves both values."""
        token = normalise_token(str(data.get(CONF_TOKEN, "")))
        apartment_id = str(data.get(CONF_APARTMENT_ID, "")).strip()
        if not token:
            raise FormError(CONF_TOKEN, "invalid_auth")
        if not _APARTMENT_ID_RE.fullmatch(apartment_id):
            raise FormError(CONF_APARTMENT_ID, "unknown_apartment")
        expires = jwt_expiry(token)
        if expires is not None and expires <= datetime.now(UTC):
            raise KortoAuthError("the token has expired")
        client = KortoClient(
            async_get_clientsession(hass), token, base_url=base_url(data, self.base_url)
        )
        try:
            await client.async_meters(apartment_id)
        except KortoUnknownApartmentError as err:
            raise FormError(CONF_APARTMENT_ID, err.error_key) from err
        return Validated(
            title=entry_title(hass, self.key, "Korto apartment", apartment_id),
            unique_id=apartment_id,
            data={CONF_TOKEN: token, CONF_APARTMENT_ID: apartment_id},
        )

    async def async_create_runtime(
        self, hass: HomeAssistant, entry: KortoConfigEntry
    ) -> KortoRuntime:
        """The client and the runtime; the store is loaded when the runtime starts."""
        token = str(entry.data[CONF_TOKEN])
        client = KortoClient(
            async_get_clientsession(hass), token, base_url=base_url(entry.data, self.base_url)
        )
        return KortoRuntime(
            hass,
            entry,
            client,
            key=self.key,
            apartment_id=str(entry.data[CONF_APARTMENT_ID]),
            token=token,
            update_interval=timedelta(
                hours=entry.options.get(CONF_UPDATE_INTERVAL, DEFAULT_UPDATE_INTERVAL_HOURS)
            ),
        )

    def options_schema(self, options: Mapping[str, Any]) -> vol.Schema:
        """How often to poll, in hours (readings change about monthly)."""
        return vol.Schema(
            {
                vol.Required(
                    CONF_UPDATE_INTERVAL,
                    default=options.get(CONF_UPDATE_INTERVAL, DEFAULT_UPDATE_INTERVAL_HOURS),
                ): number_box(MIN_UPDATE_INTERVAL_HOURS, MAX_UPDATE_INTERVAL_HOURS, "h")
            }
        )

    def validate_options(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Whole hours within the allowed range."""
        try:
            hours = int(options[CONF_UPDATE_INTERVAL])
        except KeyError, TypeError, ValueError:
            raise FormError(CONF_UPDATE_INTERVAL, "invalid_update_interval") from None
        if not MIN_UPDATE_INTERVAL_HOURS <= hours <= MAX_UPDATE_INTERVAL_HOURS:
            raise FormError(CONF_UPDATE_INTERVAL, "invalid_update_interval")
        return {**options, CONF_UPDATE_INTERVAL: hours}
