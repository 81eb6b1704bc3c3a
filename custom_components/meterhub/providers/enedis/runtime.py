"""A loaded Enedis entry: the coordinator and the timer that fires the request plan's next step."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ...entity import device_identifier
from ...sensor import MeterHubSensor
from ..base import ProviderConfigEntry, ProviderRuntime
from .coordinator import EnedisCoordinator, EnedisData
from .planner import FIRST_RUN_DELAY
from .sensors import CONSUMPTION_SENSORS, PRODUCTION_SENSORS, linky_device

type EnedisConfigEntry = ProviderConfigEntry[EnedisRuntime]

#: Safety net: never fire again sooner than this if a step left no plan (an unexpected error).
_FALLBACK_WAIT = timedelta(hours=1)


class EnedisRuntime(ProviderRuntime):
    """One usage point: the coordinator, and the timer that fires the plan's next step."""

    def __init__(
        self, hass: HomeAssistant, coordinator: EnedisCoordinator, *, key: str, prm: str
    ) -> None:
        """Keep what the sensors and the timer need; nothing is read or sent yet."""
        super().__init__([coordinator])
        self.hass = hass
        self.coordinator = coordinator
        self.key = key
        self.prm = prm
        self._cancel_timer: CALLBACK_TYPE | None = None

    async def async_start(self) -> None:
        """Load the stored data and plan, then arm the timer at the stored next step.

        No request is made here: a failing setup is retried within seconds by Home Assistant,
        which could get the address banned. The timer makes the requests, on the plan (soon, on
        the very first setup).
        """
        await self.coordinator.async_load()
        await self.coordinator.async_config_entry_first_refresh()
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
        device = linky_device(self.key, self.prm)
        descriptions = list(CONSUMPTION_SENSORS)
        if self.coordinator.production_enabled:
            descriptions += PRODUCTION_SENSORS
        return [
            MeterHubSensor(self.coordinator, device, description) for description in descriptions
        ]

    def provided_device_ids(self) -> set[str]:
        """The entry's one Linky: an entry is one PRM, so its device lives as long as the entry."""
        return {device_identifier(linky_device(self.key, self.prm))}

    def diagnostics(self) -> dict[str, Any]:
        """The plan and what is stored (no identifiers)."""
        return self.coordinator.diagnostics()

    async def async_shutdown(self) -> None:
        """Stop the timer, then the coordinator."""
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None
        await super().async_shutdown()
