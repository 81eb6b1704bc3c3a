"""Prices in force at any moment, and the cost of half hours under them.

A meter point switches tariff on its agreement dates; a tariff's unit rate changes on its own dates
(a price-cap change, or every half hour on Agile); Economy 7 has a day and a night rate. A
:class:`PriceBook` answers "what did a kWh cost at this moment" for one point over a window, so
costing a half hour is one lookup whichever of these applies.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from ...api.octopus import (
    Agreement,
    Interval,
    MeterPoint,
    OctopusClient,
    OctopusNotFoundError,
    Rate,
)
from ...const import LOGGER
from ...statistics import hour_start, local_midnight

LONDON: Final = ZoneInfo("Europe/London")
_MIN: Final = datetime.min.replace(tzinfo=UTC)
_MAX: Final = datetime.max.replace(tzinfo=UTC)
#: Economy 7 night hours when the product's own night rates do not say (their rows span months):
#: a smart meter switches 00:30-07:30 UTC, an older meter 00:00-07:00 UK time (Octopus' help
#: pages, as BottlecapDave's integration reads them). A product whose night rows each cover one
#: night is followed exactly instead.
E7_NIGHT_START: Final = time(0, 30)
E7_NIGHT_END: Final = time(7, 30)
E7_LOCAL_NIGHT_START: Final = time(0, 0)
E7_LOCAL_NIGHT_END: Final = time(7, 0)
#: Rate rows shorter than this are time-of-day windows, not price periods.
_WINDOW_ROW: Final = timedelta(hours=23)


def local_day(moment: datetime) -> date:
    """The UK calendar day of a UTC moment."""
    return moment.astimezone(LONDON).date()


class RateTable:
    """Rates (pence) valid over intervals, looked up by moment with a binary search."""

    def __init__(self, rates: Iterable[Rate]) -> None:
        """Sort the rates by start so a lookup is O(log n) even for two years of Agile."""
        self.rates = sorted(rates, key=lambda r: r.valid_from or _MIN)
        self._starts = [r.valid_from or _MIN for r in self.rates]

    def at(self, moment: datetime) -> float | None:
        """The rate in force at ``moment`` (the most recently started one), or None."""
        index = bisect.bisect_right(self._starts, moment) - 1
        while index >= 0:
            rate = self.rates[index]
            if rate.valid_to is None or moment < rate.valid_to:
                return rate.value_inc_vat
            index -= 1
        return None

    def boundaries(self) -> set[datetime]:
        """Every moment a rate starts or ends."""
        found: set[datetime] = set()
        for rate in self.rates:
            if rate.valid_from is not None:
                found.add(rate.valid_from)
            if rate.valid_to is not None:
                found.add(rate.valid_to)
        return found

    def known_until(self) -> datetime | None:
        """The end of the last known rate (None: open ended, or no rates)."""
        if not self.rates:
            return None
        ends = [r.valid_to for r in self.rates]
        return None if any(end is None for end in ends) else max(e for e in ends if e)

    @property
    def windowed(self) -> bool:
        """Whether the rows are time-of-day windows (each shorter than a day)."""
        return bool(self.rates) and all(
            r.valid_from is not None
            and r.valid_to is not None
            and r.valid_to - r.valid_from < _WINDOW_ROW
            for r in self.rates
        )


def is_e7_night(moment: datetime, *, smart: bool = True) -> bool:
    """Whether ``moment`` falls in the default Economy 7 night window of a (smart) meter."""
    if smart:
        clock = moment.astimezone(UTC).time()
        return E7_NIGHT_START <= clock < E7_NIGHT_END
    clock = moment.astimezone(LONDON).time()
    return E7_LOCAL_NIGHT_START <= clock < E7_LOCAL_NIGHT_END


@dataclass(kw_only=True)
class TariffPrices:
    """One agreement's rates over a window. Missing tables mean the tariff could not be found."""

    agreement: Agreement
    standard: RateTable | None = None
    day: RateTable | None = None
    night: RateTable | None = None
    standing: RateTable | None = None
    #: Whether the point's meter is a smart meter (it decides the default night window).
    smart: bool = True

    def is_night(self, moment: datetime) -> bool:
        """Night by the product's own night rows when they are windows, else the default window."""
        if self.night is not None and self.night.windowed:
            return self.night.at(moment) is not None
        return is_e7_night(moment, smart=self.smart)

    def unit_rate(self, moment: datetime) -> float | None:
        """Pence per kWh at ``moment``."""
        if self.agreement.two_rate:
            table = self.night if self.is_night(moment) else self.day
        else:
            table = self.standard
        return None if table is None else table.at(moment)

    def boundaries(self, start: datetime, end: datetime) -> set[datetime]:
        """Moments in (start, end] where the unit rate may change."""
        found: set[datetime] = set()
        for table in (self.standard, self.day, self.night):
            if table is not None:
                found |= table.boundaries()
        if self.agreement.two_rate and not (self.night is not None and self.night.windowed):
            day = start.date() - timedelta(days=1)
            while datetime.combine(day, E7_NIGHT_START, UTC) <= end + timedelta(days=1):
                if self.smart:
                    found |= {
                        datetime.combine(day, E7_NIGHT_START, UTC),
                        datetime.combine(day, E7_NIGHT_END, UTC),
                    }
                else:
                    found |= {
                        datetime.combine(day, E7_LOCAL_NIGHT_START, LONDON).astimezone(UTC),
                        datetime.combine(day, E7_LOCAL_NIGHT_END, LONDON).astimezone(UTC),
                    }
                day += timedelta(days=1)
        return {moment for moment in found if start < moment <= end}


