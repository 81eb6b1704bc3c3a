"""The sensors of a Korto apartment: per meter its reading and period, for the flat its money.

Each meter's description is built from the meter itself (its unit decides the device class), so
the value functions close over the meter id and look the meter up in the latest data: a meter that
disappears from Korto becomes unavailable instead of showing a stale value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import EntityCategory
from homeassistant.helpers.device_registry import DeviceInfo

from ...api.korto import KortoBalance, KortoMeter, KortoMeters
from ...entity import meter_device
from ...sensor import MeterHubSensorEntityDescription
from ..base import device_id
from .kinds import MeterProfile

CURRENCY_EUR = "EUR"
MANUFACTURER = "Korto"

type MeterDescription = MeterHubSensorEntityDescription[KortoMeters]
type BalanceDescription = MeterHubSensorEntityDescription[KortoBalance]


def find_meter(data: KortoMeters, meter_id: str) -> KortoMeter | None:
    """The meter with ``meter_id`` in the latest answer, if Korto still lists it."""
    return next((meter for meter in data.meters if meter.id == meter_id), None)


def meter_names(meters: Sequence[KortoMeter]) -> dict[str, str]:
    """A readable, distinct device name per meter: its type, its description, a number if needed.

    Two "Külm vesi" meters usually differ by their description ("Köök", "Vannituba"); when they
    do not, the second one is numbered.
    """
    names: dict[str, str] = {}
    for meter in meters:
        name = meter.type or "Meter"
        if meter.description and meter.description != meter.type:
            name = f"{name} ({meter.description})"
        names[meter.id] = name
    counts = Counter(names.values())
    seen: Counter[str] = Counter()
    for meter in sorted(meters, key=lambda item: item.id):
        name = names[meter.id]
        if counts[name] > 1:
            seen[name] += 1
            if seen[name] > 1:
                names[meter.id] = f"{name} {seen[name]}"
    return names


def meter_device_info(
    key: str, apartment_id: str, meter: KortoMeter, name: str, profile: MeterProfile
) -> DeviceInfo:
    """The device of one meter, scoped to its apartment."""
    return meter_device(
        device_id(key, apartment_id, meter.id),
        name=name,
        manufacturer=MANUFACTURER,
        model=profile.model,
    )


def apartment_device_info(key: str, apartment_id: str, name: str) -> DeviceInfo:
    """The apartment itself: balance and payments live here."""
    return meter_device(
        device_id(key, apartment_id), name=name, manufacturer=MANUFACTURER, model="Apartment"
    )


def meter_descriptions(meter: KortoMeter, profile: MeterProfile) -> list[MeterDescription]:
    """Reading (``total_increasing``), period consumption, reading date and origin of a meter."""
    meter_id = meter.id

    def current(data: KortoMeters) -> KortoMeter | None:
        return find_meter(data, meter_id)

    def present(data: KortoMeters) -> bool:
        return current(data) is not None

    def reading_attributes(data: KortoMeters) -> dict[str, str | None]:
        found = current(data)
        if found is None:
            return {}
        return {
            "reading_date": found.reading_date.isoformat() if found.reading_date else None,
            "reading_origin": found.reading_origin,
        }

    return [
        MeterHubSensorEntityDescription[KortoMeters](
            key="reading",
            translation_key="meter_reading",
            device_class=profile.device_class,
            native_unit_of_measurement=profile.unit,
            state_class=SensorStateClass.TOTAL_INCREASING,
            suggested_display_precision=meter.precision,
            value_fn=lambda data: found.reading if (found := current(data)) else None,
            attributes_fn=reading_attributes,
            available_fn=present,
        ),
        MeterHubSensorEntityDescription[KortoMeters](
            key="consumption",
            translation_key="period_consumption",
            device_class=profile.device_class,
            native_unit_of_measurement=profile.unit,
            suggested_display_precision=meter.precision,
            value_fn=lambda data: found.consumption if (found := current(data)) else None,
            available_fn=present,
        ),
        MeterHubSensorEntityDescription[KortoMeters](
            key="reading_date",
            translation_key="reading_date",
            device_class=SensorDeviceClass.DATE,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=lambda data: found.reading_date if (found := current(data)) else None,
            available_fn=present,
        ),
        MeterHubSensorEntityDescription[KortoMeters](
            key="reading_origin",
            translation_key="reading_origin",
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
            value_fn=lambda data: found.reading_origin if (found := current(data)) else None,
            available_fn=present,
        ),
    ]


BALANCE_DESCRIPTIONS: tuple[BalanceDescription, ...] = (
    MeterHubSensorEntityDescription[KortoBalance](
        key="balance",
        translation_key="balance",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement=CURRENCY_EUR,
        suggested_display_precision=2,
        value_fn=lambda data: data.balance,
    ),
    MeterHubSensorEntityDescription[KortoBalance](
        key="balance_date",
        translation_key="balance_date",
        device_class=SensorDeviceClass.DATE,
        value_fn=lambda data: data.balance_date,
    ),
    MeterHubSensorEntityDescription[KortoBalance](
        key="last_payment",
        translation_key="last_payment",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement=CURRENCY_EUR,
        suggested_display_precision=2,
        value_fn=lambda data: data.last_payment,
    ),
    MeterHubSensorEntityDescription[KortoBalance](
        key="last_payment_date",
        translation_key="last_payment_date",
        device_class=SensorDeviceClass.DATE,
        value_fn=lambda data: data.last_payment_date,
    ),
)


def token_expiry_description(expires: datetime | None) -> BalanceDescription:
    """When the saved token runs out, so a user can renew it before the data stops."""
    return MeterHubSensorEntityDescription[KortoBalance](
        key="token_expiry",
        translation_key="token_expiry",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda _data: expires,
    )
