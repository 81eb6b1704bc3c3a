"""The sensor platform: each provider's runtime decides which sensors exist."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .entity import MeterHubCoordinatorEntity

if TYPE_CHECKING:
    from .providers.base import MeterHubConfigEntry

# Coordinators do the polling and the writes are cheap: no limit on parallel updates.
PARALLEL_UPDATES = 0

type SensorValue = StateType | date | datetime | Decimal


@dataclass(frozen=True, kw_only=True)
class MeterHubSensorEntityDescription[DataT](SensorEntityDescription):
    """A sensor read from a coordinator's data by ``value_fn``."""

    value_fn: Callable[[DataT], SensorValue]
    attributes_fn: Callable[[DataT], Mapping[str, Any] | None] | None = None
    available_fn: Callable[[DataT], bool] | None = None


class MeterHubSensor[DataT](MeterHubCoordinatorEntity[DataUpdateCoordinator[DataT]], SensorEntity):
    """A coordinator-fed sensor described by a :class:`MeterHubSensorEntityDescription`."""

    entity_description: MeterHubSensorEntityDescription[DataT]

    @property
    def native_value(self) -> SensorValue:
        """The value the description reads from the latest data (None before any data)."""
        if self.coordinator.data is None:
            return None
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def available(self) -> bool:
        """Unavailable while the source is down, or when the description says the value is absent."""
        if not super().available:
            return False
        check = self.entity_description.available_fn
        return check is None or self.coordinator.data is None or check(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Extra attributes (a reading's date, ...) where the description defines them."""
        attributes = self.entity_description.attributes_fn
        if attributes is None or self.coordinator.data is None:
            return None
        return attributes(self.coordinator.data)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MeterHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the provider's sensors, and keep the callback for meters found later."""
    entry.runtime_data.attach_sensor_platform(async_add_entities)
