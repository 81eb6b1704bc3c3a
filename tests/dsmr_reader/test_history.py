"""DSMR-reader history into the energy dashboard: backfill, resume, repeat runs, bad pages.

Every check reads the statistics as the energy dashboard does (``change`` per hour or day) and
compares them with the server's own rows, to the last decimal.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from custom_components.meterhub.api.dsmr_reader import time_filter
from custom_components.meterhub.statistics import hour_start, local_midnight
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..helpers import statistic_rows
from .conftest import add_entry, saved_entry
from .standin import AMSTERDAM, FakeDsmrReader, make_days, make_hours, total

# Home Assistant's recorder upserts external statistics row by row: the longer scenarios carry one
# series (the resume marker, the one that matters most); the short ones carry all five.
ONE_SERIES = ("electricity1",)
QUANTITIES = ("electricity1", "electricity2", "electricity1_returned", "electricity2_returned")


def statistic_id(server: FakeDsmrReader, quantity: str) -> str:
    port = server.url.rsplit(":", 1)[1]
    return f"meterhub:dsmr_reader_127_0_0_1_{port}_{quantity}"


def last_full_hour() -> datetime:
    return hour_start(dt_util.utcnow()) - timedelta(hours=1)


async def dashboard(
    hass: HomeAssistant, server: FakeDsmrReader, quantity: str
) -> dict[datetime, float]:
    rows = await statistic_rows(hass, statistic_id(server, quantity), {"change"})
    return {datetime.fromtimestamp(row["start"], UTC): row["change"] for row in rows}


async def last_sum(hass: HomeAssistant, server: FakeDsmrReader, quantity: str) -> float:
    rows = await statistic_rows(hass, statistic_id(server, quantity), {"sum"})
    return float(rows[-1]["sum"])


def first_hour_filter(server: FakeDsmrReader) -> datetime:
    """The ``hour_start__gte`` of the first hour listing, read back as the server reads it."""
    text = server.requests_to("statistics/hour")[0]["hour_start__gte"]
    return datetime.fromisoformat(text).astimezone(UTC)


def reread_filter(last: datetime) -> str:
    """Where a re-read starts: the server's midnight of the day two days before ``last``."""
    return time_filter(
        local_midnight((last - timedelta(days=2)).astimezone(AMSTERDAM).date(), AMSTERDAM),
        AMSTERDAM,
    )


def rows_from(rows: list[dict[str, Any]], start: datetime) -> list[dict[str, Any]]:
    return [row for row in rows if row["hour_start"] >= start]


async def assert_matches_server(
    hass: HomeAssistant, server: FakeDsmrReader, rows: list[dict[str, Any]]
) -> None:
    """Each hour and the running total of every series equal the server's rows."""
    for quantity in (*QUANTITIES, "gas"):
        got = await dashboard(hass, server, quantity)
        want = {row["hour_start"]: float(row[quantity]) for row in rows if row[quantity]}
        if not want:
            assert got == {}, quantity
            continue
        assert got.keys() == want.keys(), quantity
        assert all(abs(got[hour] - want[hour]) < 1e-6 for hour in want), quantity
        assert await last_sum(hass, server, quantity) == pytest.approx(
            float(total(rows, quantity)), abs=1e-6
        )


