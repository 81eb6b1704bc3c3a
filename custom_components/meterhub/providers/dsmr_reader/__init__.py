"""DSMR-reader: a server elsewhere that stores P1 data, read through its REST API.

Home Assistant's core ``dsmr_reader`` integration needs MQTT; this provider needs only the server's
address and API key. Live values are polled every ``scan_interval`` seconds; hourly statistics go
into the energy dashboard as external statistics, with a backfill of ``backfill_days`` first.

The entry's unique id is the server's ``host:port``. DSMR-reader's API has no installation or meter
id that is both always there and stable: its API key can be regenerated (and a reauth must keep the
entry), the first stored reading moves with DSMR-reader's data retention, and the meter's equipment
id only appears in a raw telegram that many servers do not keep. The id is kept in the entry
(``server_id``) so that reauth and reconfigure (a server that moved to a new address) keep the same
entry, entities and statistics.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar, Final

import probatio as vol

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ...api.dsmr_reader import DsmrReaderClient, normalize_url, server_key
from ..base import FormError, Provider, Validated, number_box
from .runtime import DsmrReaderConfigEntry, DsmrReaderRuntime

CONF_URL: Final = "url"
CONF_API_KEY: Final = "api_key"
CONF_SERVER_ID: Final = "server_id"
CONF_VERIFY_SSL: Final = "verify_ssl"
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_BACKFILL_DAYS: Final = "backfill_days"
DEFAULT_SCAN_INTERVAL: Final = 30
DEFAULT_BACKFILL_DAYS: Final = 365


class DsmrReaderProvider(Provider[DsmrReaderRuntime]):
    """The DSMR-reader REST API (v2)."""

    key: ClassVar[str] = "dsmr_reader"
    secret_fields = (CONF_API_KEY,)

    async def async_schema(self, hass: HomeAssistant, defaults: Mapping[str, Any]) -> vol.Schema:
        """Server URL and API key.

        The URL field is plain text: a browser's URL input would refuse ``192.168.1.10:7777``,
        which we accept and normalise. ``verify_ssl`` (on unless switched off) lets an ``https://``
        server with a self-signed certificate be used, as Home Assistant's own integrations do.
        """
        return vol.Schema(
            {
                vol.Required(CONF_URL, default=defaults.get(CONF_URL, vol.UNDEFINED)): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.TEXT)
                ),
                vol.Required(CONF_API_KEY): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.PASSWORD)
                ),
                vol.Optional(
                    CONF_VERIFY_SSL, default=bool(defaults.get(CONF_VERIFY_SSL, True))
                ): BooleanSelector(),
            }
        )

    async def async_validate(self, hass: HomeAssistant, data: Mapping[str, Any]) -> Validated:
        """Normalise the URL and read the newest reading with the key."""
        try:
            url = normalize_url(str(data.get(CONF_URL, "")))
        except ValueError as err:
            raise FormError(CONF_URL, "invalid_url") from err
        api_key = str(data.get(CONF_API_KEY, "")).strip()
        verify_ssl = bool(data.get(CONF_VERIFY_SSL, True))
        client = DsmrReaderClient(
            async_get_clientsession(hass, verify_ssl=verify_ssl), url, api_key
        )
        await client.async_latest_reading()
        server_id = str(data.get(CONF_SERVER_ID) or server_key(url))
        return Validated(
            title=f"DSMR-reader {url.host}"
            + (f":{url.explicit_port}" if url.explicit_port else ""),
            unique_id=server_id,
            data={CONF_URL: str(url), CONF_API_KEY: api_key, CONF_SERVER_ID: server_id}
            # Stored only when switched off: verifying is what entries always did.
            | ({} if verify_ssl else {CONF_VERIFY_SSL: False}),
        )

    async def async_create_runtime(
        self, hass: HomeAssistant, entry: DsmrReaderConfigEntry
    ) -> DsmrReaderRuntime:
        """The client and the runtime; it polls once and starts the history when it starts."""
        # Entries made before the option existed verify certificates, as they always did.
        session = async_get_clientsession(hass, verify_ssl=entry.data.get(CONF_VERIFY_SSL, True))
        client = DsmrReaderClient(session, entry.data[CONF_URL], entry.data[CONF_API_KEY])
        options = entry.options
        return DsmrReaderRuntime(
            hass,
            entry,
            client,
            key=self.key,
            server_id=str(entry.data.get(CONF_SERVER_ID) or entry.unique_id or entry.entry_id),
            interval=timedelta(seconds=options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)),
            depth=timedelta(days=options.get(CONF_BACKFILL_DAYS, DEFAULT_BACKFILL_DAYS)),
        )

    def options_schema(self, options: Mapping[str, Any]) -> vol.Schema | None:
        """Poll interval (seconds) and backfill depth (days)."""
        return vol.Schema(
            {
                vol.Required(
                    CONF_SCAN_INTERVAL,
                    default=options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL),
                ): number_box(5, 3600, "s"),
                vol.Required(
                    CONF_BACKFILL_DAYS,
                    default=options.get(CONF_BACKFILL_DAYS, DEFAULT_BACKFILL_DAYS),
                ): number_box(1, 3650, "d"),
            }
        )

    def validate_options(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Whole seconds and days (the number selector hands over floats)."""
        return {
            CONF_SCAN_INTERVAL: int(options[CONF_SCAN_INTERVAL]),
            CONF_BACKFILL_DAYS: int(options[CONF_BACKFILL_DAYS]),
        }
