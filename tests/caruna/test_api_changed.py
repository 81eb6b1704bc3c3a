"""Caruna Plus answers energy in a changed shape: one repair, nothing booked, sensors unavailable;
once it answers as before the repair goes and the hours measured meanwhile are booked."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.meterhub.providers.caruna import CarunaProvider
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant

from ..api_changed import assert_api_changed_shown, issue_creations, our_issues
from ..helpers import changes
from .standin import ASSET_1, GSRN_1, GSRN_2, OWN, Portal, local_day_hours
from .test_provider import CONSUMPTION_1, NOW, YESTERDAY, add_entry, kwh, points, seed

YESTERDAY_SENSOR = "sensor.caruna_metering_point_0001_yesterday_s_consumption"


@pytest.fixture
def seeded_portal(
    portal: Portal, provider: CarunaProvider, freezer: FrozenDateTimeFactory
) -> Portal:
    """The portal of test_provider's scenarios, at their "now"."""
    freezer.move_to(NOW)
    seed(portal)
    return portal


@pytest.mark.parametrize("change", ["renamed", "text"])
async def test_changed_energy_raises_one_repair_and_is_booked_after(
    hass: HomeAssistant, seeded_portal: Portal, change: str
) -> None:
    seeded = seeded_portal
    entry = await add_entry(hass)
    coordinator = points(entry)[0]
    before = await changes(hass, CONSUMPTION_1)
    late = local_day_hours(YESTERDAY)[-4:]  # not measured yet at setup

    seeded.changed_shape = change
    for hour in late:  # measured while the answers are changed
        seeded.hours[ASSET_1][hour] = kwh(hour)
    with issue_creations(hass) as created:
        await coordinator.async_refresh()
        await coordinator.async_refresh()
        await hass.async_block_till_done()
    assert not coordinator.last_update_success
    assert created == [f"api_changed_{entry.entry_id}"]  # once, not per refresh
    placeholders = await assert_api_changed_shown(hass, entry, secrets=(OWN, GSRN_1, GSRN_2))
    assert placeholders["what"].startswith("energy ([")
    assert hass.states.get(YESTERDAY_SENSOR).state == STATE_UNAVAILABLE
    assert await changes(hass, CONSUMPTION_1) == before  # nothing half-read booked

    seeded.changed_shape = None
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert coordinator.last_update_success
    assert our_issues(hass) == {}
    after = await changes(hass, CONSUMPTION_1)
    assert [after.get(hour) for hour in late] == [kwh(hour) for hour in late]
    assert float(hass.states.get(YESTERDAY_SENSOR).state) == pytest.approx(
        sum(kwh(hour) for hour in local_day_hours(YESTERDAY)), abs=1e-3
    )
