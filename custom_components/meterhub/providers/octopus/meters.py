"""Which meters an account has now, and what each one's statistics are called."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Final

from ...api.octopus import Account, FuelType, GasUnit, MeterPoint
from ...statistics import ENERGY_KWH, VOLUME_M3, StatisticSeries, slug
from ..base import device_id

CURRENCY: Final = "GBP"
#: m³ of gas -> kWh: volume correction 1.02264 times the calorific value (MJ/m³) / 3.6 MJ per kWh.
VOLUME_CORRECTION: Final = 1.02264


class MeterKind(StrEnum):
    """The three kinds of meter, each with its own statistics and sensor names."""

    IMPORT = "electricity_import"
    EXPORT = "electricity_export"
    GAS = "gas"


#: What a device is called: the kind of meter, never its serial or point (issue 23).
_LABELS: Final = {
    MeterKind.IMPORT: "Electricity meter",
    MeterKind.EXPORT: "Electricity export meter",
    MeterKind.GAS: "Gas meter",
}


@dataclass(frozen=True, kw_only=True)
class GasSettings:
    """The user's gas choices: convert m³ meters to kWh, and with which calorific value.

    Whether a meter counts kWh (SMETS1) or m³ (SMETS2) is not a setting: each gas meter says so
    itself (GraphQL ``consumptionUnits``, :attr:`OctopusMeter.gas_unit`).
    """

    convert_to_kwh: bool = False
    calorific_value: float = 39.5

    @property
    def kwh_per_m3(self) -> float:
        """Energy in a m³ of gas, in kWh (rates are per kWh)."""
        return VOLUME_CORRECTION * self.calorific_value / 3.6


@dataclass(frozen=True, kw_only=True)
class OctopusMeter:
    """One meter on one point: a device, two statistics and a few sensors."""

    provider: str  # the provider key: first part of the device and statistic ids
    point: MeterPoint
    serial_number: str
    #: Gas: kWh (SMETS1) or m³ (SMETS2) as the meter reports them; None until GraphQL said so.
    gas_unit: GasUnit | None = None
    #: The smart meter's device id, for Home Mini / Home Pro telemetry (electricity import).
    smart_device_id: str | None = None
    #: What tells this meter apart from another of its kind on the account (the serial's last
    #: four characters), or "" when it is the only one: see :func:`current_meters`.
    distinction: str = ""

    @property
    def reports_kwh(self) -> bool:
        """Whether consumption comes in kWh (electricity, SMETS1 gas)."""
        return self.kind is not MeterKind.GAS or self.gas_unit is GasUnit.KWH

    @property
    def history_ready(self) -> bool:
        """A gas meter's unit must be known before anything is booked (no guessing)."""
        return self.kind is not MeterKind.GAS or self.gas_unit is not None

    @property
    def key(self) -> str:
        """A stable id: point and serial (a point can have several meters)."""
        return slug(f"{self.point.identifier}_{self.serial_number}")

    @property
    def device_id(self) -> str:
        """The device registry identifier."""
        return device_id(self.provider, self.key)

    @property
    def kind(self) -> MeterKind:
        """Import, export or gas."""
        if self.point.fuel is FuelType.GAS:
            return MeterKind.GAS
        return MeterKind.EXPORT if self.point.is_export else MeterKind.IMPORT

    @property
    def device_name(self) -> str:
        """What the meter is: "Electricity meter", "Gas meter 0042" when the account has two.

        Never the serial or the MPAN/MPRN: Home Assistant builds entity ids, friendly names and
        our statistic names from it, and users paste those in public (issue 23). The full serial
        is the device's serial number, and the ids keep the point and the serial.
        """
        label = _LABELS[self.kind]
        return f"{label} {self.distinction}" if self.distinction else label

    @property
    def legacy_device_name(self) -> str:
        """The name versions before issue 23 gave the device (its entity ids were made from it)."""
        return f"{_LABELS[self.kind]} {self.serial_number}"

    def quantity_series(self, gas: GasSettings) -> StatisticSeries:
        """Consumption (kWh, or m³ for an unconverted SMETS2 gas meter) or export production."""
        unit: str
        if self.kind is MeterKind.EXPORT:
            quantity, name, unit = "production", "production", ENERGY_KWH
        elif self.kind is MeterKind.GAS and not (self.reports_kwh or gas.convert_to_kwh):
            quantity, name, unit = "volume", "consumption", VOLUME_M3
        else:
            quantity, name, unit = "consumption", "consumption", ENERGY_KWH
        return StatisticSeries(
            provider=self.provider,
            meter=self.key,
            quantity=quantity,
            name=f"{self.device_name} {name}",
            unit=unit,
        )

    def money_series(self) -> StatisticSeries:
        """Cost in pounds, or export earnings."""
        quantity = "earnings" if self.kind is MeterKind.EXPORT else "cost"
        return StatisticSeries(
            provider=self.provider,
            meter=self.key,
            quantity=quantity,
            name=f"{self.device_name} {quantity}",
            unit=CURRENCY,
        )

    def factors(self, gas: GasSettings) -> tuple[float, float]:
        """(series unit per reported unit, kWh per reported unit)."""
        if self.reports_kwh:
            return 1.0, 1.0
        kwh = gas.kwh_per_m3
        return (kwh if gas.convert_to_kwh else 1.0), kwh


def _told_apart(meters: dict[str, OctopusMeter]) -> dict[str, OctopusMeter]:
    """Meters that share a kind get the last four characters of their serial in their names.

    Two MPANs on one physical meter (a related MPAN) share the serial: those are told apart by
    their points' last four digits instead.
    """
    kinds = Counter(meter.kind for meter in meters.values())
    tails = Counter((meter.kind, meter.serial_number[-4:]) for meter in meters.values())
    found = {}
    for key, meter in meters.items():
        if kinds[meter.kind] < 2:
            found[key] = meter
            continue
        tail = meter.serial_number[-4:]
        if tails[(meter.kind, tail)] > 1:
            tail = meter.point.identifier[-4:]
        found[key] = replace(meter, distinction=tail)
    return found


def current_meters(account: Account, now: datetime, *, provider: str) -> dict[str, OctopusMeter]:
    """Every meter on a point with a current agreement at a property not moved out of.

    From GraphQL these are the active meters only; from REST (the fallback) every serial the
    point ever had, which :meth:`OctopusRuntime` narrows with what GraphQL said before.
    """
    meters: dict[str, OctopusMeter] = {}
    for prop in account.properties:
        if prop.moved_out_at is not None and prop.moved_out_at <= now:
            continue
        for point in prop.points:
            if not point.is_current(now):
                continue
            for meter in point.meters:
                found = OctopusMeter(
                    provider=provider,
                    point=point,
                    serial_number=meter.serial_number,
                    gas_unit=meter.consumption_units if point.fuel is FuelType.GAS else None,
                    smart_device_id=meter.device_id,
                )
                meters[found.key] = found
    return _told_apart(meters)
