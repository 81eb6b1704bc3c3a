"""The Korto client against the local GraphQL stand-in: parsing, the cookie, every error path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import aiohttp
import pytest

from custom_components.meterhub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitError,
    ApiResponseError,
    jwt_expiry,
)
from custom_components.meterhub.api.korto import (
    KortoAuthError,
    KortoClient,
    KortoConnectionError,
    KortoRateLimitError,
    KortoResponseError,
    KortoUnknownApartmentError,
    normalise_token,
    parse_date,
    parse_number,
)
from custom_components.meterhub.providers.korto.kinds import MeterKind, classify, profile
from homeassistant.components.sensor import SensorDeviceClass

from .standin import APARTMENT_ID, GOOD_TOKEN, OTHER_TOKEN, KortoStandIn, make_jwt


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A session with a cookie jar that, like Home Assistant's shared one, keeps cookies."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


def client(
    session: aiohttp.ClientSession, korto: KortoStandIn, token: str = GOOD_TOKEN
) -> KortoClient:
    return KortoClient(session, token, base_url=korto.url, timeout=2)


async def test_meters_are_parsed_from_korto_spelling(
    session: aiohttp.ClientSession, korto: KortoStandIn
) -> None:
    result = await client(session, korto).async_meters(APARTMENT_ID)
    assert [meter.id for meter in result.meters] == [
        "101",
        "102",
        "103",
        "104",
        "105",
        "106",
        "107",
    ]
    cold = result.meters[0]
    assert (cold.type, cold.description, cold.unit, cold.precision) == (
        "Külm vesi",
        "Köök",
        "m3",
        3,
    )
    assert cold.reading == 123.456  # "123,456"
    assert cold.reading_date == date(2026, 10, 25)  # "25.10.2026"
    assert (cold.reading_origin, cold.consumption) == ("manual", 3.2)
    assert result.meters[3].description is None  # "" is no description
    gas = result.meters[5]
    assert (gas.reading, gas.reading_date, gas.reading_origin, gas.consumption) == (None,) * 4
    assert (result.readings_allowed, result.readings_start, result.readings_end) == (
        True,
        "20",
        "31",
    )


async def test_balance_with_nulls(session: aiohttp.ClientSession, korto: KortoStandIn) -> None:
    balance = await client(session, korto).async_balance(APARTMENT_ID)
    assert balance.balance == -23.45
    assert balance.balance_date == date(2026, 11, 1)
    assert balance.last_payment == 80.5
    assert balance.last_payment_date is None
    assert korto.operations() == ["GetApartmentBalance"]


async def test_token_goes_in_a_cookie_header_and_never_into_the_jar(
    session: aiohttp.ClientSession, korto: KortoStandIn
) -> None:
    # The server sets cookies of its own, even an auth_token for someone else.
    korto.set_cookie = f"auth_token={OTHER_TOKEN}; Path=/"
    reader = client(session, korto, f"auth_token={GOOD_TOKEN}")
    await reader.async_meters(APARTMENT_ID)
    await reader.async_meters(APARTMENT_ID)
    assert [request["token"] for request in korto.requests] == [GOOD_TOKEN, GOOD_TOKEN]
    assert korto.requests[0]["cookie_header"] == f"auth_token={GOOD_TOKEN}"
    assert korto.requests[0]["content_type"] == "application/json"
    assert len(session.cookie_jar) == 0
    assert reader.requests == 2


@pytest.mark.parametrize(
    "errors",
    [
        [{"message": "Unauthenticated.", "extensions": {"category": "authentication"}}],
        [{"message": "Token has expired"}],
        [{"message": "Something", "extensions": {"code": "UNAUTHENTICATED"}}],
        [{"message": "You must be logged in"}],
    ],
)
async def test_auth_errors_in_a_200_answer(
    session: aiohttp.ClientSession, korto: KortoStandIn, errors: list[dict[str, object]]
) -> None:
    korto.extra_errors = errors
    with pytest.raises(KortoAuthError) as caught:
        await client(session, korto).async_meters(APARTMENT_ID)
    assert isinstance(caught.value, ApiAuthError)
    assert caught.value.error_key == "invalid_auth"


async def test_rejected_token_and_anonymous_viewer(
    session: aiohttp.ClientSession, korto: KortoStandIn
) -> None:
    with pytest.raises(KortoAuthError):
        await client(session, korto, "expired").async_meters(APARTMENT_ID)
    # No error at all, only an empty viewer: Korto does not know who we are.
    korto.override = (200, '{"data": {"viewer": null}}', {})
    with pytest.raises(KortoAuthError):
        await client(session, korto).async_balance(APARTMENT_ID)
    for status in (401, 403):
        korto.override = (status, "Forbidden", {})
        with pytest.raises(KortoAuthError):
            await client(session, korto).async_meters(APARTMENT_ID)
    korto.override = (302, "", {"Location": "https://pro.korto.ee/login"})
    with pytest.raises(KortoAuthError):
        await client(session, korto).async_meters(APARTMENT_ID)


async def test_unknown_apartment(session: aiohttp.ClientSession, korto: KortoStandIn) -> None:
    with pytest.raises(KortoUnknownApartmentError) as caught:
        await client(session, korto).async_meters("99999")
    assert caught.value.error_key == "unknown_apartment"
    assert "99999" not in str(caught.value)
    # Without an error: the apartment is simply null.
    korto.override = (200, '{"data": {"viewer": {"id": "1", "apartment": null}}}', {})
    with pytest.raises(KortoUnknownApartmentError):
        await client(session, korto).async_balance(APARTMENT_ID)
    korto.override = (
        200,
        '{"errors": [{"message": "Not found", "extensions": {"code": "NOT_FOUND"}}], "data": null}',
        {},
    )
    with pytest.raises(KortoUnknownApartmentError):
        await client(session, korto).async_balance(APARTMENT_ID)


async def test_other_graphql_errors_never_repeat_the_servers_text(
    session: aiohttp.ClientSession, korto: KortoStandIn
) -> None:
    korto.extra_errors = [
        {"message": f"Internal error for {APARTMENT_ID} with {GOOD_TOKEN}", "extensions": {}}
    ]
    with pytest.raises(KortoResponseError) as caught:
        await client(session, korto).async_meters(APARTMENT_ID)
    assert isinstance(caught.value, ApiResponseError)
    assert caught.value.error_key == "unexpected_response"
    assert APARTMENT_ID not in str(caught.value)
    assert GOOD_TOKEN not in str(caught.value)
    # Issue 23: a server's free text can name a meter; only machine-readable codes are repeated.
    assert "Internal error" not in str(caught.value)
    korto.extra_errors = [
        {"message": "Meter 101 is broken", "extensions": {"code": "INTERNAL_SERVER_ERROR"}},
        {"message": "x", "extensions": {"code": "meter 101 gone"}},
    ]
    with pytest.raises(KortoResponseError) as caught:
        await client(session, korto).async_meters(APARTMENT_ID)
    assert str(caught.value) == "Korto answered an error (codes INTERNAL_SERVER_ERROR)"
    korto.extra_errors = [
        {"message": f"Internal error for {APARTMENT_ID} with {GOOD_TOKEN}", "extensions": {}}
    ]
    # The same error next to a complete answer is a partial failure, not a failed poll; even
    # when it reads like a sign-in problem (the apartment came back: the token works).
    korto.errors_drop_data = False
    result = await client(session, korto).async_meters(APARTMENT_ID)
    assert len(result.meters) == 7
    korto.extra_errors = [{"message": "Photo session expired", "path": ["viewer", "apartment"]}]
    result = await client(session, korto).async_meters(APARTMENT_ID)
    assert len(result.meters) == 7
    # An explicit authentication category still wins.
    korto.extra_errors = [{"message": "x", "extensions": {"category": "authentication"}}]
    with pytest.raises(KortoAuthError):
        await client(session, korto).async_meters(APARTMENT_ID)


@pytest.mark.parametrize(
    "case",
    [
        (500, "Internal Server Error", {}, KortoConnectionError),
        (503, "<html>down</html>", {"Content-Type": "text/html"}, KortoConnectionError),
        (200, "<html>login</html>", {"Content-Type": "text/html"}, KortoResponseError),
        (200, "[1, 2]", {}, KortoResponseError),
        (200, '{"data": {"viewer": {"id": "1", "apartment": {"meters": "x"}}}}', {}, None),
        (200, '{"data": {"viewer": "x"}}', {}, KortoResponseError),
        (200, '{"data": {"viewer": {"apartment": []}}}', {}, KortoResponseError),
        (200, '{"data": null}', {}, KortoResponseError),
        (200, '{"errors": "bad"}', {}, KortoResponseError),
        (404, '{"message": "nope"}', {}, KortoResponseError),
    ],
)
async def test_transport_and_shape_errors(
    session: aiohttp.ClientSession,
    korto: KortoStandIn,
    case: tuple[int, str, dict[str, str], type[Exception] | None],
) -> None:
    status, body, headers, error = case
    korto.override = (status, body, headers)
    reader = client(session, korto)
    with pytest.raises(error or KortoResponseError):
        await reader.async_meters(APARTMENT_ID)
    if error is not None:
        with pytest.raises(error):
            await reader.async_balance(APARTMENT_ID)


async def test_balance_of_the_wrong_shape(
    session: aiohttp.ClientSession, korto: KortoStandIn
) -> None:
    korto.override = (200, '{"data": {"viewer": {"id": "1", "apartment": {"balance": 5}}}}', {})
    with pytest.raises(KortoResponseError):
        await client(session, korto).async_balance(APARTMENT_ID)


async def test_rate_limit_carries_retry_after(
    session: aiohttp.ClientSession, korto: KortoStandIn
) -> None:
    korto.override = (429, "slow down", {"Retry-After": "120"})
    with pytest.raises(KortoRateLimitError) as caught:
        await client(session, korto).async_meters(APARTMENT_ID)
    assert isinstance(caught.value, ApiRateLimitError)
    assert caught.value.retry_after == 120
    korto.override = (429, "slow down", {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"})
    with pytest.raises(KortoRateLimitError) as caught:
        await client(session, korto).async_meters(APARTMENT_ID)
    assert caught.value.retry_after is None


async def test_timeout_and_refused_connection(
    session: aiohttp.ClientSession, korto: KortoStandIn, socket_enabled: None
) -> None:
    korto.delay = 1.0
    slow = KortoClient(session, GOOD_TOKEN, base_url=korto.url, timeout=0.1)
    with pytest.raises(KortoConnectionError) as caught:
        await slow.async_meters(APARTMENT_ID)
    assert isinstance(caught.value, ApiConnectionError)
    closed = KortoClient(session, GOOD_TOKEN, base_url="http://127.0.0.1:9/api/", timeout=2)
    with pytest.raises(KortoConnectionError):
        await closed.async_meters(APARTMENT_ID)


def test_numbers_in_every_spelling() -> None:
    assert parse_number("12,5") == 12.5
    assert parse_number(" 1 234,5 ") == 1234.5
    assert parse_number("1\u00a0234,56") == 1234.56
    assert parse_number("1.234,5") == 1234.5
    assert parse_number("1,234.5") == 1234.5
    assert parse_number("-0,25") == -0.25
    assert parse_number(7) == 7.0
    assert parse_number(2.5) == 2.5
    for nothing in (None, "", "  ", "n/a", "1,2,3", True, [], {}, "nan", "inf"):
        assert parse_number(nothing) is None, nothing


def test_dates_in_every_spelling() -> None:
    assert parse_date("25.10.2026") == date(2026, 10, 25)
    assert parse_date("2026-10-25") == date(2026, 10, 25)
    assert parse_date("2026-10-25T10:00:00+03:00") == date(2026, 10, 25)
    assert parse_date("25.10.2026 12:00") == date(2026, 10, 25)
    for nothing in (None, "", "31.02.2026", "yesterday", 20261025, "00.00.0000"):
        assert parse_date(nothing) is None, nothing


def test_tokens_as_users_paste_them() -> None:
    assert normalise_token(f" auth_token={GOOD_TOKEN}; Path=/ ") == GOOD_TOKEN
    assert normalise_token(f'"{GOOD_TOKEN}"') == GOOD_TOKEN
    assert normalise_token(f"Bearer {GOOD_TOKEN}") == GOOD_TOKEN
    assert jwt_expiry(GOOD_TOKEN) == datetime(2031, 1, 1, tzinfo=UTC)
    assert jwt_expiry(make_jwt(exp=1_600_000_000)) == datetime.fromtimestamp(1_600_000_000, UTC)
    for opaque in ("abc", "a.b.c", "a.!!!.c", "a.bnVsbA.c", "a.eyJleHAiOiJzb29uIn0.c"):
        assert jwt_expiry(opaque) is None, opaque


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Külm vesi", MeterKind.COLD_WATER),
        ("KULM VESI", MeterKind.COLD_WATER),
        ("Cold water", MeterKind.COLD_WATER),
        ("Soe vesi", MeterKind.HOT_WATER),
        ("Sooja vee arvesti", MeterKind.HOT_WATER),
        ("Hot water", MeterKind.HOT_WATER),
        ("Vesi", MeterKind.WATER),
        ("Elekter", MeterKind.ELECTRICITY),
        ("Elekter (päev)", MeterKind.ELECTRICITY_DAY),
        ("Electricity (day)", MeterKind.ELECTRICITY_DAY),
        ("Elekter (öö)", MeterKind.ELECTRICITY_NIGHT),
        ("Öine elekter", MeterKind.ELECTRICITY_NIGHT),
        ("Electricity (night)", MeterKind.ELECTRICITY_NIGHT),
        ("Gaas", MeterKind.GAS),
        ("Gas", MeterKind.GAS),
        ("Soojus", MeterKind.HEAT),
        ("Soojusenergia", MeterKind.HEAT),
        ("Küte", MeterKind.HEAT),
        ("Heat", MeterKind.HEAT),
        ("Холодная вода", MeterKind.COLD_WATER),
        ("Горячая вода", MeterKind.HOT_WATER),
        ("Prügivedu", MeterKind.OTHER),
        ("", MeterKind.OTHER),
    ],
)
def test_meter_types_in_estonian_and_english(text: str, kind: MeterKind) -> None:
    assert classify(text) is kind


def test_units_decide_the_device_class() -> None:
    cases = [
        ("Külm vesi", "m3", "m³", SensorDeviceClass.WATER),
        ("Hot water", " M³ ", "m³", SensorDeviceClass.WATER),
        ("Vesi", "l", "L", SensorDeviceClass.WATER),
        ("Gaas", "m3", "m³", SensorDeviceClass.GAS),
        ("Gaas", "kWh", "kWh", SensorDeviceClass.ENERGY),  # gas billed as energy
        ("Soojus", "MWh", "MWh", SensorDeviceClass.ENERGY),
        ("Soojus", "GJ", "GJ", SensorDeviceClass.ENERGY),
        ("Elekter (öö)", "kwh", "kWh", SensorDeviceClass.ENERGY),
        ("Soojus", "m3", "m³", None),  # a heat meter in m³ is not water: generic
        ("Mystery", "m³", "m³", None),
        ("Külm vesi", "tk", "tk", None),  # unknown unit kept, no class
        ("Külm vesi", None, None, None),
        ("Külm vesi", "  ", None, None),
    ]
    for text, unit, ha_unit, device_class in cases:
        found = profile(text, unit)
        assert (found.unit, found.device_class) == (ha_unit, device_class), (text, unit)
