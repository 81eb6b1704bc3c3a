"""Caruna Plus (Finland): hourly consumption and network fees of every metering point of a login.

The login belongs to a person who may see several customer numbers (their own and those they
represent); one config entry covers all of them, identified by the first own customer number.
The metering points are listed again every few hours: a new one gets its device, sensors and
backfill without a reload; one that left the account loses its device (its statistics stay).

Layout (the same in every provider): the provider here, the loaded entry in :mod:`.runtime`, one
coordinator per metering point in :mod:`.coordinator`, entity descriptions and the device in
:mod:`.sensors`, long-term statistics in :mod:`.history`, the backfill's progress on disk in
:mod:`.store`; :mod:`.reader` decides what to ask Caruna for, and in which order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

import aiohttp
import probatio as vol

from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import (
    async_create_clientsession,
    async_get_clientsession,
)
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ...api.caruna import PLUS_URL, CarunaClient, CarunaResponseError
from ..base import FormError, Provider, Validated, base_url, entry_title
from .runtime import (
    CONF_TRANSFER_PRICE,
    POINTS_INTERVAL,
    CarunaConfigEntry,
    CarunaRuntime,
    async_points,
)
from .store import BackfillProgress

__all__ = ["CONF_TRANSFER_PRICE", "POINTS_INTERVAL", "CarunaProvider"]

MAX_TRANSFER_PRICE: Final = 5.0


def _login_session(hass: HomeAssistant, *, auto_cleanup: bool) -> aiohttp.ClientSession:
    """A session of its own for the login, so the portal's cookies never reach the shared one.

    ``unsafe`` only lets the jar keep cookies of hosts addressed by IP (the local stand-in in
    tests); the jar belongs to this login alone and is cleared before every login.
    """
    return async_create_clientsession(
        hass, auto_cleanup=auto_cleanup, cookie_jar=aiohttp.CookieJar(unsafe=True)
    )


class CarunaProvider(Provider[CarunaRuntime]):
    """Caruna Plus: log in like a browser, read metering points and hourly energy."""

    key: ClassVar[str] = "caruna"
    secret_fields = (CONF_PASSWORD,)
    has_base_url = True

    def __init__(self, plus_url: str = PLUS_URL) -> None:
        """``plus_url`` is the portal's address (tests point it at a local stand-in)."""
        self.plus_url = plus_url

    async def async_schema(self, hass: HomeAssistant, defaults: Mapping[str, Any]) -> vol.Schema:
        """Username and password of Caruna Plus."""
        return vol.Schema(
            {
                vol.Required(CONF_USERNAME): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.TEXT, autocomplete="username")
                ),
                vol.Required(CONF_PASSWORD): TextSelector(
                    TextSelectorConfig(
                        type=TextSelectorType.PASSWORD, autocomplete="current-password"
                    )
                ),
            }
        )

    def _client(
        self, hass: HomeAssistant, login_session: aiohttp.ClientSession, data: Mapping[str, Any]
    ) -> CarunaClient:
        return CarunaClient(
            async_get_clientsession(hass),
            login_session,
            str(data[CONF_USERNAME]).strip(),
            str(data[CONF_PASSWORD]),
            plus_url=base_url(data, self.plus_url),
            auth_failures_before_reauth=1,
        )

    async def async_validate(self, hass: HomeAssistant, data: Mapping[str, Any]) -> Validated:
        """Log in and list the metering points; the first own customer number is the unique id."""
        username = str(data.get(CONF_USERNAME, "")).strip()
        if not username:
            raise FormError(CONF_USERNAME, "invalid_auth")
        login_session = _login_session(hass, auto_cleanup=False)
        try:
            client = self._client(hass, login_session, data)
            login = await client.async_login()
            if not login.customer_numbers:
                raise CarunaResponseError("the login has no customer numbers")
            await async_points(client)
        finally:
            login_session.cookie_jar.clear()
            login_session.detach()
        unique_id = (login.own_customer_numbers or login.customer_numbers)[0]
        return Validated(
            title=entry_title(hass, self.key, "Caruna Plus", unique_id),
            unique_id=unique_id,
            data={CONF_USERNAME: username, CONF_PASSWORD: data[CONF_PASSWORD]},
        )

    async def async_create_runtime(
        self, hass: HomeAssistant, entry: CarunaConfigEntry
    ) -> CarunaRuntime:
        """The client and its login session; the runtime logs in when it starts.

        Entries made before titles stopped naming the user ("Caruna Plus (<e-mail>)") get the
        neutral title here, once: Home Assistant logs titles and writes them into repairs.
        """
        if entry.data.get(CONF_USERNAME) and entry.data[CONF_USERNAME] in entry.title:
            hass.config_entries.async_update_entry(
                entry, title=entry_title(hass, self.key, "Caruna Plus", entry.unique_id or "")
            )
        # Created inside the entry's setup, Home Assistant detaches it on unload as well.
        login_session = _login_session(hass, auto_cleanup=True)
        client = self._client(hass, login_session, entry.data)
        return CarunaRuntime(hass, entry, client, login_session, key=self.key)

    async def async_remove_entry(self, hass: HomeAssistant, entry: CarunaConfigEntry) -> None:
        """Forget the backfill progress; the imported statistics stay."""
        await BackfillProgress(hass, self.key, entry.entry_id).async_remove()

    def options_schema(self, options: Mapping[str, Any]) -> vol.Schema | None:
        """An optional transfer price for data without fees."""
        return vol.Schema(
            {
                vol.Optional(CONF_TRANSFER_PRICE): NumberSelector(
                    NumberSelectorConfig(
                        min=0,
                        max=MAX_TRANSFER_PRICE,
                        step="any",
                        unit_of_measurement="EUR/kWh",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
            }
        )

    def validate_options(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """A price is a number of euros per kWh, from 0 to 5."""
        price = options.get(CONF_TRANSFER_PRICE)
        if price is None:
            return {}
        try:
            value = float(price)
        except TypeError, ValueError:
            raise FormError(CONF_TRANSFER_PRICE, "invalid_price") from None
        if not 0 <= value <= MAX_TRANSFER_PRICE:
            raise FormError(CONF_TRANSFER_PRICE, "invalid_price")
        return {CONF_TRANSFER_PRICE: value}
