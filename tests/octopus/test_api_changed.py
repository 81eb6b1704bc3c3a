"""Octopus answers consumption in a changed shape: one repair, nothing imported, history sensors
unavailable; once it answers as before the repair goes and the history is filled in."""

from __future__ import annotations

from datetime import datetime

import pytest

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant

from ..api_changed import assert_api_changed_shown, issue_creations, our_issues
from ..helpers import changes
from .conftest import (
    DATA_FROM,
    DATA_TO,
    GAS_SERIAL,
    MPAN,
    MPRN,
    SERIAL,
    fill_standard,
    import_kwh,
    setup_entry,
)
from .standin import ACCOUNT, GOOD_KEY, FakeOctopus, half_hours

pytestmark = pytest.mark.usefixtures("london")

ELEC = f"meterhub:octopus_{MPAN}_{SERIAL.lower()}"
YESTERDAY = "sensor.electricity_meter_yesterday_s_consumption"


@pytest.mark.parametrize("change", ["renamed", "text"])
async def test_changed_consumption_raises_one_repair_and_is_backfilled_after(
    hass: HomeAssistant, octopus: FakeOctopus, change: str
) -> None:
    fill_standard(octopus)
    octopus.changed_shape = change
    with issue_creations(hass) as created:
        entry = await setup_entry(hass, {"backfill_days": 10})
        history = entry.runtime_data.history
        await history.async_refresh()  # a second failing round
        await hass.async_block_till_done(wait_background_tasks=True)
    assert created == [f"api_changed_{entry.entry_id}"]  # once, not per round
    placeholders = await assert_api_changed_shown(
        hass, entry, secrets=(GOOD_KEY, ACCOUNT, MPAN, MPRN, SERIAL, GAS_SERIAL)
    )
    assert placeholders["what"] == "consumption (results[0].consumption)"
    assert hass.states.get(YESTERDAY).state == STATE_UNAVAILABLE
    assert await changes(hass, f"{ELEC}_consumption") == {}  # nothing half-read imported
    assert await changes(hass, f"{ELEC}_cost") == {}

    octopus.changed_shape = None
    await history.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert our_issues(hass) == {}
    assert hass.states.get(YESTERDAY).state != STATE_UNAVAILABLE
    got = await changes(hass, f"{ELEC}_consumption", DATA_FROM, DATA_TO)
    want: dict[datetime, float] = {}
    for start in half_hours(DATA_FROM, DATA_TO):
        hour = start.replace(minute=0)
        want[hour] = want.get(hour, 0.0) + import_kwh(start)
    assert got.keys() == want.keys()  # the whole gap, from where the statistics stop
    for hour, value in want.items():
        assert got[hour] == pytest.approx(value, abs=1e-5)
