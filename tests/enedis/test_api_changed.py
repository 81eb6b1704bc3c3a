"""Enedis changes its answers' shape: one repair, nothing booked, and a backfill once it is back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.meterhub.const import DOMAIN
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from ..api_changed import assert_api_changed_shown, issue_creations, our_issues
from ..helpers import changes
from .conftest import add_entry, advance, day_changes, stat_id
from .standin import PRM, TOKEN, FakeGateway

START = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)  # 09:00 in Paris


@pytest.fixture(autouse=True)
async def paris(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("Europe/Paris")


def yesterday_entity(hass: HomeAssistant) -> str:
    found = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"enedis_{PRM}_yesterday_consumption"
    )
    assert found is not None
    return found


@pytest.mark.parametrize("change", ["renamed", "text", "unit"])
async def test_changed_shape_raises_one_repair_books_nothing_and_backfills_after(
    hass: HomeAssistant,
    gateway: FakeGateway,
    freezer: FrozenDateTimeFactory,
    change: str,
) -> None:
    freezer.move_to(START)
    gateway.curve_from = date(2026, 6, 3)
    gateway.changed_shape = change
    with issue_creations(hass) as created:
        entry = await add_entry(hass)
        await advance(hass, freezer, timedelta(hours=3))  # several failed steps
    assert len(gateway.requests) >= 2
    assert created == [f"api_changed_{entry.entry_id}"]  # raised once, not per poll
    placeholders = await assert_api_changed_shown(hass, entry, secrets=(PRM, TOKEN))
    assert placeholders["what"].startswith("consommation_quotidienne") or placeholders[
        "what"
    ].startswith("measurement")
    assert hass.states.get(yesterday_entity(hass)).state == STATE_UNAVAILABLE
    assert await changes(hass, stat_id("consumption")) == {}  # nothing half-read was imported

    gateway.changed_shape = None
    await advance(hass, freezer, timedelta(hours=6))
    assert our_issues(hass) == {}
    assert hass.states.get(yesterday_entity(hass)).state == "24.0"
    daily = await day_changes(hass, "consumption", date(2026, 5, 1), date(2026, 6, 9))
    assert len(daily) == 40  # the whole gap, from where statistics stop (none) to yesterday
    assert set(daily.values()) == {24.0}
