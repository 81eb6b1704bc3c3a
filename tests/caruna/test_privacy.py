"""Caruna: with every logger at DEBUG and every error path driven, nothing planted leaks (issue 23).

Planted: the login e-mail and password, the own and represented customer numbers, the asset ids,
the GSRNs and metering point numbers, the street addresses and every bearer token the portal hands
out. They must not appear in any log record (tracebacks included), state, entity id, name, title,
repair or diagnostics file (an address identifies a home as surely as a meter number).
"""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.diagnostics import async_get_config_entry_diagnostics
from custom_components.meterhub.providers.caruna import CarunaProvider
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from ..helpers import only_reauth_flow, start_flow
from ..privacy import assert_nothing_leaks, leak_watch, statistic_names, surfaces
from .standin import Portal
from .test_provider import NOW, TODAY, YESTERDAY, fill

EMAIL = "planted.kuluttaja@example.fi"
PASSWORD = "Pl4nted-Salasana!"
NEW_PASSWORD = "Uusi-Pl4nted-Salasana?"
OWN = "90417733"
REPRESENTED = "90871166"
ASSETS = ("AST-55501", "AST-55502")
GSRNS = ("643007574955501234", "643007574955509876")
STREETS = ("Esimerkkitie", "Mökkitie")
PLANTED = {
    "e-mail": EMAIL,
    "password": PASSWORD,
    "new password": NEW_PASSWORD,
    "own customer number": OWN,
    "represented customer number": REPRESENTED,
    **{f"asset id {asset}": asset for asset in ASSETS},
    **{f"metering point number MP-{asset}": f"MP-{asset}" for asset in ASSETS},
    **{f"GSRN {gsrn}": gsrn for gsrn in GSRNS},
    **{f"street address {street} 1": f"{street} 1" for street in STREETS},
}
NOT_LISTENING = "http://127.0.0.1:9"  # nothing listens there: connection refused

#: Energy answers for one poll each: every way the API can fail, with identifiers where a server
#: might echo them.
FAILURES: list[tuple[int, str, dict[str, str]]] = [
    (429, f"slow down, customer {OWN}", {"Retry-After": "120"}),
    (500, f"Internal error for asset {ASSETS[0]} of {EMAIL}", {}),
    (502, f"<html>Bad gateway: GSRN {GSRNS[0]}</html>", {}),
    (200, f'{{"customer": "{OWN}", "asset": "{ASSETS[0]}"', {}),  # malformed JSON
    (404, f'{{"error": "asset {ASSETS[0]} of customer {OWN} not found"}}', {}),
    (302, "", {"Location": "energy"}),  # a redirect loop: the energy URL sends back to itself
    (403, f'{{"error": "{EMAIL} may not read customer {OWN}"}}', {}),
    (401, f'{{"error": "token of {EMAIL} expired"}}', {}),  # last: a fresh token refused too
]


def plant(portal: Portal) -> None:
    portal.username, portal.password = EMAIL, PASSWORD
    portal.own, portal.represented = [OWN], [REPRESENTED]
    portal.assets = {
        customer: [
            {
                "type": "meteringPoint",
                "assetId": asset,
                "gsrn": gsrn,
                "fuseSize": "3x25",
                "contractProductDesc": "Yösiirto 25 A",
                "address": {"streetName": street, "houseNumber": "1"},
            }
        ]
        for customer, asset, gsrn, street in zip(
            (OWN, REPRESENTED), ASSETS, GSRNS, STREETS, strict=True
        )
    }
    for asset in ASSETS:
        fill(portal, asset, TODAY - timedelta(days=40), YESTERDAY)


async def test_nothing_planted_leaks_on_any_path(
    hass: HomeAssistant,
    portal: Portal,
    provider: CarunaProvider,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(NOW)
    plant(portal)
    good_url = provider.plus_url
    with leak_watch() as watch:
        flow_id = (await start_flow(hass, "caruna"))["flow_id"]
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"username": EMAIL, "password": "wrong-password"}
        )
        assert result["errors"] == {"base": "invalid_auth"}  # a form error, then the right one
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"username": EMAIL, "password": PASSWORD}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        entry = result["result"]
        await hass.async_block_till_done()
        points = entry.runtime_data.points
        for point in points:  # polling and backfill
            for _ in range(3):
                await point.async_refresh()
                assert point.last_update_success, point.last_exception

        # The API fails in every way while the token is good.
        for status, text, headers in FAILURES:
            portal.energy_fails_after = 0
            portal.energy_fail_status, portal.energy_fail_text = status, text
            portal.energy_fail_headers = headers
            await points[0].async_refresh()
            assert not points[0].last_update_success, status
        portal.energy_fails_after = None
        # The session ends: a 401, the login page in place of JSON, a maintenance page, a 403.
        portal.expire_tokens()
        await points[0].async_refresh()
        portal.html_for_api = 2
        await points[0].async_refresh()
        portal.maintenance_for_api = 1
        await points[0].async_refresh()
        assert not points[0].last_update_success
        portal.html_for_api = portal.maintenance_for_api = 0  # the login back-off left some
        freezer.tick(timedelta(hours=2))

        # Setup against a portal that refuses, loops, rate-limits or changed, then refused
        # connections; each ends in a retry, never in the user's details.
        for break_step in ("redirect_loop", "start_429", "token_500", "login_page_changed"):
            portal.break_step = break_step
            freezer.tick(timedelta(hours=2))  # past the login back-off
            await hass.config_entries.async_reload(entry.entry_id)
            await hass.async_block_till_done()
            assert entry.state is ConfigEntryState.SETUP_RETRY, break_step
        portal.break_step = None
        # The energy URL (customer number and asset id in it) redirects to itself during setup.
        portal.energy_fails_after, portal.energy_fail_status = 0, 302
        portal.energy_fail_headers = {"Location": "energy"}
        freezer.tick(timedelta(hours=2))
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        portal.energy_fails_after = None
        provider.plus_url = NOT_LISTENING
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        provider.plus_url = good_url

        # The password changed: reauth (a wrong one first), then everything works again.
        portal.password = NEW_PASSWORD
        portal.expire_tokens()
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        flow_id = only_reauth_flow(hass)
        result = await hass.config_entries.flow.async_configure(flow_id, {"password": PASSWORD})
        assert result["errors"] == {"base": "invalid_auth"}
        result = await hass.config_entries.flow.async_configure(flow_id, {"password": NEW_PASSWORD})
        assert result.get("reason") == "reauth_successful", result.get("errors")
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        for point in entry.runtime_data.points:
            await point.async_refresh()
            assert point.last_update_success
        # Read directly: the frozen clock moved past the test client's access token.
        diagnostics = await async_get_config_entry_diagnostics(hass, entry)
        names = await statistic_names(hass)

    tokens = {f"token {n}": token for n, token in enumerate(portal.issued)}
    assert len(tokens) >= 3
    assert_nothing_leaks(
        {**PLANTED, **tokens},
        watch.texts(),
        surfaces(hass),
        [("diagnostics", str(diagnostics))],
        names,
    )
    assert hass.config_entries.async_entries(DOMAIN)[0].title == "Caruna Plus"
    assert {text for _, text in names} == {
        "Caruna metering point 1234 consumption",
        "Caruna metering point 1234 cost",
        "Caruna metering point 9876 consumption",
        "Caruna metering point 9876 cost",
    }
