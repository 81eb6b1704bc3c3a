"""An Enedis consent that is over: its own repair next to the reauth, gone once a new token is in.

The gateway's token is a JWT valid three years (bokub/conso-api ``lib/auth.ts``); an expired one is
refused with the same 401 as any bad token, so the token's ``exp`` says which it is. A consent
Enedis no longer has comes back as 403 ADAM-DC-0008.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
import json

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.meterhub.const import DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir

from ..api_changed import issue_creations, our_issues
from ..helpers import only_reauth_flow
from .conftest import advance
from .standin import PRM, TOKEN, FakeGateway

START = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)
NEW_TOKEN = "renewed-token"


def gateway_jwt(expires: datetime) -> str:
    """A token shaped like the gateway's (its signature is not ours to check)."""

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = {"sub": [PRM], "iat": int(expires.timestamp()) - 94_608_000}
    return f"{part({'alg': 'HS256'})}.{part({**claims, 'exp': int(expires.timestamp())})}.c2ln"


@pytest.fixture(autouse=True)
async def paris(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("Europe/Paris")


async def add_entry_with(hass: HomeAssistant, token: str) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=PRM,
        title="Linky …1234",
        data={"provider": "enedis", "token": token, "prm": PRM},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def renew(hass: HomeAssistant, gateway: FakeGateway) -> None:
    """The user gives consent again and enters the new token in the reauth flow."""
    gateway.tokens = {NEW_TOKEN}
    gateway.consent_withdrawn = False
    result = await hass.config_entries.flow.async_configure(
        only_reauth_flow(hass), {"token": NEW_TOKEN}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()


def reauth_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(
        "homeassistant", f"config_entry_reauth_{DOMAIN}_{entry.entry_id}"
    )


@pytest.mark.parametrize("cause", ["token_expired", "consent_withdrawn"])
async def test_consent_over_raises_its_repair_once_and_reauth_clears_it(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory, cause: str
) -> None:
    freezer.move_to(START)
    if cause == "token_expired":
        token = gateway_jwt(START - timedelta(days=2))  # three years are over
        gateway.tokens = set()  # the gateway refuses it like any bad token: 401
    else:
        token = TOKEN
        gateway.consent_withdrawn = True  # Enedis: 403 ADAM-DC-0008
    with issue_creations(hass) as created:
        entry = await add_entry_with(hass, token)
        await advance(hass, freezer, timedelta(hours=2))
    issue_id = f"consent_expired_{entry.entry_id}"
    assert created == [issue_id]  # once
    issue = our_issues(hass)[issue_id]
    assert issue.translation_key == "consent_expired"
    assert issue.learn_more_url == "https://conso.boris.sh"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert reauth_issue(hass, entry) is not None  # next to Home Assistant's reauth
    assert token not in json.dumps(issue.translation_placeholders)

    await renew(hass, gateway)
    assert our_issues(hass) == {}
    assert reauth_issue(hass, entry) is None
    await advance(hass, freezer, timedelta(hours=1))
    assert our_issues(hass) == {}
    assert entry.data["token"] == NEW_TOKEN


async def test_a_wrong_token_is_a_plain_reauth(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    gateway.tokens = {"another-token"}
    entry = await add_entry_with(hass, gateway_jwt(START + timedelta(days=400)))
    await advance(hass, freezer, timedelta(minutes=30))
    assert reauth_issue(hass, entry) is not None
    assert our_issues(hass) == {}  # not expired: nothing about consent


async def test_the_form_says_the_consent_expired(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    gateway.consent_withdrawn = True
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "enedis"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"token": TOKEN, "prm": PRM}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "consent_expired"}
