"""The DSMR sensors: the keys, units and classes of Home Assistant's core ``dsmr`` integration.

Keys are core's, used as translation key and as the suffix of the unique id, so people moving over
recognise them. A sensor exists when its field is in the meter's telegrams; rarely used ones start
disabled, diagnostic ones are marked so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from dsmr_parser.objects import Telegram

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfVolume,
)
from homeassistant.core import callback

from ...sensor import MeterHubSensor, MeterHubSensorEntityDescription, SensorValue
from .model import MbusReading, P1Snapshot, tariff


@dataclass(frozen=True, kw_only=True)
class DsmrSensorDescription(MeterHubSensorEntityDescription[P1Snapshot]):
    """A telegram field: ``field`` is the parser's attribute name."""

    field: str


def _value_of(key: str) -> Callable[[P1Snapshot], SensorValue]:
    def value(snapshot: P1Snapshot) -> SensorValue:
        return snapshot.values.get(key)

    return value


def _present(key: str) -> Callable[[P1Snapshot], bool]:
    def present(snapshot: P1Snapshot) -> bool:
        return key in snapshot.values

    return present


def _describe(key: str, field: str, **kwargs: Any) -> DsmrSensorDescription:
    return DsmrSensorDescription(
        key=key,
        translation_key=key,
        field=field,
        value_fn=_value_of(key),
        available_fn=_present(key),
        **kwargs,
    )


def _energy(key: str, field: str) -> DsmrSensorDescription:
    return _describe(
        key,
        field,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    )


def _power(key: str, field: str, *, enabled: bool = True, diagnostic: bool = False) -> Any:
    return _describe(
        key,
        field,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        entity_registry_enabled_default=enabled,
        entity_category=EntityCategory.DIAGNOSTIC if diagnostic else None,
    )


def _count(key: str, field: str) -> DsmrSensorDescription:
    return _describe(
        key,
        field,
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_registry_enabled_default=False,
        entity_category=EntityCategory.DIAGNOSTIC,
    )


def _electric(key: str, field: str, device_class: SensorDeviceClass, unit: str) -> Any:
    return _describe(
        key,
        field,
        device_class=device_class,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=unit,
        entity_registry_enabled_default=False,
        entity_category=EntityCategory.DIAGNOSTIC,
    )


#: The e-MUCS 13-month history of monthly peaks (``0-0:98.1.0``), billed by the capacity tariff.
_PEAKS = "BELGIUM_MAXIMUM_DEMAND_13_MONTHS"

