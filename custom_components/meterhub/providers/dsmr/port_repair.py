"""The fix flow of the "P1 cable not found" repair: choose the port the cable is at now.

It lists the serial ports present (as the DSMR form does), reads one telegram on the chosen port
with the entry's version and keys (the provider's own validation, as the setup and reconfigure
steps do), checks that it is the same meter, and moves the entry there: the entry reloads and
readings resume. The repair goes when the flow finishes (Home Assistant removes a fixed issue).
"""

from __future__ import annotations

from typing import Any, Final

import probatio as vol

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from ...api.dsmr import PROFILES
from ...api.errors import MeterHubApiError
from ...const import CONF_PROVIDER, LOGGER
from .. import REGISTRY
from ..base import FormError
from . import BY_ID, async_serial_ports
from .const import CONF_DSMR_VERSION, CONF_PORT

#: The validation errors the fix flow has words for (``issues.port_missing.fix_flow.error``).
_ERRORS: Final = frozenset({"cannot_connect", "no_telegram", "wrong_version", "invalid_key"})


class PortMovedRepairFlow(RepairsFlow):
    """Move a P1 entry to the port its cable is plugged into now."""

    def __init__(self, entry_id: str) -> None:
        """Fix the entry ``entry_id``."""
        self._entry_id = entry_id

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Go straight to choosing the port."""
        return await self.async_step_choose_port()

    async def async_step_choose_port(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Show the ports present; on submit, read the meter there and move the entry."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        provider = REGISTRY.get(str(entry.data.get(CONF_PROVIDER))) if entry else None
        if entry is None or provider is None:
            return self.async_abort(reason="entry_removed")
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"port": str(entry.data[CONF_PORT]), "detected": "-"}
        if user_input is not None:
            data = {**entry.data, CONF_PORT: str(user_input[CONF_PORT]).strip()}
            try:
                validated = await provider.async_validate(self.hass, data)
            except FormError as err:
                errors["base"] = err.error_key if err.error_key in _ERRORS else "unknown"
            except MeterHubApiError as err:
                LOGGER.debug("The chosen port did not answer as this meter: %s", err)
                errors["base"] = err.error_key if err.error_key in _ERRORS else "unknown"
                placeholders.update(err.placeholders)
            except Exception:
                LOGGER.exception("Unexpected error while checking the P1 cable's new port")
                errors["base"] = "unknown"
            else:
                # A meter without an equipment identifier (5S, Sagemcom T210-D-R) has a unique id
                # made from its first port: nothing tells it apart, any meter of its version goes.
                identified = PROFILES[str(entry.data[CONF_DSMR_VERSION])].identifier is not None
                if identified and validated.unique_id != entry.unique_id:
                    errors["base"] = "wrong_meter"
                else:
                    self.hass.config_entries.async_update_entry(
                        entry, data={**entry.data, **validated.data}
                    )
                    self.hass.config_entries.async_schedule_reload(entry.entry_id)
                    return self.async_create_entry(data={})
        ports = await async_serial_ports(self.hass)
        # Preselect only a cable's stable name; a bare /dev/ttyS0 is as likely a console.
        stable = [port for port in ports if port.startswith(BY_ID)]
        suggested = (user_input or {}).get(CONF_PORT) or (stable[0] if stable else None)
        schema = vol.Schema(
            {
                vol.Required(CONF_PORT, default=suggested or vol.UNDEFINED): SelectSelector(
                    SelectSelectorConfig(
                        options=ports,
                        custom_value=True,
                        mode=SelectSelectorMode.DROPDOWN,
                        sort=False,
                    )
                )
            }
        )
        return self.async_show_form(
            step_id="choose_port",
            data_schema=schema,
            errors=errors,
            description_placeholders=placeholders,
        )
