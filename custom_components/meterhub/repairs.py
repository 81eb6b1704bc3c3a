"""Repair issues: what broke at a source, in plain words, with what to do.

Each issue belongs to one entry and one cause (``<cause>_<entry id>``). It is raised once: the
issue registry keeps a single issue per id however often a poll reports it, so a user is not
notified every five minutes. It goes away by itself once the cause is gone, that is once every
source (coordinator, reader) that reported it has succeeded since. Causes:

- ``api_changed``: the provider answered in a shape this version does not read (its API changed);
  the text names the source, the Meter Hub version and the issue tracker.
- ``history_stalled``: a source that fills long-term statistics has failed for more than a day;
  the text gives the last hour that is in, so the user knows how far the dashboard goes.
- ``home_mini_quiet``: a live source (an Octopus Home Mini) has sent no reading for hours while
  its provider answers normally; the text says what to check. Raised by the provider's telemetry
  coordinator, which alone can tell a quiet device from a provider that is down.
- ``private_entity_ids``: entity ids an older version made from a meter serial or an address;
  the one fixable issue: its flow renames them (``privacy_rename.py``).
- ``port_missing``: the serial device of a P1 cable has been gone for longer than a USB
  re-enumeration takes (the cable was unplugged or moved to another port). It is fixable: its
  fix flow (this module is Home Assistant's ``repairs`` platform of Meter Hub, see
  :func:`async_create_fix_flow`) lists the serial ports present and moves the entry to the
  chosen one.
- ``meter_replaced``: the grid operator swapped the gas meter on a P1 meter's M-Bus channel; the
  text says to add the new meter's gas statistic in the energy settings
  (``providers/dsmr/meter_swap.py``).

Rejected credentials need no issue of ours: Home Assistant raises its own "reauthentication
required" repair with the reauth flow and removes it when the flow succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from homeassistant.loader import async_get_integration
from homeassistant.util import dt as dt_util

from .const import CONF_PROVIDER, DOMAIN

if TYPE_CHECKING:
    from homeassistant.components.repairs import RepairsFlow
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

    from .api.errors import ApiSchemaError

API_CHANGED: Final = "api_changed"
HISTORY_STALLED: Final = "history_stalled"
HOME_MINI_QUIET: Final = "home_mini_quiet"
PRIVATE_ENTITY_IDS: Final = "private_entity_ids"
PORT_MISSING: Final = "port_missing"
METER_REPLACED: Final = "meter_replaced"
#: Every cause an entry can have an issue for (removed with the entry).
CAUSES: Final = (
    API_CHANGED,
    HISTORY_STALLED,
    HOME_MINI_QUIET,
    PRIVATE_ENTITY_IDS,
    PORT_MISSING,
    METER_REPLACED,
)

_DATA_KEY: Final = f"{DOMAIN}_problems"
#: Where ``privacy_rename`` keeps each loaded entry's older device names.
LEGACY_NAMES_KEY: Final = f"{DOMAIN}_legacy_names"


def issue_id(cause: str, entry_id: str) -> str:
    """The issue registry id of one cause on one entry."""
    return f"{cause}_{entry_id}"


@dataclass
class EntryProblems:
    """What is wrong with one entry right now, per cause, and who reported it."""

    entry_id: str
    #: cause -> the sources reporting it now.
    reporting: dict[str, set[str]] = field(default_factory=dict)
    #: The last answer the client did not understand, as a shape without values (diagnostics).
    last_schema_error: dict[str, Any] | None = None

    def report(
        self,
        hass: HomeAssistant,
        cause: str,
        source: str,
        placeholders: dict[str, str],
        *,
        learn_more_url: str | None = None,
        severity: ir.IssueSeverity = ir.IssueSeverity.ERROR,
        is_fixable: bool = False,
    ) -> None:
        """Raise (or refresh the text of) the cause's issue on behalf of ``source``.

        A fixable issue carries the entry id, which its fix flow needs.
        """
        self.reporting.setdefault(cause, set()).add(source)
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id(cause, self.entry_id),
            data={"entry_id": self.entry_id, "cause": cause} if is_fixable else None,
            is_fixable=is_fixable,
            is_persistent=False,
            learn_more_url=learn_more_url,
            severity=severity,
            translation_key=cause,
            translation_placeholders=placeholders,
        )

    def reports(self, cause: str, source: str) -> bool:
        """Whether ``source`` reports ``cause`` now (to raise an issue once, not every poll)."""
        return source in self.reporting.get(cause, ())

    def resolve(self, hass: HomeAssistant, cause: str, source: str) -> None:
        """``source`` is fine again; the issue goes once no source reports the cause.

        Also removes an issue left from before a restart, which no source reports any more.
        """
        sources = self.reporting.get(cause)
        if sources:
            sources.discard(source)
            if sources:
                return
        ir.async_delete_issue(hass, DOMAIN, issue_id(cause, self.entry_id))

    def remember_schema_error(self, err: ApiSchemaError) -> None:
        """Keep the answer's shape for diagnostics, so a bug report can carry it."""
        self.last_schema_error = {
            "at": dt_util.utcnow().isoformat(),
            "what": err.what,
            "expected": err.expected,
            "received": err.received,
        }


def entry_problems(hass: HomeAssistant, entry_id: str) -> EntryProblems:
    """The problem record of one entry (made on first use; it lives as long as Home Assistant)."""
    records: dict[str, EntryProblems] = hass.data.setdefault(_DATA_KEY, {})
    if entry_id not in records:
        records[entry_id] = EntryProblems(entry_id)
    return records[entry_id]


def async_remove_entry_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Remove every issue of an entry that is deleted: nothing is left to repair."""
    for cause in CAUSES:
        ir.async_delete_issue(hass, DOMAIN, issue_id(cause, entry_id))
    hass.data.get(_DATA_KEY, {}).pop(entry_id, None)
    hass.data.get(LEGACY_NAMES_KEY, {}).pop(entry_id, None)


async def async_source_placeholders(hass: HomeAssistant, entry: ConfigEntry[Any]) -> dict[str, str]:
    """The placeholders every issue text has: the source's name, Meter Hub's version and tracker.

    The source's name is its label in the Add-integration menu, in the user's language.
    """
    key = str(entry.data.get(CONF_PROVIDER, ""))
    labels = await async_get_translations(hass, hass.config.language, "config", {DOMAIN})
    integration = await async_get_integration(hass, DOMAIN)
    return {
        "source": labels.get(f"component.{DOMAIN}.config.step.user.menu_options.{key}", key),
        "version": str(integration.version),
        "issue_tracker": integration.issue_tracker or "",
    }


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The fix flow of a fixable issue (Home Assistant's repairs platform calls this).

    Two causes are fixable: ``port_missing`` (pick the P1 cable's new port) and
    ``private_entity_ids`` (rename the sensor ids). Imported here, not at the top: both modules
    import this one.
    """
    from .privacy_rename import RenameEntityIdsFlow  # noqa: PLC0415
    from .providers.dsmr.port_repair import PortMovedRepairFlow  # noqa: PLC0415

    cause = (data or {}).get("cause", PRIVATE_ENTITY_IDS)
    entry_id = str((data or {}).get("entry_id", ""))
    if cause == PORT_MISSING:
        return PortMovedRepairFlow(entry_id)
    if cause == PRIVATE_ENTITY_IDS:
        return RenameEntityIdsFlow(entry_id)
    raise ValueError(f"issue {issue_id} has no fix flow")
