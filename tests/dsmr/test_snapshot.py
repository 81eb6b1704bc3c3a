"""DSMR's entities and diagnostics as a user and a maintainer see them, against stored snapshots.

Time is not frozen here: the reader runs on the event loop in real time. Nothing snapshotted
depends on the clock (the values and their timestamps come from the telegram); the reader's
counters depend on how many telegrams passed before the snapshot and are left out.
"""

from __future__ import annotations

from syrupy.assertion import SnapshotAssertion

from homeassistant.core import HomeAssistant

from ..helpers import assert_matches_snapshot
from . import telegrams
from .helpers import add_meter
from .standin import PtyMeter, Sender, wait_for


async def test_entities_and_diagnostics(
    hass: HomeAssistant, pty_meter: PtyMeter, snapshot: SnapshotAssertion
) -> None:
    sender = Sender(pty_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        runtime = entry.runtime_data

        def gas_and_water_booked() -> bool:
            channels = runtime.diagnostics()["mbus_channels"].values()
            return len(channels) == 2 and all(channel["imports"] for channel in channels)

        await wait_for(gas_and_water_booked)
        await hass.async_block_till_done()
        await assert_matches_snapshot(
            hass,
            snapshot,
            entry,
            volatile=("reader", "telegrams_shown"),
            placeholders={pty_meter.path: "/dev/ttyP1"},
        )
    finally:
        await sender.stop()
