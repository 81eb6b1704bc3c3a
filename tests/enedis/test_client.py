"""The Conso API client against the stand-in gateway and raw answers: parsing and error mapping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import itertools

from aiohttp import ClientError
from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.meterhub.api.enedis import (
    USER_AGENT,
    EnedisAuthError,
    EnedisClient,
    EnedisConnectionError,
    EnedisDateRangeError,
    EnedisNoDataError,
    EnedisRateLimitError,
    EnedisResponseError,
    EnedisWrongPrmError,
    parse_load_curve,
    valid_prm,
)
from custom_components.meterhub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitError,
    ApiResponseError,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .gateway import BASE, PARIS, PRM, TOKEN, FakeGateway


def client(hass: HomeAssistant, token: str = TOKEN) -> EnedisClient:
    return EnedisClient(async_get_clientsession(hass), token, PRM)


def labels(day: date) -> list[str]:
    """Interval ends of a Paris day as Enedis writes them: naive local time."""
    start = datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=PARIS)
    ends, moment = [], start + timedelta(minutes=30)
    while moment <= end.astimezone(UTC):
        ends.append(moment.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S"))
        moment += timedelta(minutes=30)
    return ends


def test_prm_is_fourteen_digits() -> None:
    assert valid_prm("12345678901234")
    assert not valid_prm("1234567890123")
    assert not valid_prm("1234567890123a")
    assert not valid_prm("123456789012345")


def test_load_curve_watts_become_wh_at_interval_start() -> None:
    points = parse_load_curve(
        [
            {"value": "1200", "date": "2026-06-01 00:30:00", "interval_length": "PT30M"},
            {"value": "600", "date": "2026-06-01 01:00:00"},
            {"value": "n/a", "date": "2026-06-01 01:30:00"},  # garbage: skipped
            {"value": None, "date": "2026-06-01 02:00:00"},
            {"value": "900", "date": "2026-06-01 02:10:00", "interval_length": "PT10M"},
        ]
    )
    # 00:00-00:30 Paris (CEST) is 22:00-22:30 UTC the day before; 1200 W for 30 min = 600 Wh.
    assert [(p.start, p.minutes, p.wh) for p in points] == [
        (datetime(2026, 5, 31, 22, 0, tzinfo=UTC), 30, 600.0),
        (datetime(2026, 5, 31, 22, 30, tzinfo=UTC), 30, 300.0),
        (datetime(2026, 6, 1, 0, 0, tzinfo=UTC), 10, 150.0),
    ]
    assert points[0].local_day == date(2026, 6, 1)


def test_dst_days_have_46_and_50_distinct_half_hours() -> None:
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    spring_labels, autumn_labels = labels(spring), labels(autumn)
    assert len(spring_labels) == 46
    assert len(autumn_labels) == 50
    # The autumn day repeats the wall-clock ends 02:00 and 02:30 (summer, then winter time).
    assert len(set(autumn_labels)) == 48
    for day, ends in ((spring, spring_labels), (autumn, autumn_labels)):
        points = parse_load_curve([{"value": "1000", "date": end} for end in ends])
        assert len(points) == len(ends)
        starts = [p.start for p in points]
        assert starts == sorted(set(starts))
        assert all(b - a == timedelta(minutes=30) for a, b in itertools.pairwise(starts))
        assert {p.local_day for p in points} == {day}


async def test_requests_carry_token_user_agent_and_dates(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to("2026-06-10 10:00:00+00:00")
    gateway = FakeGateway(aioclient_mock)
    gateway.install()
    api = client(hass)
    points = await api.load_curve("consumption", date(2026, 6, 1), date(2026, 6, 3))
    assert len(points) == 96
    assert sum(p.wh for p in points) == 48_000.0
    daily = await api.daily("consumption", date(2026, 6, 1), date(2026, 6, 3))
    assert [(d.day, d.wh) for d in daily] == [
        (date(2026, 6, 1), 24_000.0),
        (date(2026, 6, 2), 24_000.0),
    ]
    power = await api.max_power(date(2026, 6, 1), date(2026, 6, 2))
    assert power[0].va == 6120.0
    assert power[0].at == datetime(2026, 6, 1, 17, 12, 40, tzinfo=UTC)
    request = gateway.requests[0]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["User-Agent"] == USER_AGENT
    assert (request.kind, request.start, request.end) == (
        "consumption_load_curve",
        date(2026, 6, 1),
        date(2026, 6, 3),
    )
    assert api.requests == 3
    with pytest.raises(ValueError, match="7 days"):
        await api.load_curve("consumption", date(2026, 6, 1), date(2026, 6, 9))
    assert api.requests == 3  # refused locally, nothing sent


@pytest.mark.parametrize(
    ("status", "body", "error", "base"),
    [
        (401, {"status": 401, "error": "invalid_token"}, EnedisAuthError, ApiAuthError),
        (403, {"status": 403, "error": "forbidden"}, EnedisAuthError, ApiAuthError),
        (404, {"status": 404, "error": "no_data_found"}, EnedisNoDataError, ApiResponseError),
        (400, {"status": 400, "error": "start_too_old"}, EnedisDateRangeError, ApiResponseError),
        (500, {"status": 500, "error": "upstream"}, EnedisConnectionError, ApiConnectionError),
        (502, None, EnedisConnectionError, ApiConnectionError),
        (418, {"status": 418}, EnedisResponseError, ApiResponseError),
    ],
)
async def test_status_codes_map_to_the_error_tree(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    *,
    status: int,
    body: dict[str, object] | None,
    error: type[Exception],
    base: type[Exception],
) -> None:
    if body is not None:
        body = {**body, "message": f"usage point {PRM} says no"}
    aioclient_mock.get(f"{BASE}daily_consumption", status=status, json=body)
    with pytest.raises(error) as caught:
        await client(hass).daily("consumption", date(2026, 6, 1), date(2026, 6, 2))
    assert isinstance(caught.value, base)
    assert PRM not in str(caught.value)  # identifiers never reach messages or logs


async def test_rate_limit_keeps_retry_after(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    aioclient_mock.get(f"{BASE}daily_consumption", status=429, headers={"Retry-After": "120"})
    with pytest.raises(EnedisRateLimitError) as caught:
        await client(hass).daily("consumption", date(2026, 6, 1), date(2026, 6, 2))
    assert isinstance(caught.value, ApiRateLimitError)
    assert caught.value.retry_after == 120.0


@pytest.mark.parametrize(
    "text",
    ["<html>maintenance</html>", '{"interval_reading": "nope"}', "[]", ""],
)
async def test_garbage_is_a_response_error(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, text: str
) -> None:
    aioclient_mock.get(f"{BASE}daily_consumption", text=text)
    with pytest.raises(EnedisResponseError):
        await client(hass).daily("consumption", date(2026, 6, 1), date(2026, 6, 2))


async def test_answer_for_another_prm_is_refused(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to("2026-06-10 10:00:00+00:00")
    gateway = FakeGateway(aioclient_mock, answer_for_prm="99999999999999")
    gateway.install()
    with pytest.raises(EnedisWrongPrmError) as caught:
        await client(hass).daily("consumption", date(2026, 6, 1), date(2026, 6, 2))
    assert caught.value.error_key == "wrong_prm"
    assert "99999999999999" not in str(caught.value)


@pytest.mark.parametrize("exc", [ClientError("reset"), TimeoutError()])
async def test_network_failures_are_connection_errors(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, exc: Exception
) -> None:
    aioclient_mock.get(f"{BASE}daily_consumption", exc=exc)
    with pytest.raises(EnedisConnectionError):
        await client(hass).daily("consumption", date(2026, 6, 1), date(2026, 6, 2))
