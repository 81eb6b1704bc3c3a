"""The Caruna client against the local portal: the login dance, its failures, token reuse, energy."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
import time
from typing import Any

import aiohttp
import pytest

from custom_components.meterhub.api.caruna import (
    BACKOFF_FIRST,
    CarunaAuthError,
    CarunaClient,
    CarunaConnectionError,
    CarunaCredentialsRetryError,
    CarunaError,
    CarunaHttpError,
    CarunaLoginChangedError,
    CarunaRateLimitError,
    CarunaResponseError,
    MeteringPoint,
    parse_energy,
)
from custom_components.meterhub.api.caruna_html import parse_page
from custom_components.meterhub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitError,
    ApiResponseError,
    MeterHubApiError,
)

from .standin import (
    ASSET_1,
    GSRN_1,
    GSRN_2,
    OWN,
    PASSWORD,
    REPRESENTED,
    USERNAME,
    Portal,
    local_day_hours,
)

type Sessions = tuple[aiohttp.ClientSession, aiohttp.ClientSession]

POINT = MeteringPoint(
    customer=OWN, asset_id=ASSET_1, gsrn=GSRN_1, fuse_size="3x25", product=None, address=None
)
LOGIN_STEPS = (
    "start",
    "authorize",
    "ng_responder",
    "login_page",
    "login_post",
    "logged_in",
    "post_responder",
    "continue",
    "finish",
    "token",
)


class Clock:
    """A clock the test moves forward (the client's only notion of time)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def make_client(
    portal: Portal,
    sessions: Sessions,
    *,
    password: str = PASSWORD,
    clock: Clock | None = None,
    failures_before_reauth: int = 2,
) -> CarunaClient:
    api, login = sessions
    return CarunaClient(
        api,
        login,
        USERNAME,
        password,
        plus_url=portal.plus_url,
        timeout=5,
        auth_failures_before_reauth=failures_before_reauth,
        clock=clock or Clock(),
    )


async def test_login_walks_the_whole_dance(portal: Portal, sessions: Sessions) -> None:
    client = make_client(portal, sessions)
    login = await client.async_login()
    assert login.token in portal.tokens
    assert login.own_customer_numbers == (OWN,)
    assert login.customer_numbers == (OWN, REPRESENTED)
    assert login.expires_at > time.time() + 3000
    # Every step exactly once; the callback itself is never requested (its code would be spent).
    assert {step: portal.calls[step] for step in LOGIN_STEPS} == dict.fromkeys(LOGIN_STEPS, 1)
    assert portal.calls["callback"] == 0
    assert client.login_requests == len(LOGIN_STEPS)
    points = [
        point
        for customer in login.customer_numbers
        for point in await client.async_metering_points(customer)
    ]
    assert [(p.customer, p.gsrn, p.fuse_size) for p in points] == [
        (OWN, GSRN_1, "3x25"),
        (REPRESENTED, GSRN_2, "3x35"),
    ]
    assert points[0].address == "Esimerkkitie 1"
    assert points[0].product == "Yösiirto 25 A"


async def test_login_needs_the_cookies_a_browser_keeps(portal: Portal) -> None:
    """Without a cookie jar the portal refuses: proves the stand-in checks the session cookie."""
    async with (
        aiohttp.ClientSession() as api,
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as no_cookies,
    ):
        client = make_client(portal, (api, no_cookies))
        with pytest.raises(CarunaLoginChangedError):
            await client.async_login()


async def test_token_is_reused_until_it_expires(portal: Portal, sessions: Sessions) -> None:
    clock = Clock()
    client = make_client(portal, sessions, clock=clock)
    await client.async_metering_points(OWN)
    await client.async_metering_points(REPRESENTED)
    await client.async_hours(POINT, date(2026, 1, 5))
    assert portal.tokens_issued == 1
    clock.now += 3600 - 60  # inside the renewal margin before expiresAt
    # One request (the listing reads two paths, and the stand-in dates tokens by the real clock).
    await client.async_hours(POINT, date(2026, 1, 6))
    assert portal.tokens_issued == 2


async def test_concurrent_callers_share_one_login(portal: Portal, sessions: Sessions) -> None:
    client = make_client(portal, sessions)
    await asyncio.gather(*(client.async_hours(POINT, date(2026, 1, d)) for d in range(1, 9)))
    assert portal.tokens_issued == 1
    assert portal.calls["start"] == 1
    assert portal.calls["energy"] == 8


