"""The demo household: deterministic energy, gas and solar as functions of time.

Every value is a pure function of the moment (no randomness, no clock), so a demo started on any day
shows the same shapes, and :func:`fingerprint` changes only when this model does (the README's
screenshots record it; a test checks they were taken from the current model).
Once a week (Wednesdays) is a clear day: the panels export most of the afternoon.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import hashlib
import math
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HELSINKI = ZoneInfo("Europe/Helsinki")
TALLINN = ZoneInfo("Europe/Tallinn")
#: The demo's clear day (``date.weekday()``): the solar export day.
CLEAR_DAY = 2


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _hour(moment: datetime) -> float:
    local = moment.astimezone(AMSTERDAM)
    return local.hour + local.minute / 60 + local.second / 3600


def _day_factor(moment: datetime) -> float:
    """0.85..1.15, the same for a whole day: days differ, weeks repeat nearly."""
    ordinal = local_day(moment, AMSTERDAM).toordinal()
    return 1 + 0.15 * math.sin(ordinal * 2.4)


def demand_w(moment: datetime) -> float:
    """The house's power draw in W: night base, morning and evening peaks."""
    hour = _hour(moment)
    base = 280.0
    morning = 900 * math.exp(-(((hour - 7.5) / 1.0) ** 2))
    evening = 1700 * math.exp(-(((hour - 19.0) / 1.8) ** 2))
    # A small ripple within the minute, so a live sensor visibly moves.
    ripple = 40 * math.sin(moment.timestamp() / 17)
    return round((base + morning + evening) * _day_factor(moment) + ripple, 1)


def solar_w(moment: datetime) -> float:
    """Panel output in W (peak 3.2 kW on the clear day, a third of it otherwise)."""
    hour = _hour(moment)
    if not 7 <= hour <= 18:
        return 0.0
    clear = moment.astimezone(AMSTERDAM).weekday() == CLEAR_DAY
    peak = 3200.0 if clear else 1000.0 * _day_factor(moment)
    return round(peak * math.sin(math.pi * (hour - 7) / 11) ** 2, 1)


def _energy(power: float, length: timedelta) -> float:
    return power * length.total_seconds() / 3_600_000


def import_kwh(start: datetime, length: timedelta) -> float:
    """Energy taken from the grid in ``[start, start + length)`` (demand minus own solar use)."""
    middle = start + length / 2
    net = demand_w(middle) - solar_w(middle)
    return round(_energy(max(net, 0.0), length), 3)


def export_kwh(start: datetime, length: timedelta) -> float:
    """Energy fed back to the grid: solar beyond the house's demand."""
    middle = start + length / 2
    net = solar_w(middle) - demand_w(middle)
    return round(_energy(max(net, 0.0), length), 3)


def night_tariff(moment: datetime) -> bool:
    """Dutch low tariff: 23:00-07:00 and weekends."""
    local = moment.astimezone(AMSTERDAM)
    return local.weekday() >= 5 or not 7 <= local.hour < 23


def gas_m3(start: datetime, length: timedelta) -> float:
    """Heating and hot water in m³: mornings and evenings, more on colder days."""
    hour = _hour(start + length / 2)
    heating = 0.12 * math.exp(-(((hour - 7) / 1.5) ** 2)) + 0.1 * math.exp(
        -(((hour - 20) / 2.5) ** 2)
    )
    per_hour = (0.02 + heating) * _day_factor(start)
    return round(per_hour * length.total_seconds() / 3600, 3)


def fingerprint() -> str:
    """A short hash of the model's values over a fixed week (changes when the model does)."""
    digest = hashlib.sha256()
    moment = datetime(2026, 1, 5, tzinfo=UTC)
    half = timedelta(minutes=30)
    for _ in range(7 * 48):
        values = (
            import_kwh(moment, half),
            export_kwh(moment, half),
            gas_m3(moment, half),
            demand_w(moment),
            solar_w(moment),
        )
        digest.update(repr(values).encode())
        moment += half
    return digest.hexdigest()[:16]
