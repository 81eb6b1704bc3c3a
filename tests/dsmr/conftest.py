"""Fixtures for the DSMR tests: a meter on a pseudo-terminal or behind a TCP bridge (see
:mod:`.standin`), quick validation, and entries unloaded before the recorder goes away."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers.dsmr import const as dsmr_const
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .standin import PtyMeter, TcpMeter


@pytest.fixture
def pty_meter(tmp_path: Path) -> Iterator[PtyMeter]:
    meter = PtyMeter(tmp_path)
    yield meter
    meter.unplug()


@pytest.fixture
async def tcp_meter(socket_enabled: None) -> AsyncIterator[TcpMeter]:
    meter = TcpMeter()
    await meter.start()
    yield meter
    await meter.stop()


@pytest.fixture(autouse=True)
def quick_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flow waits 25 s for a telegram on real hardware; tests' meters answer at once."""
    monkeypatch.setattr(dsmr_const, "VALIDATE_TIMEOUT", 1.0)


@pytest.fixture(autouse=True)
async def unload_meters_before_teardown(hass: HomeAssistant) -> AsyncIterator[None]:
    """Unload every entry while the recorder still exists.

    Unloading waits for the M-Bus statistics under way; left to teardown, such an import would
    query a database the test harness has already dropped.
    """
    yield
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
