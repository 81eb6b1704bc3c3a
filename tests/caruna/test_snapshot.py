"""Caruna's entities and diagnostics as a user and a maintainer see them, against stored snapshots.

Time is frozen (the reader asks for "today" in Helsinki) and the backfill is run to its end, so the
counters in the diagnostics are those of a whole year read from the stand-in.
"""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
import pytest
from syrupy.assertion import SnapshotAssertion

from homeassistant.core import HomeAssistant

from ..helpers import assert_matches_snapshot
from .standin import Portal
from .test_provider import NOW, add_entry, refresh_until_caught_up, seed

pytestmark = pytest.mark.usefixtures("provider")


async def test_entities_and_diagnostics(
    hass: HomeAssistant,
    portal: Portal,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
) -> None:
    freezer.move_to(NOW)
    seed(portal)
    entry = await add_entry(hass)
    await refresh_until_caught_up(entry)
    await hass.async_block_till_done()
    await assert_matches_snapshot(hass, snapshot, entry)
