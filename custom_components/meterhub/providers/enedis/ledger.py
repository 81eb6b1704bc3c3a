"""The local copy of what the gateway gave us, and its projection into hourly statistics.

Why keep a copy: every request counts against a small ban threshold, and the statistics depend on
the options (off-peak windows, prices). With the raw readings at hand, a changed option or a restart
re-derives every statistic without a single request, and re-importing the same data changes nothing.

How a day becomes hours (the rule that prevents double counting): a day is projected *whole*. A day
with load-curve points gives every hour of that Paris day, zero where nothing was measured, so when
a day first known only by its daily total (booked at the hour starting at Paris midnight) later
gets its load curve, the import replaces that placeholder hour together with all the others. A day
known only by its total gives just that midnight hour; its other hours were never written.
Holes in a load curve are filled with what the daily total says is missing, spread evenly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

from ...api.enedis import PARIS, DailyValue, IntervalValue
from ...statistics import local_midnight
from .tariff import Tariff, offpeak_day_share, offpeak_share

HOUR: Final = timedelta(hours=1)


def day_hours(day: date) -> list[datetime]:
    """Every UTC hour start of the Paris day ``day``: 23, 24 or 25 of them."""
    start, end = local_midnight(day, PARIS), local_midnight(day + timedelta(days=1), PARIS)
    count = int((end - start) / HOUR)
    return [start + HOUR * index for index in range(count)]


@dataclass
class DayData:
    """One Paris day of one direction: its daily total and its load-curve points.

    ``curve`` maps the minutes since the day's start (real minutes, so DST days work) to the
    interval's (length in minutes, energy in Wh).
    """

    daily_wh: float | None = None
    curve: dict[int, tuple[int, float]] = field(default_factory=dict)

    def curve_wh(self) -> float:
        """The energy the load curve holds for this day."""
        return sum(wh for _, wh in self.curve.values())


@dataclass
class Ledger:
    """Raw readings of one direction (consumption or production), by Paris day."""

    days: dict[date, DayData] = field(default_factory=dict)

    def add_curve(self, points: Iterable[IntervalValue]) -> set[date]:
        """Merge load-curve points; return the days whose data changed."""
        changed: set[date] = set()
        for point in points:
            day = point.local_day
            offset = int((point.start - local_midnight(day, PARIS)).total_seconds() // 60)
            data = self.days.setdefault(day, DayData())
            value = (point.minutes, round(point.wh, 3))
            if data.curve.get(offset) != value:
                data.curve[offset] = value
                changed.add(day)
        return changed

    def add_daily(self, values: Iterable[DailyValue]) -> set[date]:
        """Merge daily totals; return the days whose data changed."""
        changed: set[date] = set()
        for value in values:
            data = self.days.setdefault(value.day, DayData())
            wh = round(value.wh, 3)
            if data.daily_wh != wh:
                data.daily_wh = wh
                changed.add(value.day)
        return changed

    def has_curve(self, day: date) -> bool:
        """Whether the load curve of ``day`` has at least one point."""
        data = self.days.get(day)
        return data is not None and bool(data.curve)

    def curve_complete(self, day: date) -> bool:
        """Whether the load curve of ``day`` covers the whole day (46, 48 or 50 half hours)."""
        data = self.days.get(day)
        if data is None or not data.curve:
            return False
        length = (
            local_midnight(day + timedelta(days=1), PARIS) - local_midnight(day, PARIS)
        ).total_seconds() / 60
        return sum(minutes for minutes, _ in data.curve.values()) >= length

    def final(self, day: date) -> bool:
        """Whether ``day`` is known well enough to show: a complete curve or a daily total."""
        data = self.days.get(day)
        return data is not None and (data.daily_wh is not None or self.curve_complete(day))

    def newest_day(self) -> date | None:
        """The newest day with any data."""
        return max(self.days, default=None)

    def prune(self, oldest: date) -> None:
        """Forget days before ``oldest`` (their statistics stay in the recorder)."""
        for day in [day for day in self.days if day < oldest]:
            del self.days[day]

    def as_json(self) -> dict[str, Any]:
        """A compact JSON form for the store: ``{day: {"d": Wh, "c": [[offset, min, Wh], ...]}}``."""
        return {
            day.isoformat(): {
                "d": data.daily_wh,
                "c": [
                    [offset, minutes, wh] for offset, (minutes, wh) in sorted(data.curve.items())
                ],
            }
            for day, data in sorted(self.days.items())
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> Ledger:
        """Read what :meth:`as_json` wrote; anything unreadable is dropped, not fatal."""
        ledger = cls()
        for key, value in (raw or {}).items():
            try:
                day = date.fromisoformat(key)
                daily = value.get("d")
                curve = {int(o): (int(m), float(w)) for o, m, w in value.get("c", [])}
            except TypeError, ValueError, AttributeError:
                continue
            ledger.days[day] = DayData(
                daily_wh=float(daily) if daily is not None else None, curve=curve
            )
        return ledger


@dataclass
class DayHours:
    """One day projected into hourly amounts per statistic quantity (kWh and EUR)."""

    total: dict[datetime, float] = field(default_factory=dict)
    peak: dict[datetime, float] = field(default_factory=dict)
    offpeak: dict[datetime, float] = field(default_factory=dict)
    cost: dict[datetime, float] = field(default_factory=dict)
    cost_peak: dict[datetime, float] = field(default_factory=dict)
    cost_offpeak: dict[datetime, float] = field(default_factory=dict)
    from_curve: bool = False

    def merge(self, other: DayHours) -> None:
        """Add another day's hours (days never share an hour)."""
        for name in ("total", "peak", "offpeak", "cost", "cost_peak", "cost_offpeak"):
            getattr(self, name).update(getattr(other, name))