@pytest.mark.timeout(600)
async def test_year_backfill_then_repeat_runs_change_nothing(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    """A year of hours (over both DST changes), then a repeat run and a restart.

    Home Assistant's recorder upserts external statistics row by row (a few ms each here), so
    this year carries electricity tariff 1 and gas only; the other series have shorter tests.
    """
    last = last_full_hour()
    dsmr_server.hours = make_hours(
        last - timedelta(hours=366 * 24 - 1), 366 * 24, only=("electricity1", "gas")
    )
    today = dt_util.utcnow().astimezone(AMSTERDAM).date()
    dsmr_server.days = make_days(today - timedelta(days=366), 366, hours=dsmr_server.hours)
    entry = await add_entry(hass, dsmr_server)
    history = entry.runtime_data.history
    assert history.last_update_success, history.last_exception

    # The depth (a year) was asked for in the server's local time.
    start = first_hour_filter(dsmr_server)
    assert abs(start - (last + timedelta(hours=1) - timedelta(days=365))) <= timedelta(hours=1)
    imported = rows_from(dsmr_server.hours, start)
    assert len(imported) >= 365 * 24
    await assert_matches_server(hass, dsmr_server, imported)
    assert history.data.hours_read == len(imported)
    # 500 rows a page: a year in 18 requests.
    assert len(dsmr_server.requests_to("statistics/hour")) == -(-len(imported) // 500)

    # Costs: one point per day at the server's local midnight, total_cost of that day.
    costs = await statistic_rows(
        hass, statistic_id(dsmr_server, "total_cost"), {"change"}, period="hour"
    )
    day_rows = [
        d for d in dsmr_server.days if d["day"] >= start.astimezone(AMSTERDAM).date().isoformat()
    ]
    assert len(costs) == len(day_rows)
    first_cost = costs[0]
    midnight = datetime.fromisoformat(day_rows[0]["day"]).replace(tzinfo=AMSTERDAM)
    assert datetime.fromtimestamp(first_cost["start"], UTC) == midnight.astimezone(UTC)
    assert first_cost["change"] == pytest.approx(float(day_rows[0]["total_cost"]))
    assert await last_sum(hass, dsmr_server, "total_cost") == pytest.approx(
        float(total(day_rows, "total_cost"))
    )
    electricity_cost = total(day_rows, "electricity1_cost") + total(day_rows, "electricity2_cost")
    assert await last_sum(hass, dsmr_server, "electricity_cost") == pytest.approx(
        float(electricity_cost)
    )

    # The next hourly run reads only the recent window, in local time, and writes nothing.
    dsmr_server.requests.clear()
    await history.async_refresh()
    assert history.last_update_success
    assert history.data.rows_written == 0
    window = dsmr_server.requests_to("statistics/hour")
    assert len(window) == 1
    assert window[0]["hour_start__gte"] == reread_filter(last)
    await assert_matches_server(hass, dsmr_server, imported)

    # A restart (reload) checks the head of the window once and still changes nothing.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    history = entry.runtime_data.history
    assert history.data.rows_written == 0
    assert history.data.gap_filled is False
    await assert_matches_server(hass, dsmr_server, imported)


async def test_server_going_away_mid_backfill_resumes_without_double_counting(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    last = last_full_hour()
    dsmr_server.hours = make_hours(last - timedelta(hours=799), 800, only=ONE_SERIES)
    dsmr_server.hour_requests_left = 1  # the second page of 500 hours gets a 503
    entry = await add_entry(hass, dsmr_server)
    history = entry.runtime_data.history
    assert not history.last_update_success
    assert entry.runtime_data.live.last_update_success  # live values are unaffected
    first_part = dsmr_server.hours[:500]
    await assert_matches_server(hass, dsmr_server, first_part)

    dsmr_server.hour_requests_left = None
    dsmr_server.requests.clear()
    await history.async_refresh()
    assert history.last_update_success
    # It resumed just before where it stopped, not from the start.
    resumed = dsmr_server.requests_to("statistics/hour")[0]["hour_start__gte"]
    assert resumed == reread_filter(first_part[-1]["hour_start"])
    await assert_matches_server(hass, dsmr_server, dsmr_server.hours)


async def test_new_hours_and_a_shifting_listing_while_paging(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    """Rows are added and an old row disappears while we page: nothing skipped or doubled."""
    last = last_full_hour()
    dsmr_server.hours = make_hours(last - timedelta(hours=599), 600, only=ONE_SERIES)
    extra = make_hours(last + timedelta(hours=1), 3, only=ONE_SERIES)
    removed: list[dict[str, Any]] = []
    calls = 0

    def shift(server: FakeDsmrReader, path: str, params: dict[str, str]) -> None:
        nonlocal calls
        if path != "statistics/hour":
            return
        calls += 1
        if calls == 2:  # before the second page: the listing changes under us
            removed.append(server.hours.pop(0))
            server.hours.extend(extra)

    dsmr_server.before_answer = shift
    entry = await add_entry(hass, dsmr_server)
    assert entry.runtime_data.history.last_update_success
    assert entry.runtime_data.client.reanchors == 1
    # The removed hour was read with the first page; every other hour is there once.
    await assert_matches_server(hass, dsmr_server, removed + dsmr_server.hours)


async def test_raising_the_depth_imports_the_older_hours(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    last = last_full_hour()
    dsmr_server.hours = make_hours(last - timedelta(hours=40 * 24 - 1), 40 * 24, only=ONE_SERIES)
    entry = saved_entry(hass, dsmr_server, backfill_days=10)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    ten_days = rows_from(dsmr_server.hours, first_hour_filter(dsmr_server))
    assert 10 * 24 <= len(ten_days) <= 10 * 24 + 1
    await assert_matches_server(hass, dsmr_server, ten_days)

    dsmr_server.requests.clear()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 30, "backfill_days": 30}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    history = entry.runtime_data.history
    assert history.last_update_success
    assert history.data.gap_filled is True
    thirty_days = rows_from(dsmr_server.hours, first_hour_filter(dsmr_server))
    assert 30 * 24 <= len(thirty_days) <= 30 * 24 + 1
    await assert_matches_server(hass, dsmr_server, thirty_days)

    # Lowering it again deletes nothing and imports nothing.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 30, "backfill_days": 5}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.runtime_data.history.data.rows_written == 0
    await assert_matches_server(hass, dsmr_server, thirty_days)


async def test_nulls_negative_and_unreadable_values_are_skipped(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    last = last_full_hour()
    rows = make_hours(last - timedelta(hours=47), 48, gas=False)
    rows[5]["electricity2"] = None
    rows[6]["electricity1_returned"] = "-3.000"
    rows[7]["electricity1"] = "n/a"
    dsmr_server.hours = rows
    await add_entry(hass, dsmr_server)
    assert await dashboard(hass, dsmr_server, "gas") == {}  # no gas meter: no gas statistic
    got = await dashboard(hass, dsmr_server, "electricity2")
    assert rows[5]["hour_start"] not in got
    assert len(got) == 47
    got = await dashboard(hass, dsmr_server, "electricity1_returned")
    assert rows[6]["hour_start"] not in got
    got = await dashboard(hass, dsmr_server, "electricity1")
    assert rows[7]["hour_start"] not in got
    want = sum(Decimal(r["electricity1"]) for i, r in enumerate(rows) if i != 7)
    assert await last_sum(hass, dsmr_server, "electricity1") == pytest.approx(float(want))


async def test_overlapping_runs_and_a_bad_answer_count_nothing_twice(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    last = last_full_hour()
    dsmr_server.hours = make_hours(last - timedelta(hours=71), 72)
    entry = await add_entry(hass, dsmr_server)
    history = entry.runtime_data.history
    await assert_matches_server(hass, dsmr_server, dsmr_server.hours)

    # A proxy answers with its HTML page for a while: a clear error, nothing imported.
    dsmr_server.hours += make_hours(last + timedelta(hours=1), 2)
    dsmr_server.html = True
    await history.async_refresh()
    assert not history.last_update_success
    assert "not JSON" in str(history.last_exception.__cause__)
    await assert_matches_server(hass, dsmr_server, dsmr_server.hours[:72])

    # Back, and two runs at once (a slow backfill overtaken by the hourly timer).
    dsmr_server.html = False
    await asyncio.gather(history.async_refresh(), history.async_refresh())
    assert history.last_update_success
    await assert_matches_server(hass, dsmr_server, dsmr_server.hours)
