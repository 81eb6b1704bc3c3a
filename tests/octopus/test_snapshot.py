"""Octopus' entities and diagnostics as a user and a maintainer see them, against stored snapshots."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from homeassistant.core import HomeAssistant

from ..helpers import assert_matches_snapshot
from .conftest import fill_standard, setup_entry
from .standin import FakeOctopus

pytestmark = pytest.mark.usefixtures("london")


async def test_entities_and_diagnostics(
    hass: HomeAssistant, octopus: FakeOctopus, snapshot: SnapshotAssertion
) -> None:
    fill_standard(octopus)
    entry = await setup_entry(hass)
    await assert_matches_snapshot(hass, snapshot, entry)
