"""Fixtures for the Enedis tests: the stand-in gateway and helpers to drive time and read stats."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.meterhub.const import DOMAIN
from homeassistant.core import HomeAssistant

from ..helpers import changes, statistic_rows
from .standin import PARIS, PRM, TOKEN, FakeGateway, local_midnight, start_standin


@pytest.fixture
def gateway(aioclient_mock: AiohttpClientMocker) -> FakeGateway:
    return start_standin(aioclient_mock)


def stat_id(quantity: str) -> str:
    return f"meterhub:enedis_{PRM}_{quantity}"


async def add_entry(
    hass: HomeAssistant, options: Mapping[str, Any] | None = None
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=PRM,
        title="Linky …1234",
        data={"provider": "enedis", "token": TOKEN, "prm": PRM},
        options=dict(options or {}),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def advance(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    total: timedelta,
    step: timedelta = timedelta(minutes=10),
) -> None:
    """Let time pass in steps, firing timers as Home Assistant would."""
    end = datetime.now(UTC) + total
    while datetime.now(UTC) < end:
        freezer.tick(min(step, end - datetime.now(UTC)))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


async def sums(hass: HomeAssistant, quantity: str) -> dict[datetime, float]:
    """The running total of a series at every hour, by UTC hour start."""
    rows = await statistic_rows(
        hass, stat_id(quantity), {"sum"}, start=datetime(2024, 1, 1, tzinfo=UTC)
    )
    return {datetime.fromtimestamp(row["start"], UTC): row["sum"] for row in rows}


async def day_changes(
    hass: HomeAssistant, quantity: str, first: date, last: date
) -> dict[date, float]:
    """Per Paris day (Home Assistant's time zone must be Europe/Paris)."""
    got = await changes(
        hass,
        stat_id(quantity),
        local_midnight(first),
        local_midnight(last + timedelta(days=1)),
        "day",
    )
    return {moment.astimezone(PARIS).date(): value for moment, value in got.items()}


async def follow_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry, total: timedelta
) -> None:
    """Let time pass by jumping to each planned step (fast for simulated days and weeks).

    Time moves to the moment the entry's own timer is due and the timer fires as Home Assistant
    would fire it; the test never runs a step itself.
    """
    end = datetime.now(UTC) + total
    while True:
        planned = entry.runtime_data.coordinator.plan.next_run
        now = datetime.now(UTC)
        target = min(end, max(planned or now, now) + timedelta(seconds=31))
        if target <= now:
            break
        freezer.move_to(target)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        if target >= end:
            break
