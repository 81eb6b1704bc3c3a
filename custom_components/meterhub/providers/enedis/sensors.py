"""The Enedis sensors: the newest complete day (normally yesterday), its cost and peak power."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import EntityCategory, UnitOfApparentPower, UnitOfEnergy
from homeassistant.helpers.device_registry import DeviceInfo

from ...entity import meter_device
from ...sensor import MeterHubSensorEntityDescription
from ..base import device_id
from .coordinator import EnedisData
from .history import CURRENCY

type EnedisDescription = MeterHubSensorEntityDescription[EnedisData]


def linky_device(key: str, prm: str) -> DeviceInfo:
    """The meter's device (``<key>_<prm>``); the PRM is in the id only, never in the name."""
    return meter_device(device_id(key, prm), name="Linky", manufacturer="Enedis", model="Linky")


def _day_attributes(data: EnedisData) -> dict[str, Any] | None:
    summary = data.consumption
    if summary is None:
        return None
    return {"date": summary.day.isoformat(), "from_load_curve": summary.from_curve}


def _cost(data: EnedisData) -> float | None:
    summary = data.consumption
    if summary is None or summary.energy_cost is None:
        return None
    return round(summary.energy_cost + data.subscription_per_day, 2)


def _cost_attributes(data: EnedisData) -> dict[str, Any] | None:
    summary = data.consumption
    if summary is None or summary.energy_cost is None:
        return None
    return {
        "date": summary.day.isoformat(),
        "energy_cost": round(summary.energy_cost, 2),
        "subscription_cost": round(data.subscription_per_day, 2),
    }


def _max_power_attributes(data: EnedisData) -> dict[str, Any] | None:
    power = data.max_power
    if power is None:
        return None
    return {"date": power.day.isoformat(), "time": power.at.isoformat() if power.at else None}


CONSUMPTION_SENSORS: Final[tuple[EnedisDescription, ...]] = (
    MeterHubSensorEntityDescription[EnedisData](
        key="yesterday_consumption",
        translation_key="yesterday_consumption",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda data: data.consumption.total_kwh if data.consumption else None,
        attributes_fn=_day_attributes,
        available_fn=lambda data: data.consumption is not None,
    ),
    MeterHubSensorEntityDescription[EnedisData](
        key="yesterday_consumption_peak",
        translation_key="yesterday_consumption_peak",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda data: data.consumption.peak_kwh if data.consumption else None,
        attributes_fn=_day_attributes,
        available_fn=lambda data: (
            data.consumption is not None and data.consumption.peak_kwh is not None
        ),
    ),
    MeterHubSensorEntityDescription[EnedisData](
        key="yesterday_consumption_offpeak",
        translation_key="yesterday_consumption_offpeak",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda data: data.consumption.offpeak_kwh if data.consumption else None,
        attributes_fn=_day_attributes,
        available_fn=lambda data: (
            data.consumption is not None and data.consumption.offpeak_kwh is not None
        ),
    ),
    MeterHubSensorEntityDescription[EnedisData](
        key="yesterday_cost",
        translation_key="yesterday_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement=CURRENCY,
        suggested_display_precision=2,
        value_fn=_cost,
        attributes_fn=_cost_attributes,
        available_fn=lambda data: _cost(data) is not None,
    ),
    MeterHubSensorEntityDescription[EnedisData](
        key="yesterday_max_power",
        translation_key="yesterday_max_power",
        device_class=SensorDeviceClass.APPARENT_POWER,
        native_unit_of_measurement=UnitOfApparentPower.VOLT_AMPERE,
        value_fn=lambda data: data.max_power.va if data.max_power else None,
        attributes_fn=_max_power_attributes,
        available_fn=lambda data: data.max_power is not None,
    ),
    MeterHubSensorEntityDescription[EnedisData](
        key="last_data_date",
        translation_key="last_data_date",
        device_class=SensorDeviceClass.DATE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.last_data_day,
        attributes_fn=lambda data: {"load_curve_weeks_to_backfill": data.curve_weeks_left},
    ),
)

PRODUCTION_SENSORS: Final[tuple[EnedisDescription, ...]] = (
    MeterHubSensorEntityDescription[EnedisData](
        key="yesterday_production",
        translation_key="yesterday_production",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda data: data.production.total_kwh if data.production else None,
        available_fn=lambda data: data.production is not None,
    ),
)
