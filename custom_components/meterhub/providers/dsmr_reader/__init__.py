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

from collections.abc import Iterable, Mapping
from datetime import timedelta, tzinfo
from typing import Any, ClassVar, Final

import probatio as vol

from homeassistant.components.sensor import SensorEntity
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util

from ...api.dsmr_reader import DsmrReaderClient, normalize_url, server_key
from ...api.errors import MeterHubApiError
from ...const import PROVIDER_DSMR_READER
from ...entity import meter_device
from ...sensor import MeterHubSensor
from ...statistics import slug
from ..base import FormError, Provider, ProviderRuntime, Validated
from .coordinators import HistoryCoordinator, LiveCoordinator, PriceCoordinator, zone_of
from .history import HistoryImporter, day_series, hour_series
from .sensors import live_descriptions, price_descriptions

CONF_URL: Final = "url"
CONF_API_KEY: Final = "api_key"
CONF_SERVER_ID: Final = "server_id"
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_BACKFILL_DAYS: Final = "backfill_days"
DEFAULT_SCAN_INTERVAL: Final = 30
DEFAULT_BACKFILL_DAYS: Final = 365
# DSMR-reader's own default time zone, tried after Home Assistant's when reading offsets.
DSMR_READER_ZONE: Final = "Europe/Amsterdam"


