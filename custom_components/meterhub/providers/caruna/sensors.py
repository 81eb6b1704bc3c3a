"""The sensors of a Caruna metering point, and its device.

The hourly history lives in the external statistics (that is what the energy dashboard reads);
these sensors show yesterday at a glance and how fresh the data is.
"""

from __future__ import annotations

from typing import Final

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import EntityCategory, UnitOfEnergy
from homeassistant.helpers.device_registry import DeviceInfo

from ...api.caruna import MeteringPoint
from ...entity import meter_device
from ...sensor import MeterHubSensorEntityDescription
from ..base import device_id
from .history import CURRENCY
from .reader import PointData


def point_label(point: MeteringPoint, *, several: bool = False) -> str:
    """What the point is: "Caruna metering point", "... 0001" when the account has several.

    Never its address nor its full number: Home Assistant builds entity ids, friendly names and
    our statistic names from it, and an address identifies a home as surely as a meter number
    (issue 23). The last four digits of the metering point's number (the GSRN on the bill) tell
    the points of one account apart; the full number is the device's serial number.
    """
    if not several:
        return "Caruna metering point"
    return f"Caruna metering point {''.join(c for c in point.identifier if c.isalnum())[-4:]}"


def legacy_point_label(point: MeteringPoint) -> str | None:
    """The name versions before issue 23 gave a point with an address (its entity ids hold it)."""
    return f"Caruna {point.address}" if point.address else None


def point_device_id(key: str, point: MeteringPoint) -> str:
    """The device identifier and unique-id prefix (``caruna_<gsrn>``, as since the start)."""
    return device_id(key, point.identifier)


def point_device(key: str, point: MeteringPoint, *, several: bool = False) -> DeviceInfo:
    """The device of a metering point (the GSRN is its serial number).

    The address is left out of the device altogether: every field Home Assistant keeps for a
    device is shown on its page.
    """
    return meter_device(
        point_device_id(key, point),
        name=point_label(point, several=several),
        manufacturer="Caruna",
        model=point.product,
        serial_number=point.identifier,
    )


SENSORS: Final[tuple[MeterHubSensorEntityDescription[PointData], ...]] = (
    MeterHubSensorEntityDescription[PointData](
        key="yesterday_consumption",
        translation_key="yesterday_consumption",
        device_class=SensorDeviceClass.ENERGY,
        # No state class: a day's total that restarts daily; the history is in the statistics.
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda data: data.yesterday_consumption,
        attributes_fn=lambda data: {
            "date": data.yesterday.isoformat() if data.yesterday else None,
            "hours_measured": data.yesterday_hours,
        },
    ),
    MeterHubSensorEntityDescription[PointData](
        key="yesterday_cost",
        translation_key="yesterday_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement=CURRENCY,
        suggested_display_precision=2,
        value_fn=lambda data: data.yesterday_cost,
        attributes_fn=lambda data: {
            "date": data.yesterday.isoformat() if data.yesterday else None,
        },
    ),
    MeterHubSensorEntityDescription[PointData](
        key="last_data",
        translation_key="last_data",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.last_data,
    ),
    MeterHubSensorEntityDescription[PointData](
        key="fuse_size",
        translation_key="fuse_size",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.point.fuse_size,
    ),
)
