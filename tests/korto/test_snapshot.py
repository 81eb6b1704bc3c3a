"""Korto's entities and diagnostics as a user and a maintainer see them, against stored snapshots."""

from __future__ import annotations

from datetime import UTC, datetime

from freezegun.api import FrozenDateTimeFactory
import pytest
from syrupy.assertion import SnapshotAssertion

from homeassistant.core import HomeAssistant

from ..helpers import assert_matches_snapshot
from .conftest import setup_korto
from .standin import KortoStandIn

pytestmark = pytest.mark.usefixtures("korto_provider")


async def test_entities_and_diagnostics(
    hass: HomeAssistant,
    korto: KortoStandIn,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
) -> None:
    freezer.move_to(datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    entry = await setup_korto(hass)
    await assert_matches_snapshot(hass, snapshot, entry)
