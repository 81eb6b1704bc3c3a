"""An Octopus entry from before issue 23: entity ids with the meter serial, renamed on request.

The entry's registry is written as an older version left it: devices named after the serial
("Electricity meter 21L0000001") and entity ids Home Assistant made from those names. Setting it
up must keep every id working, raise one fixable repair whose text holds no serial, and the
repair's confirm step must rename exactly the ids made from the old names (not the one the user
chose), with the recorder's history and statistics following the rename.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.meterhub.const import DOMAIN
from homeassistant.components.recorder import get_instance, history
from homeassistant.components.recorder.models import StatisticData, StatisticMeanType
from homeassistant.components.recorder.statistics import (
    StatisticMetaData,
    async_import_statistics,
    statistics_during_period,
)
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component

from ..helpers import seed_legacy_device
from .conftest import EXPORT_MPAN, MPAN, MPRN, NOW, fill_standard
from .standin import ACCOUNT, GOOD_KEY, FakeOctopus

OLD_RATE = "sensor.electricity_meter_21l0000001_current_unit_rate"
OLD_STANDING = "sensor.electricity_meter_21l0000001_standing_charge_per_day"
OLD_GAS_RATE = "sensor.gas_meter_g4p0000001_current_unit_rate"
#: An id the user chose themselves (with the serial in it): it is theirs to keep.
USERS_OWN = "sensor.my_octopus_21l0000001_next_change"
RENAMED = {
    OLD_RATE: "sensor.electricity_meter_current_unit_rate",
    OLD_STANDING: "sensor.electricity_meter_standing_charge_per_day",
    OLD_GAS_RATE: "sensor.gas_meter_current_unit_rate",
}
SERIALS = ("21L0000001", "G4P0000001")


def seed_as_before(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Devices and entities as a version before issue 23 registered them."""
    entities = er.async_get(hass)
    seeds: dict[tuple[str, str], dict[str, str]] = {
        (f"octopus_{MPAN}_21l0000001", "Electricity meter 21L0000001"): {
            "current_unit_rate": "Current unit rate",
            "standing_charge": "Standing charge per day",
            "next_rate_change": "Next rate change",
        },
        (f"octopus_{MPRN}_g4p0000001", "Gas meter G4P0000001"): {
            "current_unit_rate": "Current unit rate",
        },
    }
    for (identifier, name), sensors in seeds.items():
        seed_legacy_device(hass, entry, identifier, name, sensors)
    made = "sensor.electricity_meter_21l0000001_next_rate_change"
    assert {OLD_RATE, OLD_STANDING, OLD_GAS_RATE, made} <= set(entities.entities)
    entities.async_update_entity(made, new_entity_id=USERS_OWN)


def rate_statistic(statistic_id: str) -> tuple[StatisticMetaData, list[StatisticData]]:
    """An hour of the rate sensor's long-term statistics, as the recorder would keep them."""
    meta = StatisticMetaData(
        source="recorder",
        statistic_id=statistic_id,
        name=None,
        unit_of_measurement="GBP/kWh",
        unit_class=None,
        mean_type=StatisticMeanType.ARITHMETIC,
        has_sum=False,
    )
    start = (NOW - timedelta(days=1)).replace(minute=0)
    return meta, [StatisticData(start=start, mean=0.245, min=0.245, max=0.245)]


async def recorded(hass: HomeAssistant, entity_id: str) -> tuple[list[Any], dict[str, Any]]:
    """The entity's state history and long-term statistics as the recorder has them."""
    await async_wait_recording_done(hass)
    start = NOW - timedelta(days=2)

    def read() -> tuple[list[Any], dict[str, Any]]:
        states = history.get_significant_states(
            hass, start, None, [entity_id], significant_changes_only=False
        ).get(entity_id, [])
        stats = statistics_during_period(hass, start, None, {entity_id}, "hour", None, {"mean"})
        return states, stats

    return await get_instance(hass).async_add_executor_job(read)


async def rendered(hass: HomeAssistant, key: str, placeholders: dict[str, str]) -> str:
    """A text of our issues in English, placeholders filled, as a user reads it."""
    texts = await async_get_translations(hass, "en", "issues", {DOMAIN})
    return texts[f"component.{DOMAIN}.issues.{key}"].format(**placeholders)