async def test_wrong_password_is_invalid_auth_at_once_in_a_form(
    portal: Portal, sessions: Sessions
) -> None:
    client = make_client(portal, sessions, password="wrong", failures_before_reauth=1)
    with pytest.raises(CarunaAuthError) as caught:
        await client.async_login()
    assert caught.value.error_key == "invalid_auth"
    assert "wrong" not in str(caught.value)
    assert portal.tokens_issued == 0


async def test_rejection_backs_off_and_only_a_second_one_means_reauth(
    portal: Portal, sessions: Sessions
) -> None:
    clock = Clock()
    client = make_client(portal, sessions, password="wrong", clock=clock)
    with pytest.raises(CarunaCredentialsRetryError):
        await client.async_metering_points(OWN)
    posts = portal.calls["login_post"]
    # Within the back-off nothing is sent, however often it is asked.
    for _ in range(5):
        with pytest.raises(CarunaCredentialsRetryError):
            await client.async_metering_points(OWN)
    assert portal.calls["login_post"] == posts
    assert portal.calls["start"] == 1
    clock.now += BACKOFF_FIRST + 1
    with pytest.raises(CarunaAuthError):
        await client.async_metering_points(OWN)
    assert portal.calls["login_post"] == posts + 1
    # The back-off doubles: still quiet after the first delay.
    clock.now += BACKOFF_FIRST + 1
    with pytest.raises(CarunaAuthError):
        await client.async_metering_points(OWN)
    assert portal.calls["login_post"] == posts + 1


async def test_a_good_login_after_a_rejection_resets_the_count(
    portal: Portal, sessions: Sessions
) -> None:
    clock = Clock()
    client = make_client(portal, sessions, clock=clock)
    portal.password = "changed-for-a-moment"
    with pytest.raises(CarunaCredentialsRetryError):
        await client.async_ensure_login()
    portal.password = PASSWORD
    clock.now += BACKOFF_FIRST + 1
    await client.async_ensure_login()
    portal.expire_tokens()
    clock.now += 3600
    portal.password = "changed-again"
    with pytest.raises(CarunaCredentialsRetryError):
        await client.async_ensure_login()


@pytest.mark.parametrize(
    ("break_step", "error"),
    [
        ("start_html", CarunaLoginChangedError),
        ("start_no_url", CarunaLoginChangedError),
        ("authorize_404", CarunaLoginChangedError),
        ("redirect_loop", CarunaLoginChangedError),
        ("login_page_changed", CarunaLoginChangedError),
        ("login_no_submit", CarunaLoginChangedError),
        ("login_post_404", CarunaLoginChangedError),
        ("after_login_changed", CarunaLoginChangedError),
        ("callback_without_code", CarunaLoginChangedError),
        ("token_garbage", CarunaLoginChangedError),
        ("token_500", CarunaConnectionError),
    ],
)
async def test_each_login_step_failing(
    portal: Portal, sessions: Sessions, break_step: str, error: type[Exception]
) -> None:
    portal.break_step = break_step
    client = make_client(portal, sessions, failures_before_reauth=1)
    with pytest.raises(error) as caught:
        await client.async_login()
    assert PASSWORD not in str(caught.value)
    assert USERNAME not in str(caught.value)
    if error is CarunaLoginChangedError:
        assert caught.value.error_key == "login_changed"
    assert portal.tokens_issued == 0


async def test_unreachable_portal_is_a_connection_error(
    socket_enabled: None, sessions: Sessions
) -> None:
    api, login = sessions
    client = CarunaClient(api, login, USERNAME, PASSWORD, plus_url="http://127.0.0.1:9", timeout=5)
    with pytest.raises(CarunaConnectionError):
        await client.async_login()


async def test_expired_token_means_one_new_login(portal: Portal, sessions: Sessions) -> None:
    client = make_client(portal, sessions)
    await client.async_metering_points(OWN)
    portal.expire_tokens()  # Caruna dropped the session before expiresAt
    points = await client.async_metering_points(OWN)
    assert [p.gsrn for p in points] == [GSRN_1]
    assert portal.tokens_issued == 2


async def test_html_instead_of_json_means_expired_session(
    portal: Portal, sessions: Sessions
) -> None:
    client = make_client(portal, sessions)
    await client.async_ensure_login()
    portal.html_for_api = 1
    points = await client.async_metering_points(OWN)
    assert [p.gsrn for p in points] == [GSRN_1]
    assert portal.tokens_issued == 2


async def test_html_after_a_fresh_login_is_an_error_not_a_loop(
    portal: Portal, sessions: Sessions
) -> None:
    portal.meteringpoints = False  # the older portal: one listing path, counted below
    client = make_client(portal, sessions)
    portal.html_for_api = 10
    with pytest.raises(CarunaResponseError):
        await client.async_metering_points(OWN)
    assert portal.tokens_issued == 2  # re-logged in once, not more
    assert portal.calls["assets"] == 2


