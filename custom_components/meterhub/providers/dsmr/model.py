"""What one parsed telegram means: the electricity values and the M-Bus meters' readings.

A :class:`P1Snapshot` is built once per shown telegram from ``dsmr-parser``'s :class:`Telegram`, so
entities read plain values instead of walking parser objects on every state write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from dsmr_parser.objects import Telegram

from homeassistant.const import UnitOfEnergy, UnitOfVolume

from ...sensor import SensorValue

# M-Bus device types (EN 13757-3): what a channel measures.
MBUS_GAS: Final = 3
MBUS_HEAT: Final = 4
MBUS_WATER: Final = 7
MBUS_HEAT_COOL: Final = 12

# The parser's names for the same things differ per version (2.2: GAS_METER_READING, 4: HOURLY_...).
_READING_ATTRS: Final = ("MBUS_METER_READING", "HOURLY_GAS_METER_READING", "GAS_METER_READING")
_TYPE_ATTRS: Final = ("MBUS_DEVICE_TYPE", "DEVICE_TYPE")
_ID_ATTRS: Final = ("MBUS_EQUIPMENT_IDENTIFIER", "EQUIPMENT_IDENTIFIER_GAS")

UNITS: Final = {
    "m3": UnitOfVolume.CUBIC_METERS,
    "kWh": UnitOfEnergy.KILO_WATT_HOUR,
    "MWh": UnitOfEnergy.MEGA_WATT_HOUR,
    "GJ": UnitOfEnergy.GIGA_JOULE,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class MbusReading:
    """One M-Bus meter (gas, water, heat) on a channel of the electricity meter."""

    channel: int
    kind: str  # "gas", "water" or "heat"
    identifier: str | None
    value: float | None
    unit: str | None
    taken: datetime | None  # the meter's own timestamp of the reading (UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class P1Snapshot:
    """The values of one telegram, by sensor key, and its M-Bus readings by channel.

    ``units`` holds the unit each value came with in the telegram (W or kW, ...); ``attributes``
    the extra attributes of a sensor (the months behind the Belgian peak sensors).
    """

    values: dict[str, SensorValue]
    mbus: dict[int, MbusReading]
    units: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)


def _first(obj: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        if (found := getattr(obj, name, None)) is not None:
            return found
    return None


def _kind(device_type: int | None, unit: str | None) -> str | None:
    if device_type == MBUS_GAS or (device_type is None and unit == "m3"):
        return "gas"
    if device_type == MBUS_WATER:
        return "water"
    if device_type in (MBUS_HEAT, MBUS_HEAT_COOL):
        return "heat"
    return None


def mbus_readings(parsed: Telegram) -> dict[int, MbusReading]:
    """The M-Bus meters in a telegram: the channels whose reading carries a unit.

    The kind comes from the channel's device type (``0-n:24.1.0``); a channel without one is taken
    for gas when it counts m³. Empty channels and kinds we do not know are left out.
    """
    readings: dict[int, MbusReading] = {}
    for device in getattr(parsed, "MBUS_DEVICES", ()):
        reading = _first(device, _READING_ATTRS)
        if reading is None:
            continue
        type_obj = _first(device, _TYPE_ATTRS)
        try:
            device_type = int(type_obj.value) if type_obj is not None else None
        except TypeError, ValueError:
            device_type = None
        unit = reading.unit
        if not unit:
            # An empty channel (``0-1:24.2.1(700101010000W)(00000000)``): no meter behind it.
            continue
        if (kind := _kind(device_type, unit)) is None:
            continue
        ident = _first(device, _ID_ATTRS)
        value = reading.value
        readings[device.channel_id] = MbusReading(
            channel=device.channel_id,
            kind=kind,
            identifier=str(ident.value) if ident is not None and ident.value else None,
            value=float(value) if isinstance(value, (Decimal, int, float)) else None,
            unit=UNITS.get(unit, unit),
            taken=reading.datetime if isinstance(reading.datetime, datetime) else None,
        )
    return readings


def tariff(code: Any, version: str) -> str | None:
    """``low`` or ``normal`` from the tariff indicator; Belgian meters number them the other way."""
    if code not in ("0001", "0002"):
        return None
    if version == "5B":
        return "low" if code == "0002" else "normal"
    return "low" if code == "0001" else "normal"