class DsmrReaderRuntime(ProviderRuntime):
    """One server: its client, the three coordinators and the sensors they feed."""

    def __init__(
        self,
        *,
        client: DsmrReaderClient,
        live: LiveCoordinator,
        prices: PriceCoordinator,
        history: HistoryCoordinator,
        device: DeviceInfo,
        unique_prefix: str,
        currency: str,
    ) -> None:
        """Keep everything; the history runs start with :meth:`start_history`."""
        super().__init__([live, prices, history])
        self.client = client
        self.live = live
        self.prices = prices
        self.history = history
        self._device = device
        self._prefix = unique_prefix
        self._currency = currency

    def sensors(self) -> Iterable[SensorEntity]:
        """Live sensors always; price sensors only when the server exposes prices."""
        entities: list[SensorEntity] = [
            MeterHubSensor(self.live, self._device, self._prefix, description)
            for description in live_descriptions(self._currency)
        ]
        if self.prices.exposed:
            entities += [
                MeterHubSensor(self.prices, self._device, self._prefix, description)
                for description in price_descriptions(self._currency)
            ]
        return entities

    def start_history(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Run the first import in the background (a year takes a while), then hourly.

        A coordinator only schedules its next run while something listens to it; the history has
        no entities, so a listener that does nothing keeps it going.
        """
        entry.async_on_unload(self.history.async_add_listener(lambda: None))
        entry.async_create_background_task(
            hass, self.history.async_refresh(), "meterhub dsmr_reader history"
        )

    def diagnostics(self) -> dict[str, Any]:
        """Request counts and the last history run; nothing that identifies the server."""
        status = self.history.data
        return {
            "requests": self.client.requests,
            "pagination_restarts": self.client.reanchors,
            "prices_exposed": self.prices.exposed,
            "backfill_days": self.history.depth.days,
            "history": None
            if status is None
            else {
                "last_hour": status.last_hour.isoformat() if status.last_hour else None,
                "hours_read": status.hours_read,
                "days_read": status.days_read,
                "rows_written": status.rows_written,
                "gap_filled": status.gap_filled,
            },
        }


class DsmrReaderProvider(Provider):
    """The DSMR-reader REST API (v2)."""

    key: ClassVar[str] = PROVIDER_DSMR_READER
    secret_fields = (CONF_API_KEY,)

    async def async_schema(self, hass: HomeAssistant, defaults: Mapping[str, Any]) -> vol.Schema:
        """Server URL and API key.

        The URL field is plain text: a browser's URL input would refuse ``192.168.1.10:7777``,
        which we accept and normalise.
        """
        return vol.Schema(
            {
                vol.Required(CONF_URL, default=defaults.get(CONF_URL, vol.UNDEFINED)): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.TEXT)
                ),
                vol.Required(CONF_API_KEY): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.PASSWORD)
                ),
            }
        )

    async def async_validate(self, hass: HomeAssistant, data: Mapping[str, Any]) -> Validated:
        """Normalise the URL and read the newest reading with the key."""
        try:
            url = normalize_url(str(data.get(CONF_URL, "")))
        except ValueError as err:
            raise FormError(CONF_URL, "invalid_url") from err
        api_key = str(data.get(CONF_API_KEY, "")).strip()
        client = DsmrReaderClient(async_get_clientsession(hass), url, api_key)
        await client.async_latest_reading()
        server_id = str(data.get(CONF_SERVER_ID) or server_key(url))
        return Validated(
            title=f"DSMR-reader {url.host}"
            + (f":{url.explicit_port}" if url.explicit_port else ""),
            unique_id=server_id,
            data={CONF_URL: str(url), CONF_API_KEY: api_key, CONF_SERVER_ID: server_id},
        )

    async def async_setup_entry(
        self, hass: HomeAssistant, entry: ConfigEntry[Any]
    ) -> DsmrReaderRuntime:
        """Build the client, poll once (raises ConfigEntryNotReady), start the history."""
        client = DsmrReaderClient(
            async_get_clientsession(hass), entry.data[CONF_URL], entry.data[CONF_API_KEY]
        )
        candidates: list[tzinfo] = [dt_util.get_default_time_zone()]
        if (amsterdam := await dt_util.async_get_time_zone(DSMR_READER_ZONE)) is not None:
            candidates.append(amsterdam)
        options = entry.options
        interval = timedelta(seconds=options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL))
        depth = timedelta(days=options.get(CONF_BACKFILL_DAYS, DEFAULT_BACKFILL_DAYS))

        live = LiveCoordinator(hass, entry, client, interval)
        await live.async_config_entry_first_refresh()
        zone = zone_of(live, candidates)
        prices = PriceCoordinator(hass, entry, client, zone)
        await prices.async_config_entry_first_refresh()

        server_id = str(entry.data.get(CONF_SERVER_ID) or entry.unique_id or entry.entry_id)
        meter = slug(server_id)
        currency = hass.config.currency
        importer = HistoryImporter(
            hass,
            client,
            hour_series(meter, entry.title),
            day_series(meter, entry.title, currency),
        )
        history = HistoryCoordinator(hass, entry, importer, depth, zone)

        try:
            version = await client.async_version()
        except MeterHubApiError:  # only for the device page: never a reason to fail setup
            version = None
        device = meter_device(
            f"{PROVIDER_DSMR_READER}_{meter}",
            name="DSMR-reader",
            manufacturer="DSMR-reader",
            model="DSMR-reader server",
        )
        if version:
            device["sw_version"] = version
        device["configuration_url"] = entry.data[CONF_URL]

        runtime = DsmrReaderRuntime(
            client=client,
            live=live,
            prices=prices,
            history=history,
            device=device,
            unique_prefix=f"{PROVIDER_DSMR_READER}_{meter}",
            currency=currency,
        )
        runtime.start_history(hass, entry)
        return runtime

    def options_schema(self, options: Mapping[str, Any]) -> vol.Schema | None:
        """Poll interval (seconds) and backfill depth (days)."""
        return vol.Schema(
            {
                vol.Required(
                    CONF_SCAN_INTERVAL,
                    default=options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL),
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=5,
                        max=3600,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Required(
                    CONF_BACKFILL_DAYS,
                    default=options.get(CONF_BACKFILL_DAYS, DEFAULT_BACKFILL_DAYS),
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=1,
                        max=3650,
                        step=1,
                        unit_of_measurement="d",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
            }
        )

    def validate_options(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Whole seconds and days (the number selector hands over floats)."""
        return {
            CONF_SCAN_INTERVAL: int(options[CONF_SCAN_INTERVAL]),
            CONF_BACKFILL_DAYS: int(options[CONF_BACKFILL_DAYS]),
        }
