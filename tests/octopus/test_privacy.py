"""Octopus: with every logger at DEBUG and every error path driven, nothing planted leaks (issue 23).

Planted: the account number, the import and export MPANs, the MPRN, the meter serials, a Home
Mini's device id, the API key (and a new one for the reauth) and every Kraken token the stand-in
hands out. The stand-in echoes them where a server might (error bodies, HTML pages, broken JSON),
and the request URLs that aiohttp puts into its own exceptions hold the account number, MPANs and
serials. None may appear in any log record (tracebacks included), state, entity id, name, title,
repair or diagnostics file, plain or URL-encoded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.meterhub.diagnostics import async_get_config_entry_diagnostics
from custom_components.meterhub.providers import octopus as octopus_provider
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from ..helpers import only_reauth_flow, start_flow
from ..privacy import assert_nothing_leaks, leak_watch, statistic_names, surfaces
from .conftest import (
    AGILE,
    DATA_FROM,
    DATA_TO,
    FIXED,
    GAS_TARIFF,
    NOW,
    OUTGOING,
    SWITCH,
    fill_standard,
)
from .standin import Failure, FakeOctopus, electricity_point, gas_point, half_hours

ACCOUNT = "A-7QX93KZB"
KEY = "sk_live_Planted9fQ2xWv7"
NEW_KEY = "sk_live_Renewed4Hd8Mn2"
MPAN = "1098765432109"
EXPORT_MPAN = "1076543210987"
MPRN = "8877665544"
SERIAL = "19P4471182"
EXPORT_SERIAL = "E22Z339901"
GAS_SERIAL = "G7K5512093"
HOME_MINI = "0A-1B-2C-3D-4E-5F-6A-7B"
PLANTED = {
    "account number": ACCOUNT,
    "API key": KEY,
    "new API key": NEW_KEY,
    "MPAN": MPAN,
    "export MPAN": EXPORT_MPAN,
    "MPRN": MPRN,
    "serial": SERIAL,
    "export serial": EXPORT_SERIAL,
    "gas serial": GAS_SERIAL,
    "Home Mini device id": HOME_MINI,
}
TIMEOUT = 60.0
NOT_LISTENING = "http://127.0.0.1:9/v1/"  # nothing listens there: connection refused


def failures(path: str) -> list[Failure]:
    """Every way a request to ``path`` can fail, with identifiers where a server might echo them."""
    return [
        Failure(path, 429, headers={"Retry-After": "120"}, body=f"slow down, {ACCOUNT}"),
        Failure(path, 500, body=f"Internal error for MPAN {MPAN}, meter {SERIAL}"),
        Failure(path, 502, body=f"<html>Bad gateway {MPRN}</html>", content_type="text/html"),
        Failure(
            path, 200, body=f"<html>Maintenance for {ACCOUNT}</html>", content_type="text/html"
        ),
        Failure(
            path,
            200,
            body=f'{{"number": "{ACCOUNT}", "mpan": "{MPAN}"',
            content_type="application/json",
        ),
        Failure(
            path,
            400,
            body=f'{{"detail": "bad serial {SERIAL} for {MPAN}"}}',
            content_type="application/json",
        ),
        Failure(path, 302, times=50, headers={"Location": "./"}),  # a redirect loop
        Failure(path, 0, times=2),  # the connection drops (aiohttp retries a GET once)
    ]


def plant(fake: FakeOctopus) -> None:
    """The standard account's tariffs and data, on the planted account, points and meters."""
    fill_standard(fake)  # the tariffs and their rates
    since = datetime(2025, 1, 1, tzinfo=UTC)
    fake.accounts = {
        ACCOUNT: {
            "properties": [
                {
                    "moved_out_at": None,
                    "electricity_meter_points": [
                        electricity_point(
                            MPAN, [SERIAL], [(FIXED, since, SWITCH), (AGILE, SWITCH, None)]
                        ),
                        electricity_point(
                            EXPORT_MPAN, [EXPORT_SERIAL], [(OUTGOING, since, None)], export=True
                        ),
                    ],
                    "gas_meter_points": [
                        gas_point(MPRN, [GAS_SERIAL], [(GAS_TARIFF, since, None)])
                    ],
                }
            ]
        }
    }
    fake.keys = {KEY}
    slots = half_hours(DATA_FROM, DATA_TO)
    fake.consumption = {}
    fake.add_consumption(MPAN, SERIAL, dict.fromkeys(slots, 0.25))
    fake.add_consumption(EXPORT_MPAN, EXPORT_SERIAL, dict.fromkeys(slots, 0.1))
    fake.add_consumption(MPRN, GAS_SERIAL, dict.fromkeys(slots, 0.1))
    fake.device_ids = {SERIAL: HOME_MINI}
    fake.telemetry = {
        HOME_MINI: [
            {
                "readAt": (NOW - timedelta(minutes=minutes)).isoformat(),
                "consumption": 1000.0 - minutes,
                "consumptionDelta": 10.0,
                "demand": 450.0,
                "export": 0.0,
            }
            for minutes in (30, 20, 10)
        ]
    }


