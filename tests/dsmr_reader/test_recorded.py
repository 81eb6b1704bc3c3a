"""The client against the answers a real DSMR-reader 5.11 server gave (``fixtures/dsmr_reader/recorded``).

Each recording is replayed byte for byte (status, content type, body) by a small local server, and
the client must read it as the real server meant it. A second group checks that the stand-in the
other tests use answers the recorded requests exactly as the real server did.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
import json
from typing import Any

import aiohttp
from aiohttp import web
import pytest
from yarl import URL

from custom_components.meterhub.api.dsmr_reader import (
    DayStatistic,
    DsmrReaderApiDisabledError,
    DsmrReaderAuthError,
    DsmrReaderClient,
    DsmrReaderNotFoundError,
    DsmrReaderResponseError,
    EnergyPrices,
    combine_prices,
)

from .standin import API_KEY, RECORDED, FakeDsmrReader, recorded, start_standin


class Replay:
    """Answers every request with one recorded exchange, as recorded."""

    def __init__(self) -> None:
        self.exchange: dict[str, Any] = {}
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = self.exchange["body"]
        text = body if isinstance(body, str) else json.dumps(body)
        content_type, _, charset = self.exchange["content_type"].partition("; charset=")
        return web.Response(
            status=self.exchange["status"],
            text=text,
            content_type=content_type,
            charset=charset or None,
        )


@pytest.fixture
async def replay(socket_enabled: None) -> AsyncIterator[Replay]:
    server = Replay()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield server
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def client(replay: Replay, session: aiohttp.ClientSession, name: str) -> DsmrReaderClient:
    replay.exchange = recorded(name)
    return DsmrReaderClient(session, replay.url, API_KEY)


async def test_latest_reading(replay: Replay, session: aiohttp.ClientSession) -> None:
    reading = await client(replay, session, "reading_latest.json").async_latest_reading()
    assert reading is not None
    assert reading.timestamp == datetime(2026, 12, 4, 3, 44, tzinfo=UTC)
    assert reading.electricity_delivered_1 == 12374.649
    assert reading.electricity_returned_2 == 2368.343
    assert reading.phase_power_current_l1 == 1.0  # an integer in the JSON
    assert reading.extra_device_delivered == 4590.804


async def test_today_has_plain_numbers_fixed_cost_and_prices(
    replay: Replay, session: aiohttp.ClientSession
) -> None:
    today = await client(replay, session, "today.json").async_today()
    assert today is not None
    assert today.day == date(2026, 12, 4)
    assert today.electricity1 == 1.175
    assert today.fixed_cost == 1.12
    # total_cost includes the fixed daily cost: 0.29 + 0.00 + 0.40 + 1.12.
    assert today.total_cost == pytest.approx(
        today.electricity1_cost + today.electricity2_cost + today.gas_cost + today.fixed_cost
    )


@pytest.mark.parametrize("name", ["day_newest.json", "day_page1.json", "day_page2.json"])
def test_day_rows_total_cost_includes_fixed_cost(name: str) -> None:
    days = [DayStatistic.from_json(row) for row in recorded(name)["body"]["results"]]
    for day in days:
        assert day is not None
        assert day.fixed_cost == 1.12
        assert day.total_cost == pytest.approx(
            day.electricity_cost + day.gas_cost + day.fixed_cost, abs=0.005
        )


async def test_meter_statistics(replay: Replay, session: aiohttp.ClientSession) -> None:
    meter = await client(replay, session, "meter_statistics.json").async_meter_statistics()
    assert meter is not None
    assert meter.timestamp == datetime(2026, 12, 4, 3, 44, tzinfo=UTC)
    assert meter.dsmr_version == "50"
    assert meter.electricity_tariff == 1
    assert meter.power_failure_count == 10
    assert meter.long_power_failure_count == 3
    assert meter.rejected_telegrams == 2
    # The raw telegram (with the meters' equipment ids) is not kept.
    assert "latest_telegram" not in meter.__dataclass_fields__


async def test_prices_of_one_contract(replay: Replay, session: aiohttp.ClientSession) -> None:
    prices = await client(replay, session, "prices_active_docs_query.json").async_prices(
        date(2026, 12, 4)
    )
    assert prices is not None
    today = recorded("today.json")["body"]
    # The same prices consumption/today says are in force.
    assert (
        prices.electricity_delivered_1_price
        == today["energy_supplier_price_electricity_delivered_1"]
    )
    assert prices.gas_price == today["energy_supplier_price_gas"]
    assert prices.fixed_daily_cost == today["energy_supplier_price_fixed_daily_cost"]


def contract(**prices: float) -> EnergyPrices:
    fields = {
        name: prices.get(name, 0.0)
        for name in EnergyPrices.__dataclass_fields__
        if name not in ("start", "end")
    }
    return EnergyPrices(start=date(2026, 1, 1), end=date(2099, 12, 31), **fields)


def test_split_contracts_combined_field_by_field() -> None:
    electricity = contract(
        electricity_delivered_1_price=0.25015,
        electricity_delivered_2_price=0.23456,
        electricity_returned_1_price=0.07,
        electricity_returned_2_price=0.06,
        fixed_daily_cost=1.1234,
    )
    gas = contract(gas_price=1.31234, fixed_daily_cost=0.5)
    combined = combine_prices([electricity, gas])
    assert combined is not None
    assert combined.electricity_delivered_1_price == 0.25015
    assert combined.electricity_returned_2_price == 0.06
    assert combined.gas_price == 1.31234
    # Set (above zero) in both: the server cannot tell which wins and uses 0.
    assert combined.fixed_daily_cost == 0.0
    assert combine_prices([]) is None
    assert combine_prices([gas]) is gas


async def test_hour_rows_over_the_end_of_summer_time(
    replay: Replay, session: aiohttp.ClientSession
) -> None:
    since = datetime(2026, 10, 24, 22, tzinfo=UTC)
    rows = [
        row
        async for page in client(replay, session, "hour_dst_end_day.json").hour_statistics(
            since, UTC
        )
        for row in page
    ]
    # Two distinct hours both called 02:00 local, one hour apart.
    starts = [row.hour_start.astimezone(UTC).hour for row in rows]
    assert starts == [22, 23, 0, 1, 2, 3]
    assert rows[3].electricity1 == 0.353


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("auth_wrong_key.json", DsmrReaderAuthError),
        ("auth_no_key.json", DsmrReaderAuthError),
        ("disabled_right_key.json", DsmrReaderApiDisabledError),
        ("disabled_wrong_key.json", DsmrReaderApiDisabledError),
        ("disabled_v1_post.json", DsmrReaderApiDisabledError),
        ("v1_get.json", DsmrReaderApiDisabledError),
        ("unknown_endpoint.json", DsmrReaderNotFoundError),
        ("hour_trailing_slash.json", DsmrReaderNotFoundError),
        ("hour_filter_ambiguous_local.json", DsmrReaderResponseError),
        ("day_bad_filter.json", DsmrReaderResponseError),
    ],
)
async def test_recorded_errors(
    replay: Replay, session: aiohttp.ClientSession, name: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await client(replay, session, name).async_version()


async def test_version(replay: Replay, session: aiohttp.ClientSession) -> None:
    assert await client(replay, session, "version.json").async_version() == "5.11.0"


# --- the stand-in answers the recorded requests as the real server did -----------------------

STANDIN_CASES = [
    "auth_wrong_key.json",
    "auth_no_key.json",
    "hour_filter_ambiguous_local.json",
    "hour_filter_nonexistent_local.json",
    "hour_filter_garbage.json",
    "hour_filter_iso_offset.json",
    "hour_filter_iso_utc.json",
    "hour_dst_end_day.json",
    "day_bad_filter.json",
    "hour_trailing_slash.json",
    "unknown_endpoint.json",
    "meter_statistics.json",
    "prices_active_docs_query.json",
]


@pytest.fixture
async def standin(socket_enabled: None) -> AsyncIterator[FakeDsmrReader]:
    server = FakeDsmrReader()
    runner = await start_standin(server)
    yield server
    await runner.cleanup()


@pytest.mark.parametrize("name", STANDIN_CASES)
async def test_standin_answers_like_the_real_server(
    standin: FakeDsmrReader, session: aiohttp.ClientSession, name: str
) -> None:
    exchange = recorded(name)
    standin.hours = recorded_hours_for_standin()
    standin.prices = recorded("prices_all.json")["body"]["results"]
    url = URL(exchange["request"]["url"])
    headers = {
        "ok": {"X-AUTHKEY": API_KEY},
        "wrong": {"X-AUTHKEY": "wrong"},
        "none": {},
    }[exchange["request"]["auth"]]
    target = URL(standin.url).with_path(url.path).with_query(url.query)
    async with session.get(target, headers=headers) as response:
        assert response.status == exchange["status"], await response.text()
        assert response.content_type == exchange["content_type"].split(";")[0]
        body: Any = await response.text()
        if response.content_type == "application/json":
            body = json.loads(body)
    want = exchange["body"]
    if isinstance(want, dict) and "results" in want and "hour_start" in want["results"][0]:
        # The same rows, to the last character; the count too where the stand-in holds every row
        # the real server had (it holds only the recorded hours, not all 166).
        assert body["results"] == want["results"]
        if name not in ("hour_filter_iso_offset.json", "hour_filter_iso_utc.json"):
            assert body["count"] == want["count"]
    else:
        assert body == want


def recorded_hours_for_standin() -> list[dict[str, Any]]:
    from .standin import recorded_hours

    return recorded_hours(
        "hour_dst_end_day.json", "hour_filter_iso_offset.json", "hour_filter_iso_utc.json"
    )


def test_recordings_are_all_copied() -> None:
    """The tests do not depend on ../shared: every recording is in the fixtures."""
    assert len(list(RECORDED.glob("*.json"))) == 40
