"""The Enedis options form: off-peak windows, prices, subscription and production."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import probatio as vol

from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
)

from ..base import FormError
from .tariff import InvalidWindowsError, Tariff, format_windows, parse_windows

CONF_TOKEN: Final = "token"
CONF_PRM: Final = "prm"
CONF_OFFPEAK_HOURS: Final = "offpeak_hours"
CONF_PRICE_PEAK: Final = "price_peak_kwh"
CONF_PRICE_OFFPEAK: Final = "price_offpeak_kwh"
CONF_PRICE_BASE: Final = "price_base_kwh"
CONF_SUBSCRIPTION: Final = "subscription_per_month"
CONF_PRODUCTION: Final = "fetch_production"

_PRICE: Final = NumberSelector(
    NumberSelectorConfig(
        min=0, max=10, step="any", unit_of_measurement="EUR/kWh", mode=NumberSelectorMode.BOX
    )
)
_MONTHLY: Final = NumberSelector(
    NumberSelectorConfig(
        min=0, max=1000, step="any", unit_of_measurement="EUR", mode=NumberSelectorMode.BOX
    )
)


def options_schema() -> vol.Schema:
    """The form; empty prices mean no cost statistics."""
    return vol.Schema(
        {
            vol.Optional(CONF_OFFPEAK_HOURS, default=""): TextSelector(),
            vol.Optional(CONF_PRICE_PEAK): _PRICE,
            vol.Optional(CONF_PRICE_OFFPEAK): _PRICE,
            vol.Optional(CONF_PRICE_BASE): _PRICE,
            vol.Optional(CONF_SUBSCRIPTION): _MONTHLY,
            vol.Optional(CONF_PRODUCTION, default=False): BooleanSelector(),
        }
    )


def validate_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise the windows text; with off-peak hours, both prices (or a base price) are needed."""
    cleaned = dict(options)
    try:
        windows = parse_windows(str(options.get(CONF_OFFPEAK_HOURS) or ""))
    except InvalidWindowsError as err:
        raise FormError(CONF_OFFPEAK_HOURS, "invalid_offpeak_hours") from err
    cleaned[CONF_OFFPEAK_HOURS] = format_windows(windows)
    has_peak = options.get(CONF_PRICE_PEAK) is not None
    has_off = options.get(CONF_PRICE_OFFPEAK) is not None
    if windows and has_peak != has_off and options.get(CONF_PRICE_BASE) is None:
        field = CONF_PRICE_OFFPEAK if has_peak else CONF_PRICE_PEAK
        raise FormError(field, "price_missing")
    return cleaned


def tariff_from(options: Mapping[str, Any]) -> Tariff:
    """The contract the options describe; peak/off-peak prices fall back to the base price."""
    try:
        windows = parse_windows(str(options.get(CONF_OFFPEAK_HOURS) or ""))
    except InvalidWindowsError:
        windows = ()
    base = options.get(CONF_PRICE_BASE)
    peak = options.get(CONF_PRICE_PEAK, base)
    offpeak = options.get(CONF_PRICE_OFFPEAK, base)
    return Tariff(
        windows=windows,
        price_peak=float(peak) if peak is not None else None,
        price_offpeak=float(offpeak) if offpeak is not None else None,
        subscription_per_month=float(options.get(CONF_SUBSCRIPTION) or 0.0),
    )