ELECTRICITY_SENSORS: tuple[DsmrSensorDescription, ...] = (
    _describe(
        "timestamp",
        "P1_MESSAGE_TIMESTAMP",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_registry_enabled_default=False,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    _power("current_electricity_usage", "CURRENT_ELECTRICITY_USAGE"),
    _power("current_electricity_delivery", "CURRENT_ELECTRICITY_DELIVERY"),
    _describe(
        "electricity_active_tariff",
        "ELECTRICITY_ACTIVE_TARIFF",
        device_class=SensorDeviceClass.ENUM,
        options=["low", "normal"],
    ),
    _energy("electricity_used_tariff_1", "ELECTRICITY_USED_TARIFF_1"),
    _energy("electricity_used_tariff_2", "ELECTRICITY_USED_TARIFF_2"),
    _energy("electricity_used_tariff_3", "ELECTRICITY_USED_TARIFF_3"),
    _energy("electricity_used_tariff_4", "ELECTRICITY_USED_TARIFF_4"),
    _energy("electricity_delivered_tariff_1", "ELECTRICITY_DELIVERED_TARIFF_1"),
    _energy("electricity_delivered_tariff_2", "ELECTRICITY_DELIVERED_TARIFF_2"),
    _energy("electricity_delivered_tariff_3", "ELECTRICITY_DELIVERED_TARIFF_3"),
    _energy("electricity_delivered_tariff_4", "ELECTRICITY_DELIVERED_TARIFF_4"),
    _energy("electricity_imported_total", "ELECTRICITY_IMPORTED_TOTAL"),
    _energy("electricity_exported_total", "ELECTRICITY_EXPORTED_TOTAL"),
    *(
        _power(
            f"instantaneous_active_power_l{phase}_{direction}",
            f"INSTANTANEOUS_ACTIVE_POWER_L{phase}_{direction.upper()}",
            enabled=False,
        )
        for direction in ("positive", "negative")
        for phase in (1, 2, 3)
    ),
    _count("short_power_failure_count", "SHORT_POWER_FAILURE_COUNT"),
    _count("long_power_failure_count", "LONG_POWER_FAILURE_COUNT"),
    *(_count(f"voltage_sag_l{phase}_count", f"VOLTAGE_SAG_L{phase}_COUNT") for phase in (1, 2, 3)),
    *(
        _count(f"voltage_swell_l{phase}_count", f"VOLTAGE_SWELL_L{phase}_COUNT")
        for phase in (1, 2, 3)
    ),
    *(
        _electric(
            f"instantaneous_voltage_l{phase}",
            f"INSTANTANEOUS_VOLTAGE_L{phase}",
            SensorDeviceClass.VOLTAGE,
            UnitOfElectricPotential.VOLT,
        )
        for phase in (1, 2, 3)
    ),
    *(
        _electric(
            f"instantaneous_current_l{phase}",
            f"INSTANTANEOUS_CURRENT_L{phase}",
            SensorDeviceClass.CURRENT,
            UnitOfElectricCurrent.AMPERE,
        )
        for phase in (1, 2, 3)
    ),
    _power("belgium_current_average_demand", "BELGIUM_CURRENT_AVERAGE_DEMAND"),
    _power("belgium_maximum_demand_current_month", "BELGIUM_MAXIMUM_DEMAND_MONTH"),
    _power("belgium_maximum_demand_last_month", _PEAKS),
    _power("belgium_maximum_demand_13_months_average", _PEAKS),
    _power(
        "belgium_max_power_per_phase", "ACTUAL_TRESHOLD_ELECTRICITY", enabled=False, diagnostic=True
    ),
    _electric(
        "belgium_max_current_per_phase",
        "FUSE_THRESHOLD_L1",
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
    ),
)

#: Fields only Belgian meters mean the way these sensors say.
_BELGIAN_ONLY = frozenset({"belgium_max_power_per_phase", "belgium_max_current_per_phase"})


#: The units a telegram may give a quantity in, by device class, as Home Assistant writes them.
_UNITS: Final[dict[SensorDeviceClass | None, dict[str, str]]] = {
    SensorDeviceClass.POWER: {"W": UnitOfPower.WATT, "kW": UnitOfPower.KILO_WATT},
    SensorDeviceClass.ENERGY: {
        "Wh": UnitOfEnergy.WATT_HOUR,
        "kWh": UnitOfEnergy.KILO_WATT_HOUR,
        "MWh": UnitOfEnergy.MEGA_WATT_HOUR,
    },
    SensorDeviceClass.VOLTAGE: {"V": UnitOfElectricPotential.VOLT},
    SensorDeviceClass.CURRENT: {"A": UnitOfElectricCurrent.AMPERE},
}

type UnknownUnit = Callable[[str, str | None], None]


@dataclass(slots=True)
class ElectricityReading:
    """The electricity part of a snapshot: values, the units they came in, extra attributes."""

    values: dict[str, SensorValue] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)


def _peak_history(found: Any) -> tuple[dict[str, float], str | None, float | None]:
    """The monthly peaks by month (``2026-10``), their unit and the newest month's peak."""
    months: dict[str, float] = {}
    units: set[str | None] = set()
    newest: tuple[datetime, float] | None = None
    for peak in found if isinstance(found, list) else ():
        if not isinstance(peak.value, Decimal) or not isinstance(peak.datetime, datetime):
            continue
        value = round(float(peak.value), 3)
        # A peak is stamped with the end of its month (midnight starting the next one).
        month = (peak.datetime - timedelta(seconds=1)).strftime("%Y-%m")
        months[month] = value
        units.add(peak.unit)
        if newest is None or peak.datetime > newest[0]:
            newest = (peak.datetime, value)
    unit = units.pop() if len(units) == 1 else None
    return dict(sorted(months.items())), unit, None if newest is None else newest[1]


