"""Off-peak windows ("heures creuses") and prices: which share of an interval is off-peak, and cost.

Windows are Paris wall-clock ranges such as ``01:00-07:00`` or ``22:30-06:30`` (crossing midnight).
An interval is split by how many of its minutes fall inside a window, so a window that does not
start on a half hour (``01:15-07:15``) is still booked fairly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
import re
from typing import Final

from ...api.enedis import PARIS

MINUTES_PER_DAY: Final = 24 * 60
_WINDOW_RE: Final = re.compile(r"^(\d{1,2})[:hH](\d{2})\s*-\s*(\d{1,2})[:hH](\d{2})$")


class InvalidWindowsError(ValueError):
    """The off-peak windows text could not be read."""


@dataclass(frozen=True, slots=True)
class Window:
    """An off-peak window in minutes after Paris midnight; ``end < start`` crosses midnight."""

    start: int
    end: int

    def minute_ranges(self) -> list[tuple[int, int]]:
        """The window as one or two ranges inside [0, 1440)."""
        if self.start < self.end:
            return [(self.start, self.end)]
        return [(self.start, MINUTES_PER_DAY), (0, self.end)]

    def __str__(self) -> str:
        """``HH:MM-HH:MM``, the form users type."""
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_windows(text: str) -> tuple[Window, ...]:
    """``"01:00-07:00, 12:30-14:30"`` -> windows; empty text means no off-peak hours.

    ``24:00`` is accepted as an end. Raises :class:`InvalidWindowsError` for anything else
    unreadable, for an empty window (start == end) and for overlapping windows (they would count
    minutes twice).
    """
    windows: list[Window] = []
    for raw in re.split(r"[,;]", text):
        part = raw.strip()
        if not part:
            continue
        match = _WINDOW_RE.fullmatch(part)
        if match is None:
            raise InvalidWindowsError(part)
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise InvalidWindowsError(part)
        start, end = h1 * 60 + m1, (h2 * 60 + m2) % MINUTES_PER_DAY
        if start == end:
            raise InvalidWindowsError(part)
        windows.append(Window(start, end))
    covered = [0] * MINUTES_PER_DAY
    for window in windows:
        for low, high in window.minute_ranges():
            for minute in range(low, high):
                covered[minute] += 1
    if any(count > 1 for count in covered):
        raise InvalidWindowsError("overlap")
    return tuple(sorted(windows, key=lambda window: window.start))


def format_windows(windows: Sequence[Window]) -> str:
    """The canonical text of ``windows`` (what the options form stores)."""
    return ", ".join(str(window) for window in windows)


def offpeak_minutes(windows: Sequence[Window], local_start: int, minutes: int) -> int:
    """How many of the ``minutes`` from ``local_start`` (minutes after midnight) are off-peak."""
    total = 0
    for window in windows:
        for low, high in window.minute_ranges():
            # The interval may run past midnight (23:30 + 60 min): test it on both days.
            for shift in (0, MINUTES_PER_DAY):
                overlap = min(high + shift, local_start + minutes) - max(low + shift, local_start)
                if overlap > 0:
                    total += overlap
    return min(total, minutes)


def offpeak_share(windows: Sequence[Window], start: datetime, minutes: int) -> float:
    """The off-peak fraction (0..1) of an interval starting at the aware instant ``start``."""
    if not windows:
        return 0.0
    local = start.astimezone(PARIS)
    return offpeak_minutes(windows, local.hour * 60 + local.minute, minutes) / minutes


def offpeak_day_share(windows: Sequence[Window]) -> float:
    """The off-peak fraction of a whole day: used to price a day known only by its total."""
    return offpeak_minutes(windows, 0, MINUTES_PER_DAY) / MINUTES_PER_DAY


@dataclass(frozen=True, slots=True)
class Tariff:
    """The contract: off-peak windows and EUR/kWh prices (None: no cost statistics)."""

    windows: tuple[Window, ...] = ()
    price_peak: float | None = None
    price_offpeak: float | None = None
    subscription_per_month: float = 0.0

    @property
    def priced(self) -> bool:
        """Whether every kWh has a price, so cost statistics can be made."""
        if self.price_peak is None:
            return False
        return not self.windows or self.price_offpeak is not None

    def cost(self, peak_kwh: float, offpeak_kwh: float) -> float:
        """EUR for the given energy (0 when not priced)."""
        if not self.priced:
            return 0.0
        return peak_kwh * (self.price_peak or 0.0) + offpeak_kwh * (self.price_offpeak or 0.0)

    @property
    def subscription_per_day(self) -> float:
        """The subscription spread over the days of an average year."""
        return self.subscription_per_month * 12 / 365
