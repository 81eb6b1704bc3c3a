"""The Octopus client alone against the local stand-in: parsing, paging, errors, tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.meterhub.api import octopus as octopus_api
from custom_components.meterhub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitError,
    ApiResponseError,
)
from custom_components.meterhub.api.octopus import (
    GRAPHQL_PAUSE,
    Agreement,
    FuelType,
    OctopusAccountNotFoundError,
    OctopusClient,
    OctopusNotFoundError,
    OctopusSchemaError,
    parse_gas_unit,
    parse_time,
)

from .conftest import AGILE, FIXED, MPAN, NOW, SERIAL, fill_standard
from .standin import ACCOUNT, GOOD_KEY, Failure, FakeOctopus, half_hours


@pytest.fixture
async def client(octopus: FakeOctopus) -> AsyncIterator[OctopusClient]:
    fill_standard(octopus)
    async with aiohttp.ClientSession() as session:
        yield OctopusClient(session, GOOD_KEY, base_url=octopus.base_url)


def test_parse_time_mixed_offsets() -> None:
    assert parse_time("2026-03-29T00:00:00Z") == datetime(2026, 3, 29, tzinfo=UTC)
    assert parse_time("2026-03-29T02:00:00+01:00") == datetime(2026, 3, 29, 1, tzinfo=UTC)
    with pytest.raises(ApiResponseError):
        parse_time("2026-03-29T02:00:00")
    with pytest.raises(ApiResponseError):
        parse_time("yesterday")


def test_product_code_and_two_rate() -> None:
    assert Agreement(tariff_code=AGILE, valid_from=None, valid_to=None).product_code == (
        "AGILE-24-10-01"
    )
    e7 = Agreement(tariff_code="E-2R-VAR-22-11-01-A", valid_from=None, valid_to=None)
    assert e7.product_code == "VAR-22-11-01"
    assert e7.two_rate


async def test_account_parsed(client: OctopusClient) -> None:
    account = await client.async_get_account(ACCOUNT)
    points = account.properties[0].points
    assert [p.identifier for p in points] == [MPAN, "1300000000002", "3000000001"]
    assert [p.is_export for p in points] == [False, True, False]
    assert points[0].agreements[1].valid_to is None  # open agreement
    assert points[0].agreement_at(NOW) == points[0].agreements[1]
    with pytest.raises(OctopusAccountNotFoundError) as err:
        await client.async_get_account("A-FFFF0000")
    assert err.value.error_key == "invalid_account"


async def test_consumption_mixed_offsets_paged_and_deduplicated(
    client: OctopusClient, octopus: FakeOctopus, monkeypatch: pytest.MonkeyPatch
) -> None:
    octopus.duplicate_page_edges = True
    monkeypatch.setattr(octopus_api, "CONSUMPTION_PAGE_SIZE", 7)
    point = (await client.async_get_account(ACCOUNT)).properties[0].points[0]
    start = datetime(2026, 3, 28, 22, tzinfo=UTC)
    end = datetime(2026, 3, 29, 4, tzinfo=UTC)  # across the clock change at 01:00 UTC
    intervals = await client.async_get_consumption(point, SERIAL, start, end)
    assert [i.start for i in intervals] == half_hours(start, end)
    assert all(i.end - i.start == timedelta(minutes=30) for i in intervals)
    texts = [q for _, path, q in octopus.requests if "consumption" in path]
    assert len(texts) == 2  # 12 half hours in pages of 7; the next link carries the query


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, ApiAuthError),
        (403, ApiAuthError),
        (429, ApiRateLimitError),
        (500, ApiConnectionError),
        (502, ApiConnectionError),
        (200, ApiResponseError),  # an HTML maintenance page
        (418, ApiResponseError),
    ],
)
async def test_http_errors_mapped(
    client: OctopusClient, octopus: FakeOctopus, status: int, error: type[Exception]
) -> None:
    octopus.failures.append(Failure("/accounts/", status, headers={"Retry-After": "120"}))
    with pytest.raises(error) as caught:
        await client.async_get_account(ACCOUNT)
    if status == 429:
        assert caught.value.retry_after == 120  # type: ignore[attr-defined]
    assert GOOD_KEY not in str(caught.value)
    assert ACCOUNT not in str(caught.value)


async def test_timeout_is_a_connection_error(socket_enabled: None) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/v1/accounts/{account}/", slow)
    runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    async with aiohttp.ClientSession() as session:
        client = OctopusClient(
            session,
            GOOD_KEY,
            base_url=f"http://127.0.0.1:{runner.addresses[0][1]}/v1",
            request_timeout=0.2,
        )
        with pytest.raises(ApiConnectionError):
            await client.async_get_account(ACCOUNT)
    release.set()
    await asyncio.sleep(0.05)
    await runner.cleanup()


async def test_rates_prefer_direct_debit_and_unknown_product(
    client: OctopusClient, octopus: FakeOctopus
) -> None:
    agreement = Agreement(tariff_code=FIXED, valid_from=None, valid_to=None)
    rates = await client.async_get_rates(
        FuelType.ELECTRICITY, agreement, "standard-unit-rates", NOW - timedelta(days=1), NOW
    )
    assert [r.value_inc_vat for r in rates] == [24.5]
    gone = Agreement(tariff_code="E-1R-GONE-20-01-01-C", valid_from=None, valid_to=None)
    with pytest.raises(OctopusNotFoundError):
        await client.async_get_rates(
            FuelType.ELECTRICITY, gone, "standard-unit-rates", NOW - timedelta(days=1), NOW
        )


async def test_token_cached_and_renewed_before_expiry(
    client: OctopusClient, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    assert await client.async_get_balance(ACCOUNT) == 12.34
    assert await client.async_get_balance(ACCOUNT) == 12.34
    assert octopus.tokens_issued == 1
    freezer.tick(timedelta(minutes=50))
    await client.async_get_balance(ACCOUNT)
    assert octopus.tokens_issued == 1  # still 10 minutes to go
    freezer.tick(timedelta(minutes=6))  # inside the 5-minute margin before the 1 h expiry
    await client.async_get_balance(ACCOUNT)
    assert octopus.tokens_issued == 2
    # a token the server expired early is replaced once, transparently
    octopus.tokens.clear()
    await client.async_get_balance(ACCOUNT)
    assert octopus.tokens_issued == 3


async def test_graphql_errors(
    client: OctopusClient, octopus: FakeOctopus, freezer: FrozenDateTimeFactory
) -> None:
    octopus.graphql_errors = ["KT-CT-1199"]
    with pytest.raises(ApiRateLimitError):
        await client.async_get_balance(ACCOUNT)
    # the limit is shared by every GraphQL call: the client rests without asking again
    asked = octopus.count("graphql")
    with pytest.raises(ApiRateLimitError) as paused:
        await client.async_get_telemetry("dev-1", NOW - timedelta(hours=1), NOW)
    assert octopus.count("graphql") == asked
    assert paused.value.retry_after is not None
    assert paused.value.retry_after > 0
    freezer.tick(GRAPHQL_PAUSE + timedelta(seconds=1))
    octopus.keys = {"other"}
    with pytest.raises(ApiAuthError):
        await client.async_get_balance(ACCOUNT)
    octopus.keys = {GOOD_KEY}
    octopus.graphql_errors = ["KT-CT-9999"]
    with pytest.raises(ApiResponseError):
        await client.async_get_balance(ACCOUNT)


def test_gas_units_and_codes_without_the_usual_shape() -> None:
    assert parse_gas_unit("KWH") is octopus_api.GasUnit.KWH
    assert parse_gas_unit("kWh") is octopus_api.GasUnit.KWH
    assert parse_gas_unit("MQ") is octopus_api.GasUnit.CUBIC_METERS
    assert parse_gas_unit("m³") is octopus_api.GasUnit.CUBIC_METERS
    assert parse_gas_unit(None) is None
    assert parse_gas_unit("LITRES") is None
    # REST alone: a code that is not E-1R-<product>-<region> is used as it is
    odd = Agreement(tariff_code="OE-FIX-TRACKER-B", valid_from=None, valid_to=None)
    assert odd.product_code == "OE-FIX-TRACKER-B"
    # GraphQL's productCode wins over cutting
    named = Agreement(
        tariff_code="E-1R-AGILE-24-10-01-C", valid_from=None, valid_to=None, product="AGILE-X"
    )
    assert named.product_code == "AGILE-X"


@pytest.mark.parametrize("change", ["units_renamed", "unknown_unit"])
async def test_graphql_account_in_a_changed_shape_is_a_schema_error(
    client: OctopusClient, octopus: FakeOctopus, change: str
) -> None:
    octopus.graphql_changed_shape = change
    with pytest.raises(OctopusSchemaError) as changed:
        await client.async_get_graphql_account(ACCOUNT)
    assert changed.value.what == (
        "account (gasAgreements[0].meterPoint.meters[0].consumptionUnits)"
    )
    for secret in (ACCOUNT, MPAN, SERIAL, GOOD_KEY):
        assert secret not in str(changed.value)
        assert secret not in repr(changed.value.received)
    octopus.graphql_changed_shape = None
    account = await client.async_get_graphql_account(ACCOUNT)
    assert account.from_graphql