@dataclass(kw_only=True)
class PriceBook:
    """Prices of one meter point over a window, across its agreements."""

    point: MeterPoint
    tariffs: list[TariffPrices] = field(default_factory=list)
    missing_tariffs: set[str] = field(default_factory=set)

    def tariff_at(self, moment: datetime) -> TariffPrices | None:
        """The agreement's prices in force at ``moment``."""
        agreement = self.point.agreement_at(moment)
        if agreement is None:
            return None
        for tariff in self.tariffs:
            if tariff.agreement == agreement:
                return tariff
        return None

    def unit_rate(self, moment: datetime) -> float | None:
        """Pence per kWh at ``moment``, or None when no price is known."""
        tariff = self.tariff_at(moment)
        return None if tariff is None else tariff.unit_rate(moment)

    def standing_charge(self, moment: datetime) -> float | None:
        """Pence per day at ``moment``."""
        tariff = self.tariff_at(moment)
        if tariff is None or tariff.standing is None:
            return None
        return tariff.standing.at(moment)

    def next_change(self, moment: datetime, horizon: timedelta) -> datetime | None:
        """The first moment after ``moment`` (within ``horizon``) where the unit rate differs."""
        end = moment + horizon
        candidates: set[datetime] = set()
        for agreement in self.point.agreements:
            for edge in (agreement.valid_from, agreement.valid_to):
                if edge is not None and moment < edge <= end:
                    candidates.add(edge)
        for tariff in self.tariffs:
            candidates |= tariff.boundaries(moment, end)
        current = self.unit_rate(moment)
        for candidate in sorted(candidates):
            if self.unit_rate(candidate) != current:
                return candidate
        return None

    def known_until(self) -> datetime | None:
        """When the known unit rates run out (Agile: tomorrow's are published each afternoon)."""
        ends: list[datetime] = []
        for tariff in self.tariffs:
            for table in (tariff.standard, tariff.day, tariff.night):
                if table is not None and (until := table.known_until()) is not None:
                    ends.append(until)
        return min(ends) if ends else None


