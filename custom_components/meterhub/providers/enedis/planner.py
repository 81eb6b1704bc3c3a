"""When to ask the gateway what: the request plan that keeps an install far from the ban threshold.

The gateway bans an address making 100 or more requests in 12 hours. The plan:

* First run: one call for a year of daily totals, then the newest week of load curve.
* Backfill: one 7-day load-curve call (two with production) every 30 minutes, newest first, until a
  year is covered or Enedis says there is nothing older (404).
* A meter activated less than a year ago: Enedis refuses a start before its activation date
  ("anterior to the meter's last activation date") without saying the date. The plan then looks
  for the first day Enedis accepts by bisection, one daily-total call per backfill step (at most
  nine for a year, to the day), and starts the backfill there. Only that refusal does this: any
  other 400 is a request error, reported as it is, never a reason to ask for less history.
* Steady state: one attempt a day after 08:00 Paris (at a random minute), a single retry in the
  afternoon (again at a random minute) if yesterday is not there yet; then the next morning.
* Failures back off 1 h, 2 h, 4 h, up to 8 h; a 429 waits at least its ``Retry-After``.
* The state, including the next step's time, lives in the entry's store, so a restart resumes
  the plan instead of starting a burst.

On top of the plan a hard budget counts every request of every Enedis entry in a sliding 12-hour
window and postpones a step that could reach :data:`BUDGET_PER_12H`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import random
from typing import Any, Final

from ...api.enedis import MAX_CURVE_DAYS, PARIS

DAILY_BACKFILL_DAYS: Final = 365
CURVE_BACKFILL_DAYS: Final = 365
BACKFILL_GAP: Final = timedelta(minutes=30)
WINDOW: Final = timedelta(hours=12)
#: Hard cap of requests per 12 hours for all Enedis entries together (the ban is at 100).
BUDGET_PER_12H: Final = 80
MORNING: Final = time(8, 0)
AFTERNOON: Final = time(14, 0)
RETRY_AFTER_ATTEMPT: Final = timedelta(hours=4)
LAST_ATTEMPT_OF_DAY: Final = time(22, 0)
MAX_ATTEMPTS: Final = 2
FIRST_RUN_DELAY: Final = timedelta(seconds=30)

type Rng = Callable[[int, int], int]


def paris_day(now: datetime) -> date:
    """Today's date in Paris."""
    return now.astimezone(PARIS).date()


def at_paris(day: date, moment: time, minute: int = 0) -> datetime:
    """``day`` at ``moment`` + ``minute`` minutes, Paris time, as UTC."""
    local = datetime.combine(day, moment, tzinfo=PARIS) + timedelta(minutes=minute)
    return local.astimezone(UTC)


