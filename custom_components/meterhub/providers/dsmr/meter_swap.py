"""The ``meter_replaced`` repair: the grid operator swapped the gas meter on an M-Bus channel.

The new meter has its own device, sensor and statistic at once; the old ones keep their history.
What Home Assistant cannot do for the user is point the energy dashboard at the new meter's gas
statistic, so the repair says to add it in the energy settings. It names the channel only (never
an equipment identifier), survives a restart (the swap is seen only once, when the new meter first
appears), and goes away when the user deletes the old meter's device, or with the entry.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ...const import DOMAIN
from ...repairs import METER_REPLACED, issue_id


@callback
def async_raise_meter_replaced(
    hass: HomeAssistant, entry_id: str, channel: int, old_device: str
) -> None:
    """Tell the user to add the new gas meter's statistic in the energy settings."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(METER_REPLACED, entry_id),
        data={"entry_id": entry_id, "old_device": old_device},
        is_fixable=False,
        is_persistent=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=METER_REPLACED,
        translation_placeholders={"channel": str(channel)},
    )


@callback
def async_resolve_meter_replaced(hass: HomeAssistant, entry_id: str, old_device: str) -> None:
    """The user deleted the replaced meter's device: the repair has served its purpose."""
    ident = issue_id(METER_REPLACED, entry_id)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, ident)
    if issue is not None and (issue.data or {}).get("old_device") == old_device:
        ir.async_delete_issue(hass, DOMAIN, ident)