async def test_older_ids_keep_working_and_are_renamed_on_request(
    hass: HomeAssistant, octopus: FakeOctopus, london: None
) -> None:
    fill_standard(octopus)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ACCOUNT,
        title="Octopus Energy",
        data={"provider": "octopus", "api_key": GOOD_KEY, "account_number": ACCOUNT},
    )
    entry.add_to_hass(hass)
    seed_as_before(hass, entry)
    async_import_statistics(hass, *rate_statistic(OLD_RATE))

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED

    # Nothing breaks: the old ids still work, but names no longer carry the serial.
    state = hass.states.get(OLD_RATE)
    assert state is not None
    assert float(state.state) > 0
    assert state.attributes["friendly_name"] == "Electricity meter Current unit rate"
    assert hass.states.get(USERS_OWN) is not None
    devices = dr.async_get(hass)
    device = devices.async_get_device_by_identifier(
        (DOMAIN, f"octopus_{MPAN}_21l0000001"), entry.entry_id
    )
    assert device is not None
    assert device.name == "Electricity meter"
    assert device.serial_number == "21L0000001"
    # sensors of the meter new to this entry got ids without the serial at once
    assert hass.states.get("sensor.electricity_export_meter_current_unit_rate") is not None
    assert {s.entity_id for s in hass.states.async_all() if "21l0000001" in s.entity_id} == {
        OLD_RATE,
        OLD_STANDING,
        USERS_OWN,
    }
    states_before, stats_before = await recorded(hass, OLD_RATE)
    assert states_before
    assert stats_before[OLD_RATE]

    # One repair, in words that name the source and the number of sensors, not the serial.
    issues = [issue for (domain, _), issue in ir.async_get(hass).issues.items() if domain == DOMAIN]
    assert len(issues) == 1
    issue = issues[0]
    assert issue.is_fixable
    assert issue.issue_id == f"private_entity_ids_{entry.entry_id}"
    assert issue.translation_placeholders == {"source": "Octopus Energy", "count": "3"}
    title = await rendered(hass, "private_entity_ids_serial.title", issue.translation_placeholders)
    assert title == "Octopus Energy sensor ids contain your meter serial number"

    # The user confirms it, as the repairs dialog does.
    entities = er.async_get(hass)
    unique_ids = {old: entities.async_get(old).unique_id for old in RENAMED}  # type: ignore[union-attr]
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, context={"issue_id": issue.issue_id})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    placeholders = result["description_placeholders"]
    assert placeholders == {"count": "3", "example": "sensor.electricity_meter_current_unit_rate"}
    description = await rendered(
        hass, "private_entity_ids_serial.fix_flow.step.confirm.description", placeholders
    )
    assert "must then be updated" in description
    for serial in SERIALS:
        assert serial.lower() not in f"{title} {description}".lower()
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    for old, new in RENAMED.items():
        assert entities.async_get(old) is None, old
        renamed = entities.async_get(new)
        assert renamed is not None, new
        assert renamed.unique_id == unique_ids[old]  # unique ids never change
        assert hass.states.get(new) is not None
    assert entities.async_get(USERS_OWN) is not None  # the user's own id is left alone
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id)

    # The history and the long-term statistics moved with the ids.
    hass.states.async_set(RENAMED[OLD_RATE], "0.3", {"unit_of_measurement": "GBP/kWh"})
    states_after, stats_after = await recorded(hass, RENAMED[OLD_RATE])
    assert [s.state for s in states_before] == [s.state for s in states_after][: len(states_before)]
    assert stats_after[RENAMED[OLD_RATE]] == stats_before[OLD_RATE]
    _, old_stats = await recorded(hass, OLD_RATE)
    assert not old_stats

    # The next start finds nothing left to rename; the statistic ids of the meters never changed.
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id)
    assert hass.states.get(RENAMED[OLD_RATE]) is not None
    assert f"octopus_{EXPORT_MPAN}_21l0000001" in {
        ident
        for d in dr.async_entries_for_config_entry(devices, entry.entry_id)
        for _, ident in d.identifiers
    }


async def test_a_new_entry_gets_no_repair(
    hass: HomeAssistant, octopus: FakeOctopus, london: None
) -> None:
    fill_standard(octopus)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ACCOUNT,
        title="Octopus Energy",
        data={"provider": "octopus", "api_key": GOOD_KEY, "account_number": ACCOUNT},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not [domain for domain, _ in ir.async_get(hass).issues if domain == DOMAIN]
    ids = [
        e.entity_id for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    ]
    assert ids
    assert not [i for i in ids if "21l0000001" in i or "g4p0000001" in i]


async def test_two_meters_of_a_kind_are_told_apart_by_the_serials_last_four(
    hass: HomeAssistant, octopus: FakeOctopus, london: None
) -> None:
    fill_standard(octopus)
    points = octopus.accounts[ACCOUNT]["properties"][0]["electricity_meter_points"]
    points[0]["meters"].append({"serial_number": "21L0004242", "registers": []})
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ACCOUNT,
        title="Octopus Energy",
        data={"provider": "octopus", "api_key": GOOD_KEY, "account_number": ACCOUNT},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    names = sorted(
        d.name or "" for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    )
    assert names == [
        "Electricity export meter",
        "Electricity meter 0001",
        "Electricity meter 4242",
        "Gas meter",
        "Octopus Energy account",
    ]
    assert hass.states.get("sensor.electricity_meter_4242_current_unit_rate") is not None
    assert hass.states.get("sensor.electricity_meter_0001_current_unit_rate") is not None
