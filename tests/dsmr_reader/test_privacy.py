"""DSMR-reader: with every logger at DEBUG and every error path driven, nothing planted leaks (issue 23).

Planted: the API key (the first one and the regenerated one of the reauth) and the meters'
equipment identifiers, which the server hands out in the raw telegram of
``datalogger/meter-statistics`` and which a broken server or a proxy may echo in an error page or a
redirect. None may appear in any log record (tracebacks included), state, name, title, repair or
diagnostics file, nor in the whole exception chain behind a failure (what HA's "Full error" shows):
there, no aiohttp exception either, since those carry the request URL. The server's ``host:port``
is not planted: it is in the unique id and the statistic ids by contract, and it is not one of
the issue's identifiers.
"""

from __future__ import annotations

from datetime import timedelta
import traceback

from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.meterhub.statistics import hour_start
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util

from ..helpers import only_reauth_flow, start_flow
from ..privacy import assert_nothing_leaks, leak_watch, surfaces
from .standin import FakeDsmrReader, make_days, make_hours

API_KEY = "PLANTEDKEY9f3a7c51e2d84b06"
NEW_API_KEY = "PLANTEDKEY2b8e6d04a1c97f35"
#: Equipment ids as the telegram spells them (hex of "E0099887766554433" and "G0011223344556677").
ELECTRICITY_ID = b"E0099887766554433".hex().upper()
GAS_ID = b"G0011223344556677".hex().upper()
PLANTED = {
    "API key": API_KEY,
    "new API key": NEW_API_KEY,
    "electricity equipment id": ELECTRICITY_ID,
    "gas equipment id": GAS_ID,
    "electricity equipment id (text)": "E0099887766554433",
    "gas equipment id (text)": "G0011223344556677",
}
JSON = {"Content-Type": "application/json"}

#: Raw answers for one poll each: every way the server (or a proxy before it) can fail, with the
#: planted values where a server might echo them.
FAILURES: list[tuple[int, str, dict[str, str]]] = [
    (403, f'{{"detail": "Invalid auth key {API_KEY} for meter {ELECTRICITY_ID}"}}', JSON),
    (403, '{"detail": "API is disabled"}', JSON),
    (405, f"API is disabled ({GAS_ID})", {"Content-Type": "text/html"}),
    (429, f"slow down, {ELECTRICITY_ID}", {"Retry-After": "120"}),
    (500, f"<h1>Server Error: meter {ELECTRICITY_ID}, key {API_KEY}</h1>", {}),
    (502, f"Bad gateway for {GAS_ID}", {"Content-Type": "text/html"}),
    (200, f"<html>Router login: meter {ELECTRICITY_ID}</html>", {"Content-Type": "text/html"}),
    (200, f'{{"results": [{{"equipment": "{ELECTRICITY_ID}"', JSON),
    (200, f'{{"detail": "meter {GAS_ID} unknown"}}', JSON),
    # A redirect to itself, with the identifiers in the address: aiohttp gives up after ten.
    (
        302,
        "",
        {"Location": f"/api/v2/datalogger/dsmrreading?meter={ELECTRICITY_ID}&key={API_KEY}"},
    ),
]


def _plant(server: FakeDsmrReader) -> None:
    """The key, and the equipment ids in the telegram the server keeps, in place of the real ones."""
    server.api_key = API_KEY
    assert server.meter is not None
    telegram = str(server.meter["latest_telegram"])
    telegram = telegram.replace("4530303434303037333832323436303139", ELECTRICITY_ID)
    telegram = telegram.replace("4730303339303031363532303530323136", GAS_ID)
    assert ELECTRICITY_ID in telegram
    assert GAS_ID in telegram
    server.meter = {**server.meter, "latest_telegram": telegram}
    first = hour_start(dt_util.utcnow()) - timedelta(days=3)
    server.hours = make_hours(first, 72)
    server.days = make_days(first.date(), 3, hours=server.hours)


async def test_nothing_planted_leaks_on_any_path(
    hass: HomeAssistant,
    dsmr_server: FakeDsmrReader,
    hass_client: ClientSessionGenerator,
) -> None:
    _plant(dsmr_server)
    #: What "Full error" would show for each failure: the exception with its whole chain.
    tracebacks: list[tuple[str, str]] = []
    with leak_watch() as watch:
        flow_id = (await start_flow(hass, "dsmr_reader"))["flow_id"]
        result = await hass.config_entries.flow.async_configure(
            flow_id,
            {"url": dsmr_server.url, "api_key": NEW_API_KEY},  # not (yet) the key
        )
        assert result["errors"] == {"base": "invalid_auth"}
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"url": dsmr_server.url, "api_key": API_KEY}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        entry = result["result"]
        await hass.async_block_till_done(wait_background_tasks=True)
        runtime = entry.runtime_data
        assert runtime.history.data is not None
        assert runtime.history.data.hours_read
        assert runtime.live.data is not None
        assert runtime.live.data.meter is not None

        for failure in FAILURES:
            dsmr_server.override = failure
            for coordinator in (runtime.live, runtime.prices, runtime.history):
                await coordinator.async_refresh()
                await hass.async_block_till_done()
                assert not coordinator.last_update_success, (coordinator.name, failure)
                assert coordinator.last_exception is not None
                where = f"traceback of {coordinator.name} after {failure[0]}"
                text = "".join(traceback.format_exception(coordinator.last_exception))
                tracebacks.append((where, text))
                # HTTP-library errors carry the request URL: re-raised without them.
                assert "aiohttp.client_exceptions" not in text, text
        dsmr_server.override = None
        await runtime.live.async_refresh()
        assert runtime.live.last_update_success

        # Nothing listens on port 9: connection refused, from setup on.
        good_url = entry.data["url"]
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, "url": "http://127.0.0.1:9"}
        )
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert entry.state is ConfigEntryState.SETUP_RETRY
        hass.config_entries.async_update_entry(entry, data={**entry.data, "url": good_url})

        # The key is regenerated on the server: reauth (a wrong key first), then all works again.
        dsmr_server.api_key = NEW_API_KEY
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        flow_id = only_reauth_flow(hass)
        result = await hass.config_entries.flow.async_configure(flow_id, {"api_key": API_KEY})
        assert result["errors"] == {"base": "invalid_auth"}
        result = await hass.config_entries.flow.async_configure(flow_id, {"api_key": NEW_API_KEY})
        assert result["reason"] == "reauth_successful"
        await hass.async_block_till_done(wait_background_tasks=True)
        assert entry.state is ConfigEntryState.LOADED
        assert entry.runtime_data.live.last_update_success
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    assert_nothing_leaks(
        PLANTED,
        watch.texts(),
        surfaces(hass),
        tracebacks,
        [("diagnostics", str(diagnostics))],
    )
