"""The ``meterhub.refresh_history`` action: re-import a date range of one Octopus meter.

Useful when Octopus corrected old data, or to reach further back than the first backfill did.
The import upserts whole hours, so re-importing days already stored changes only what differs.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import probatio as vol

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util

from ...api.errors import MeterHubApiError
from ...const import CONF_PROVIDER, DOMAIN
from ...statistics import local_midnight
from .meters import OctopusMeter
from .runtime import OctopusRuntime
from .tariffs import LONDON, local_day

SERVICE_REFRESH_HISTORY: Final = "refresh_history"
ATTR_DEVICE_ID: Final = "device_id"
ATTR_START: Final = "start"
ATTR_END: Final = "end"
MAX_RANGE_DAYS: Final = 1500

SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_START): cv.date,
        vol.Optional(ATTR_END): cv.date,
    }
)


@callback
def async_register_services(hass: HomeAssistant, key: str) -> None:
    """Register the action once, when the integration loads.

    The handler looks the device's entry (of provider ``key``) up at call time, so the one
    registration serves every entry, and with none loaded it says so instead of the action being
    missing.
    """

    async def refresh_history(call: ServiceCall) -> ServiceResponse:
        return await _async_refresh_history(call, key)

    hass.services.async_register(
        DOMAIN,
        SERVICE_REFRESH_HISTORY,
        refresh_history,
        schema=SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )


def _find_meter(
    hass: HomeAssistant, key: str, device_id: str
) -> tuple[OctopusRuntime, OctopusMeter]:
    """The loaded entry and meter a device belongs to."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="unknown_meter")
    # a meter's device belongs to the one entry that made it (``config_entry_id``)
    entry = hass.config_entries.async_get_entry(device.config_entry_id)
    if entry is not None and entry.domain == DOMAIN and entry.data.get(CONF_PROVIDER) == key:
        if entry.state is not ConfigEntryState.LOADED:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="entry_not_loaded"
            )
        runtime = entry.runtime_data
        if isinstance(runtime, OctopusRuntime) and (
            meter := runtime.meter_for_device(device.identifiers)
        ):
            return runtime, meter
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key="unknown_meter")


async def _async_refresh_history(call: ServiceCall, key: str) -> ServiceResponse:
    """Re-import [start, end] (UK days, end included) for the chosen meter."""
    runtime, meter = _find_meter(call.hass, key, call.data[ATTR_DEVICE_ID])
    now = dt_util.utcnow()
    start: date = call.data[ATTR_START]
    end: date = call.data.get(ATTR_END) or local_day(now)
    if end < start or (end - start).days > MAX_RANGE_DAYS or start > local_day(now):
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="invalid_range")
    try:
        result = await runtime.importer.async_import_range(
            meter,
            local_midnight(start, LONDON),
            min(now, local_midnight(end + timedelta(days=1), LONDON)),
        )
    except MeterHubApiError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="refresh_failed"
        ) from err
    if not call.return_response:
        return None
    return {
        "half_hours": result.intervals,
        "last_data": result.last_data.isoformat() if result.last_data else None,
    }