def unit_rate_endpoints(agreement: Agreement) -> list[str]:
    """Which unit-rate lists a tariff has."""
    if agreement.two_rate:
        return ["day-unit-rates", "night-unit-rates"]
    return ["standard-unit-rates"]


async def async_price_book(
    client: OctopusClient,
    point: MeterPoint,
    start: datetime,
    end: datetime,
    *,
    standing_charges: bool = True,
) -> PriceBook:
    """Fetch the rates of every agreement of ``point`` that overlaps [start, end).

    A tariff whose product cannot be found leaves a gap (no cost for those half hours) rather than
    failing the whole import; its code is remembered for diagnostics.
    """
    book = PriceBook(point=point)
    # Only GraphQL says whether a meter is smart (it names a device); REST points count as smart
    smart = not any(m.smart is False for m in point.meters)
    for agreement in point.agreements:
        if not agreement.overlaps(start, end):
            continue
        period_from = max(start, agreement.valid_from or start)
        period_to = min(end, agreement.valid_to or end)
        prices = TariffPrices(agreement=agreement, smart=smart)
        try:
            for endpoint in unit_rate_endpoints(agreement):
                table = RateTable(
                    await client.async_get_rates(
                        point.fuel, agreement, endpoint, period_from, period_to
                    )
                )
                if endpoint == "standard-unit-rates":
                    prices.standard = table
                elif endpoint == "day-unit-rates":
                    prices.day = table
                else:
                    prices.night = table
            if standing_charges:
                prices.standing = RateTable(
                    await client.async_get_rates(
                        point.fuel, agreement, "standing-charges", period_from, period_to
                    )
                )
        except OctopusNotFoundError:
            if agreement.tariff_code not in book.missing_tariffs:
                LOGGER.warning(
                    "Octopus does not know tariff %s (product %s): no cost for the time it was in force",
                    agreement.tariff_code,
                    agreement.product_code,
                )
            book.missing_tariffs.add(agreement.tariff_code)
            continue
        book.tariffs.append(prices)
    return book


@dataclass(frozen=True, kw_only=True)
class HourlyAmounts:
    """What one import hands to the statistics: whole UTC hours."""

    quantity: dict[datetime, float]
    cost: dict[datetime, float]
    #: Hours with consumption but no known price (their cost is not imported).
    unpriced_hours: int


def hourly_amounts(
    intervals: Iterable[Interval],
    book: PriceBook | None,
    *,
    quantity_factor: float = 1.0,
    kwh_factor: float = 1.0,
    standing_charges: bool = True,
) -> HourlyAmounts:
    """Sum half hours into UTC hours: the quantity, and the cost in pounds.

    ``quantity_factor`` converts what the meter reports into the statistic's unit, ``kwh_factor``
    into the kWh the rates are priced in (gas m³ -> kWh). An hour gets a cost only if every half
    hour in it has a price; the standing charge of a UK day is booked in the hour that day starts,
    once per day that has any data in this import.
    """
    quantity: dict[datetime, float] = {}
    cost: dict[datetime, float] = {}
    unpriced: set[datetime] = set()
    days: set[date] = set()
    for interval in intervals:
        hour = hour_start(interval.start)
        quantity[hour] = quantity.get(hour, 0.0) + interval.consumption * quantity_factor
        days.add(local_day(interval.start))
        rate = None if book is None else book.unit_rate(interval.start)
        if rate is None:
            unpriced.add(hour)
            continue
        cost[hour] = cost.get(hour, 0.0) + interval.consumption * kwh_factor * rate / 100
    for hour in unpriced:
        cost.pop(hour, None)
    if standing_charges and book is not None:
        for day in days:
            start = local_midnight(day, LONDON)
            charge = book.standing_charge(start)
            if charge is None or start in unpriced:
                continue
            cost[start] = cost.get(start, 0.0) + charge / 100
    return HourlyAmounts(quantity=quantity, cost=cost, unpriced_hours=len(unpriced))
