"""Enedis: with every logger at DEBUG and every error path driven, nothing planted leaks (issue 23).

Planted: a distinctive PRM and token, echoed by the stand-in wherever a server might echo them
(error descriptions, HTML pages, redirect targets, and the request URL that aiohttp puts in its
own exceptions). They must not appear in any log record (tracebacks included), state, name,
title, repair or diagnostics file, plain or URL-encoded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
import json

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from yarl import URL

from custom_components.meterhub.diagnostics import async_get_config_entry_diagnostics
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from ..helpers import only_reauth_flow, start_flow
from ..privacy import assert_nothing_leaks, leak_watch, surfaces
from .conftest import advance
from .standin import FakeGateway, error_body

NOW = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)
PRM = "30417260998511"
TOKEN = "planted-token-Zq8Lw3"
NEW_TOKEN = "planted-token-renewed-Kx4"
PLANTED = {"PRM": PRM, "token": TOKEN, "new token": NEW_TOKEN}
JSON = {"Content-Type": "application/json"}


def _body(status: int, code: str, description: str) -> str:
    return json.dumps(error_body(status, code, description))


#: Raw answers for one step each: every way the gateway can fail, with the PRM and token where a
#: server might echo them.
ANSWERS: list[tuple[int, str, dict[str, str]]] = [
    (401, _body(401, "invalid_token", f"token {TOKEN} refused for usage point {PRM}"), JSON),
    (403, _body(403, "forbidden", f"no consent for {PRM}"), JSON),
    (429, _body(429, "too_many_requests", f"slow down, {PRM}"), {"Retry-After": "120", **JSON}),
    (500, _body(500, "technical_error", f"backend failed for pointId={PRM}"), JSON),
    (503, f"<html><h1>Maintenance</h1> usage point {PRM}</html>", {"Content-Type": "text/html"}),
    (200, f"<html>Maintenance: {PRM}</html>", {"Content-Type": "text/html"}),
    (200, f'{{"idPrm": "{PRM}", "grandeur": [', JSON),
    (400, _body(400, "ADAM-ERR0031", f"Paramètres invalides pour {PRM}"), JSON),
    (302, "", {"Location": f"https://conso.boris.sh/api/x?pointId={PRM}"}),
]


def _request_info(url: URL) -> aiohttp.RequestInfo:
    return aiohttp.RequestInfo(url, "GET", {}, url)  # type: ignore[arg-type]


#: What aiohttp raises, each carrying the request URL (which holds the PRM as ``pointId``).
RAISES: list[Callable[[URL], Exception]] = [
    lambda url: aiohttp.ClientConnectionError(f"Cannot connect to host {url}"),
    lambda url: aiohttp.ConnectionTimeoutError(f"Connection timeout to host {url}"),
    lambda url: aiohttp.TooManyRedirects(_request_info(url), (), message=str(url)),
    lambda url: aiohttp.ClientResponseError(_request_info(url), (), status=502, message=str(url)),
]


async def test_nothing_planted_leaks_on_any_path(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    gateway.prm = PRM
    gateway.tokens = {TOKEN}
    gateway.curve_from = date(2026, 5, 20)
    forms: list[tuple[str, str]] = []  # what the form showed, placeholders included
    with leak_watch() as watch:
        flow_id = (await start_flow(hass, "enedis"))["flow_id"]
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"token": "not-the-token", "prm": PRM}
        )
        assert result["errors"] == {"base": "invalid_auth"}  # a form error, then the right token
        forms.append(("form after a wrong token", str(result)))
        gateway.fail = {"courbe_de_charge_consommation": (400, "refused for {prm} and " + TOKEN)}
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"token": TOKEN, "prm": PRM}
        )
        assert result["errors"] == {"base": "request_refused"}
        assert "<prm>" in result["description_placeholders"]["gateway_error"]  # Enedis' words
        forms.append(("form after a refusal", str(result)))
        gateway.fail = {}
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"token": TOKEN, "prm": PRM}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        entry = result["result"]
        await hass.async_block_till_done()
        await advance(hass, freezer, timedelta(minutes=5))  # the first step: newest days
        coordinator = entry.runtime_data.coordinator
        assert coordinator.last_update_success

        async def step() -> None:
            freezer.tick(timedelta(days=1))  # a new day to fetch, and room in the budget
            coordinator.step_due = True
            await coordinator.async_refresh()
            await hass.async_block_till_done()

        # Each failure follows a success: Home Assistant logs the error and its "Full error"
        # traceback (with the chained cause) only when an update first fails.
        failures: list[object] = [*ANSWERS, *RAISES]
        for failure in failures:
            if isinstance(failure, tuple):
                gateway.raw = failure
            else:
                gateway.raises = failure  # type: ignore[assignment]
            sent = len(gateway.requests)
            await step()
            assert len(gateway.requests) > sent, failure
            assert not coordinator.last_update_success, failure
            gateway.raw, gateway.raises = None, None
            await step()
            assert coordinator.last_update_success, failure

        # A history limit the server explains with the PRM in its words (kept as a problem).
        gateway.activation = date(2026, 6, 1)
        await step()

        # The token is renewed: reauth (a wrong one first), then everything works again.
        gateway.tokens = {NEW_TOKEN}
        await step()
        flow_id = only_reauth_flow(hass)
        result = await hass.config_entries.flow.async_configure(flow_id, {"token": TOKEN})
        assert result["errors"] == {"base": "invalid_auth"}
        forms.append(("reauth form", str(result)))
        result = await hass.config_entries.flow.async_configure(flow_id, {"token": NEW_TOKEN})
        assert result["reason"] == "reauth_successful"
        await hass.async_block_till_done()
        await advance(hass, freezer, timedelta(minutes=5))
        assert entry.runtime_data.coordinator.last_update_success
        # Called directly: the HTTP view's access token does not accept a frozen clock in 2026-06.
        diagnostics = await async_get_config_entry_diagnostics(hass, entry)

    assert_nothing_leaks(
        PLANTED, watch.texts(), surfaces(hass), forms, [("diagnostics", str(diagnostics))]
    )
    assert entry.title == "Linky …8511"
