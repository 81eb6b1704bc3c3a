"""Enedis Linky through the Conso API gateway: load curve, daily totals, peak/off-peak and cost.

Layout (the same in every provider): the provider here, the loaded entry and its step timer in
:mod:`.runtime`, the planned steps in :mod:`.coordinator`, entity descriptions in :mod:`.sensors`,
long-term statistics in :mod:`.history`, state kept on disk in :mod:`.store`. Beside them:
:mod:`.planner` (when to ask what, under the gateway's ban threshold), :mod:`.ledger` (the local
copy of the readings and its projection into hours), :mod:`.tariff` and :mod:`.options`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
import re
from typing import Any, ClassVar

import probatio as vol

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from ...api.enedis import (
    DEFAULT_BASE_URL,
    MAX_CURVE_DAYS,
    EnedisClient,
    EnedisHistoryLimitError,
    EnedisRateLimitError,
    valid_prm,
)
from ..base import FormError, Provider, Validated, base_url
from . import consent
from .coordinator import BUDGET, EnedisCoordinator
from .options import (
    CONF_PRM,
    CONF_PRODUCTION,
    CONF_TOKEN,
    options_schema,
    tariff_from,
    validate_options,
)
from .planner import RequestBudget, paris_day
from .runtime import EnedisConfigEntry, EnedisRuntime
from .store import EnedisStore


class EnedisProvider(Provider[EnedisRuntime]):
    """Enedis Linky meters (France) through the Conso API gateway."""

    key: ClassVar[str] = "enedis"
    secret_fields = (CONF_TOKEN,)
    has_base_url = True

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
        client = EnedisClient(
            async_get_clientsession(hass), token, prm, base_url=base_url(data, DEFAULT_BASE_URL)
        )
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

    async def async_remove_entry(self, hass: HomeAssistant, entry: EnedisConfigEntry) -> None:
        """Delete the local copy of the readings and the request plan."""
        await EnedisStore(hass, self.key, entry.entry_id).async_remove()
        consent.async_remove(hass, entry.entry_id)

    async def async_create_runtime(
        self, hass: HomeAssistant, entry: EnedisConfigEntry
    ) -> EnedisRuntime:
        """The client, the coordinator and the runtime; the store is read when it starts."""
        prm = entry.data[CONF_PRM]
        client = EnedisClient(
            async_get_clientsession(hass),
            entry.data[CONF_TOKEN],
            prm,
            base_url=base_url(entry.data, DEFAULT_BASE_URL),
        )
        coordinator = EnedisCoordinator(
            hass,
            entry,
            client,
            key=self.key,
            prm=prm,
            tariff=tariff_from(entry.options),
            production=bool(entry.options.get(CONF_PRODUCTION)),
        )
        return EnedisRuntime(hass, coordinator, key=self.key, prm=prm)

    def options_schema(self, options: Mapping[str, Any]) -> vol.Schema | None:
        """Off-peak windows, prices, subscription, production."""
        return options_schema()

    def validate_options(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Normalise the windows; a price for both periods (or a base price)."""
        return validate_options(options)

    def description_placeholders(self) -> dict[str, str]:
        """Where users get a token."""
        return {"gateway_url": "https://conso.boris.sh"}