async def test_rate_limit_carries_retry_after(portal: Portal, sessions: Sessions) -> None:
    from aiohttp import web

    async def limited(request: web.Request) -> web.StreamResponse:
        return web.json_response({}, status=429, headers={"Retry-After": "120"})

    runner = web.AppRunner(web.Application())
    runner.app.router.add_post("/api/authorization/login", limited)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        api, login = sessions
        port = runner.addresses[0][1]
        client = CarunaClient(api, login, USERNAME, PASSWORD, plus_url=f"http://127.0.0.1:{port}")
        with pytest.raises(ApiRateLimitError) as caught:
            await client.async_login()
        assert caught.value.retry_after == 120
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("header", "seconds"), [("120", 120.0), ("-5", 0.0), ("Fri, 04 Dec 2026 12:00:00 GMT", None)]
)
async def test_a_refused_login_is_a_caruna_rate_limit_with_the_wait_it_asks_for(
    portal: Portal, sessions: Sessions, header: str, seconds: float | None
) -> None:
    portal.break_step = "start_429"
    portal.retry_after = header
    with pytest.raises(CarunaRateLimitError) as caught:
        await make_client(portal, sessions).async_login()
    assert caught.value.retry_after == seconds
    assert caught.value.error_key == "rate_limited"


def test_every_client_error_is_a_caruna_error_of_one_kind() -> None:
    kinds = {
        CarunaConnectionError: ApiConnectionError,
        CarunaCredentialsRetryError: CarunaConnectionError,
        CarunaRateLimitError: ApiRateLimitError,
        CarunaAuthError: ApiAuthError,
        CarunaResponseError: ApiResponseError,
        CarunaLoginChangedError: CarunaResponseError,
        CarunaHttpError: CarunaResponseError,
    }
    for error, kind in kinds.items():
        assert issubclass(error, CarunaError), error
        assert issubclass(error, kind), error
    assert issubclass(CarunaError, MeterHubApiError)
    # The error keys users see stay as they were.
    assert CarunaLoginChangedError.error_key == "login_changed"
    assert CarunaCredentialsRetryError.error_key == "cannot_connect"
    assert CarunaAuthError.error_key == "invalid_auth"


@pytest.mark.parametrize("shape", ["old", "new"])
async def test_hours_in_both_shapes_with_nulls_and_fees(
    portal: Portal, sessions: Sessions, shape: str
) -> None:
    portal.shape = shape
    day = date(2026, 1, 10)
    hours = local_day_hours(day)
    portal.hours[ASSET_1] = {h: 0.5 + i / 10 for i, h in enumerate(hours[:20])}
    portal.hours[ASSET_1].update(dict.fromkeys(hours[20:]))  # not measured yet
    client = make_client(portal, sessions)
    rows = await client.async_hours(POINT, day)
    assert [row.start for row in rows] == hours
    assert rows[0].start == datetime(2026, 1, 9, 22, tzinfo=UTC)  # 00:00 in Helsinki (UTC+2)
    assert rows[0].consumption == 0.5
    assert rows[0].cost == pytest.approx((0.5 * 0.05 + 0.5 * 0.02253) * 1.255, abs=1e-5)
    assert rows[0].temperature == -3.5
    assert [row.consumption for row in rows[20:]] == [None] * 4
    assert [row.cost for row in rows[20:]] == [None] * 4


