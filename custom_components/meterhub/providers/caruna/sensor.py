"""The sensors of a Caruna metering point.

The hourly history lives in the external statistics (that is what the energy dashboard reads);
these sensors show yesterday at a glance and how fresh the data is.
"""

from __future__ import annotations

from typing import Final

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import EntityCategory, UnitOfEnergy

from ...sensor import MeterHubSensorEntityDescription
from .coordinator import CURRENCY
from .reader import PointData

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