async def test_nothing_planted_leaks_on_any_path(
    hass: HomeAssistant,
    octopus: FakeOctopus,
    london: None,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plant(octopus)
    good_url = octopus.base_url
    forms: list[tuple[str, str]] = []
    with leak_watch() as watch:
        flow_id = (await start_flow(hass, "octopus"))["flow_id"]
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"api_key": "sk_live_wrong", "account_number": ACCOUNT}
        )
        assert result["errors"] == {"base": "invalid_auth"}  # a form error, then the right key
        forms.append(("form after a wrong key", str(result)))
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"api_key": KEY, "account_number": ACCOUNT}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        entry = result["result"]
        await hass.async_block_till_done(wait_background_tasks=True)
        runtime = entry.runtime_data
        assert len(runtime.meters) == 3
        assert runtime.history.last_update_success
        assert runtime.telemetry  # the Home Mini is read

        # Polling, and every way each kind of request can fail (each after a success: Home
        # Assistant logs the error and its traceback when an update first fails).
        for coordinator, path in (
            (runtime.account, f"/accounts/{ACCOUNT}/"),
            (runtime.history, "/consumption/"),
            (runtime.rates, "-tariffs/"),
            (runtime.balance, "/graphql/"),
        ):
            for failure in failures(path):
                octopus.failures = [failure]
                await coordinator.async_refresh()
                await hass.async_block_till_done()
                assert not coordinator.last_update_success, (path, failure.status)
                octopus.failures = []
                runtime.client._graphql_paused_until = 0.0  # a 429 on GraphQL pauses it
                freezer.tick(timedelta(seconds=1))
                await coordinator.async_refresh()
                assert coordinator.last_update_success, (path, failure.status)
            # No answer in time: the client's timeout (0 s here, so that it is certain).
            runtime.client._timeout = 0
            await coordinator.async_refresh()
            assert not coordinator.last_update_success, (path, "timeout")
            runtime.client._timeout = TIMEOUT
            await coordinator.async_refresh()
            assert coordinator.last_update_success, (path, "after the timeout")
        # Kraken's own errors, each echoing nothing but a code (the stand-in's way).
        octopus.account_errors = ["KT-CT-4123"]
        await runtime.account.async_refresh()
        octopus.telemetry_errors = ["KT-CT-1199"]
        for telemetry in runtime.telemetry.values():
            await telemetry.async_refresh()
        runtime.client._graphql_paused_until = 0.0

        # Setup against an API that fails in each way, then refused connections: a retry each.
        for failure in failures(f"/accounts/{ACCOUNT}/")[:-1]:
            octopus.failures = [failure]
            await hass.config_entries.async_reload(entry.entry_id)
            await hass.async_block_till_done()
            assert entry.state is ConfigEntryState.SETUP_RETRY, failure.status
        octopus.failures = []
        monkeypatch.setattr(octopus_provider, "API_BASE_URL", NOT_LISTENING)
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        monkeypatch.setattr(octopus_provider, "API_BASE_URL", good_url)

        # The key is rotated: 401 and 403 start a reauth (a wrong key first), then all works.
        octopus.keys = {NEW_KEY}
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        flow_id = only_reauth_flow(hass)
        result = await hass.config_entries.flow.async_configure(flow_id, {"api_key": KEY})
        assert result["errors"] == {"base": "invalid_auth"}
        forms.append(("reauth form", str(result)))
        result = await hass.config_entries.flow.async_configure(flow_id, {"api_key": NEW_KEY})
        assert result.get("reason") == "reauth_successful", result.get("errors")
        await hass.async_block_till_done(wait_background_tasks=True)
        assert entry.state is ConfigEntryState.LOADED
        runtime = entry.runtime_data
        for status in (401, 403):
            octopus.failures = [Failure("/consumption/", status, body=f"key {NEW_KEY} refused")]
            await runtime.history.async_refresh()
            assert not runtime.history.last_update_success
        octopus.failures = []
        await hass.async_block_till_done()
        # Called directly: the HTTP view's access token does not accept the frozen clock.
        diagnostics = await async_get_config_entry_diagnostics(hass, entry)
        names = await statistic_names(hass)

    tokens = {f"Kraken token {n}": token for n, token in enumerate(octopus.tokens)}
    assert tokens
    assert_nothing_leaks(
        {**PLANTED, **tokens},
        watch.texts(),
        surfaces(hass),
        forms,
        [("diagnostics", str(diagnostics))],
        names,
    )
    assert entry.title == "Octopus Energy"
    assert {text for _, text in names} >= {
        "Electricity meter consumption",
        "Electricity meter cost",
        "Electricity export meter production",
        "Gas meter consumption",
    }
