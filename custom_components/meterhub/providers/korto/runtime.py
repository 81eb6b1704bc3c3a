"""A loaded Korto entry: two coordinators (meters, balance), the reading history and the sensors."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from ...api.korto import KortoBalance, KortoClient, KortoMeter, KortoMeters
from ...const import LOGGER
from ...coordinator import MeterHubCoordinator
from ...sensor import MeterHubSensor
from ...statistics import ImportResult, StatisticSeries, async_import_series
from ..base import ProviderRuntime
from .history import KORTO_TIME_ZONE, ReadingHistory
from .kinds import MeterProfile, profile
from .sensors import (
    BALANCE_DESCRIPTIONS,
    apartment_device_info,
    meter_descriptions,
    meter_device_id,
    meter_device_info,
    meter_names,
    token_expiry_description,
)

PROVIDER_KEY = "korto"


def consumption_series(meter_id: str, name: str, unit: str) -> StatisticSeries:
    """``meterhub:korto_<meter id>_consumption``: the consumption booked at each reading date."""
    return StatisticSeries(
        provider=PROVIDER_KEY,
        meter=meter_id,
        quantity="consumption",
        name=f"Korto {name}",
        unit=unit,
    )


class KortoMetersCoordinator(MeterHubCoordinator[KortoMeters]):
    """Polls the meters; each new reading goes into the history and the statistics."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        client: KortoClient,
        history: ReadingHistory,
        *,
        apartment_id: str,
        update_interval: timedelta,
    ) -> None:
        """Poll ``apartment_id`` every ``update_interval``; statistics for every kept meter first."""
        super().__init__(hass, entry, name="Korto meters", update_interval=update_interval)
        self.client = client
        self.history = history
        self.apartment_id = apartment_id
        # Meters whose statistics must be (re)imported: all of them once per start, so a
        # statistic lost or never written (the recorder was busy) is filled in again.
        self._pending: set[str] = history.meter_ids()
        self.last_imports: dict[str, ImportResult] = {}
        self.import_failures = 0

    async def _async_fetch(self) -> KortoMeters:
        data = await self.client.async_meters(self.apartment_id)
        # A day of slack: a reading entered this morning in Tallinn is "today" there already.
        today = dt_util.now(KORTO_TIME_ZONE).date() + timedelta(days=1)
        changed = self.history.record(data.meters, today=today)
        if changed:
            await self.history.async_save()
        self._pending |= changed
        await self._async_import(data.meters)
        return data

    async def _async_import(self, meters: Iterable[KortoMeter]) -> None:
        """Import the pending meters' consumption; a failure is retried on the next poll.

        The statistics are a by-product of the poll: when the recorder refuses them the sensors
        still update, and the meter stays pending.
        """
        listed = [meter for meter in meters if meter.id in self._pending]
        names = meter_names([*meters]) if listed else {}
        for meter in listed:
            unit = profile(meter.type, meter.unit).unit
            if unit is None:
                # Without a unit the dashboard cannot use the statistic.
                self._pending.discard(meter.id)
                continue
            amounts, states = self.history.statistics(meter.id)
            series = consumption_series(meter.id, names[meter.id], unit)
            try:
                result = await async_import_series(self.hass, series, amounts, states=states)
            except Exception:  # any recorder failure: keep polling, retry later
                self.import_failures += 1
                LOGGER.warning("Importing Korto meter statistics failed; retrying next update")
                continue
            self.last_imports[meter.id] = result
            self._pending.discard(meter.id)


class KortoBalanceCoordinator(MeterHubCoordinator[KortoBalance]):
    """Polls the apartment's balance and last payment."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        client: KortoClient,
        *,
        apartment_id: str,
        update_interval: timedelta,
    ) -> None:
        """Poll the balance of ``apartment_id`` every ``update_interval``."""
        super().__init__(hass, entry, name="Korto balance", update_interval=update_interval)
        self.client = client
        self.apartment_id = apartment_id

    async def _async_fetch(self) -> KortoBalance:
        return await self.client.async_balance(self.apartment_id)


class KortoRuntime(ProviderRuntime):
    """The entry's coordinators and sensors; meters that appear later get their sensors then."""

    def __init__(
        self,
        *,
        apartment_id: str,
        apartment_name: str,
        client: KortoClient,
        meters: KortoMetersCoordinator,
        balance: KortoBalanceCoordinator,
        token_expires: datetime | None,
    ) -> None:
        """Keep the pieces; sensors are made when the platform asks."""
        super().__init__([meters, balance])
        self.apartment_id = apartment_id
        self.apartment_name = apartment_name
        self.client = client
        self.meters = meters
        self.balance = balance
        self.token_expires = token_expires
        self._known: set[str] = set()
        self._unsubscribe: Callable[[], None] | None = None

    def sensors(self) -> Iterable[MeterHubSensor[Any]]:
        """The apartment's sensors and those of every meter Korto lists now."""
        apartment = apartment_device_info(self.apartment_id, self.apartment_name)
        prefix = f"korto_{self.apartment_id}"
        entities: list[MeterHubSensor[Any]] = [
            MeterHubSensor(self.balance, apartment, prefix, description)
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
            device = meter_device_info(self.apartment_id, meter, names[meter.id], meter_profile)
            prefix = meter_device_id(self.apartment_id, meter.id)
            entities.extend(
                MeterHubSensor(self.meters, device, prefix, description)
                for description in meter_descriptions(meter, meter_profile)
            )
        return entities

    @callback
    def _async_meters_updated(self) -> None:
        """Add sensors for a meter that appeared on the apartment."""
        if new := self._meter_sensors():
            self.add_sensors(new)

    def diagnostics(self) -> dict[str, Any]:
        """Meter kinds, units, history sizes and import results; no ids or token."""
        data = self.meters.data
        meters: list[dict[str, Any]] = []
        for meter in data.meters if data else ():
            meter_profile = profile(meter.type, meter.unit)
            result = self.meters.last_imports.get(meter.id)
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
                    "readings_kept": len(self.meters.history.readings(meter.id)),
                    "last_import_rows_written": result.rows_written if result else None,
                }
            )
        return {
            "requests": self.client.requests,
            "token_expires": self.token_expires,
            "readings_allowed": data.readings_allowed if data else None,
            "readings_start": data.readings_start if data else None,
            "readings_end": data.readings_end if data else None,
            "statistics_import_failures": self.meters.import_failures,
            "meters": meters,
        }

    async def async_shutdown(self) -> None:
        """Stop listening for new meters, then stop the coordinators."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await super().async_shutdown()
