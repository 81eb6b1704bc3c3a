"""The base entity: names from translations, stable unique ids, one device per meter."""

from __future__ import annotations

from typing import Any

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from .const import DOMAIN


def meter_device(
    device_id: str,
    *,
    name: str,
    manufacturer: str | None = None,
    model: str | None = None,
    serial_number: str | None = None,
) -> DeviceInfo:
    """DeviceInfo for a meter, identified by ``device_id`` (build it with ``base.device_id``)."""
    info = DeviceInfo(identifiers={(DOMAIN, device_id)}, name=name)
    if manufacturer:
        info["manufacturer"] = manufacturer
    if model:
        info["model"] = model
    if serial_number:
        info["serial_number"] = serial_number
    return info


def device_identifier(device: DeviceInfo) -> str:
    """The Meter Hub identifier :func:`meter_device` was given."""
    return next(ident for domain, ident in device.get("identifiers", ()) if domain == DOMAIN)


class MeterHubEntity(Entity):
    """Sets the naming and identity rules every Meter Hub entity follows."""

    _attr_has_entity_name = True

    def __init__(self, device: DeviceInfo, description: EntityDescription) -> None:
        """Unique id ``<device id>_<description key>``; the name comes from the translation key."""
        self.entity_description = description
        self._attr_device_info = device
        self._attr_unique_id = f"{device_identifier(device)}_{description.key}"


class MeterHubCoordinatorEntity[CoordinatorT: DataUpdateCoordinator[Any]](
    CoordinatorEntity[CoordinatorT], MeterHubEntity
):
    """An entity fed by a coordinator: unavailable whenever the last update failed."""

    def __init__(
        self, coordinator: CoordinatorT, device: DeviceInfo, description: EntityDescription
    ) -> None:
        """Wire the coordinator and the identity together (unique ids from the device id)."""
        CoordinatorEntity.__init__(self, coordinator)
        MeterHubEntity.__init__(self, device, description)