def read_electricity(
    parsed: Telegram, version: str, unknown_unit: UnknownUnit
) -> ElectricityReading:
    """The electricity sensors' values and units from a parsed telegram (absent fields left out).

    Units are the telegram's own: an EasyMeter Q3D gives power in W, a DSMR 5 meter in kW. A
    value whose unit is not one its sensor can show is reported to ``unknown_unit`` and kept as
    None (unknown) rather than shown as a wrong number.
    """
    reading = ElectricityReading()
    for description in ELECTRICITY_SENSORS:
        key = description.key
        found = getattr(parsed, description.field, None)
        if found is None or (key in _BELGIAN_ONLY and version != "5B"):
            continue
        unit: str | None
        if description.field == _PEAKS:
            months, unit, newest = _peak_history(found)
            if not months:
                continue
            value: Any = (
                newest
                if key == "belgium_maximum_demand_last_month"
                else round(sum(months.values()) / len(months), 3)
            )
            reading.attributes[key] = {"months": months}
        else:
            value = found.value
            unit = getattr(found, "unit", None)
        if key == "electricity_active_tariff":
            value = tariff(value, version)
        elif isinstance(value, Decimal):
            value = round(float(value), 3)
        elif not isinstance(value, (int, float, str, datetime)):
            continue
        if description.native_unit_of_measurement is not None:
            known = _UNITS[description.device_class].get(unit or "")
            if known is None:
                unknown_unit(key, unit)
                reading.values[key] = None
                continue
            reading.units[key] = known
        if value is not None:
            reading.values[key] = value
    return reading


def with_unit(description: DsmrSensorDescription, unit: str | None) -> DsmrSensorDescription:
    """The description for a meter whose telegrams give this sensor in ``unit``.

    Fixed when the entity is created from the first telegram; should a later telegram give another
    unit, the sensor shows unknown instead of a number in the wrong unit.
    """
    if unit is None or unit == description.native_unit_of_measurement:
        expected = description.native_unit_of_measurement
    else:
        expected = unit
    key = description.key

    def value(snapshot: P1Snapshot) -> SensorValue:
        if expected is not None and snapshot.units.get(key) != expected:
            return None
        return snapshot.values.get(key)

    def attributes(snapshot: P1Snapshot) -> dict[str, Any] | None:
        return snapshot.attributes.get(key)

    return replace(
        description,
        native_unit_of_measurement=expected,
        value_fn=value,
        attributes_fn=attributes,
    )


# --- M-Bus meters ----------------------------------------------------------------------------

_MBUS_CLASSES = {
    "gas": SensorDeviceClass.GAS,
    "water": SensorDeviceClass.WATER,
    "heat": SensorDeviceClass.ENERGY,
}


def mbus_description(reading: MbusReading) -> DsmrSensorDescription:
    """The reading sensor of one M-Bus meter (``gas_meter_reading``, ``water_meter_reading``...)."""
    key = f"{reading.kind}_meter_reading"
    channel = reading.channel
    identifier = reading.identifier

    def mine(snapshot: P1Snapshot) -> MbusReading | None:
        """The channel's reading while this meter is on it (not the one that replaced it)."""
        found = snapshot.mbus.get(channel)
        return found if found is not None and found.identifier == identifier else None

    device_class = _MBUS_CLASSES[reading.kind]
    if device_class is SensorDeviceClass.GAS and reading.unit != UnitOfVolume.CUBIC_METERS:
        device_class = SensorDeviceClass.ENERGY  # gas meters that count kWh

    def value(snapshot: P1Snapshot) -> SensorValue:
        found = mine(snapshot)
        return None if found is None else found.value

    def present(snapshot: P1Snapshot) -> bool:
        found = mine(snapshot)
        return found is not None and found.value is not None

    def attributes(snapshot: P1Snapshot) -> dict[str, Any] | None:
        found = mine(snapshot)
        if found is None or found.taken is None:
            return None
        return {"reading_taken": found.taken.isoformat()}

    return DsmrSensorDescription(
        key=key,
        translation_key=key,
        field="MBUS_METER_READING",
        device_class=device_class,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=reading.unit,
        value_fn=value,
        available_fn=present,
        attributes_fn=attributes,
    )


class DsmrSensor(MeterHubSensor[P1Snapshot]):
    """A P1 sensor that writes its state only when its value or availability changed.

    A meter sends a telegram every second; most values stay the same between them, and a state
    write costs far more than the comparison.
    """

    _last_written: tuple[bool, SensorValue, Any] | None = None

    @callback
    def _handle_coordinator_update(self) -> None:
        available = self.available
        value = self.native_value if available else None
        attributes = self.extra_state_attributes if available else None
        written = (available, value, attributes)
        if written == self._last_written:
            return
        self._last_written = written
        self.async_write_ha_state()
