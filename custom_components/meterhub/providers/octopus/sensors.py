"""Sensor descriptions: per meter (prices, yesterday, last data) and per account (balance).

Descriptions are built per meter because a sensor reads its own meter's entry from a coordinator
that serves every meter of the account.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import EntityCategory, UnitOfEnergy, UnitOfPower, UnitOfVolume
from homeassistant.util import dt as dt_util

from ...sensor import MeterHubSensorEntityDescription
from .coordinator import Telemetry
from .history import MeterSummary
from .meters import CURRENCY, GasSettings, MeterKind, OctopusMeter
from .tariffs import PriceBook, local_day

PRICE_UNIT = f"{CURRENCY}/{UnitOfEnergy.KILO_WATT_HOUR}"
RATE_HORIZON_HOURS = 48

BALANCE = MeterHubSensorEntityDescription[float](
    key="balance",
    translation_key="balance",
    device_class=SensorDeviceClass.MONETARY,
    native_unit_of_measurement=CURRENCY,
    suggested_display_precision=2,
    value_fn=lambda balance: round(balance, 2),
)


def _pounds(pence: float | None) -> float | None:
    return None if pence is None else round(pence / 100, 5)


def price_descriptions(
    meter: OctopusMeter,
) -> list[MeterHubSensorEntityDescription[dict[str, PriceBook]]]:
    """Current unit rate, next rate change and (not for export) the standing charge."""
    point_id = meter.point.identifier

    def book(data: dict[str, PriceBook]) -> PriceBook | None:
        return data.get(point_id) if data else None

    def current(data: dict[str, PriceBook]) -> float | None:
        found = book(data)
        return None if found is None else _pounds(found.unit_rate(dt_util.utcnow()))

    def next_change(data: dict[str, PriceBook]) -> datetime | None:
        found = book(data)
        if found is None:
            return None
        return found.next_change(dt_util.utcnow(), timedelta(hours=RATE_HORIZON_HOURS))

    def next_attributes(data: dict[str, PriceBook]) -> dict[str, Any] | None:
        found = book(data)
        change = next_change(data)
        if found is None or change is None:
            return None
        return {"next_rate": _pounds(found.unit_rate(change))}

    def rate_attributes(data: dict[str, PriceBook]) -> dict[str, Any] | None:
        found = book(data)
        tariff = None if found is None else found.tariff_at(dt_util.utcnow())
        if tariff is None:
            return None
        return {"tariff_code": tariff.agreement.tariff_code}

    def standing(data: dict[str, PriceBook]) -> float | None:
        found = book(data)
        if found is None:
            return None
        pence = found.standing_charge(dt_util.utcnow())
        return None if pence is None else round(pence / 100, 4)

    descriptions = [
        MeterHubSensorEntityDescription[dict[str, PriceBook]](
            key="current_unit_rate",
            translation_key="current_unit_rate",
            native_unit_of_measurement=PRICE_UNIT,
            suggested_display_precision=4,
            value_fn=current,
            available_fn=lambda data: current(data) is not None,
            attributes_fn=rate_attributes,
        ),
        MeterHubSensorEntityDescription[dict[str, PriceBook]](
            key="next_rate_change",
            translation_key="next_rate_change",
            device_class=SensorDeviceClass.TIMESTAMP,
            value_fn=next_change,
            attributes_fn=next_attributes,
        ),
    ]
    if meter.kind is not MeterKind.EXPORT:
        descriptions.append(
            MeterHubSensorEntityDescription[dict[str, PriceBook]](
                key="standing_charge",
                translation_key="standing_charge",
                device_class=SensorDeviceClass.MONETARY,
                native_unit_of_measurement=CURRENCY,
                suggested_display_precision=4,
                value_fn=standing,
                available_fn=lambda data: standing(data) is not None,
            )
        )
    return descriptions


def history_descriptions(
    meter: OctopusMeter, gas: GasSettings
) -> list[MeterHubSensorEntityDescription[dict[str, MeterSummary]]]:
    """Yesterday's quantity and money, and when the newest half hour ended."""
    key = meter.key
    unit = meter.quantity_series(gas).unit
    export = meter.kind is MeterKind.EXPORT

    def summary(data: dict[str, MeterSummary]) -> MeterSummary | None:
        return data.get(key) if data else None

    def is_yesterday(found: MeterSummary | None) -> bool:
        return (
            found is not None
            and found.yesterday is not None
            and (local_day(dt_util.utcnow()) - found.yesterday).days == 1
        )

    def quantity(data: dict[str, MeterSummary]) -> float | None:
        found = summary(data)
        return found.yesterday_quantity if found is not None and is_yesterday(found) else None

    def money(data: dict[str, MeterSummary]) -> float | None:
        found = summary(data)
        return found.yesterday_money if found is not None and is_yesterday(found) else None

    def day_attributes(data: dict[str, MeterSummary]) -> dict[str, Any] | None:
        found = summary(data)
        if found is None or found.yesterday is None:
            return None
        return {"date": found.yesterday.isoformat(), "half_hours": found.yesterday_half_hours}

    def last_data(data: dict[str, MeterSummary]) -> datetime | None:
        found = summary(data)
        return None if found is None else found.last_data

    is_volume = unit == UnitOfVolume.CUBIC_METERS
    return [
        MeterHubSensorEntityDescription[dict[str, MeterSummary]](
            key="yesterday_production" if export else "yesterday_consumption",
            translation_key="yesterday_export" if export else "yesterday_consumption",
            device_class=SensorDeviceClass.GAS if is_volume else SensorDeviceClass.ENERGY,
            native_unit_of_measurement=unit,
            suggested_display_precision=2,
            value_fn=quantity,
            available_fn=lambda data: quantity(data) is not None,
            attributes_fn=day_attributes,
        ),
        MeterHubSensorEntityDescription[dict[str, MeterSummary]](
            key="yesterday_earnings" if export else "yesterday_cost",
            translation_key="yesterday_earnings" if export else "yesterday_cost",
            device_class=SensorDeviceClass.MONETARY,
            native_unit_of_measurement=CURRENCY,
            suggested_display_precision=2,
            value_fn=money,
            available_fn=lambda data: money(data) is not None,
            attributes_fn=day_attributes,
        ),
        MeterHubSensorEntityDescription[dict[str, MeterSummary]](
            key="last_data",
            translation_key="last_data_received",
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=last_data,
            available_fn=lambda data: last_data(data) is not None,
        ),
    ]


def _demand(data: Telemetry) -> float | None:
    return data.demand(dt_util.utcnow())


#: Live power from a Home Mini / Home Pro: a valid power source for the energy dashboard's "Now"
#: view (device class power, W, measurement). A quiet device makes it unavailable, never frozen.
TELEMETRY_DESCRIPTIONS: tuple[MeterHubSensorEntityDescription[Telemetry], ...] = (
    MeterHubSensorEntityDescription[Telemetry](
        key="current_demand",
        translation_key="current_demand",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=_demand,
        available_fn=lambda data: _demand(data) is not None,
    ),
    MeterHubSensorEntityDescription[Telemetry](
        key="today_consumption",
        translation_key="today_consumption",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=lambda data: data.today_kwh,
        available_fn=lambda data: data.today_kwh is not None and not data.quiet(dt_util.utcnow()),
    ),
    MeterHubSensorEntityDescription[Telemetry](
        key="telemetry_last_reading",
        translation_key="telemetry_last_reading",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.last_reading,
        available_fn=lambda data: data.last_reading is not None,
    ),
)
