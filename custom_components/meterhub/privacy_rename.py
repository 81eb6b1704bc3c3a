"""Entity ids that older versions built from an identifier, renamed when the user says so (issue 23).

Home Assistant makes an entity's id once, from its device's name when the entity is first added,
and keeps it. Before issue 23 an Octopus device was named after its meter serial ("Electricity
meter 21L0000001") and a Caruna one after its street address, so the entities of those entries
still have ids such as ``sensor.electricity_meter_21l0000001_current_unit_rate``, which show up in
every automation, dashboard or log a user shares. Device names no longer carry them; new entries
get ids without them.

Renaming ids silently would break the user's automations and dashboards, so an entry whose ids
still hold an identifier gets one fixable repair. Its confirm step renames those ids through the
entity registry to the id Home Assistant would make now (what its own "recreate entity ids" does);
the recorder moves the history and the long-term statistics of a renamed entity with it. Ids the
user changed themselves are left alone: only an id exactly as the old name made it (with Home
Assistant's ``_2`` for a clash) is renamed. Ignoring the repair keeps everything working.

Unique ids, device identifiers and our external statistic ids keep the identifiers: Home Assistant
shows none of them, and they are what users' configurations and long-term history hang on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import re
from typing import TYPE_CHECKING, Any, Literal

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.util import slugify

from .const import DOMAIN
from .repairs import (
    LEGACY_NAMES_KEY as _DATA_KEY,
    PRIVATE_ENTITY_IDS,
    async_source_placeholders,
    issue_id,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant


@dataclass(frozen=True, kw_only=True)
class LegacyName:
    """The name a device had when its entities got their ids, and the private part of it."""

    name: str
    private: str


@dataclass(frozen=True, kw_only=True)
class LegacyNames:
    """What a runtime knows of its devices' older names (see ``ProviderRuntime.legacy_names``).

    ``what`` chooses the repair's words (``private_entity_ids_<what>`` in strings.json):
    ``serial`` for a meter serial number, ``address`` for a street address.
    """

    what: Literal["serial", "address"]
    #: Meter Hub device identifier -> its older name.
    devices: Mapping[str, LegacyName]


def _older_name(device: dr.BaseDeviceEntry | None, legacy: LegacyNames) -> LegacyName | None:
    if device is None:
        return None
    for domain, identifier in device.identifiers:
        if domain == DOMAIN and identifier in legacy.devices:
            return legacy.devices[identifier]
    return None


def planned_renames(hass: HomeAssistant, entry_id: str, legacy: LegacyNames) -> dict[str, str]:
    """Old entity id -> new one, for the entry's entities whose id an older name made.

    An id is ours to rename only if it is exactly what the older device name and the entity's
    own name made (``_<n>`` allowed: Home Assistant's answer to a clash); anything else the user
    chose. The new id is the one Home Assistant makes for the entity now, and must not hold the
    private part either (a device the user renamed after it, say).
    """
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    plan: dict[str, str] = {}
    reserved: set[str] = set()
    for entity in er.async_entries_for_config_entry(entities, entry_id):
        if entity.device_id is None or not entity.object_id_base:
            continue
        older = _older_name(devices.async_get(entity.device_id), legacy)
        private = slugify(older.private) if older is not None else ""
        if older is None or not private:
            continue
        made = slugify(f"{older.name} {entity.object_id_base}")
        object_id = entity.entity_id.split(".", 1)[1]
        if private not in made or not re.fullmatch(rf"{re.escape(made)}(_\d+)?", object_id):
            continue
        new_id = entities.async_regenerate_entity_id(entity, reserved_entity_ids=reserved)
        if new_id == entity.entity_id or private in new_id:
            continue
        plan[entity.entity_id] = new_id
        reserved.add(new_id)
    return plan


async def async_offer_renames(
    hass: HomeAssistant, entry: ConfigEntry[Any], legacy: LegacyNames | None
) -> None:
    """Raise the entry's repair if some of its entity ids hold an identifier; else remove it.

    Called once the entry's entities are registered. The repair's text names the source and how
    many sensors, never an id (the old ones hold what must not be shown).
    """
    hass.data.setdefault(_DATA_KEY, {})[entry.entry_id] = legacy
    plan = planned_renames(hass, entry.entry_id, legacy) if legacy is not None else {}
    issue = issue_id(PRIVATE_ENTITY_IDS, entry.entry_id)
    if not plan or legacy is None:
        ir.async_delete_issue(hass, DOMAIN, issue)
        return
    placeholders = await async_source_placeholders(hass, entry)
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue,
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=f"{PRIVATE_ENTITY_IDS}_{legacy.what}",
        translation_placeholders={"source": placeholders["source"], "count": str(len(plan))},
        data={"entry_id": entry.entry_id, "cause": PRIVATE_ENTITY_IDS},
    )


def current_plan(hass: HomeAssistant, entry_id: str) -> dict[str, str]:
    """The renames the entry's repair would make now (empty once there is nothing to do)."""
    legacy: LegacyNames | None = hass.data.get(_DATA_KEY, {}).get(entry_id)
    return planned_renames(hass, entry_id, legacy) if legacy is not None else {}


def apply_renames(hass: HomeAssistant, plan: Mapping[str, str]) -> None:
    """Rename the entity ids through the registry; history and statistics move with them."""
    entities = er.async_get(hass)
    for old_id, new_id in plan.items():
        if entities.async_get(old_id) is not None:
            entities.async_update_entity(old_id, new_entity_id=new_id)


class RenameEntityIdsFlow(RepairsFlow):
    """The repair's one step: say what changes and what the user must update, then rename."""

    def __init__(self, entry_id: str) -> None:
        """The flow of one entry's repair."""
        self.entry_id = entry_id

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        """Go straight to the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Show how many sensors change and one new id; rename on submit."""
        plan = current_plan(self.hass, self.entry_id)
        if not plan:
            return self.async_abort(reason="nothing_to_rename")
        if user_input is not None:
            apply_renames(self.hass, plan)
            return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="confirm",
            description_placeholders={
                "count": str(len(plan)),
                "example": sorted(plan.values())[0],
            },
        )
