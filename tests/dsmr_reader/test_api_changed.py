"""DSMR-reader answers its hour statistics in a changed shape: one repair, nothing imported, and
the hours filled in from where the statistics stop once it answers as before.

The live sensors do not depend on those answers and stay available; the hours are what a
half-read answer could spoil.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..api_changed import assert_api_changed_shown, issue_creations, our_issues
from .conftest import add_entry
from .standin import API_KEY, FakeDsmrReader, make_hours
from .test_history import assert_matches_server, dashboard, last_full_hour


async def next_history_run(hass: HomeAssistant) -> None:
    """Let the history's retry (an hour) come, and wait for the run it starts."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1, minutes=1))
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.parametrize("change", ["renamed", "object"])
async def test_changed_hours_raise_one_repair_and_are_backfilled_after(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader, change: str
) -> None:
    last = last_full_hour()
    rows = make_hours(last - timedelta(hours=47), 48)
    dsmr_server.hours = rows
    dsmr_server.changed_shape = change
    with issue_creations(hass) as created:
        entry = await add_entry(hass, dsmr_server)
        await next_history_run(hass)
    assert len(dsmr_server.requests_to("statistics/hour")) >= 2
    assert created == [f"api_changed_{entry.entry_id}"]  # once, not per run
    placeholders = await assert_api_changed_shown(hass, entry, secrets=(API_KEY,))
    assert placeholders["what"] == "statistics/hour (results[0].electricity1)"
    for quantity in ("electricity1", "electricity2", "gas"):
        assert await dashboard(hass, dsmr_server, quantity) == {}  # nothing half-read imported

    dsmr_server.changed_shape = None
    await next_history_run(hass)
    assert our_issues(hass) == {}
    await assert_matches_server(hass, dsmr_server, rows)
