"""What a Korto meter measures, read from its free-text type and unit.

Korto's ``type`` is whatever the building's manager typed, in Estonian, English (or Russian):
"Külm vesi", "Cold water", "Elekter (öö)", "Soojus"... Known wordings map to a kind that decides the
sensor's device class; anything else stays a generic numeric sensor in whatever unit Korto gives, so
no meter is ever dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import re
from typing import Final
import unicodedata

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import UnitOfEnergy, UnitOfVolume


class MeterKind(StrEnum):
    """The kinds of meter Korto apartments have."""

    COLD_WATER = "cold_water"
    HOT_WATER = "hot_water"
    WATER = "water"
    ELECTRICITY = "electricity"
    ELECTRICITY_DAY = "electricity_day"
    ELECTRICITY_NIGHT = "electricity_night"
    GAS = "gas"
    HEAT = "heat"
    OTHER = "other"


# Word stems, compared with the type text folded to lowercase ASCII ("Külm" -> "kulm").
_WATER: Final = ("vesi", "vee", "water", "вод")
_COLD: Final = ("kulm", "cold", "холод")
_HOT: Final = ("soe", "sooja", "kuum", "hot", "warm", "горяч")
_ELECTRICITY: Final = ("elekter", "elektri", "electric", "элект")
_DAY: Final = ("paev", "day", "день", "днев")
_NIGHT: Final = ("oine", "night", "ноч")  # and the word "oo" ("öö") on its own
_GAS: Final = ("gaas", "gas", "газ")
_HEAT: Final = ("soojus", "kute", "kutte", "kaugkut", "heat", "тепл", "отоп")

_WORD_RE: Final = re.compile(r"\w+")


def _fold(text: str) -> list[str]:
    """Lowercase words without diacritics, so "Öö" and "oo" or "Külm" and "kulm" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _WORD_RE.findall(plain)


def _has(words: list[str], stems: tuple[str, ...]) -> bool:
    return any(word.startswith(stem) for word in words for stem in stems)


def classify(meter_type: str) -> MeterKind:
    """The kind of meter a Korto type text names (``MeterKind.OTHER`` when it is not known)."""
    words = _fold(meter_type)
    if _has(words, _WATER):
        if _has(words, _HOT):
            return MeterKind.HOT_WATER
        if _has(words, _COLD):
            return MeterKind.COLD_WATER
        return MeterKind.WATER
    if _has(words, _ELECTRICITY):
        if "oo" in words or _has(words, _NIGHT):
            return MeterKind.ELECTRICITY_NIGHT
        if _has(words, _DAY):
            return MeterKind.ELECTRICITY_DAY
        return MeterKind.ELECTRICITY
    if _has(words, _HEAT):
        return MeterKind.HEAT
    if _has(words, _GAS):
        return MeterKind.GAS
    return MeterKind.OTHER


_UNITS: Final = {
    "m3": UnitOfVolume.CUBIC_METERS,
    "m³": UnitOfVolume.CUBIC_METERS,
    "m^3": UnitOfVolume.CUBIC_METERS,
    "m**3": UnitOfVolume.CUBIC_METERS,
    "kuupmeeter": UnitOfVolume.CUBIC_METERS,
    "kuupmeetrit": UnitOfVolume.CUBIC_METERS,
    "kub.m": UnitOfVolume.CUBIC_METERS,
    "м3": UnitOfVolume.CUBIC_METERS,
    "м³": UnitOfVolume.CUBIC_METERS,
    "l": UnitOfVolume.LITERS,
    "liter": UnitOfVolume.LITERS,
    "liitrit": UnitOfVolume.LITERS,
    "wh": UnitOfEnergy.WATT_HOUR,
    "kwh": UnitOfEnergy.KILO_WATT_HOUR,
    "mwh": UnitOfEnergy.MEGA_WATT_HOUR,
    "gwh": UnitOfEnergy.GIGA_WATT_HOUR,
    "gj": UnitOfEnergy.GIGA_JOULE,
    "mj": UnitOfEnergy.MEGA_JOULE,
    "квтч": UnitOfEnergy.KILO_WATT_HOUR,
    "квт·ч": UnitOfEnergy.KILO_WATT_HOUR,
}
_ENERGY_UNITS: Final = frozenset(UnitOfEnergy)
_VOLUME_UNITS: Final = frozenset({UnitOfVolume.CUBIC_METERS, UnitOfVolume.LITERS})
_WATER_KINDS: Final = frozenset({MeterKind.COLD_WATER, MeterKind.HOT_WATER, MeterKind.WATER})


def normalise_unit(unit: str | None) -> str | None:
    """Home Assistant's spelling of a Korto unit (``"m3"`` -> ``"m³"``); unknown units kept as is."""
    if unit is None:
        return None
    text = unit.strip()
    if not text:
        return None
    return _UNITS.get(text.casefold().replace(" ", ""), text)


@dataclass(frozen=True, kw_only=True)
class MeterProfile:
    """How a meter is shown: its kind, the unit Home Assistant understands and its device class."""

    kind: MeterKind
    unit: str | None
    device_class: SensorDeviceClass | None

    @property
    def model(self) -> str:
        """The device model shown in Home Assistant (English; the type text is the device name)."""
        return _MODELS[self.kind]


_MODELS: Final = {
    MeterKind.COLD_WATER: "Cold water meter",
    MeterKind.HOT_WATER: "Hot water meter",
    MeterKind.WATER: "Water meter",
    MeterKind.ELECTRICITY: "Electricity meter",
    MeterKind.ELECTRICITY_DAY: "Electricity meter (day)",
    MeterKind.ELECTRICITY_NIGHT: "Electricity meter (night)",
    MeterKind.GAS: "Gas meter",
    MeterKind.HEAT: "Heat meter",
    MeterKind.OTHER: "Meter",
}


def profile(meter_type: str, unit: str | None) -> MeterProfile:
    """The kind and device class of a meter; the unit must fit the class or there is no class.

    An energy unit is energy whatever the type says (a gas meter read in kWh is an energy sensor);
    a volume is water or gas only when the type says so, else a generic volume sensor.
    """
    kind = classify(meter_type)
    ha_unit = normalise_unit(unit)
    device_class: SensorDeviceClass | None = None
    if ha_unit in _ENERGY_UNITS:
        device_class = SensorDeviceClass.ENERGY
    elif ha_unit in _VOLUME_UNITS:
        if kind in _WATER_KINDS:
            device_class = SensorDeviceClass.WATER
        elif kind is MeterKind.GAS:
            device_class = SensorDeviceClass.GAS
    return MeterProfile(kind=kind, unit=ha_unit, device_class=device_class)
