"""A Caruna entry from before issue 23: entity ids with the street address, renamed on request."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers.caruna import CarunaProvider
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component

from ..helpers import seed_legacy_device
from .standin import GSRN_1, GSRN_2, OWN, PASSWORD, USERNAME, Portal
from .test_provider import NOW, seed

SENSORS = {
    "yesterday_consumption": "Yesterday's consumption",
    "yesterday_cost": "Yesterday's cost",
    "last_data": "Last data",
    "fuse_size": "Fuse size",
}


@pytest.fixture
def seeded(portal: Portal, provider: CarunaProvider, freezer: FrozenDateTimeFactory) -> Portal:
    freezer.move_to(NOW)
    seed(portal)
    return portal


def seed_as_before(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Devices named after the address, and the entity ids Home Assistant made from them."""
    entities = er.async_get(hass)
    for gsrn, name in ((GSRN_1, "Caruna Esimerkkitie 1"), (GSRN_2, "Caruna Mökkitie 7")):
        seed_legacy_device(hass, entry, f"caruna_{gsrn}", name, SENSORS)
    assert "sensor.caruna_mokkitie_7_fuse_size" in entities.entities
    # the user renamed one themselves: theirs to keep
    entities.async_update_entity(
        "sensor.caruna_esimerkkitie_1_fuse_size", new_entity_id="sensor.home_fuse"
    )


async def test_address_ids_keep_working_and_are_renamed_on_request(
    hass: HomeAssistant, seeded: Portal
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Caruna Plus",
        unique_id=OWN,
        data={"provider": "caruna", "username": USERNAME, "password": PASSWORD},
    )
    entry.add_to_hass(hass)
    seed_as_before(hass, entry)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    state = hass.states.get("sensor.caruna_esimerkkitie_1_yesterday_s_consumption")
    assert state is not None
    assert state.attributes["friendly_name"] == "Caruna metering point 0001 Yesterday's consumption"
    names = {d.name for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)}
    assert names == {"Caruna metering point 0001", "Caruna metering point 0002"}

    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"private_entity_ids_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "private_entity_ids_address"
    assert issue.translation_placeholders == {"source": "Caruna Plus", "count": "7"}

    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, context={"issue_id": issue.issue_id})
    assert result["description_placeholders"] == {
        "count": "7",
        "example": "sensor.caruna_metering_point_0001_last_data",
    }
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    ids = {
        e.entity_id for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    assert ids == {
        "sensor.home_fuse",
        "sensor.caruna_metering_point_0001_yesterday_s_consumption",
        "sensor.caruna_metering_point_0001_yesterday_s_cost",
        "sensor.caruna_metering_point_0001_last_data",
        "sensor.caruna_metering_point_0002_yesterday_s_consumption",
        "sensor.caruna_metering_point_0002_yesterday_s_cost",
        "sensor.caruna_metering_point_0002_last_data",
        "sensor.caruna_metering_point_0002_fuse_size",
    }
    assert hass.states.get("sensor.caruna_metering_point_0002_fuse_size") is not None

    # A second confirmation (another tab) finds nothing left to do.
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue.issue_id,
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key="private_entity_ids_address",
        translation_placeholders={"source": "Caruna Plus", "count": "7"},
        data={"entry_id": entry.entry_id},
    )
    result = await manager.async_init(DOMAIN, context={"issue_id": issue.issue_id})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "nothing_to_rename"