@dataclass
class PlanState:
    """Where the plan stands; saved in the entry's store after every step."""

    next_run: datetime | None = None
    #: Days of daily history still to fetch in one call; 0 once done.
    daily_depth: int = DAILY_BACKFILL_DAYS
    #: The first day Enedis has for this meter (its activation), once a refusal made us look.
    history_start: date | None = None
    #: The bisection for :attr:`history_start`: the latest start refused, the earliest accepted.
    search: tuple[date, date] | None = None
    #: Start days of the 7-day load-curve chunks still to fetch, newest first.
    curve_todo: list[date] = field(default_factory=list)
    backfill_planned: bool = False
    #: Whether the newest week was fetched once (the first steps do it whatever the hour).
    newest_week_done: bool = False
    #: Production history, planned when production gets enabled (usually after setup, in the
    #: options): a year of daily totals, then its load curve a week at a time.
    production_planned: bool = False
    production_daily_due: bool = False
    production_todo: list[date] = field(default_factory=list)
    attempt_day: date | None = None
    attempts: int = 0
    last_attempt: datetime | None = None
    failures: int = 0

    def attempts_for(self, day: date) -> int:
        """How many times the data of ``day`` was asked for in steady state."""
        return self.attempts if self.attempt_day == day else 0

    def note_attempt(self, day: date, now: datetime) -> None:
        """Count an attempt at ``day``'s data."""
        if self.attempt_day != day:
            self.attempt_day, self.attempts = day, 0
        self.attempts += 1
        self.last_attempt = now

    def plan_backfill(self, today: date) -> None:
        """Queue the load-curve weeks older than the newest one, back to a year (once)."""
        if self.backfill_planned:
            return
        self.backfill_planned = True
        self.curve_todo = _weeks(today - timedelta(days=MAX_CURVE_DAYS), today)

    def plan_production(self, today: date, enabled: bool) -> None:
        """Queue production history once when it gets enabled; forget the plan when disabled."""
        if not enabled:
            self.production_planned = self.production_daily_due = False
            self.production_todo = []
        elif not self.production_planned:
            self.production_planned = self.production_daily_due = True
            self.production_todo = _weeks(today, today)

    @property
    def backfilling(self) -> bool:
        """Whether history is still being fetched (a step every 30 minutes)."""
        return bool(
            self.daily_depth
            or self.search
            or self.curve_todo
            or self.production_todo
            or self.production_daily_due
        )

    def daily_start(self, today: date) -> date:
        """Where the next daily-total backfill call starts: a year back, or the next probe."""
        if self.search is not None:
            refused, accepted = self.search
            return refused + timedelta(days=(accepted - refused).days // 2)
        start = today - timedelta(days=self.daily_depth)
        return max(start, self.history_start) if self.history_start else start

    def daily_accepted(self, start: date) -> None:
        """Enedis gave the daily totals from ``start``: done, or the bisection narrows."""
        if self.search is None:
            self.daily_depth = 0
            return
        self._narrow(self.search[0], start)

    def history_refused(self, start: date, accepted: date) -> None:
        """Enedis refused ``start`` as older than the meter: look for its first day.

        ``accepted`` is a start known (or expected) to be fine: today, or the end of a refused
        load-curve week whose newer neighbour came back.
        """
        refused, known = self.search or (start, accepted)
        self._narrow(max(refused, start), min(known, accepted))

    def _narrow(self, refused: date, accepted: date) -> None:
        if accepted - refused <= timedelta(days=1):
            self.search = None
            self.daily_depth = 0
            self.history_start = accepted
            # The load-curve weeks older than the meter are dropped, the one it starts in clipped.
            self.curve_todo = _clip(self.curve_todo, accepted)
        else:
            self.search = (refused, accepted)

    def add_gap(self, first: date, end: date) -> None:
        """Queue the weeks of a gap [first, end) (Home Assistant was off for a while)."""
        start = end - timedelta(days=MAX_CURVE_DAYS)
        gap: list[date] = []
        while start + timedelta(days=MAX_CURVE_DAYS) > first:
            gap.append(max(start, first))
            start -= timedelta(days=MAX_CURVE_DAYS)
        self.curve_todo = [*gap, *(day for day in self.curve_todo if day not in gap)]

    def drop_older(self, than: date) -> None:
        """Enedis has nothing before ``than``: forget the chunks that start earlier."""
        self.curve_todo = [day for day in self.curve_todo if day >= than]

    def recent_due(self, now: datetime, yesterday_done: bool) -> bool:
        """Whether this step should ask for the newest days (yesterday is missing, it is time)."""
        if yesterday_done:
            return False
        local = now.astimezone(PARIS)
        yesterday = local.date() - timedelta(days=1)
        attempts = self.attempts_for(yesterday)
        if attempts == 0:
            return local.time() >= MORNING
        if attempts >= MAX_ATTEMPTS or self.last_attempt is None:
            return False
        return local.time() >= AFTERNOON and now >= self.last_attempt + RETRY_AFTER_ATTEMPT

    def schedule(self, now: datetime, yesterday_done: bool, rng: Rng = random.randint) -> datetime:
        """The time of the next step after a successful one."""
        self.failures = 0
        today = paris_day(now)
        tomorrow_morning = at_paris(today + timedelta(days=1), MORNING, rng(5, 59))
        attempts = self.attempts_for(today - timedelta(days=1))
        if yesterday_done or attempts >= MAX_ATTEMPTS:
            recent = tomorrow_morning
        elif attempts == 0:
            recent = max(at_paris(today, MORNING, rng(5, 59)), now + FIRST_RUN_DELAY)
        else:
            assert self.last_attempt is not None
            retry = max(
                at_paris(today, AFTERNOON, rng(0, 59)),
                self.last_attempt + RETRY_AFTER_ATTEMPT + timedelta(minutes=rng(0, 59)),
            )
            recent = tomorrow_morning if retry > at_paris(today, LAST_ATTEMPT_OF_DAY) else retry
        # While backfilling a step comes every BACKFILL_GAP, and nothing, not even the morning
        # attempt at its random minute (nor the one right after the backfill's last step),
        # comes sooner than that after the previous step.
        self.next_run = now + BACKFILL_GAP if self.backfilling else max(recent, now + BACKFILL_GAP)
        return self.next_run

    def schedule_failure(
        self, now: datetime, retry_after: float | None = None, rng: Rng = random.randint
    ) -> datetime:
        """The time of the next step after a failed one: back off, never hammer."""
        self.failures += 1
        wait = timedelta(hours=min(2 ** (self.failures - 1), 8), minutes=rng(0, 29))
        if retry_after:
            wait = max(wait, timedelta(seconds=retry_after))
        self.next_run = now + wait
        return self.next_run

    def as_json(self) -> dict[str, Any]:
        """The state as JSON for the store."""
        return {
            "next_run": self.next_run.isoformat() if self.next_run else None,
            "daily_depth": self.daily_depth,
            "history_start": self.history_start.isoformat() if self.history_start else None,
            "search": [day.isoformat() for day in self.search] if self.search else None,
            "curve_todo": [day.isoformat() for day in self.curve_todo],
            "backfill_planned": self.backfill_planned,
            "newest_week_done": self.newest_week_done,
            "production_planned": self.production_planned,
            "production_daily_due": self.production_daily_due,
            "production_todo": [day.isoformat() for day in self.production_todo],
            "attempt_day": self.attempt_day.isoformat() if self.attempt_day else None,
            "attempts": self.attempts,
            "last_attempt": self.last_attempt.isoformat() if self.last_attempt else None,
            "failures": self.failures,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> PlanState:
        """Read the stored state; a missing or damaged one starts afresh."""
        if not raw:
            return cls()
        try:
            return cls(
                next_run=_moment(raw.get("next_run")),
                daily_depth=int(raw.get("daily_depth", DAILY_BACKFILL_DAYS)),
                history_start=_day(raw.get("history_start")),
                search=_search(raw.get("search")),
                curve_todo=[date.fromisoformat(day) for day in raw.get("curve_todo", [])],
                backfill_planned=bool(raw.get("backfill_planned")),
                newest_week_done=bool(raw.get("newest_week_done")),
                production_planned=bool(raw.get("production_planned")),
                production_daily_due=bool(raw.get("production_daily_due")),
                production_todo=[date.fromisoformat(d) for d in raw.get("production_todo", [])],
                attempt_day=date.fromisoformat(raw["attempt_day"])
                if raw.get("attempt_day")
                else None,
                attempts=int(raw.get("attempts", 0)),
                last_attempt=_moment(raw.get("last_attempt")),
                failures=int(raw.get("failures", 0)),
            )
        except TypeError, ValueError, KeyError:
            return cls()


def _weeks(end: date, today: date) -> list[date]:
    """Start days of the 7-day chunks before ``end``, newest first, back to a year before today."""
    oldest = today - timedelta(days=CURVE_BACKFILL_DAYS)
    start = end - timedelta(days=MAX_CURVE_DAYS)
    chunks: list[date] = []
    while start + timedelta(days=MAX_CURVE_DAYS) > oldest:
        chunks.append(max(start, oldest))
        start -= timedelta(days=MAX_CURVE_DAYS)
    return chunks


def _moment(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) else None


def _day(text: Any) -> date | None:
    return date.fromisoformat(text) if isinstance(text, str) else None


def _search(raw: Any) -> tuple[date, date] | None:
    if not isinstance(raw, list) or len(raw) != 2:
        return None
    return date.fromisoformat(raw[0]), date.fromisoformat(raw[1])


def _clip(chunks: list[date], first: date) -> list[date]:
    """Chunk starts (newest first) without what lies before ``first``; the straddling one moved."""
    kept = [max(start, first) for start in chunks if start + timedelta(days=MAX_CURVE_DAYS) > first]
    return list(dict.fromkeys(kept))


class RequestBudget:
    """Requests sent to the gateway in the last 12 hours, shared by every Enedis entry.

    Kept per source (an entry id, or ``"form"``) so that an entry reloading and telling again
    what it sent before a restart replaces its share instead of counting it twice.
    """

    def __init__(self, limit: int = BUDGET_PER_12H) -> None:
        """Start empty; entries add what they remember from before a restart."""
        self.limit = limit
        self._sent: dict[str, list[datetime]] = {}

    def _recent(self, now: datetime) -> list[datetime]:
        for source, moments in self._sent.items():
            self._sent[source] = [moment for moment in moments if moment > now - WINDOW]
        return sorted(moment for moments in self._sent.values() for moment in moments)

    def remember(self, source: str, moments: Iterable[datetime]) -> None:
        """Set what ``source`` sent (its stored request times, after a restart or reload)."""
        self._sent[source] = sorted(moments)

    def record(self, now: datetime, count: int = 1, source: str = "form") -> None:
        """Count ``count`` requests that ``source`` sent at ``now``."""
        self._sent.setdefault(source, []).extend([now] * count)

    def used(self, now: datetime) -> int:
        """Requests sent in the 12 hours before ``now``."""
        return len(self._recent(now))

    def room_at(self, now: datetime, needed: int) -> datetime:
        """The earliest moment ``needed`` more requests stay under the limit."""
        sent = self._recent(now)
        excess = len(sent) + needed - self.limit
        if excess <= 0:
            return now
        return sent[excess - 1] + WINDOW + timedelta(seconds=1)
