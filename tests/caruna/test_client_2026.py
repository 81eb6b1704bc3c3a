"""The Caruna client against the portal as it answers in 2026, and against its older variants.

Facts from prosenstrom/pycaruna 1.1.1 (2026-08-16) and Nornode/ha-caruna-plus 0.3 (probed the live
portal 2026-08-18): the login's next URL only in the Wicket answer's body, ``timespan=monthly``
refused with ``day=``, ``/assets/meteringpoints``, JSON labelled ``text/html``, row lists under
several keys, three consumption field names, and 15-minute metering on its way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import aiohttp
import pytest

from custom_components.meterhub.api.caruna import (
    BACKOFF_FIRST,
    CarunaAuthError,
    CarunaHttpError,
    CarunaLoginChangedError,
    CarunaResponseError,
    EnergyRow,
    MeteringPoint,
    hourly,
    parse_energy,
)
from custom_components.meterhub.api.caruna_html import ajax_redirect, is_login_page, parse_page
from custom_components.meterhub.providers.caruna.reader import HELSINKI, PointReader

from .standin import (
    ASSET_1,
    GSRN_1,
    GSRN_2,
    OWN,
    REPRESENTED,
    Portal,
    local_day_hours,
)
from .test_client import Clock, Sessions, make_client

POINT = MeteringPoint(
    customer=OWN, asset_id=ASSET_1, gsrn=GSRN_1, fuse_size=None, product=None, address=None
)


@pytest.mark.parametrize("redirect_in", ["body", "header"])
@pytest.mark.parametrize("login_json_type", ["text/html", "application/json"])
@pytest.mark.parametrize("ajax_script", [True, False])
async def test_login_against_every_portal_variant(
    portal: Portal,
    sessions: Sessions,
    redirect_in: str,
    login_json_type: str,
    ajax_script: bool,
) -> None:
    portal.redirect_in = redirect_in
    portal.login_json_type = login_json_type
    portal.ajax_script = ajax_script
    client = make_client(portal, sessions)
    login = await client.async_login()
    assert login.token in portal.tokens
    assert login.customer_numbers == (OWN, REPRESENTED)
    assert portal.calls["callback"] == 0


async def test_body_redirect_with_a_wrong_password_is_invalid_auth_not_login_changed(
    portal: Portal, sessions: Sessions
) -> None:
    """The bug of issue 14: with no Ajax-Location header the right password looked wrong; the
    wrong password must still be told apart (a feedback component, no redirect)."""
    client = make_client(portal, sessions, password="väärä", failures_before_reauth=1)
    with pytest.raises(CarunaAuthError):
        await client.async_login()
    good = make_client(portal, sessions)
    await good.async_login()
    assert portal.tokens_issued == 1


async def test_login_pages_get_a_desktop_browser_user_agent(
    portal: Portal, sessions: Sessions
) -> None:
    # The stand-in refuses other agents (what a portal serving browsers may do) ...
    async with (
        aiohttp.ClientSession(headers={"User-Agent": "Python/3.14 aiohttp"}) as plain,
        plain.get(f"{portal.auth_url}/portal/login") as response,
    ):
        assert "Selaintasi ei tueta" in await response.text()
    # ... and the client gets through because it sends a browser's.
    await make_client(portal, sessions).async_login()


def test_html_helpers() -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><ajax-response>'
        "<redirect><![CDATA[https://authentication2.caruna.fi/portal/x?a=1&b=2]]></redirect>"
        "</ajax-response>"
    )
    assert ajax_redirect(body) == "https://authentication2.caruna.fi/portal/x?a=1&b=2"
    assert ajax_redirect("<ajax-response><redirect>./next</redirect></ajax-response>") == "./next"
    assert ajax_redirect("<ajax-response><component id='f'/></ajax-response>") is None
    assert ajax_redirect("<html><redirect>./next</redirect></html>") is None
    page = parse_page(
        '<script>Wicket.Ajax.ajax({"u":"./wicket/page?3-1.IBehaviorListener.0-p-loginWithUserID",'
        '"c":"id9"});</script>'
    )
    assert page.login_ajax_url() == "./wicket/page?3-1.IBehaviorListener.0-p-loginWithUserID"
    assert (
        parse_page('<script>Wicket.Ajax.ajax({"u":"./other"});</script>').login_ajax_url() is None
    )
    assert is_login_page('<html><form><input type="password" name="p"></form></html>')
    assert not is_login_page("<html><body>Huoltokatko</body></html>")
    assert not is_login_page('{"password": "<input type=password>"}')


async def test_metering_points_from_both_paths_merged(portal: Portal, sessions: Sessions) -> None:
    portal.meteringpoint_extras[OWN] = [
        # 2026: a household meter listed with its metering point number only.
        {
            "type": "consumptionMeteringPoint",
            "assetId": "A-300",
            "meteringPointNumber": "MP-300",
            "address": {"streetName": "Uusitie", "houseNumber": "3"},
        },
        {"type": "consumptionMeteringPoint", "assetId": "A-400"},  # no stable id: skipped
    ]
    client = make_client(portal, sessions)
    points = await client.async_metering_points(OWN)
    assert [(p.asset_id, p.gsrn, p.number, p.identifier) for p in points] == [
        (ASSET_1, GSRN_1, f"MP-{ASSET_1}", GSRN_1),  # the GSRN stays its identifier
        ("A-300", None, "MP-300", "MP-300"),
    ]
    assert points[1].address == "Uusitie 3"
    assert portal.calls["meteringpoints"] == 1
    assert portal.calls["assets"] == 1


async def test_metering_points_of_an_older_portal_and_of_none(
    portal: Portal, sessions: Sessions
) -> None:
    portal.meteringpoints = False  # 404, as before 2026
    client = make_client(portal, sessions)
    assert [p.gsrn for p in await client.async_metering_points(REPRESENTED)] == [GSRN_2]
    portal.forbidden_customers = {REPRESENTED}
    with pytest.raises(CarunaHttpError):
        await client.async_metering_points(REPRESENTED)


async def test_json_labelled_html_is_read_and_a_maintenance_page_is_no_relogin(
    portal: Portal, sessions: Sessions
) -> None:
    portal.api_json_type = "text/html"
    client = make_client(portal, sessions)
    assert [p.gsrn for p in await client.async_metering_points(OWN)] == [GSRN_1]
    portal.maintenance_for_api = 1
    with pytest.raises(CarunaResponseError) as caught:
        await client.async_hours(POINT, date(2026, 1, 5))
    assert not isinstance(caught.value, CarunaLoginChangedError)
    assert portal.tokens_issued == 1  # a page that is no login page is not an expired session


async def test_a_token_the_api_never_takes_is_login_changed_with_one_login_per_back_off(
    portal: Portal, sessions: Sessions
) -> None:
    clock = Clock()
    client = make_client(portal, sessions, clock=clock)
    await client.async_ensure_login()
    portal.html_for_api = 1000
    with pytest.raises(CarunaLoginChangedError) as caught:
        await client.async_hours(POINT, date(2026, 1, 5))
    assert caught.value.error_key == "login_changed"
    assert portal.tokens_issued == 2  # the kept login, and one more after the login page
    for _ in range(5):
        with pytest.raises(CarunaLoginChangedError):
            await client.async_hours(POINT, date(2026, 1, 5))
    assert portal.calls["start"] == 2  # nothing during the back-off
    clock.now += BACKOFF_FIRST + 1
    with pytest.raises(CarunaLoginChangedError):
        await client.async_hours(POINT, date(2026, 1, 5))
    assert portal.calls["start"] == 3  # one attempt for this back-off step
    portal.html_for_api = 0
    clock.now += 2 * BACKOFF_FIRST + 1
    assert len(await client.async_hours(POINT, date(2026, 1, 5))) == 24


async def test_monthly_is_asked_without_a_day(portal: Portal, sessions: Sessions) -> None:
    assert portal.monthly_day_refused  # the live portal's 400
    portal.days_only[ASSET_1] = {date(2026, 2, 3): 7.0}
    client = make_client(portal, sessions)
    rows = await client.async_days(POINT, 2026, 2)
    assert len(rows) == 28
    assert rows[2].consumption == 7.0
    assert all(kind != "refused" for _, kind, *_ in portal.energy_requests)


@pytest.mark.parametrize("shape", ["flat", "old", "consumption", "values", "quarter"])
async def test_hours_in_every_shape_sum_to_the_same_hours(
    portal: Portal, sessions: Sessions, shape: str
) -> None:
    portal.shape = shape
    day = date(2026, 3, 29)  # spring forward: 23 hours
    hours = local_day_hours(day)
    portal.hours[ASSET_1] = {h: 0.5 + i / 10 for i, h in enumerate(hours[:20])}
    portal.hours[ASSET_1].update(dict.fromkeys(hours[20:]))
    client = make_client(portal, sessions)
    rows = await client.async_hours(POINT, day)
    assert [row.start for row in rows] == hours
    assert [row.consumption for row in rows[:20]] == pytest.approx(
        [0.5 + i / 10 for i in range(20)]
    )
    assert [row.consumption for row in rows[20:]] == [None] * 3
    assert rows[0].cost == pytest.approx((0.5 * 0.05 + 0.5 * 0.02253) * 1.255, abs=1e-5)


def test_quarter_hours_are_summed_never_overwritten() -> None:
    base = datetime(2026, 5, 1, 10, tzinfo=UTC)
    rows = parse_energy(
        {
            "values": [
                {"timestamp": (base + timedelta(minutes=15 * i)).isoformat(), "consumption": v}
                for i, v in enumerate([0.1, 0.2, 0.3, 0.4, 1.0, None, 1.0, 1.0])
            ]
        }
    )
    hours = hourly(rows)
    assert [(h.start, h.consumption) for h in hours] == [
        (base, pytest.approx(1.0)),
        (base + timedelta(hours=1), None),  # one quarter not measured: read again later
    ]
    # Whole-hour rows pass through untouched.
    whole = [EnergyRow(start=base, consumption=2.0, total_fee=0.1)]
    assert hourly(whole) == whole


def test_consumption_field_names_in_order() -> None:
    rows = parse_energy(
        {
            "data": [
                {"timestamp": "2026-01-01T00:00:00Z", "invoicedConsumption": 3},
                {"timestamp": "2026-01-01T01:00:00Z", "consumption": 2, "invoicedConsumption": 9},
                {"timestamp": "2026-01-01T02:00:00Z", "totalConsumption": 1, "consumption": 9},
            ]
        }
    )
    assert [row.consumption for row in rows] == [3.0, 2.0, 1.0]
    for key in ("hours", "days", "items"):
        assert len(parse_energy({key: [{"timestamp": "2026-01-01T00:00:00Z"}]})) == 1
    assert parse_energy({}) == []


async def test_reader_reads_day_by_day_when_months_are_refused(
    portal: Portal, sessions: Sessions
) -> None:
    portal.monthly_status = 400
    today = date(2026, 11, 20)
    for day in (today - timedelta(days=i) for i in range(1, 30)):
        portal.hours.setdefault(ASSET_1, {}).update(dict.fromkeys(local_day_hours(day), 1.0))
    client = make_client(portal, sessions)
    reader = PointReader(client, POINT, transfer_price=None)
    reader.resume(today, last_stored=None, pending=None)
    await reader.read(today, backfill=False)  # setup: the recent window
    batch = await reader.read(today)  # the first look: eleven more days, newest first
    first_look = today - timedelta(days=3 + 11)
    read_days = {hour.astimezone(HELSINKI).date() for hour in batch.consumption}
    look = {first_look + timedelta(days=i) for i in range(11)}
    assert read_days == look | {today - timedelta(days=1)}  # today has no data yet
    assert not [r for r in portal.energy_requests if r[1] in {"refused", "monthly"}]
    await reader.read(today)
    await reader.read(today)
    refused = [r for r in portal.energy_requests if r[1] == "refused"]
    assert len(refused) == 1  # asked once, then never again
    # The passes still moved on: 2 x 40 requests, less today and yesterday each time and the
    # refused month, went to days from the floor on.
    assert reader.pending == [(today - timedelta(days=365) + timedelta(days=75), first_look)]


async def test_days_missed_during_an_outage_are_read_again(
    portal: Portal, sessions: Sessions
) -> None:
    today = date(2026, 11, 20)
    client = make_client(portal, sessions)
    reader = PointReader(client, POINT, transfer_price=None)
    reader.resume(today, last_stored=datetime(2026, 11, 19, 21, tzinfo=UTC), pending=[])
    await reader.read(today)
    assert reader.caught_up
    # Home Assistant was up, but every refresh failed for six days; then Caruna answers again.
    later = today + timedelta(days=6)
    for day in (today + timedelta(days=i) for i in range(-3, 7)):
        portal.hours.setdefault(ASSET_1, {}).update(dict.fromkeys(local_day_hours(day), 0.5))
    portal.energy_requests.clear()
    batch = await reader.read(later)
    read = {date(*r[2:]) for r in portal.energy_requests if r[1] == "daily"}
    # The window (the 26th back to the 23rd) and the days between the last window and it.
    assert read == {today + timedelta(days=i) for i in range(-3, 7)}
    assert reader.caught_up
    assert sum(batch.consumption.values()) == pytest.approx(10 * 24 * 0.5)
