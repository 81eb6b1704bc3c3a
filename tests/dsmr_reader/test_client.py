"""The DSMR-reader client on its own, against the stand-in server: errors, parsing and paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from custom_components.meterhub.api.dsmr_reader import (
    MAX_REANCHORS,
    DsmrReaderApiDisabledError,
    DsmrReaderAuthError,
    DsmrReaderClient,
    DsmrReaderConnectionError,
    DsmrReaderError,
    DsmrReaderNotFoundError,
    DsmrReaderNotJsonError,
    normalize_url,
    parse_number,
    server_key,
    time_filter,
)
from custom_components.meterhub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitError,
    ApiResponseError,
)
from custom_components.meterhub.providers.dsmr_reader.history import server_zone

from .standin import AMSTERDAM, API_KEY, FakeDsmrReader, make_hours


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def client_for(
    server: FakeDsmrReader, session: aiohttp.ClientSession, **kwargs: Any
) -> DsmrReaderClient:
    return DsmrReaderClient(session, server.url, kwargs.pop("key", API_KEY), **kwargs)


@pytest.mark.parametrize(
    ("raw", "url", "key"),
    [
        ("192.168.1.10:7777", "http://192.168.1.10:7777", "192.168.1.10:7777"),
        ("http://192.168.1.10:7777/", "http://192.168.1.10:7777", "192.168.1.10:7777"),
        ("  DSMR.local/about/ ", "http://dsmr.local", "dsmr.local:80"),
        ("https://dsmr.example/api/v2/?x=1#y", "https://dsmr.example", "dsmr.example:443"),
        ("http://dsmr.local:80", "http://dsmr.local", "dsmr.local:80"),
    ],
)
def test_normalize_url(raw: str, url: str, key: str) -> None:
    normalized = normalize_url(raw)
    assert str(normalized) == url
    assert server_key(normalized) == key


@pytest.mark.parametrize("raw", ["", "ftp://host", "http://", "http://host:port", "://"])
def test_normalize_url_rejects(raw: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        normalize_url(raw)


def test_numbers_and_filters() -> None:
    assert parse_number("12345.678") == 12345.678
    assert parse_number(" 0.000 ") == 0.0
    assert parse_number(3) == 3.0
    for bad in (None, "", "n/a", "NaN", "Infinity", True, [], {}):
        assert parse_number(bad) is None
    # Filters are local times with their offset (issue 17): exact also when the clocks go back.
    assert (
        time_filter(datetime(2026, 7, 1, 10, tzinfo=UTC), AMSTERDAM) == "2026-07-01T12:00:00+02:00"
    )
    assert (
        time_filter(datetime(2026, 1, 1, 10, tzinfo=UTC), AMSTERDAM) == "2026-01-01T11:00:00+01:00"
    )
    assert (
        time_filter(datetime(2026, 10, 25, 0, tzinfo=UTC), AMSTERDAM) == "2026-10-25T02:00:00+02:00"
    )
    assert (
        time_filter(datetime(2026, 10, 25, 1, tzinfo=UTC), AMSTERDAM) == "2026-10-25T02:00:00+01:00"
    )


def test_server_zone_from_an_offset() -> None:
    summer = datetime.fromisoformat("2026-07-01T12:00:00+02:00")
    assert server_zone(summer, [UTC, AMSTERDAM]) is AMSTERDAM
    odd = datetime.fromisoformat("2026-07-01T12:00:00+05:30")
    assert odd.utcoffset() == server_zone(odd, [UTC, AMSTERDAM]).utcoffset(odd)
    assert server_zone(None, [AMSTERDAM]) is AMSTERDAM


async def test_error_mapping(dsmr_server: FakeDsmrReader, session: aiohttp.ClientSession) -> None:
    client = client_for(dsmr_server, session)
    reading = await client.async_latest_reading()
    assert reading is not None
    assert reading.electricity_delivered_1 == 12345.678
    assert reading.timestamp == datetime(2026, 11, 22, 1, 14, 50, tzinfo=UTC)

    with pytest.raises(DsmrReaderAuthError) as auth:
        await client_for(dsmr_server, session, key="wrong").async_latest_reading()
    assert isinstance(auth.value, ApiAuthError)
    assert "wrong" not in str(auth.value)

    for mode in ("disabled_403", "disabled_405"):
        dsmr_server.api = mode
        with pytest.raises(DsmrReaderApiDisabledError) as disabled:
            await client.async_latest_reading()
        assert disabled.value.error_key == "api_disabled"
        assert not isinstance(disabled.value, ApiAuthError)  # no reauth for a switch
    dsmr_server.api = "enabled"

    for status in (500, 502, 503):
        dsmr_server.fail_status = status
        with pytest.raises(DsmrReaderConnectionError):
            await client.async_latest_reading()
    dsmr_server.fail_status = 429
    with pytest.raises(ApiRateLimitError):
        await client.async_latest_reading()
    dsmr_server.fail_status = 400
    with pytest.raises(DsmrReaderError):
        await client.async_latest_reading()
    dsmr_server.fail_status = None

    dsmr_server.html = True
    with pytest.raises(DsmrReaderNotJsonError) as html:
        await client.async_latest_reading()
    assert isinstance(html.value, ApiResponseError)
    assert "not JSON" in str(html.value)
    dsmr_server.html = False

    dsmr_server.prices = None
    with pytest.raises(DsmrReaderNotFoundError):
        await client.async_prices(date(2026, 11, 22))


async def test_timeout_is_a_connection_error(
    dsmr_server: FakeDsmrReader, session: aiohttp.ClientSession
) -> None:
    dsmr_server.delay = 1.0
    client = client_for(dsmr_server, session, request_timeout=0.1)
    with pytest.raises(DsmrReaderConnectionError, match="Timed out") as timeout:
        await client.async_today()
    assert isinstance(timeout.value, ApiConnectionError)


async def test_garbage_shapes(dsmr_server: FakeDsmrReader, session: aiohttp.ClientSession) -> None:
    client = client_for(dsmr_server, session)
    dsmr_server.today = "No electricity readings found for: 2026-11-22"
    assert await client.async_today() is None
    dsmr_server.today = [1, 2]
    with pytest.raises(DsmrReaderError):
        await client.async_today()
    dsmr_server.readings = []
    assert await client.async_latest_reading() is None
    # A list without the paged envelope is not silently taken for "no data".
    dsmr_server.raw_answer = [{"timestamp": "2026-11-22T02:14:50+01:00"}]
    with pytest.raises(DsmrReaderError, match="paged list"):
        await client.async_latest_reading()
    with pytest.raises(DsmrReaderError, match="paged list"):
        await pages(client, datetime(2026, 3, 1, tzinfo=UTC))


async def test_prices_valid_today(
    dsmr_server: FakeDsmrReader, session: aiohttp.ClientSession
) -> None:
    client = client_for(dsmr_server, session)
    current = await client.async_prices(date(2026, 11, 22))
    assert current is not None
    assert current.electricity_delivered_1_price == 0.251
    old = await client.async_prices(date(2024, 6, 1))
    assert old is not None
    assert old.gas_price == 1.1
    assert await client.async_prices(date(2023, 1, 1)) is None


async def pages(client: DsmrReaderClient, since: datetime, **kwargs: Any) -> list[list[Any]]:
    return [page async for page in client.hour_statistics(since, AMSTERDAM, **kwargs)]


async def test_paging_filters_and_empty_pages(
    dsmr_server: FakeDsmrReader, session: aiohttp.ClientSession
) -> None:
    first = datetime(2026, 10, 24, 20, tzinfo=UTC)  # across the autumn DST change
    dsmr_server.hours = make_hours(first, 30)
    client = client_for(dsmr_server, session)
    got = await pages(client, first, page_size=7)
    assert [len(page) for page in got] == [7, 7, 7, 7, 2]
    hours = [row.hour_start for page in got for row in page]
    assert hours == [first + timedelta(hours=i) for i in range(30)]  # 30 distinct UTC hours
    assert [p["offset"] for p in dsmr_server.requests_to("statistics/hour")] == [
        "0",
        "7",
        "14",
        "21",
        "28",
    ]
    # Both bounds, in local time.
    got = await pages(client, first + timedelta(hours=5), until=first + timedelta(hours=9))
    assert [row.hour_start for row in got[0]] == [first + timedelta(hours=h) for h in range(5, 10)]
    # Nothing in the window: no page at all.
    assert await pages(client, first + timedelta(days=5)) == []

    # A page that comes back empty although count promises more ends the walk.
    dsmr_server.requests.clear()
    dsmr_server.empty_from_offset = 7
    got = await pages(client, first, page_size=7)
    assert [len(page) for page in got] == [7]
    assert len(dsmr_server.requests_to("statistics/hour")) == 2


async def test_a_listing_that_never_settles_is_an_error(
    dsmr_server: FakeDsmrReader, session: aiohttp.ClientSession
) -> None:
    first = datetime(2026, 3, 1, tzinfo=UTC)
    dsmr_server.hours = make_hours(first, 100)
    added = 0

    def grow(server: FakeDsmrReader, path: str, params: dict[str, str]) -> None:
        nonlocal added
        added += 1
        server.hours.append(make_hours(first + timedelta(hours=100 + added), 1)[0])

    dsmr_server.before_answer = grow
    client = client_for(dsmr_server, session)
    with pytest.raises(DsmrReaderError, match="kept changing"):
        await pages(client, first, page_size=10)
    assert client.reanchors == MAX_REANCHORS + 1
