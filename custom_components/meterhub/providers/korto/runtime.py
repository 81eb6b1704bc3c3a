"""A loaded Korto entry: the reading store, the statistics, two coordinators and the sensors."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant, callback

from ...api.errors import jwt_expiry
from ...api.korto import KortoClient, KortoMeters
from ...devices import async_remove_stale_devices
from ...sensor import MeterHubSensor
from ..base import ProviderConfigEntry, ProviderRuntime, device_id
from .coordinator import KortoBalanceCoordinator, KortoMetersCoordinator
from .history import KortoHistory
from .kinds import MeterProfile, profile
from .sensors import (
    BALANCE_DESCRIPTIONS,
    apartment_device_info,
    meter_descriptions,
    meter_device_info,
    meter_names,
    token_expiry_description,
)
from .store import ReadingStore

type KortoConfigEntry = ProviderConfigEntry[KortoRuntime]


class KortoRuntime(ProviderRuntime):
    """The entry's coordinators and sensors; meters that appear later get their sensors then."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: KortoConfigEntry,
        client: KortoClient,
        *,
        key: str,
        apartment_id: str,
        token: str,
        update_interval: timedelta,
    ) -> None:
        """Build the store, the importer and the coordinators; nothing is read yet."""
        self.hass = hass
        self.entry = entry
        self.key = key
        self.apartment_id = apartment_id
        self.apartment_name = entry.title
        self.client = client
        self.store = ReadingStore(hass, key, entry.entry_id)
        self.history = KortoHistory(hass, key, self.store)
        self.meters = KortoMetersCoordinator(
            hass,
            entry,
            client,
            self.store,
            self.history,
            apartment_id=apartment_id,
            update_interval=update_interval,
        )
        self.balance = KortoBalanceCoordinator(
            hass, entry, client, apartment_id=apartment_id, update_interval=update_interval
        )
        super().__init__([self.meters, self.balance])
        self.token_expires = jwt_expiry(token)
        self._known: set[str] = set()
        self._unsubscribe: Callable[[], None] | None = None

    async def async_start(self) -> None:
        """Load the kept readings, then read meters and balance once before adding sensors."""
        await self.store.async_load()
        self.history.pending |= self.store.meter_ids()
        await self.meters.async_config_entry_first_refresh()
        # The balance is secondary: when it fails the meters still come up, the balance sensors
        # stay unavailable until a later poll succeeds.
        await self.balance.async_refresh()

    def sensors(self) -> Iterable[MeterHubSensor[Any]]:
        """The apartment's sensors and those of every meter Korto lists now."""
        apartment = apartment_device_info(self.key, self.apartment_id, self.apartment_name)
        entities: list[MeterHubSensor[Any]] = [
            MeterHubSensor(self.balance, apartment, description)
            for description in (
                *BALANCE_DESCRIPTIONS,
                token_expiry_description(self.token_expires),
            )
        ]
        entities.extend(self._meter_sensors())
        if self._unsubscribe is None:
            self._unsubscribe = self.meters.async_add_listener(self._async_meters_updated)
        return entities

    def _meter_sensors(self) -> list[MeterHubSensor[KortoMeters]]:
        """Sensors for the meters not seen before."""
        data = self.meters.data
        names = meter_names(data.meters)
        entities: list[MeterHubSensor[KortoMeters]] = []
        for meter in data.meters:
            if meter.id in self._known:
                continue
            self._known.add(meter.id)
            meter_profile: MeterProfile = profile(meter.type, meter.unit)
            device = meter_device_info(
                self.key, self.apartment_id, meter, names[meter.id], meter_profile
            )
            entities.extend(
                MeterHubSensor(self.meters, device, description)
                for description in meter_descriptions(meter, meter_profile)
            )
        return entities

    @callback
    def _async_meters_updated(self) -> None:
        """Add sensors for a meter that appeared on the apartment; remove the devices of vanished ones.

        Only a complete answer removes: not a failed poll (no new data), not an answer with
        entries that could not be read, not an empty list for an apartment that had meters.
        """
        data = self.meters.data
        if not self.meters.last_update_success or data is None:
            return
        if new := self._meter_sensors():
            self.add_sensors(new)
        if data.skipped or not data.meters:
            return
        self._known &= {meter.id for meter in data.meters}
        # Also catches a meter that vanished while Home Assistant was stopped.
        async_remove_stale_devices(self.hass, self.entry, self.provided_device_ids())

    def _meter_device_id(self, meter_id: str) -> str:
        return device_id(self.key, self.apartment_id, meter_id)

    def provided_device_ids(self) -> set[str]:
        """The apartment and the meters of the latest answer."""
        data = self.meters.data
        meters = data.meters if data is not None else ()
        return {device_id(self.key, self.apartment_id)} | {
            self._meter_device_id(meter.id) for meter in meters
        }

    @callback
    def forget_device(self, identifier: str) -> None:
        """A meter device the user deleted gets its sensors again should Korto list it again."""
        self._known = {m for m in self._known if self._meter_device_id(m) != identifier}

    def diagnostics(self) -> dict[str, Any]:
        """Meter kinds, units, history sizes and import results; no ids or token."""
        data = self.meters.data
        meters: list[dict[str, Any]] = []
        for meter in data.meters if data else ():
            meter_profile = profile(meter.type, meter.unit)
            result = self.history.last_imports.get(meter.id)
            meters.append(
                {
                    "meter_id": meter.id,
                    "type": meter.type,
                    "unit": meter.unit,
                    "kind": meter_profile.kind,
                    "device_class": meter_profile.device_class,
                    "has_reading": meter.reading is not None,
                    "reading_date": meter.reading_date,
                    "reading_origin": meter.reading_origin,
                    "readings_kept": len(self.store.readings(meter.id)),
                    "last_import_rows_written": result.rows_written if result else None,
                }
            )
        return {
            "requests": self.client.requests,
            "token_expires": self.token_expires,
            "readings_allowed": data.readings_allowed if data else None,
            "readings_start": data.readings_start if data else None,
            "readings_end": data.readings_end if data else None,
            "statistics_import_failures": self.history.import_failures,
            "meters": meters,
        }

    async def async_shutdown(self) -> None:
        """Stop listening for new meters, then stop the coordinators."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await super().async_shutdown()
