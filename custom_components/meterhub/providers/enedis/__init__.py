"""Enedis Linky through the Conso API gateway: load curve, daily totals, peak/off-peak and cost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
import re
from typing import TYPE_CHECKING, Any, ClassVar

import probatio as vol

from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ...api.enedis import (
    MAX_CURVE_DAYS,
    EnedisClient,
    EnedisHistoryLimitError,
    EnedisRateLimitError,
    valid_prm,
)
from ...const import PROVIDER_ENEDIS
from ...entity import meter_device
from ...sensor import MeterHubSensor
from ..base import FormError, Provider, ProviderRuntime, Validated
from .coordinator import BUDGET, EnedisCoordinator, EnedisData, entry_store
from .options import (
    CONF_PRM,
    CONF_PRODUCTION,
    CONF_TOKEN,
    options_schema,
    tariff_from,
    validate_options,
)
from .planner import FIRST_RUN_DELAY, RequestBudget, paris_day
from .sensors import CONSUMPTION_SENSORS, PRODUCTION_SENSORS

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

#: Safety net: never fire again sooner than this if a step left no plan (an unexpected error).
_FALLBACK_WAIT = timedelta(hours=1)


class EnedisRuntime(ProviderRuntime):
    """One usage point: the coordinator, and the timer that fires the plan's next step."""

    def __init__(self, hass: HomeAssistant, coordinator: EnedisCoordinator, prm: str) -> None:
        """Keep what the sensors and the timer need."""
        super().__init__([coordinator])
        self.hass = hass
        self.coordinator = coordinator
        self.prm = prm
        self._cancel_timer: CALLBACK_TYPE | None = None

    def start(self) -> None:
        """Arm the timer at the stored next step (soon, on the very first setup)."""
        now = dt_util.utcnow()
        planned = self.coordinator.plan.next_run
        self._arm(max(planned or now, now + FIRST_RUN_DELAY))

    def _arm(self, when: datetime) -> None:
        if self._cancel_timer is not None:
            self._cancel_timer()
        self._cancel_timer = async_track_point_in_utc_time(self.hass, self._async_fire, when)

    async def _async_fire(self, _now: datetime) -> None:
        """Run one step, then arm the timer for the next one."""
        self._cancel_timer = None
        self.coordinator.step_due = True
        await self.coordinator.async_refresh()
        now = dt_util.utcnow()
        planned = self.coordinator.plan.next_run
        self._arm(planned if planned is not None and planned > now else now + _FALLBACK_WAIT)

    def sensors(self) -> Iterable[MeterHubSensor[EnedisData]]:
        """The day sensors (and production when it is fetched)."""
        device = meter_device(
            f"enedis_{self.prm}", name="Linky", manufacturer="Enedis", model="Linky"
        )
        descriptions = list(CONSUMPTION_SENSORS)
        if self.coordinator.production_enabled:
            descriptions += PRODUCTION_SENSORS
        return [
            MeterHubSensor(self.coordinator, device, f"enedis_{self.prm}", description)
            for description in descriptions
        ]

    def diagnostics(self) -> dict[str, Any]:
        """The plan and what is stored (no identifiers)."""
        return self.coordinator.diagnostics()

    async def async_shutdown(self) -> None:
        """Stop the timer, then the coordinator."""
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None
        await super().async_shutdown()


class EnedisProvider(Provider):
    """Enedis Linky meters (France) through the Conso API gateway."""

    key: ClassVar[str] = PROVIDER_ENEDIS
    secret_fields = (CONF_TOKEN,)

    async def async_schema(self, hass: HomeAssistant, defaults: Mapping[str, Any]) -> vol.Schema:
        """Token and PRM."""
        return vol.Schema({vol.Required(CONF_TOKEN): str, vol.Required(CONF_PRM): str})

    async def async_validate(self, hass: HomeAssistant, data: Mapping[str, Any]) -> Validated:
        """Check the PRM locally, then ask for the last week of load curve (one request).

        The load curve, not the daily total, is asked for on purpose: a 404 then means the
        meter's hourly collection is not enabled, which the form explains. Any other refusal
        shows Enedis' own description in the form (``{gateway_error}``).
        """
        prm = re.sub(r"\s+", "", str(data.get(CONF_PRM, "")))
        if not valid_prm(prm):
            raise FormError(CONF_PRM, "invalid_prm")
        token = str(data.get(CONF_TOKEN, "")).strip()
        if not token:
            raise FormError(CONF_TOKEN, "invalid_auth")
        now = dt_util.utcnow()
        budget = hass.data.setdefault(BUDGET, RequestBudget())
        if budget.room_at(now, 1) > now:
            # Someone retrying the form in a loop must not get the address banned either.
            raise EnedisRateLimitError("request budget reached")
        client = EnedisClient(async_get_clientsession(hass), token, prm)
        today = paris_day(now)
        try:
            await client.load_curve("consumption", today - timedelta(days=MAX_CURVE_DAYS), today)
        except EnedisHistoryLimitError:
            pass  # a meter activated this week: Enedis knows it and the token; history comes later
        finally:
            budget.record(now, client.requests)
        return Validated(
            title=f"Linky …{prm[-4:]}", unique_id=prm, data={CONF_TOKEN: token, CONF_PRM: prm}
        )

    async def async_remove_entry(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Delete the local copy of the readings and the request plan."""
        await entry_store(hass, entry.entry_id).async_remove()

    async def async_setup_entry(
        self, hass: HomeAssistant, entry: ConfigEntry[Any]
    ) -> EnedisRuntime:
        """Load the stored data and plan, arm the timer.

        No request is made here: a failing setup is retried within seconds by Home Assistant,
        which could get the address banned. The timer makes the requests, on the plan.
        """
        prm = entry.data[CONF_PRM]
        client = EnedisClient(async_get_clientsession(hass), entry.data[CONF_TOKEN], prm)
        coordinator = EnedisCoordinator(
            hass,
            entry,
            client,
            prm=prm,
            tariff=tariff_from(entry.options),
            production=bool(entry.options.get(CONF_PRODUCTION)),
        )
        await coordinator.async_load()
        await coordinator.async_config_entry_first_refresh()
        runtime = EnedisRuntime(hass, coordinator, prm)
        runtime.start()
        return runtime

    def options_schema(self, options: Mapping[str, Any]) -> vol.Schema | None:
        """Off-peak windows, prices, subscription, production."""
        return options_schema()

    def validate_options(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Normalise the windows; a price for both periods (or a base price)."""
        return validate_options(options)

    def description_placeholders(self) -> dict[str, str]:
        """Where users get a token."""
        return {"gateway_url": "https://conso.boris.sh"}