def _filled_curve(day: date, data: DayData) -> list[tuple[datetime, int, float]]:
    """The day's intervals (UTC start, minutes, Wh), holes filled from the daily total.

    A hole is a slot of the day's regular grid with no point. When the daily total exceeds what
    the curve holds, the difference is spread evenly over the holes, so the day adds up to what the
    meter counted; without a daily total the holes stay empty (a later re-read may fill them).
    """
    start = local_midnight(day, PARIS)
    points = [(start + timedelta(minutes=o), m, wh) for o, (m, wh) in sorted(data.curve.items())]
    if data.daily_wh is None:
        return points
    step = Counter(m for m, _ in data.curve.values()).most_common(1)[0][0]
    length = int((local_midnight(day + timedelta(days=1), PARIS) - start).total_seconds() // 60)
    covered: set[int] = set()
    for offset, (minutes, _) in data.curve.items():
        covered.update(range(offset, offset + minutes))
    holes = [offset for offset in range(0, length, step) if offset not in covered]
    missing = data.daily_wh - data.curve_wh()
    if not holes or missing <= 0:
        return points
    share = missing / len(holes)
    points += [(start + timedelta(minutes=offset), step, share) for offset in holes]
    return sorted(points)


def project_day(day: date, data: DayData, tariff: Tariff) -> DayHours:
    """The hourly amounts of one day (see the module docstring for the rules)."""
    result = DayHours()
    if data.curve:
        result.from_curve = True
        for hour in day_hours(day):
            for name in ("total", "peak", "offpeak", "cost", "cost_peak", "cost_offpeak"):
                getattr(result, name)[hour] = 0.0
        for start, minutes, wh in _filled_curve(day, data):
            hour = start.replace(minute=0, second=0, microsecond=0)
            kwh = wh / 1000
            off = kwh * offpeak_share(tariff.windows, start, minutes)
            peak = kwh - off
            result.total[hour] += kwh
            result.peak[hour] += peak
            result.offpeak[hour] += off
            cost_peak, cost_off = tariff.cost(peak, 0.0), tariff.cost(0.0, off)
            result.cost_peak[hour] += cost_peak
            result.cost_offpeak[hour] += cost_off
            result.cost[hour] += cost_peak + cost_off
        return result
    if data.daily_wh is not None:
        hour = local_midnight(day, PARIS)
        kwh = data.daily_wh / 1000
        share = offpeak_day_share(tariff.windows)
        result.total[hour] = kwh
        result.cost[hour] = tariff.cost(kwh * (1 - share), kwh * share)
    return result


def project(ledger: Ledger, days: Iterable[date], tariff: Tariff) -> DayHours:
    """The hourly amounts of several days, ready for the statistics importer."""
    result = DayHours()
    for day in sorted(set(days)):
        if (data := ledger.days.get(day)) is not None:
            result.merge(project_day(day, data, tariff))
    return result


@dataclass(frozen=True, kw_only=True)
class DaySummary:
    """What the sensors show for one day."""

    day: date
    total_kwh: float
    peak_kwh: float | None
    offpeak_kwh: float | None
    energy_cost: float | None
    from_curve: bool


def summarize(ledger: Ledger, day: date, tariff: Tariff) -> DaySummary | None:
    """The totals of ``day``; peak and off-peak only when the load curve gave them."""
    data = ledger.days.get(day)
    if data is None:
        return None
    hours = project_day(day, data, tariff)
    if not hours.total:
        return None
    return DaySummary(
        day=day,
        total_kwh=round(sum(hours.total.values()), 3),
        peak_kwh=round(sum(hours.peak.values()), 3) if hours.from_curve else None,
        offpeak_kwh=round(sum(hours.offpeak.values()), 3) if hours.from_curve else None,
        energy_cost=round(sum(hours.cost.values()), 4) if tariff.priced else None,
        from_curve=hours.from_curve,
    )
