"""Korto: with every logger at DEBUG and every error path driven, nothing planted leaks (issue 23).

Planted: the token (and the e-mail inside it), the apartment id and the meter ids. They must not
appear in any log record (tracebacks included), state, name, title, repair or diagnostics file.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers.korto import KortoProvider
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from ..helpers import only_reauth_flow, start_flow
from ..privacy import assert_nothing_leaks, leak_watch, surfaces
from .standin import KortoStandIn, make_jwt

EMAIL = "planted.resident@example.ee"
TOKEN = make_jwt(sub=EMAIL)
NEW_TOKEN = make_jwt(sub=EMAIL, exp=1956528000)
APARTMENT = "40417733"
METERS = [f"9910{n:04d}" for n in range(1, 8)]
PLANTED = {
    "token": TOKEN,
    "new token": NEW_TOKEN,
    "e-mail": EMAIL,
    "apartment id": APARTMENT,
    **{f"meter id {meter}": meter for meter in METERS},
}

#: Raw answers for one poll each: every way Korto can fail, with identifiers where a server
#: might echo them.
FAILURES: list[tuple[int, str, dict[str, str]]] = [
    (401, f'{{"error": "token {TOKEN} expired for {EMAIL}"}}', {}),
    (429, "slow down", {"Retry-After": "120"}),
    (500, f"<h1>Internal error for apartment {APARTMENT}</h1>", {}),
    (200, f"<html>Maintenance: meter {METERS[0]}</html>", {"Content-Type": "text/html"}),
    (200, f'{{"data": {{"viewer": "{APARTMENT}"', {"Content-Type": "application/json"}),
    (302, "", {"Location": f"/api/?apartment={APARTMENT}"}),
    (
        200,
        f'{{"errors": [{{"message": "Meter {METERS[1]} of apartment {APARTMENT} failed"}}]}}',
        {"Content-Type": "application/json"},
    ),
]


def _all(*sources: Iterator[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    for source in sources:
        yield from source


async def test_nothing_planted_leaks_on_any_path(
    hass: HomeAssistant,
    korto: KortoStandIn,
    korto_provider: KortoProvider,
    hass_client: ClientSessionGenerator,
) -> None:
    korto.tokens = {TOKEN}
    korto.apartments = {APARTMENT}
    for meter, meter_id in zip(korto.meters, METERS, strict=True):
        meter["id"] = meter_id
    with leak_watch() as watch:
        flow_id = (await start_flow(hass, "korto"))["flow_id"]
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"token": "not-a-token", "apartment_id": APARTMENT}
        )
        assert result["type"] is FlowResultType.FORM  # a form error, then the right token
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"token": f"auth_token={TOKEN}; Path=/", "apartment_id": APARTMENT}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        entry = result["result"]
        await hass.async_block_till_done()
        meters = entry.runtime_data.meters
        for failure in FAILURES:
            korto.override = failure
            await meters.async_refresh()
            await hass.async_block_till_done()
            assert not meters.last_update_success, failure
        korto.override = None
        korto.url, good_url = "http://127.0.0.1:9/api/", korto.url  # nothing listens: refused
        korto_provider.base_url = korto.url
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        korto_provider.base_url = good_url
        # The token runs out: reauth with a new one, then everything works again.
        korto.tokens = {NEW_TOKEN}
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        result = await hass.config_entries.flow.async_configure(
            only_reauth_flow(hass), {"token": NEW_TOKEN}
        )
        assert result["reason"] == "reauth_successful"
        await hass.async_block_till_done()
        assert entry.runtime_data.meters.last_update_success
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    assert_nothing_leaks(
        PLANTED,
        watch.texts(),
        surfaces(hass),
        [("diagnostics", str(diagnostics))],
    )
    assert hass.config_entries.async_entries(DOMAIN)[0].title == "Korto apartment"
