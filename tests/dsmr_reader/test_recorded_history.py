"""DSMR-reader history built on the recorded answers of a real DSMR-reader 5.11 server.

- Each day's electricity hours add up to the server's day row exactly (issue 21): the real server's
  hours come ~1.5 % short because the usage between one hour's last reading and the next hour's
  first is in no hour row. Gas hours are booked as the server has them.
- A history run that starts inside the repeated hour of 2026-10-25 works (issue 17): the filters
  carry their offset, where a naive local time gets a 400.
- The history runs after the server's midnight, when the day's hours appear, not every hour.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from homeassistant.core import HomeAssistant

from .conftest import saved_entry
from .standin import (
    AMSTERDAM,
    FakeDsmrReader,
    hours_short_of_days,
    recorded_body,
    recorded_days,
    recorded_hours,
)
from .test_history import dashboard, last_sum

ELECTRICITY = ("electricity1", "electricity2", "electricity1_returned", "electricity2_returned")
#: When the recordings were made: 2026-12-04 04:44 in Amsterdam.
RECORDED_AT = datetime(2026, 12, 4, 3, 44, tzinfo=UTC)
#: About the shortfall of the hours against the day rows on the real server (57.214 / 59.552 kWh).
SHORTFALL = Decimal("0.04")


def add(hass: HomeAssistant, server: FakeDsmrReader, backfill_days: int = 365) -> MockConfigEntry:
    return saved_entry(hass, server, backfill_days)


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


def local_day(moment: datetime) -> str:
    return moment.astimezone(AMSTERDAM).date().isoformat()


async def per_day(hass: HomeAssistant, server: FakeDsmrReader, quantity: str) -> dict[str, float]:
    sums: dict[str, float] = defaultdict(float)
    for start, change in (await dashboard(hass, server, quantity)).items():
        sums[local_day(start)] += change
    return dict(sums)


def server_hours(server: FakeDsmrReader, quantity: str) -> dict[datetime, float]:
    return {row["hour_start"]: float(row[quantity]) for row in server.hours}


@pytest.fixture
def recorded_server(dsmr_server: FakeDsmrReader) -> FakeDsmrReader:
    """The recorded reading, day rows of 1-3 December and every hour of those days."""
    dsmr_server.readings = recorded_body("reading_latest.json")["results"]
    dsmr_server.today = recorded_body("today.json")
    dsmr_server.prices = recorded_body("prices_all.json")["results"]
    days = [
        d for d in recorded_days("day_page2.json", "day_newest.json") if d["day"] >= "2026-12-01"
    ]
    known = recorded_hours("hour_page1.json", "hour_newest.json", "hour_last_page.json")
    dsmr_server.days = days
    dsmr_server.hours = hours_short_of_days(days, known, shortfall=SHORTFALL)
    return dsmr_server


async def test_each_days_hours_sum_to_the_day_row(
    hass: HomeAssistant, recorded_server: FakeDsmrReader, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(RECORDED_AT)
    server = recorded_server
    # The recorded hours are part of it, as the server answered them.
    for row in recorded_body("hour_page1.json")["results"]:
        start = datetime.fromisoformat(row["hour_start"]).astimezone(UTC)
        assert server_hours(server, "electricity1")[start] == float(row["electricity1"])
    day_rows = {day["day"]: day for day in server.days}
    for day, row in day_rows.items():
        hours = [h for h in server.hours if local_day(h["hour_start"]) == day]
        assert sum(Decimal(h["electricity2"]) for h in hours) < Decimal(row["electricity2"])

    entry = add(hass, server)
    await set_up(hass, entry)
    history = entry.runtime_data.history
    assert history.last_update_success, history.last_exception
    assert history.data.days_booked == 3

    for quantity in ELECTRICITY:
        got = await per_day(hass, server, quantity)
        for day, row in day_rows.items():
            assert got.get(day, 0.0) == pytest.approx(float(row[quantity]), abs=1e-6), (
                day,
                quantity,
            )
        # Shared in proportion to use: an hour that used nothing still used nothing.
        booked = await dashboard(hass, server, quantity)
        for start, value in server_hours(server, quantity).items():
            if value == 0:
                assert booked.get(start, 0.0) == 0.0
            else:
                assert booked[start] >= value
        want_total = sum(float(row[quantity]) for row in day_rows.values())
        assert await last_sum(hass, server, quantity) == pytest.approx(want_total, abs=1e-6)
    # Gas: the server's own hours, which already add up to its day rows.
    assert await dashboard(hass, server, "gas") == pytest.approx(server_hours(server, "gas"))
    gas = await per_day(hass, server, "gas")
    for day, row in day_rows.items():
        assert gas[day] == pytest.approx(float(row["gas"]), abs=1e-6)

    # A repeat run (the re-read window) changes nothing.
    await history.async_refresh()
    assert history.data.rows_written == 0


async def test_a_day_without_its_day_row_is_corrected_when_it_arrives(
    hass: HomeAssistant, recorded_server: FakeDsmrReader, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(RECORDED_AT)
    server = recorded_server
    last_day = server.days.pop()  # 3 December: hours there, day row not yet
    entry = add(hass, server)
    await set_up(hass, entry)
    history = entry.runtime_data.history
    raw = {h["hour_start"]: float(h["electricity1"]) for h in server.hours}
    booked = await dashboard(hass, server, "electricity1")
    for start, value in raw.items():
        if local_day(start) == "2026-12-03" and value:
            assert booked[start] == pytest.approx(value)  # kept as the server has it

    server.days.append(last_day)
    await history.async_refresh()
    assert history.last_update_success
    got = await per_day(hass, server, "electricity1")
    assert got["2026-12-03"] == pytest.approx(float(last_day["electricity1"]), abs=1e-6)
    # Replaced, not added: the running total is the sum of the day rows.
    want = sum(float(day["electricity1"]) for day in server.days)
    assert await last_sum(hass, server, "electricity1") == pytest.approx(want, abs=1e-6)


async def test_history_starting_inside_the_repeated_hour(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader, freezer: FrozenDateTimeFactory
) -> None:
    """One day of depth at 02:30 (winter time) on 26 October starts at the second 02:00 of the 25th.

    A naive ``2026-10-25 02:00:00`` is what got the 400 from the real server on every run.
    """
    now = datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
    freezer.move_to(now)
    days = recorded_days("day_page1.json")  # 24, 25 (25 hours) and 26 October
    known = recorded_hours(
        "hour_dst_end_day.json", "hour_filter_iso_offset.json", "hour_filter_iso_utc.json"
    )
    dsmr_server.hours = [
        h for h in hours_short_of_days(days, known, shortfall=SHORTFALL) if h["hour_start"] < now
    ]
    dsmr_server.days = days[:2]
    entry = add(hass, dsmr_server, backfill_days=1)
    await set_up(hass, entry)
    history = entry.runtime_data.history
    assert history.last_update_success, history.last_exception

    first = dsmr_server.requests_to("statistics/hour")[0]
    assert first["hour_start__gte"] == "2026-10-25T02:00:00+01:00"
    repeated = datetime(2026, 10, 25, 1, tzinfo=UTC)  # 02:00+01:00, the second 02:00
    got = await dashboard(hass, dsmr_server, "electricity1")
    assert min(got) == repeated
    assert got[repeated] == pytest.approx(0.353)  # the recorded row of that hour
    want = {s: v for s, v in server_hours(dsmr_server, "electricity1").items() if s >= repeated}
    # 25 October is not whole in a window starting at its second 02:00: kept as the server has it.
    assert got == pytest.approx({s: v for s, v in want.items() if v})
    # 25 hours on that day in the server's listing.
    assert len([h for h in dsmr_server.hours if local_day(h["hour_start"]) == "2026-10-25"]) == 25

    # The next run (from the marker two days back, at the server's midnight) also works.
    dsmr_server.requests.clear()
    await history.async_refresh()
    assert history.last_update_success
    assert (
        dsmr_server.requests_to("statistics/hour")[0]["hour_start__gte"]
        == "2026-10-25T02:00:00+01:00"
    )


async def test_history_runs_after_midnight_not_hourly(
    hass: HomeAssistant, recorded_server: FakeDsmrReader, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(RECORDED_AT)
    server = recorded_server
    entry = add(hass, server)
    await set_up(hass, entry)
    history = entry.runtime_data.history
    # Yesterday is complete: the next run is after the server's next midnight (00:15 local).
    next_run = datetime(2026, 12, 4, 23, 15, tzinfo=UTC)
    assert history.update_interval == next_run - RECORDED_AT

    runs = len(server.requests_to("statistics/day"))
    for hours in range(1, 19):  # the hours until then find nothing new, so nothing is asked
        freezer.move_to(RECORDED_AT + timedelta(hours=hours))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert len(server.requests_to("statistics/day")) == runs

    # After midnight the day's hours are there (4 December, 24 hours) and are read.
    december_4 = {
        "day": "2026-12-04",
        **dict.fromkeys((*ELECTRICITY, "gas"), "1.000"),
        "total_cost": "1.12",
    }
    server.hours += hours_short_of_days([december_4], [], shortfall=SHORTFALL)
    freezer.move_to(next_run + timedelta(minutes=30))  # the 10 % jitter of the first interval
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(server.requests_to("statistics/day")) == runs + 1
    assert history.data.last_hour == datetime(2026, 12, 4, 22, tzinfo=UTC)
    # Again complete: next after the following midnight.
    assert history.update_interval == datetime(2026, 12, 5, 23, 15, tzinfo=UTC) - (
        next_run + timedelta(minutes=30)
    )


async def test_history_tries_hourly_until_yesterday_is_there(
    hass: HomeAssistant, recorded_server: FakeDsmrReader, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(datetime(2026, 12, 4, 23, 20, tzinfo=UTC))  # 00:20 on 5 December
    entry = add(hass, recorded_server)
    await set_up(hass, entry)
    history = entry.runtime_data.history
    assert history.data.last_hour == datetime(2026, 12, 3, 22, tzinfo=UTC)  # 4 December missing
    assert history.update_interval == timedelta(hours=1)
