"""A household seen through its meter: load with a day/night shape, tariffs, solar, gas heating.

Deterministic for a given seed, so tests can rely on it; the clock is the simulated one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
import random
from zoneinfo import ZoneInfo

from .telegram import LOCAL_TZ, Reading


@dataclass
class Household:
    """Meter registers that advance with the simulated clock."""

    version: str
    start: datetime
    solar: bool = False
    seed: int = 1
    used: list[float] = field(default_factory=lambda: [4512.345, 3890.111])
    delivered: list[float] = field(default_factory=lambda: [120.5, 310.25])
    gas: float = 2345.678
    now: datetime = field(init=False)
    gas_time: datetime = field(init=False)
    _rng: random.Random = field(init=False)
    _spike_until: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.now = self.start
        self.gas_time = self._gas_slot(self.start)
        self._rng = random.Random(self.seed)
        self._spike_until = self.start

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(LOCAL_TZ[self.version])

    def tariff(self, moment: datetime) -> int:
        """Dutch meters: 1 = low (nights 23-07 and weekends), 2 = normal. Belgian: 1 = day, 2 = night."""
        local = moment.astimezone(self.tz)
        off_peak = local.weekday() >= 5 or local.hour >= 23 or local.hour < 7
        if self.version == "5B":
            off_peak = local.weekday() >= 5 or local.hour >= 22 or local.hour < 7
            return 2 if off_peak else 1
        return 1 if off_peak else 2

    def load_kw(self, moment: datetime) -> float:
        """Household demand: base load, morning and evening peaks, noise, now and then a kettle."""
        hour = moment.astimezone(self.tz).hour + moment.minute / 60
        load = 0.18
        load += 0.7 * math.exp(-(((hour - 7.5) / 1.0) ** 2))
        load += 1.3 * math.exp(-(((hour - 19.0) / 2.0) ** 2))
        load *= 1 + self._rng.uniform(-0.1, 0.1)
        if moment < self._spike_until:
            load += 2.0
        elif self._rng.random() < 0.01:
            self._spike_until = moment + timedelta(minutes=3)
        return load

    def solar_kw(self, moment: datetime) -> float:
        """A 4 kWp roof: a sine from 06:00 to 20:00 local time."""
        if not self.solar:
            return 0.0
        hour = moment.astimezone(self.tz).hour + moment.minute / 60
        if not 6 <= hour <= 20:
            return 0.0
        return 3.6 * math.sin(math.pi * (hour - 6) / 14) * self._rng.uniform(0.85, 1.0)

    def gas_m3_per_hour(self, moment: datetime) -> float:
        """Heating in the morning and evening, more in winter, and some hot water."""
        local = moment.astimezone(self.tz)
        winter = 0.5 + 0.5 * math.cos(2 * math.pi * (local.timetuple().tm_yday - 15) / 365)
        hour = local.hour
        heating = 0.35 * winter if 6 <= hour < 9 or 17 <= hour < 23 else 0.05 * winter
        return heating + 0.02

    def _gas_slot(self, moment: datetime) -> datetime:
        """DSMR 5 meters report gas every 5 minutes, older ones every hour."""
        minutes = 5 if self.version in ("5", "5B") else 60
        local = moment.astimezone(self.tz)
        return local.replace(second=0, microsecond=0) - timedelta(minutes=local.minute % minutes)

    def advance(self, now: datetime) -> Reading:
        """Move the clock to ``now`` and return the reading a telegram would carry."""
        hours = max((now - self.now).total_seconds() / 3600, 0.0)
        load = self.load_kw(now)
        solar = self.solar_kw(now)
        net = load - solar
        tariff = self.tariff(now)
        if net >= 0:
            self.used[tariff - 1] += net * hours
        else:
            self.delivered[tariff - 1] += -net * hours
        self.gas += self.gas_m3_per_hour(now) * hours
        self.now = now
        slot = self._gas_slot(now)
        if slot > self.gas_time:
            self.gas_time = slot
            self._gas_reported = round(self.gas, 3)
        reported_gas = getattr(self, "_gas_reported", round(self.gas, 3))
        used, delivered = max(net, 0.0), max(-net, 0.0)
        return Reading(
            time=now,
            used=(round(self.used[0], 3), round(self.used[1], 3)),
            delivered=(round(self.delivered[0], 3), round(self.delivered[1], 3)),
            tariff=tariff,
            power_used=round(used, 3),
            power_delivered=round(delivered, 3),
            phase_power=(round(used * 0.5, 3), round(used * 0.3, 3), round(used * 0.2, 3)),
            voltage=tuple(round(230 + self._rng.uniform(-3, 3), 1) for _ in range(3)),  # type: ignore[arg-type]
            gas=reported_gas,
            gas_time=self.gas_time,
            peak_demand=round(load, 3),
            peak_demand_month=4.2,
            peak_demand_time=self.start,
        )
