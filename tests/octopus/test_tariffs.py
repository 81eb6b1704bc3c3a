"""Pricing half hours: rate tables, Economy 7, the autumn DST day, agreement switches."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from custom_components.meterhub.api.octopus import (
    Agreement,
    FuelType,
    Interval,
    MeterPoint,
    Rate,
)
from custom_components.meterhub.providers.octopus.tariffs import (
    PriceBook,
    RateTable,
    TariffPrices,
    hourly_amounts,
)
from custom_components.meterhub.statistics import local_midnight

from .standin import LONDON, half_hours

HALF = timedelta(minutes=30)


def rate(pence: float, start: datetime | None, end: datetime | None) -> Rate:
    return Rate(value_inc_vat=pence, valid_from=start, valid_to=end)


def test_rate_table_lookup() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    table = RateTable(
        [rate(30.0, t0 + timedelta(days=10), None), rate(20.0, t0, t0 + timedelta(days=10))]
    )
    assert table.at(t0 - HALF) is None
    assert table.at(t0) == 20.0
    assert table.at(t0 + timedelta(days=10) - HALF) == 20.0
    assert table.at(t0 + timedelta(days=10)) == 30.0
    assert table.known_until() is None


def economy7_book() -> PriceBook:
    e7 = Agreement(tariff_code="E-2R-VAR-22-11-01-A", valid_from=None, valid_to=None)
    point = MeterPoint(
        fuel=FuelType.ELECTRICITY, identifier="1", is_export=False, meters=(), agreements=(e7,)
    )
    prices = TariffPrices(
        agreement=e7,
        day=RateTable([rate(30.0, None, None)]),
        night=RateTable([rate(12.0, None, None)]),
        standing=RateTable([rate(50.0, None, None)]),
    )
    return PriceBook(point=point, tariffs=[prices])


def test_economy7_day_and_night() -> None:
    book = economy7_book()
    day = datetime(2026, 7, 1, tzinfo=UTC)
    assert book.unit_rate(day) == 30.0
    assert book.unit_rate(day + timedelta(minutes=30)) == 12.0
    assert book.unit_rate(day + timedelta(hours=7)) == 12.0
    assert book.unit_rate(day + timedelta(hours=7, minutes=30)) == 30.0
    assert book.next_change(day + timedelta(hours=3), timedelta(days=1)) == day + timedelta(
        hours=7, minutes=30
    )
    assert book.next_change(day + timedelta(hours=8), timedelta(days=1)) == day + timedelta(
        days=1, minutes=30
    )


def test_autumn_dst_day_has_25_hours_and_one_standing_charge() -> None:
    book = economy7_book()
    start = local_midnight(datetime(2025, 10, 26).date(), LONDON)
    end = local_midnight(datetime(2025, 10, 27).date(), LONDON)
    slots = half_hours(start, end)
    assert len(slots) == 50
    intervals = [Interval(start=s, end=s + HALF, consumption=1.0) for s in slots]
    amounts = hourly_amounts(intervals, book)
    assert len(amounts.quantity) == 25
    assert sum(amounts.quantity.values()) == 50.0
    night = sum(1 for s in slots if time(0, 30) <= s.time() < time(7, 30))
    assert night == 14
    expected = (night * 12.0 + (50 - night) * 30.0) / 100 + 0.5
    assert sum(amounts.cost.values()) == pytest.approx(expected)
    assert amounts.cost[start] == pytest.approx(
        2 * 30.0 / 100 + 0.5
    )  # standing charge at 23:00 UTC
    assert start == datetime(2025, 10, 25, 23, tzinfo=UTC)
    assert start.astimezone(LONDON).hour == 0


def test_switch_inside_a_day_and_unpriced_hours() -> None:
    t0 = datetime(2026, 1, 10, tzinfo=UTC)
    fixed = Agreement(tariff_code="E-1R-A-1-C", valid_from=None, valid_to=t0 + timedelta(hours=2))
    other = Agreement(tariff_code="E-1R-B-1-C", valid_from=t0 + timedelta(hours=2), valid_to=None)
    point = MeterPoint(
        fuel=FuelType.ELECTRICITY,
        identifier="1",
        is_export=False,
        meters=(),
        agreements=(fixed, other),
    )
    book = PriceBook(
        point=point,
        tariffs=[TariffPrices(agreement=fixed, standard=RateTable([rate(20.0, None, None)]))],
        missing_tariffs={"E-1R-B-1-C"},
    )
    intervals = [
        Interval(start=s, end=s + HALF, consumption=1.0)
        for s in half_hours(t0, t0 + timedelta(hours=4))
    ]
    amounts = hourly_amounts(intervals, book, standing_charges=False)
    assert amounts.cost == {t0: 0.4, t0 + timedelta(hours=1): 0.4}
    assert amounts.unpriced_hours == 2
    assert len(amounts.quantity) == 4


def test_economy7_default_windows_smart_and_traditional() -> None:
    """Night rows spanning months say nothing about the hours: a smart meter switches
    00:30-07:30 UTC, a traditional one 00:00-07:00 UK time (here in BST: 23:00-06:00 UTC)."""
    book = economy7_book()
    summer = datetime(2026, 6, 10, tzinfo=UTC)
    smart = book.tariffs[0]
    assert smart.unit_rate(summer + timedelta(minutes=30)) == 12.0
    assert smart.unit_rate(summer + timedelta(hours=7)) == 12.0
    assert smart.unit_rate(summer + timedelta(hours=7, minutes=30)) == 30.0
    assert smart.unit_rate(summer - HALF) == 30.0
    smart.smart = False
    assert smart.unit_rate(summer - timedelta(hours=1)) == 12.0  # 00:00 BST
    assert smart.unit_rate(summer + timedelta(hours=5, minutes=30)) == 12.0
    assert smart.unit_rate(summer + timedelta(hours=6)) == 30.0  # 07:00 BST
    assert summer + timedelta(hours=6) in smart.boundaries(summer, summer + timedelta(hours=12))


def test_economy7_times_from_the_products_own_night_rows() -> None:
    """A product whose night rows each cover one night is followed to the half hour."""
    book = economy7_book()
    day0 = datetime(2026, 1, 5, tzinfo=UTC)
    nights = [
        rate(9.0, day0 + timedelta(days=n, hours=-1), day0 + timedelta(days=n, hours=4))
        for n in range(3)
    ]
    book.tariffs[0].night = RateTable(nights)
    prices = book.tariffs[0]
    assert prices.unit_rate(day0 - timedelta(hours=1)) == 9.0  # 23:00, not the default 00:30
    assert prices.unit_rate(day0 + timedelta(hours=3, minutes=30)) == 9.0
    assert prices.unit_rate(day0 + timedelta(hours=4)) == 30.0  # 04:00: day already
    assert prices.unit_rate(day0 + timedelta(hours=6)) == 30.0
    edges = prices.boundaries(day0 - timedelta(hours=2), day0 + timedelta(hours=12))
    assert edges == {day0 - timedelta(hours=1), day0 + timedelta(hours=4)}
