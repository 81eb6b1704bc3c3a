"""The DSMR-reader config flow as the UI drives it, against the stand-in server."""

from __future__ import annotations

import pytest

from custom_components.meterhub.const import DOMAIN
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from ..helpers import only_reauth_flow, start_flow
from .conftest import add_entry
from .standin import API_KEY, FakeDsmrReader, start_standin


async def test_menu_offers_dsmr_reader(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert "dsmr_reader" in result["menu_options"]


async def test_url_is_normalised_and_entry_created(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    bare = dsmr_server.url.removeprefix("http://") + "/about/"  # no scheme, a trailing path
    entry = await add_entry(hass, dsmr_server, url=f"  {bare}  ")
    port = dsmr_server.url.rsplit(":", 1)[1]
    assert entry.data == {
        "provider": "dsmr_reader",
        "url": dsmr_server.url,
        "api_key": API_KEY,
        "server_id": f"127.0.0.1:{port}",
    }
    assert entry.unique_id == f"127.0.0.1:{port}"
    assert entry.title == f"DSMR-reader 127.0.0.1:{port}"
    assert entry.state is ConfigEntryState.LOADED
    # The key went in the header, on every request.
    assert dsmr_server.requests[0][0] == "datalogger/dsmrreading"


async def test_same_server_cannot_be_added_twice(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    await add_entry(hass, dsmr_server)
    flow_id = (await start_flow(hass, "dsmr_reader"))["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": dsmr_server.url + "/", "api_key": API_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("situation", "error"),
    [
        ("wrong_key", "invalid_auth"),
        ("disabled_403", "api_disabled"),
        ("disabled_405", "api_disabled"),
        ("html", "not_dsmr_reader"),
        ("old_server", "not_dsmr_reader"),
        ("bad_gateway", "cannot_connect"),
        ("unreachable", "cannot_connect"),
        ("bad_url", "invalid_url"),
    ],
)
async def test_form_errors_then_recovery(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader, situation: str, error: str
) -> None:
    flow_id = (await start_flow(hass, "dsmr_reader"))["flow_id"]
    data = {"url": dsmr_server.url, "api_key": API_KEY}
    if situation == "wrong_key":
        data["api_key"] = "not-the-key"
    elif situation.startswith("disabled"):
        dsmr_server.api = situation
    elif situation == "html":
        dsmr_server.html = True
    elif situation == "old_server":
        dsmr_server.fail_status = 404
    elif situation == "bad_gateway":
        dsmr_server.fail_status = 502
    elif situation == "unreachable":
        data["url"] = "127.0.0.1:9"  # nothing listens on the discard port
    elif situation == "bad_url":
        data["url"] = "ftp://"
    result = await hass.config_entries.flow.async_configure(flow_id, data)
    assert result["type"] is FlowResultType.FORM
    field = "url" if situation == "bad_url" else "base"
    assert result["errors"] == {field: error}

    dsmr_server.api = "enabled"
    dsmr_server.html = False
    dsmr_server.fail_status = None
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": dsmr_server.url, "api_key": API_KEY}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_reauth_with_a_new_key(hass: HomeAssistant, dsmr_server: FakeDsmrReader) -> None:
    entry = await add_entry(hass, dsmr_server)
    dsmr_server.api_key = "regenerated-key"
    await entry.runtime_data.live.async_refresh()
    await hass.async_block_till_done()
    flow_id = only_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {"api_key": API_KEY})
    assert result["errors"] == {"base": "invalid_auth"}
    assert list(result["data_schema"].schema) == ["api_key"]
    result = await hass.config_entries.flow.async_configure(flow_id, {"api_key": "regenerated-key"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.data["api_key"] == "regenerated-key"
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_to_a_new_address_keeps_the_entry(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    """The server moved (to another port here): same entry, same unique id and statistics."""
    entry = await add_entry(hass, dsmr_server)
    unique_id = entry.unique_id
    old_url = dsmr_server.url
    runner = await start_standin(dsmr_server)  # the same server, now also on a new port
    try:
        moved = dsmr_server.url
        assert moved != old_url
        result = await hass.config_entries.flow.async_init(
            DOMAIN,
            context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id},
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"url": moved, "api_key": API_KEY}
        )
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done(wait_background_tasks=True)
        assert entry.data["url"] == moved
        assert entry.unique_id == unique_id
        assert entry.state is ConfigEntryState.LOADED
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await runner.cleanup()


async def test_options_poll_interval_and_depth(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    entry = await add_entry(hass, dsmr_server)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    schema = result["data_schema"]({})
    assert schema == {"scan_interval": 30, "backfill_days": 365}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 10.0, "backfill_days": 30.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options == {"scan_interval": 10, "backfill_days": 30}
    runtime = entry.runtime_data
    assert runtime.live.update_interval.total_seconds() == pytest.approx(10, rel=0.11)
    assert runtime.history.depth.days == 30