@pytest.mark.parametrize(("day", "count"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
async def test_dst_days_have_their_real_number_of_hours(
    portal: Portal, sessions: Sessions, day: date, count: int
) -> None:
    hours = local_day_hours(day)
    portal.hours[ASSET_1] = dict.fromkeys(hours, 1.0)
    client = make_client(portal, sessions)
    rows = await client.async_hours(POINT, day)
    assert len(rows) == count
    assert len({row.start for row in rows}) == count
    assert rows[-1].start - rows[0].start == timedelta(hours=count - 1)


async def test_monthly_gives_days(portal: Portal, sessions: Sessions) -> None:
    portal.days_only[ASSET_1] = {date(2025, 12, 3): 12.5}
    client = make_client(portal, sessions)
    rows = await client.async_days(POINT, 2025, 12)
    assert len(rows) == 31
    assert rows[2].start == datetime(2025, 12, 2, 22, tzinfo=UTC)
    assert rows[2].consumption == 12.5
    assert rows[0].consumption is None
    assert portal.energy_requests == [(ASSET_1, "monthly", 2025, 12, 1)]


def test_parse_energy_variants_and_garbage() -> None:
    rows = parse_energy(
        [
            {"timestamp": "2026-01-01T10:00:00.000Z", "consumption": "1.25", "totalcost": 0.2},
            {"timestamp": "2026-01-01T09:00:00", "totalConsumption": 2, "consumption": 9},
            {"timestamp": "not a time", "consumption": 1},
            {"consumption": 1},
            "junk",
            {"timestamp": "2026-01-01T11:00:00+02:00", "consumption": True},
        ]
    )
    assert [(r.start.hour, r.consumption, r.cost) for r in rows] == [
        (9, 2.0, None),
        (9, None, None),
        (10, 1.25, 0.2),
    ]
    assert rows[0].start.tzinfo is UTC
    with pytest.raises(CarunaResponseError):
        parse_energy({"unexpected": []})
    with pytest.raises(CarunaResponseError):
        parse_energy("text")
    assert parse_energy({"results": [{"data": []}, "junk"]}) == []


def test_login_page_parsing_finds_ajax_binding() -> None:
    page = parse_page(
        """<script>Wicket.Ajax.ajax({"u":"./x?1","c":"btn"});Wicket.Ajax.ajax({broken});</script>
        <form action="./f"><input type="hidden" name="h" value="v">
        <input name="ttqusername"><input type="password" name="userPassword">
        <button name="go" id="btn">Go</button></form>"""
    )
    form = page.login_form()
    assert form is not None
    assert form.hidden_values() == {"h": "v"}
    submit = form.submit()
    assert submit is not None
    assert submit.name == "go"
    assert page.ajax_url_for("btn") == "./x?1"
    assert page.ajax_url_for("other") is None


@pytest.mark.parametrize(
    ("break_step", "error"),
    [("login_page_changed", CarunaLoginChangedError), ("token_500", CarunaConnectionError)],
)
async def test_failed_login_is_not_retried_in_a_tight_loop(
    portal: Portal, sessions: Sessions, break_step: str, error: type[Exception]
) -> None:
    clock = Clock()
    client = make_client(portal, sessions, clock=clock)
    portal.break_step = break_step
    with pytest.raises(error):
        await client.async_metering_points(OWN)
    starts = portal.calls["start"]
    for _ in range(3):
        with pytest.raises(error):
            await client.async_metering_points(OWN)
    assert portal.calls["start"] == starts
    portal.break_step = None
    clock.now += BACKOFF_FIRST + 1
    assert [p.gsrn for p in await client.async_metering_points(OWN)] == [GSRN_1]
    assert portal.calls["start"] == starts + 1


@pytest.mark.parametrize(
    ("status", "text", "error"),
    [
        (500, "Internal Server Error", CarunaConnectionError),
        (503, "<html>Huoltokatko</html>", CarunaConnectionError),
        (404, "not found", CarunaResponseError),
        (200, "{not json", CarunaResponseError),
        (200, '"a string"', CarunaResponseError),
    ],
)
async def test_energy_errors_are_mapped(
    portal: Portal, sessions: Sessions, status: int, text: str, error: type[Exception]
) -> None:
    portal.energy_fails_after = 0
    portal.energy_fail_status = status
    portal.energy_fail_text = text
    client = make_client(portal, sessions)
    with pytest.raises(error):
        await client.async_hours(POINT, date(2026, 1, 5))
    assert portal.tokens_issued == 1  # none of these is taken for an expired session


async def test_slow_api_times_out(portal: Portal, sessions: Sessions) -> None:
    api, login = sessions
    portal.energy_delay = 2
    client = CarunaClient(api, login, USERNAME, PASSWORD, plus_url=portal.plus_url, timeout=0.5)
    await client.async_ensure_login()
    with pytest.raises(CarunaConnectionError, match="timed out"):
        await client.async_hours(POINT, date(2026, 1, 5))


async def test_token_exchange_refused_without_the_flow_cookie(portal: Portal) -> None:
    """The plus host checks its own cookie at the token exchange (state bound to the browser)."""

    class ForgetfulJar(aiohttp.CookieJar):
        def update_cookies_from_headers(self, headers: Any, response_url: Any) -> None:
            kept = [header for header in headers if not header.startswith("plus_flow=")]
            super().update_cookies_from_headers(kept, response_url)

    async with (
        aiohttp.ClientSession() as api,
        aiohttp.ClientSession(cookie_jar=ForgetfulJar(unsafe=True)) as login,
    ):
        client = make_client(portal, (api, login))
        with pytest.raises(CarunaLoginChangedError, match="HTTP 400"):
            await client.async_login()
    assert portal.calls["finish"] == 1  # everything up to the callback worked
