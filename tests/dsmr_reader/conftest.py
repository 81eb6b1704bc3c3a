"""Fixtures for the DSMR-reader tests: the stand-in server on 127.0.0.1 and setup through the flow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.meterhub.const import DOMAIN
from homeassistant import config_entries
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.recorder import get_instance

from .standin import API_KEY, FakeDsmrReader, start_standin


@pytest.fixture
async def dsmr_server(socket_enabled: None) -> AsyncIterator[FakeDsmrReader]:
    """A running stand-in server (sockets only to 127.0.0.1, as Home Assistant's tests allow)."""
    server = FakeDsmrReader()
    runner = await start_standin(server)
    yield server
    await runner.cleanup()


async def start_flow(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "dsmr_reader"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "dsmr_reader"
    return result["flow_id"]


async def add_entry(
    hass: HomeAssistant, server: FakeDsmrReader, *, url: str | None = None
) -> config_entries.ConfigEntry[Any]:
    """Add the server as the UI does, and wait for the first history run to finish."""
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": url or server.url, "api_key": API_KEY}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done(wait_background_tasks=True)
    entry: config_entries.ConfigEntry[Any] = result["result"]
    return entry


async def statistic_rows(
    hass: HomeAssistant,
    statistic_id: str,
    types: set[str],
    *,
    start: datetime = datetime(2000, 1, 1, tzinfo=UTC),
    end: datetime | None = None,
    period: str = "hour",
) -> list[dict[str, Any]]:
    """Rows as the energy dashboard reads them (``change`` per period, or ``sum``)."""
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        start,
        end,
        {statistic_id},
        period,
        None,
        types,
    )
    return list(rows.get(statistic_id, []))
