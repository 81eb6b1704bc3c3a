"""Octopus Energy (UK): half-hourly history with cost, current prices and the account balance."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any, ClassVar, Final

import probatio as vol

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from ...api.octopus import DEFAULT_BASE_URL, OctopusClient
from ..base import FormError, Provider, Validated, base_url, entry_title
from .history import DEFAULT_BACKFILL_DAYS
from .meters import GasSettings
from .runtime import OctopusConfigEntry, OctopusRuntime
from .services import async_register_services

#: Where the client connects; tests point it at a local stand-in.
API_BASE_URL: str = DEFAULT_BASE_URL

CONF_API_KEY: Final = "api_key"
CONF_ACCOUNT_NUMBER: Final = "account_number"
CONF_BACKFILL_DAYS: Final = "backfill_days"
#: The retired "my gas meter reports kWh" option: each meter now says so itself (GraphQL
#: ``consumptionUnits``). Entries that still carry it lose it when they next load.
RETIRED_GAS_REPORTS_KWH: Final = "gas_reports_kwh"
CONF_GAS_TO_KWH: Final = "gas_to_kwh"
CONF_CALORIFIC_VALUE: Final = "calorific_value"

DEFAULT_CALORIFIC_VALUE: Final = 39.5
MAX_BACKFILL_DAYS: Final = 1500
_ACCOUNT_RE: Final = re.compile(r"^A-[A-Z0-9]{4,12}$")


def gas_settings(options: Mapping[str, Any]) -> GasSettings:
    """The gas options of an entry (conversion of m³ meters to kWh)."""
    return GasSettings(
        convert_to_kwh=bool(options.get(CONF_GAS_TO_KWH, False)),
        calorific_value=float(options.get(CONF_CALORIFIC_VALUE, DEFAULT_CALORIFIC_VALUE)),
    )


class OctopusProvider(Provider[OctopusRuntime]):
    """An Octopus account: API key and account number."""

    key: ClassVar[str] = "octopus"
    secret_fields = (CONF_API_KEY,)
    has_base_url = True

    async def async_schema(self, hass: HomeAssistant, defaults: Mapping[str, Any]) -> vol.Schema:
        """API key and account number."""
        return vol.Schema(
            {
                vol.Required(CONF_API_KEY): cv.string,
                vol.Required(CONF_ACCOUNT_NUMBER): cv.string,
            }
        )

    async def async_validate(self, hass: HomeAssistant, data: Mapping[str, Any]) -> Validated:
        """Read the account with the key: a wrong key or unknown account is a form error."""
        account_number = str(data[CONF_ACCOUNT_NUMBER]).strip().upper()
        if not _ACCOUNT_RE.match(account_number):
            raise FormError(CONF_ACCOUNT_NUMBER, "invalid_account")
        api_key = str(data[CONF_API_KEY]).strip()
        client = OctopusClient(
            async_get_clientsession(hass), api_key, base_url=base_url(data, API_BASE_URL)
        )
        await client.async_get_account(account_number)
        return Validated(
            title=entry_title(hass, self.key, "Octopus Energy", account_number),
            unique_id=account_number,
            data={CONF_API_KEY: api_key, CONF_ACCOUNT_NUMBER: account_number},
        )

    async def async_create_runtime(
        self, hass: HomeAssistant, entry: OctopusConfigEntry
    ) -> OctopusRuntime:
        """The client and the runtime; it reads the account when it starts.

        An entry made before the meters' own units were read still carries the retired gas-unit
        option: it is dropped here (no request, no reload). Statistic ids do not change for a
        meter the option described rightly: a kWh meter keeps ``..._consumption``, an m³ meter
        ``..._volume``, and their sums continue.
        """
        if entry.unique_id and entry.unique_id in entry.title:
            # Titles once carried the account number; Home Assistant logs titles and writes them
            # into repairs (issue 23), so an older entry gets the neutral one, once.
            hass.config_entries.async_update_entry(
                entry, title=entry_title(hass, self.key, "Octopus Energy", entry.unique_id)
            )
        if RETIRED_GAS_REPORTS_KWH in entry.options:
            hass.config_entries.async_update_entry(
                entry,
                options={k: v for k, v in entry.options.items() if k != RETIRED_GAS_REPORTS_KWH},
            )
        client = OctopusClient(
            async_get_clientsession(hass),
            entry.data[CONF_API_KEY],
            base_url=base_url(entry.data, API_BASE_URL),
        )
        return OctopusRuntime(
            hass,
            entry,
            client,
            key=self.key,
            gas=gas_settings(entry.options),
            backfill_days=int(entry.options.get(CONF_BACKFILL_DAYS, DEFAULT_BACKFILL_DAYS)),
        )

    @callback
    def async_setup(self, hass: HomeAssistant) -> None:
        """Register ``meterhub.refresh_history`` when the integration loads."""
        async_register_services(hass, self.key)

    def options_schema(self, options: Mapping[str, Any]) -> vol.Schema | None:
        """Backfill depth, and whether m³ gas meters are converted to kWh."""
        return vol.Schema(
            {
                vol.Optional(CONF_BACKFILL_DAYS, default=DEFAULT_BACKFILL_DAYS): vol.All(
                    vol.Coerce(int), vol.Range(min=1, max=MAX_BACKFILL_DAYS)
                ),
                vol.Optional(CONF_GAS_TO_KWH, default=False): cv.boolean,
                vol.Optional(CONF_CALORIFIC_VALUE, default=DEFAULT_CALORIFIC_VALUE): vol.All(
                    vol.Coerce(float), vol.Range(min=30.0, max=50.0)
                ),
            }
        )
