"""The sensors of a DSMR-reader server.

The latest reading, today's totals, the meter's own counters (``meter-statistics``) and the
energy prices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfVolume,
)

from ...api.dsmr_reader import EnergyPrices, MeterStatistics, Reading, TodayConsumption
from ...sensor import MeterHubSensorEntityDescription, SensorValue


@dataclass(frozen=True, kw_only=True)
class LiveData:
    """What one poll of the server returns: its newest reading and today's totals (None: none yet)."""

    reading: Reading | None
    today: TodayConsumption | None
    #: None when the server has no meter statistics (or an older server lacks the endpoint).
    meter: MeterStatistics | None = None


type LiveDescription = MeterHubSensorEntityDescription[LiveData]
type PriceDescription = MeterHubSensorEntityDescription[EnergyPrices | None]


def _reading(read: Callable[[Reading], SensorValue]) -> Callable[[LiveData], SensorValue]:
    return lambda data: None if data.reading is None else read(data.reading)


def _today(read: Callable[[TodayConsumption], SensorValue]) -> Callable[[LiveData], SensorValue]:
    return lambda data: None if data.today is None else read(data.today)


def _meter(read: Callable[[MeterStatistics], SensorValue]) -> Callable[[LiveData], SensorValue]:
    return lambda data: None if data.meter is None else read(data.meter)


def _meter_count(
    key: str,
    read: Callable[[MeterStatistics], int | None],
    *,
    enabled: bool,
    translation_key: str | None = None,
) -> LiveDescription:
    """A counter the meter keeps (power failures, voltage sags): diagnostic.

    Named like the same counter of the P1 provider (``translation_key``), keyed by DSMR-reader's
    field name.
    """
    return MeterHubSensorEntityDescription[LiveData](
        key=key,
        translation_key=translation_key or key,
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_registry_enabled_default=enabled,
        value_fn=_meter(read),
    )


def meter_descriptions() -> list[LiveDescription]:
    """``datalogger/meter-statistics``: the meter's own counters and the latest telegram's time."""
    return [
        MeterHubSensorEntityDescription[LiveData](
            key="latest_telegram_timestamp",
            translation_key="latest_telegram_timestamp",
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=_meter(lambda m: m.timestamp),
        ),
        MeterHubSensorEntityDescription[LiveData](
            key="electricity_tariff",
            translation_key="electricity_tariff",
            value_fn=_meter(lambda m: m.electricity_tariff),
        ),
        MeterHubSensorEntityDescription[LiveData](
            key="dsmr_version",
            translation_key="dsmr_version",
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
            value_fn=_meter(lambda m: m.dsmr_version),
        ),
        _meter_count(
            "power_failure_count",
            lambda m: m.power_failure_count,
            enabled=True,
            translation_key="short_power_failure_count",
        ),
        _meter_count(
            "long_power_failure_count", lambda m: m.long_power_failure_count, enabled=True
        ),
        _meter_count(
            "voltage_sag_count_l1",
            lambda m: m.voltage_sag_count_l1,
            enabled=False,
            translation_key="voltage_sag_l1_count",
        ),
        _meter_count(
            "voltage_sag_count_l2",
            lambda m: m.voltage_sag_count_l2,
            enabled=False,
            translation_key="voltage_sag_l2_count",
        ),
        _meter_count(
            "voltage_sag_count_l3",
            lambda m: m.voltage_sag_count_l3,
            enabled=False,
            translation_key="voltage_sag_l3_count",
        ),
        _meter_count(
            "voltage_swell_count_l1",
            lambda m: m.voltage_swell_count_l1,
            enabled=False,
            translation_key="voltage_swell_l1_count",
        ),
        _meter_count(
            "voltage_swell_count_l2",
            lambda m: m.voltage_swell_count_l2,
            enabled=False,
            translation_key="voltage_swell_l2_count",
        ),
        _meter_count(
            "voltage_swell_count_l3",
            lambda m: m.voltage_swell_count_l3,
            enabled=False,
            translation_key="voltage_swell_l3_count",
        ),
        _meter_count("rejected_telegrams", lambda m: m.rejected_telegrams, enabled=False),
    ]


