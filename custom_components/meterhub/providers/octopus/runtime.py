"""One Octopus account while it is loaded: its meters, coordinators, sensors and devices.

Meters come and go with the account (a new export meter, a replaced gas meter): every account
update compares the current meters with the known ones, adds sensors for new meters and starts
their backfill, and removes the devices of meters that vanished (a replaced serial is inactive and
gets no device). A meter with a smart device id also gets a telemetry coordinator (Home Mini),
also when the id shows up on a later account update (a Home Mini bought after setup).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.sensor import SensorEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util import dt as dt_util

from ...api.octopus import Account, OctopusClient
from ...const import DOMAIN
from ...devices import async_remove_stale_devices
from ...entity import meter_device
from ...privacy_rename import LegacyName, LegacyNames
from ...sensor import MeterHubSensor
from ...statistics import slug
from ..base import ProviderConfigEntry, ProviderRuntime, device_id
from .coordinator import (
    OctopusAccountCoordinator,
    OctopusBalanceCoordinator,
    OctopusHistoryCoordinator,
    OctopusRatesCoordinator,
    OctopusTelemetryCoordinator,
    price_points,
)
from .history import HistoryImporter
from .meters import GasSettings, MeterKind, OctopusMeter, current_meters
from .sensors import BALANCE, TELEMETRY_DESCRIPTIONS, history_descriptions, price_descriptions

MANUFACTURER = "Octopus Energy"

type OctopusConfigEntry = ProviderConfigEntry[OctopusRuntime]


class OctopusRuntime(ProviderRuntime):
    """Holds the client, the four coordinators and the meters currently on the account."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: OctopusConfigEntry,
        client: OctopusClient,
        *,
        key: str,
        gas: GasSettings,
        backfill_days: int,
    ) -> None:
        """Build the coordinators; nothing is fetched yet."""
        self.hass = hass
        self.entry = entry
        self.key = key
        self.client = client
        self.gas = gas
        self.meters: dict[str, OctopusMeter] = {}
        self.telemetry: dict[str, OctopusTelemetryCoordinator] = {}
        self.account = OctopusAccountCoordinator(hass, entry, client)
        self.balance = OctopusBalanceCoordinator(hass, entry, client)
        self.rates = OctopusRatesCoordinator(hass, entry, client, lambda: price_points(self.meters))
        self.importer = HistoryImporter(hass, client, gas=gas, backfill_days=backfill_days)
        self.history = OctopusHistoryCoordinator(hass, entry, self.importer, lambda: self.meters)
        super().__init__([self.account, self.balance, self.rates, self.history])
        self._account_device_id = device_id(key, slug(entry.data["account_number"]))
        self._unsub_account = self.account.async_add_listener(self._async_account_updated)

    @property
    def account_device(self) -> DeviceInfo:
        """The account's own device, home of the balance sensor."""
        return meter_device(
            self._account_device_id, name="Octopus Energy account", manufacturer=MANUFACTURER
        )

    def sensors(self) -> Iterable[SensorEntity]:
        """The balance and every current meter's sensors."""
        entities: list[SensorEntity] = [MeterHubSensor(self.balance, self.account_device, BALANCE)]
        for meter in self.meters.values():
            entities.extend(self._meter_sensors(meter))
        return entities

    @staticmethod
    def _meter_device(meter: OctopusMeter) -> DeviceInfo:
        return meter_device(
            meter.device_id,
            name=meter.device_name,
            manufacturer=MANUFACTURER,
            model={"electricity_import": "Electricity", "electricity_export": "Export"}.get(
                meter.kind.value, "Gas"
            ),
            serial_number=meter.serial_number,
        )

    def _meter_sensors(self, meter: OctopusMeter) -> list[SensorEntity]:
        device = self._meter_device(meter)
        entities: list[SensorEntity] = [
            MeterHubSensor(self.rates, device, description)
            for description in price_descriptions(meter)
        ]
        entities.extend(
            MeterHubSensor(self.history, device, description)
            for description in history_descriptions(meter, self.gas)
        )
        if (telemetry := self.telemetry.get(meter.key)) is not None:
            entities.extend(self._telemetry_sensors(meter, telemetry))
        return entities

    def _telemetry_sensors(
        self, meter: OctopusMeter, telemetry: OctopusTelemetryCoordinator
    ) -> list[SensorEntity]:
        device = self._meter_device(meter)
        return [
            MeterHubSensor(telemetry, device, description) for description in TELEMETRY_DESCRIPTIONS
        ]

    def _telemetry_for(self, meter: OctopusMeter) -> OctopusTelemetryCoordinator | None:
        """The telemetry coordinator of an import meter with a Home Mini (device id), made once."""
        if meter.kind is not MeterKind.IMPORT or not meter.smart_device_id:
            return None
        if (known := self.telemetry.get(meter.key)) is not None:
            return known
        coordinator = OctopusTelemetryCoordinator(
            self.hass, self.entry, self.client, meter.smart_device_id
        )
        self.telemetry[meter.key] = coordinator
        self.coordinators.append(coordinator)
        return coordinator

    @callback
    def async_sync_meters(self) -> None:
        """Match the known meters to the account: add new ones, remove vanished ones."""
        account: Account | None = self.account.data
        if account is None:  # before the first successful read
            return
        found = current_meters(account, dt_util.utcnow(), provider=self.key)
        added = [meter for key, meter in found.items() if key not in self.meters]
        gone = set(self.meters) - set(found)
        # a gas unit learnt later (GraphQL back after a REST fallback) starts that meter's history
        learnt = any(
            meter.history_ready and not self.meters[key].history_ready
            for key, meter in found.items()
            if key in self.meters
        )
        self.meters = found
        self._remove_stale_devices()
        for key in gone:
            if (telemetry := self.telemetry.pop(key, None)) is not None:
                self.coordinators.remove(telemetry)
                self.entry.async_create_background_task(
                    self.hass, telemetry.async_shutdown(), "meterhub octopus telemetry stop"
                )
        for meter in found.values():
            if meter not in added:  # a new meter gets its telemetry with its other sensors
                self._sync_telemetry(meter)
        if added and self._add_sensors is not None:
            for meter in added:
                telemetry = self._telemetry_for(meter)
                self.add_sensors(self._meter_sensors(meter))
                if telemetry is not None:
                    self.hass.async_create_task(telemetry.async_request_refresh())
            self.hass.async_create_task(self.rates.async_request_refresh())
            self.hass.async_create_task(self.history.async_request_refresh())
        elif learnt:
            self.hass.async_create_task(self.history.async_request_refresh())
        elif gone:
            self.rates.async_update_listeners()

    @callback
    def _sync_telemetry(self, meter: OctopusMeter) -> None:
        """A known meter whose smart device id appeared (a Home Mini added later) or changed.

        A new id gets a telemetry coordinator and the live sensors at once, without a reload. An
        id that is no longer listed keeps what it has: it belongs to the meter, which is still
        there, and a lapse in GraphQL's answer must not cost the user the sensors' history.
        """
        if self._add_sensors is None:  # still starting: async_start makes the coordinators
            return
        known = self.telemetry.get(meter.key)
        if known is None:
            if (telemetry := self._telemetry_for(meter)) is not None:
                self.add_sensors(self._telemetry_sensors(meter, telemetry))
                self.hass.async_create_task(telemetry.async_request_refresh())
            return
        if meter.smart_device_id and meter.smart_device_id != known.device_id:
            known.move_to(meter.smart_device_id)
            self.hass.async_create_task(known.async_request_refresh())

    @callback
    def _async_account_updated(self) -> None:
        if self.account.last_update_success:
            self.async_sync_meters()

    @callback
    def _remove_stale_devices(self) -> None:
        """Devices of this entry whose meter is no longer on the account go away (history stays).

        Called with a successful account answer only; a REST fallback lists every serial a point
        ever had (narrowed by GraphQL's last answer), so it never drops a meter still there.
        """
        async_remove_stale_devices(self.hass, self.entry, self.provided_device_ids())

    def provided_device_ids(self) -> set[str]:
        """The account and the meters on it now."""
        return {self._account_device_id} | {meter.device_id for meter in self.meters.values()}

    def meter_for_device(self, identifiers: set[tuple[str, str]]) -> OctopusMeter | None:
        """The meter a device (by its registry identifiers) stands for."""
        for meter in self.meters.values():
            if (DOMAIN, meter.device_id) in identifiers:
                return meter
        return None

    async def async_start(self) -> None:
        """Read the account (must work), then prices and balance; backfill in the background."""
        await self.account.async_config_entry_first_refresh()
        for meter in self.meters.values():
            self._telemetry_for(meter)
        # Prices and balance are nice to have: if they fail now their sensors wait for the next poll.
        await self.rates.async_refresh()
        account = self.account.data
        if account is not None and account.balance is not None:
            # GraphQL sent the balance with the account: no request of its own this time
            self.balance.async_set_updated_data(account.balance)
        else:
            await self.balance.async_refresh()
        for telemetry in self.telemetry.values():
            await telemetry.async_refresh()
        self.entry.async_create_background_task(
            self.hass, self.history.async_refresh(), "meterhub octopus history"
        )

    def legacy_names(self) -> LegacyNames:
        """The serial-bearing names versions before issue 23 gave the meters' devices."""
        return LegacyNames(
            what="serial",
            devices={
                meter.device_id: LegacyName(
                    name=meter.legacy_device_name, private=meter.serial_number
                )
                for meter in self.meters.values()
            },
        )

    def diagnostics(self) -> dict[str, Any]:
        """Counts only: meters by kind, requests made, tariffs Octopus could not find."""
        kinds: dict[str, int] = {}
        for meter in self.meters.values():
            kinds[meter.kind.value] = kinds.get(meter.kind.value, 0) + 1
        missing = sorted(
            {code for book in (self.rates.data or {}).values() for code in book.missing_tariffs}
        )
        summaries = self.history.data or {}
        return {
            "meters": kinds,
            "requests": {"total": self.client.requests.total, **self.client.requests.by_kind},
            "missing_tariffs": missing,
            "unpriced_hours_last_import": sum(s.unpriced_hours for s in summaries.values()),
            "gas": {
                "units": sorted(
                    str(meter.gas_unit) for meter in self.meters.values() if meter.gas_unit
                ),
                "unit_unknown": sum(1 for m in self.meters.values() if not m.history_ready),
                "convert_to_kwh": self.gas.convert_to_kwh,
                "calorific_value": self.gas.calorific_value,
            },
            "account_source": "graphql"
            if self.account.data is not None and self.account.data.from_graphql
            else "rest",
            "account_fallbacks": self.account.fallbacks,
            "telemetry": {
                "devices": len(self.telemetry),
                "quiet": sum(
                    1
                    for t in self.telemetry.values()
                    if t.data is None or t.data.quiet(dt_util.utcnow())
                ),
                "graphql_paused_seconds": round(self.client.graphql_paused_for),
            },
        }

    async def async_shutdown(self) -> None:
        """Stop listening to the account, then stop every coordinator."""
        self._unsub_account()
        await super().async_shutdown()
