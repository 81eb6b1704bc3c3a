"""Korto answers its meters in a changed shape: one repair, nothing booked, sensors unavailable;
once it answers as before the repair goes and the reading that came meanwhile is booked."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.meterhub.const import DOMAIN
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from ..api_changed import assert_api_changed_shown, issue_creations, our_issues
from ..helpers import changes
from .conftest import setup_korto
from .standin import APARTMENT_ID, GOOD_TOKEN, KortoStandIn

pytestmark = pytest.mark.usefixtures("korto_provider")

TALLINN = ZoneInfo("Europe/Tallinn")
COLD = "meterhub:korto_101_consumption"


@pytest.fixture(autouse=True)
async def tallinn(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to("2027-01-15 12:00:00+00:00")
    await hass.config.async_set_time_zone("Europe/Tallinn")


async def poll(hass: HomeAssistant) -> None:
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await entry.runtime_data.meters.async_refresh()
    await hass.async_block_till_done()


def reading_date(hass: HomeAssistant) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"korto_{APARTMENT_ID}_101_reading_date"
    )
    assert entity_id is not None
    return hass.states.get(entity_id).state


@pytest.mark.parametrize("change", ["renamed", "text"])
async def test_changed_meters_raise_one_repair_and_are_booked_after(
    hass: HomeAssistant, korto: KortoStandIn, change: str
) -> None:
    korto.set_reading("101", "100,0", "25.09.2026")
    entry = await setup_korto(hass)
    baseline = await changes(hass, COLD)

    korto.changed_shape = change
    korto.set_reading("101", "110,5", "25.10.2026")  # read while the answers are changed
    with issue_creations(hass) as created:
        await poll(hass)
        await poll(hass)
    assert created == [f"api_changed_{entry.entry_id}"]  # once, not per poll
    placeholders = await assert_api_changed_shown(hass, entry, secrets=(GOOD_TOKEN, APARTMENT_ID))
    assert placeholders["what"] == "meters (meters[0].reading)"
    assert reading_date(hass) == STATE_UNAVAILABLE
    assert await changes(hass, COLD) == baseline  # nothing half-read booked

    korto.changed_shape = None
    await poll(hass)
    assert our_issues(hass) == {}
    assert reading_date(hass) == "2026-10-25"
    booked = await changes(hass, COLD)
    october = datetime(2026, 10, 25, tzinfo=TALLINN).astimezone(UTC)
    assert booked[october] == pytest.approx(10.5)