def _register(key: str, read: Callable[[Reading], float | None]) -> LiveDescription:
    """A meter register: only ever goes up, so ``total_increasing`` is right."""
    return MeterHubSensorEntityDescription[LiveData](
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=_reading(read),
    )


def _power(key: str, read: Callable[[Reading], float | None], *, enabled: bool) -> LiveDescription:
    return MeterHubSensorEntityDescription[LiveData](
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=3,
        entity_registry_enabled_default=enabled,
        value_fn=_reading(read),
    )


def _phase(key: str, read: Callable[[Reading], float | None], *, voltage: bool) -> LiveDescription:
    """Voltage and current per phase: rarely looked at, so disabled by default."""
    return MeterHubSensorEntityDescription[LiveData](
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.VOLTAGE if voltage else SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT
        if voltage
        else UnitOfElectricCurrent.AMPERE,
        entity_registry_enabled_default=False,
        value_fn=_reading(read),
    )


def _today_energy(
    key: str, read: Callable[[TodayConsumption], float | None], *, enabled: bool = True
) -> LiveDescription:
    """Today's usage so far: it only rises during the day and restarts at midnight."""
    return MeterHubSensorEntityDescription[LiveData](
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        entity_registry_enabled_default=enabled,
        value_fn=_today(read),
    )


def _today_cost(
    key: str, read: Callable[[TodayConsumption], float | None], currency: str, *, enabled: bool
) -> LiveDescription:
    """Money: Home Assistant allows state class ``total`` only."""
    return MeterHubSensorEntityDescription[LiveData](
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=currency,
        suggested_display_precision=2,
        entity_registry_enabled_default=enabled,
        value_fn=_today(read),
    )


