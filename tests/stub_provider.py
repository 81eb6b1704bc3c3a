"""A provider that exists only in tests, to prove the shared spine end to end.

It talks to an in-memory "server" the test controls (a real object, not a mock of our code): the
test sets its readings, makes it fail with a given client error, and counts its calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

import probatio as vol

from custom_components.meterhub.api.errors import ApiAuthError, MeterHubApiError
from custom_components.meterhub.coordinator import MeterHubCoordinator
from custom_components.meterhub.entity import meter_device
from custom_components.meterhub.providers.base import (
    FormError,
    Provider,
    ProviderConfigEntry,
    ProviderRuntime,
    Validated,
    device_id,
)
from custom_components.meterhub.sensor import MeterHubSensor, MeterHubSensorEntityDescription
from custom_components.meterhub.statistics import (
    ENERGY_KWH,
    StatisticSeries,
    async_import_series,
)
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant


@dataclass
class StubServer:
    """The remote end: what the stub client reads, and how it should fail."""

    keys: set[str] = field(default_factory=lambda: {"good-key"})
    meter: str = "meter1"
    reading: float = 100.0
    hours: dict[datetime, float] = field(default_factory=dict)
    fail_with: MeterHubApiError | None = None
    #: Raised by the runtime's start itself (a login before any coordinator runs).
    fail_on_start: MeterHubApiError | None = None
    calls: int = 0
    #: How many runtimes were shut down (unload, or a start that failed).
    shutdowns: int = 0

    def read(self, key: str) -> float:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        if key not in self.keys:
            raise ApiAuthError("bad key")
        return self.reading


STUB_SENSOR = MeterHubSensorEntityDescription[float](
    key="energy",
    translation_key="energy",
    device_class=SensorDeviceClass.ENERGY,
    state_class=SensorStateClass.TOTAL_INCREASING,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    value_fn=lambda reading: reading,
)


class StubCoordinator(MeterHubCoordinator[float]):
    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any], server: StubServer) -> None:
        super().__init__(hass, entry, name="stub", update_interval=timedelta(minutes=5))
        self.server = server
        self.series = StatisticSeries(
            provider="stub",
            meter=server.meter,
            quantity="consumption",
            name="Stub consumption",
            unit=ENERGY_KWH,
        )
        self.history_statistic_id = self.series.statistic_id

    async def _async_fetch(self) -> float:
        reading = self.server.read(self.config_entry.data["api_key"])
        await async_import_series(self.hass, self.series, self.server.hours)
        return reading


class StubRuntime(ProviderRuntime):
    def __init__(self, coordinator: StubCoordinator, key: str) -> None:
        super().__init__([coordinator])
        self.coordinator = coordinator
        self.key = key

    async def async_start(self) -> None:
        if (failure := self.coordinator.server.fail_on_start) is not None:
            raise failure
        await self.coordinator.async_config_entry_first_refresh()

    async def async_shutdown(self) -> None:
        self.coordinator.server.shutdowns += 1
        await super().async_shutdown()

    def sensors(self) -> Iterable[MeterHubSensor[float]]:
        device = meter_device(
            device_id(self.key, "meter1"), name="Stub meter", serial_number="SERIAL123"
        )
        return [MeterHubSensor(self.coordinator, device, STUB_SENSOR)]

    def diagnostics(self) -> dict[str, Any]:
        return {"calls": self.coordinator.server.calls, "serial_number": "SERIAL123"}


class StubProvider(Provider[StubRuntime]):
    key: ClassVar[str] = "stub"
    secret_fields = ("api_key",)

    def __init__(self) -> None:
        self.server = StubServer()

    async def async_schema(self, hass: HomeAssistant, defaults: Mapping[str, Any]) -> vol.Schema:
        return vol.Schema({vol.Required("api_key"): str, vol.Required("meter"): str})

    async def async_validate(self, hass: HomeAssistant, data: Mapping[str, Any]) -> Validated:
        if not data["meter"].isalnum():
            raise FormError("meter", "invalid_meter")
        self.server.read(data["api_key"])
        return Validated(
            title=f"Stub {data['meter']}",
            unique_id=data["meter"],
            data={"api_key": data["api_key"], "meter": data["meter"]},
        )

    async def async_create_runtime(
        self, hass: HomeAssistant, entry: ProviderConfigEntry[StubRuntime]
    ) -> StubRuntime:
        return StubRuntime(StubCoordinator(hass, entry, self.server), self.key)

    def options_schema(self, options: Mapping[str, Any]) -> vol.Schema | None:
        return vol.Schema({vol.Optional("interval", default=5): int})

    def validate_options(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        if options["interval"] < 1:
            raise FormError("interval", "interval_too_short")
        return options
