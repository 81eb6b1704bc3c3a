"""One DSMR-reader server while its entry is loaded: the client, three coordinators, the sensors."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta, tzinfo
from typing import Any, Final

from homeassistant.components.sensor import SensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util import dt as dt_util

from ...api.dsmr_reader import DsmrReaderClient
from ...api.errors import MeterHubApiError
from ...entity import meter_device
from ...sensor import MeterHubSensor
from ...statistics import slug
from ..base import ProviderConfigEntry, ProviderRuntime, device_id
from .coordinator import HistoryCoordinator, LiveCoordinator, PriceCoordinator, zone_of
from .history import HistoryImporter, day_series, hour_series
from .sensors import live_descriptions, meter_descriptions, price_descriptions

# DSMR-reader's own default time zone, tried after Home Assistant's when reading offsets.
DSMR_READER_ZONE: Final = "Europe/Amsterdam"

type DsmrReaderConfigEntry = ProviderConfigEntry[DsmrReaderRuntime]


class DsmrReaderRuntime(ProviderRuntime):
    """One server: its client, the three coordinators and the sensors they feed."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: DsmrReaderConfigEntry,
        client: DsmrReaderClient,
        *,
        key: str,
        server_id: str,
        interval: timedelta,
        depth: timedelta,
    ) -> None:
        """Build the coordinators; nothing is fetched before :meth:`async_start`."""
        self.hass = hass
        self.entry = entry
        self.client = client
        self.currency = hass.config.currency
        meter = slug(server_id)
        self.device_id = device_id(key, meter)
        #: Zones the server may be in: Home Assistant's own first (see ``history.server_zone``).
        self._zones: list[tzinfo] = [dt_util.get_default_time_zone()]
        self.live = LiveCoordinator(hass, entry, client, interval)
        zone = zone_of(self.live, self._zones)
        self.prices = PriceCoordinator(hass, entry, client, zone)
        importer = HistoryImporter(
            hass,
            client,
            hour_series(key, meter, entry.title),
            day_series(key, meter, entry.title, self.currency),
        )
        self.history = HistoryCoordinator(hass, entry, importer, depth, zone)
        super().__init__([self.live, self.prices, self.history])
        self.device: DeviceInfo = meter_device(
            self.device_id,
            name="DSMR-reader",
            manufacturer="DSMR-reader",
            model="DSMR-reader server",
        )

    async def async_start(self) -> None:
        """Poll once (raises ConfigEntryNotReady), then run the history in the background.

        The first import runs in the background (a year takes a while), then after each of the
        server's midnights (see ``coordinator``). A
        coordinator only schedules its next run while something listens to it; the history has
        no entities, so a listener that does nothing keeps it going.
        """
        if (amsterdam := await dt_util.async_get_time_zone(DSMR_READER_ZONE)) is not None:
            self._zones.append(amsterdam)
        await self.live.async_config_entry_first_refresh()
        await self.prices.async_config_entry_first_refresh()
        try:
            version = await self.client.async_version()
        except MeterHubApiError:  # only for the device page: never a reason to fail setup
            version = None
        if version:
            self.device["sw_version"] = version
        self.device["configuration_url"] = self.entry.data["url"]
        self.entry.async_on_unload(self.history.async_add_listener(lambda: None))
        self.entry.async_create_background_task(
            self.hass, self.history.async_refresh(), "meterhub dsmr_reader history"
        )

    def sensors(self) -> Iterable[SensorEntity]:
        """Live sensors always; meter and price sensors when the server exposes them."""
        entities: list[SensorEntity] = [
            MeterHubSensor(self.live, self.device, description)
            for description in live_descriptions(self.currency)
        ]
        if self.live.meter_exposed:
            entities += [
                MeterHubSensor(self.live, self.device, description)
                for description in meter_descriptions()
            ]
        if self.prices.exposed:
            entities += [
                MeterHubSensor(self.prices, self.device, description)
                for description in price_descriptions(self.currency)
            ]
        return entities

    def provided_device_ids(self) -> set[str]:
        """The server's one device, which lives as long as the entry."""
        return {self.device_id}

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
                "days_booked": status.days_booked,
            },
        }