def live_descriptions(currency: str) -> list[LiveDescription]:
    """Sensors fed by the frequent poll; the keys are DSMR-reader's own field names."""
    return [
        _register("electricity_delivered_1", lambda r: r.electricity_delivered_1),
        _register("electricity_delivered_2", lambda r: r.electricity_delivered_2),
        _register("electricity_returned_1", lambda r: r.electricity_returned_1),
        _register("electricity_returned_2", lambda r: r.electricity_returned_2),
        _power(
            "electricity_currently_delivered",
            lambda r: r.electricity_currently_delivered,
            enabled=True,
        ),
        _power(
            "electricity_currently_returned",
            lambda r: r.electricity_currently_returned,
            enabled=True,
        ),
        _power(
            "phase_currently_delivered_l1", lambda r: r.phase_currently_delivered_l1, enabled=True
        ),
        _power(
            "phase_currently_delivered_l2", lambda r: r.phase_currently_delivered_l2, enabled=True
        ),
        _power(
            "phase_currently_delivered_l3", lambda r: r.phase_currently_delivered_l3, enabled=True
        ),
        _power(
            "phase_currently_returned_l1", lambda r: r.phase_currently_returned_l1, enabled=False
        ),
        _power(
            "phase_currently_returned_l2", lambda r: r.phase_currently_returned_l2, enabled=False
        ),
        _power(
            "phase_currently_returned_l3", lambda r: r.phase_currently_returned_l3, enabled=False
        ),
        _phase("phase_voltage_l1", lambda r: r.phase_voltage_l1, voltage=True),
        _phase("phase_voltage_l2", lambda r: r.phase_voltage_l2, voltage=True),
        _phase("phase_voltage_l3", lambda r: r.phase_voltage_l3, voltage=True),
        _phase("phase_power_current_l1", lambda r: r.phase_power_current_l1, voltage=False),
        _phase("phase_power_current_l2", lambda r: r.phase_power_current_l2, voltage=False),
        _phase("phase_power_current_l3", lambda r: r.phase_power_current_l3, voltage=False),
        MeterHubSensorEntityDescription[LiveData](
            key="extra_device_delivered",
            translation_key="extra_device_delivered",
            device_class=SensorDeviceClass.GAS,
            state_class=SensorStateClass.TOTAL_INCREASING,
            native_unit_of_measurement=UnitOfVolume.CUBIC_METERS,
            suggested_display_precision=3,
            value_fn=_reading(lambda r: r.extra_device_delivered),
            attributes_fn=lambda data: {
                "reading_time": data.reading.extra_device_timestamp.isoformat()
                if data.reading is not None and data.reading.extra_device_timestamp is not None
                else None
            },
        ),
        MeterHubSensorEntityDescription[LiveData](
            key="extra_device_timestamp",
            translation_key="extra_device_timestamp",
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=_reading(lambda r: r.extra_device_timestamp),
        ),
        MeterHubSensorEntityDescription[LiveData](
            key="reading_timestamp",
            translation_key="reading_timestamp",
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=_reading(lambda r: r.timestamp),
        ),
        _today_energy("today_electricity1", lambda t: t.electricity1),
        _today_energy("today_electricity2", lambda t: t.electricity2),
        _today_energy("today_electricity1_returned", lambda t: t.electricity1_returned),
        _today_energy("today_electricity2_returned", lambda t: t.electricity2_returned),
        MeterHubSensorEntityDescription[LiveData](
            key="today_gas",
            translation_key="today_gas",
            device_class=SensorDeviceClass.GAS,
            state_class=SensorStateClass.TOTAL_INCREASING,
            native_unit_of_measurement=UnitOfVolume.CUBIC_METERS,
            suggested_display_precision=3,
            value_fn=_today(lambda t: t.gas),
        ),
        _today_cost(
            "today_electricity1_cost", lambda t: t.electricity1_cost, currency, enabled=False
        ),
        _today_cost(
            "today_electricity2_cost", lambda t: t.electricity2_cost, currency, enabled=False
        ),
        _today_cost("today_gas_cost", lambda t: t.gas_cost, currency, enabled=False),
        _today_cost("today_total_cost", lambda t: t.total_cost, currency, enabled=True),
        _today_cost("today_fixed_cost", lambda t: t.fixed_cost, currency, enabled=True),
    ]


def _price(
    key: str, read: Callable[[EnergyPrices], float | None], unit: str, *, enabled: bool = True
) -> PriceDescription:
    """A price per unit: no device class fits, and it is a plain value (no state class).

    The unit (``EUR/kWh``, ``EUR/m³``) is what the energy dashboard asks of a price entity.
    """
    return MeterHubSensorEntityDescription[EnergyPrices | None](
        key=key,
        translation_key=key,
        native_unit_of_measurement=unit,
        suggested_display_precision=4,
        entity_registry_enabled_default=enabled,
        value_fn=lambda prices: None if prices is None else read(prices),
    )


def price_descriptions(currency: str) -> list[PriceDescription]:
    """The contract prices the user entered in DSMR-reader, when the server exposes them."""
    per_kwh = f"{currency}/{UnitOfEnergy.KILO_WATT_HOUR}"
    return [
        _price("electricity_delivered_1_price", lambda p: p.electricity_delivered_1_price, per_kwh),
        _price("electricity_delivered_2_price", lambda p: p.electricity_delivered_2_price, per_kwh),
        _price("electricity_returned_1_price", lambda p: p.electricity_returned_1_price, per_kwh),
        _price("electricity_returned_2_price", lambda p: p.electricity_returned_2_price, per_kwh),
        _price("gas_price", lambda p: p.gas_price, f"{currency}/{UnitOfVolume.CUBIC_METERS}"),
        MeterHubSensorEntityDescription[EnergyPrices | None](
            key="fixed_daily_cost",
            translation_key="fixed_daily_cost",
            device_class=SensorDeviceClass.MONETARY,
            native_unit_of_measurement=currency,
            suggested_display_precision=2,
            entity_registry_enabled_default=False,
            value_fn=lambda prices: None if prices is None else prices.fixed_daily_cost,
        ),
    ]
