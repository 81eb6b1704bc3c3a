"""The Enedis coordinator: runs one planned step at a time, keeps the raw data, feeds statistics.

Why the load-curve backfill is imported only once it is complete: it walks back in time, and every
older hour added shifts the running total of every later hour, which Home Assistant rewrites row
by row. Fifty weekly imports of a year would rewrite the year fifty times; one import writes it
once. Meanwhile the daily totals already stand in for those days, so nothing is missing.

It has no update interval. A timer (see :class:`.runtime.EnedisRuntime`) fires at the plan's next
step; the step's requests, the merged readings, the plan and the request times are saved in the
entry's store (:mod:`.store`), so a restart or a reload (after an options change) resumes where it
was without a request. Statistics are always re-derived from the stored readings for the days that
changed (:mod:`.history`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import json
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ...api.enedis import (
    MAX_CURVE_DAYS,
    PARIS,
    DailyValue,
    Direction,
    EnedisClient,
    EnedisConsentExpiredError,
    EnedisError,
    EnedisHistoryLimitError,
    EnedisNoDataError,
    EnedisRequestError,
    IntervalValue,
    MaxPowerValue,
)
from ...api.errors import (
    ApiConnectionError,
    ApiRateLimitError,
    ApiResponseError,
    MeterHubApiError,
)
from ...const import DOMAIN, LOGGER
from ...coordinator import MeterHubCoordinator
from . import consent
from .history import EnedisSeries, async_import_days
from .ledger import DaySummary, Ledger, summarize
from .planner import (
    BACKFILL_GAP,
    DAILY_BACKFILL_DAYS,
    MORNING,
    WINDOW,
    PlanState,
    RequestBudget,
    paris_day,
)
from .store import EnedisState, EnedisStore
from .tariff import Tariff, format_windows

if TYPE_CHECKING:
    from .runtime import EnedisConfigEntry

#: Bump when the projection rules change: every stored day is then re-imported once.
PROJECTION_VERSION: Final = 1
KEEP_DAYS: Final = 400
#: Requests the largest step can make (first run: daily backfill + newest week, with production).
MAX_STEP_REQUESTS: Final = 7
#: The gateway's request budget, shared by every Enedis entry of this Home Assistant.
BUDGET: HassKey[RequestBudget] = HassKey(f"{DOMAIN}_conso_api_budget")


@dataclass(frozen=True, kw_only=True)
class EnedisData:
    """What the sensors show: the newest complete day and the plan's progress."""

    consumption: DaySummary | None
    production: DaySummary | None
    max_power: MaxPowerValue | None
    last_data_day: date | None
    subscription_per_day: float
    curve_weeks_left: int


@dataclass(frozen=True, kw_only=True)
class GatewayProblem:
    """The last request Enedis refused, in its own words (for diagnostics and a later repair).

    Never holds the PRM or the token: the description is scrubbed by the client.
    """

    at: datetime
    request: str
    status: int | None
    description: str | None

    def as_json(self) -> dict[str, Any]:
        """For diagnostics."""
        return {
            "at": self.at.isoformat(),
            "request": self.request,
            "status": self.status,
            "description": self.description,
        }


class EnedisCoordinator(MeterHubCoordinator[EnedisData]):
    """Executes the request plan for one usage point."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnedisConfigEntry,
        client: EnedisClient,
        *,
        key: str,
        prm: str,
        tariff: Tariff,
        production: bool,
    ) -> None:
        """Nothing is read or sent until :meth:`async_load` and the first step."""
        super().__init__(hass, entry, name="Enedis Linky", update_interval=None)
        self.client = client
        self.tariff = tariff
        self.production_enabled = production
        self.series = EnedisSeries(key, prm)
        self.store = EnedisStore(hass, key, entry.entry_id)
        self.budget = hass.data.setdefault(BUDGET, RequestBudget())
        self._entry_id = entry.entry_id
        self.plan = PlanState()
        self.consumption = Ledger()
        self.production = Ledger()
        self.max_power: dict[date, MaxPowerValue] = {}
        self.sent: list[datetime] = []
        #: Days the load-curve backfill filled in, imported in one go once it is complete.
        self.deferred: tuple[set[date], set[date]] = (set(), set())
        self.step_due = False
        #: The last request error Enedis explained (a 400 reported, not retried in a loop).
        self.last_problem: GatewayProblem | None = None
        self._fingerprint = ""
        self._token: str = entry.data["token"]

    def _options_fingerprint(self) -> str:
        """What the statistics depend on besides the readings."""
        return json.dumps(
            [
                PROJECTION_VERSION,
                format_windows(self.tariff.windows),
                self.tariff.price_peak,
                self.tariff.price_offpeak,
                self.production_enabled,
            ]
        )

    async def async_load(self) -> None:
        """Read the store; re-import every stored day if the options changed since last time."""
        state = await self.store.async_load()
        self.plan = state.plan
        self.consumption = state.consumption
        self.production = state.production
        self.max_power = state.max_power
        now = dt_util.utcnow()
        self.sent = [moment for moment in state.sent if moment > now - WINDOW]
        self.budget.remember(self._entry_id, self.sent)
        self.plan.plan_production(paris_day(now), self.production_enabled)
        if self.plan.production_daily_due and self.plan.backfill_planned:
            # Production was just enabled: start on its history soon, not tomorrow morning.
            soon = now + BACKFILL_GAP
            self.plan.next_run = min(self.plan.next_run or soon, soon)
        self._fingerprint = state.fingerprint
        self.deferred = state.deferred
        if self._fingerprint != self._options_fingerprint():
            await self._async_import(self.consumption.days, self.production.days)
            self._fingerprint = self._options_fingerprint()
            await self._async_save()

    async def _async_save(self) -> None:
        now = dt_util.utcnow()
        oldest = paris_day(now) - timedelta(days=KEEP_DAYS)
        self.consumption.prune(oldest)
        self.production.prune(oldest)
        self.max_power = {day: value for day, value in self.max_power.items() if day >= oldest}
        self.sent = [moment for moment in self.sent if moment > now - WINDOW]
        await self.store.async_save(
            EnedisState(
                plan=self.plan,
                consumption=self.consumption,
                production=self.production,
                max_power=self.max_power,
                sent=self.sent,
                fingerprint=self._fingerprint,
                deferred=self.deferred,
            )
        )

    async def _async_update_data(self) -> EnedisData:
        """The base coordinator's update; a new token or an answer ends the consent repair."""
        sent_before = self.client.requests
        data = await super()._async_update_data()
        answered = self.client.requests > sent_before
        consent.async_resolve(self.hass, self._entry_id, self._token, answered=answered)
        return data

    async def _async_report_problems(self, err: MeterHubApiError) -> None:
        """The base coordinator's repairs, and the consent repair when the consent is over."""
        await super()._async_report_problems(err)
        if isinstance(err, EnedisConsentExpiredError):
            consent.async_report(self.hass, self._entry_id, self._token)

    async def _async_fetch(self) -> EnedisData:
        """Run a step if the timer asked for one; always return the summary of the stored data."""
        if self.step_due:
            self.step_due = False
            await self._async_step(dt_util.utcnow())
        return self._summary()

    def _summary(self) -> EnedisData:
        newest = max(
            (day for day in self.consumption.days if self.consumption.final(day)), default=None
        )
        consumption = summarize(self.consumption, newest, self.tariff) if newest else None
        production = None
        if self.production_enabled and newest is not None:
            production = summarize(self.production, newest, self.tariff)
        return EnedisData(
            consumption=consumption,
            production=production,
            max_power=self.max_power.get(newest) if newest else None,
            last_data_day=newest,
            subscription_per_day=self.tariff.subscription_per_day,
            curve_weeks_left=len(self.plan.curve_todo) + len(self.plan.production_todo),
        )

    def _yesterday_done(self, now: datetime) -> bool:
        """Whether yesterday is in: its load curve, or its total for a meter without a curve."""
        yesterday = paris_day(now) - timedelta(days=1)
        if self.consumption.curve_complete(yesterday):
            return True
        week = _days(yesterday - timedelta(days=MAX_CURVE_DAYS), yesterday)
        if any(self.consumption.has_curve(day) for day in week):
            return False  # this meter has a load curve: wait for yesterday's
        return self.consumption.final(yesterday)

    async def _async_step(self, now: datetime) -> None:
        """One planned step: the daily backfill, the newest days, or one older week."""
        plan = self.plan
        room = self.budget.room_at(now, MAX_STEP_REQUESTS)
        if room > now:
            LOGGER.info("Enedis: request budget reached, next step postponed to %s", room)
            plan.next_run = room
            await self._async_save()
            return
        first = not plan.newest_week_done
        today = paris_day(now)
        plan.plan_backfill(today)
        plan.plan_production(today, self.production_enabled)
        sent_before = self.client.requests
        changed: tuple[set[date], set[date]] = (set(), set())
        try:
            if plan.daily_depth or plan.search:
                await self._async_daily_backfill(today, changed)
            if plan.production_daily_due and not (plan.daily_depth or plan.search):
                await self._async_production_daily_backfill(today, changed)
            if first or plan.recent_due(now, self._yesterday_done(now)):
                await self._async_recent(now, changed)
            elif plan.curve_todo and plan.search is None:
                await self._async_chunk(plan.curve_todo[0], today, self.deferred)
            elif plan.production_todo:
                await self._async_production_chunk(plan.production_todo[0], today, self.deferred)
        except MeterHubApiError as err:
            retry_after = err.retry_after if isinstance(err, ApiRateLimitError) else None
            plan.schedule_failure(now, retry_after)
            if isinstance(err, EnedisError) and err.description:
                self._note_problem(now, err, "step")
            raise
        else:
            plan.schedule(now, self._yesterday_done(now))
        finally:
            count = self.client.requests - sent_before
            self.budget.record(now, count, self._entry_id)
            self.sent.extend([now] * count)
            if not (plan.curve_todo or plan.production_todo) and any(self.deferred):
                changed[0].update(self.deferred[0])
                changed[1].update(self.deferred[1])
                self.deferred = (set(), set())
            await self._async_import(*changed)
            await self._async_save()

    async def _async_daily_backfill(
        self, today: date, changed: tuple[set[date], set[date]]
    ) -> None:
        """A year of daily totals in one call; from the meter's first day if it is younger.

        A refusal as "older than the meter" starts (or narrows) the search for its first day,
        one probe per step. Any other 400 is reported and this part of the backfill skipped: it
        is not a reason to ask for less history, and asking again would only be refused again.
        """
        plan = self.plan
        start = plan.daily_start(today)
        try:
            values = await self.client.daily("consumption", start, today)
        except EnedisHistoryLimitError:
            plan.history_refused(start, today)
            values = []
        except EnedisNoDataError:
            plan.daily_accepted(start)
            values = []
        except EnedisRequestError as err:
            self._note_problem(dt_util.utcnow(), err, "daily history")
            plan.search, plan.daily_depth = None, 0
            values = []
        else:
            plan.daily_accepted(start)
        changed[0].update(self.consumption.add_daily(values))

    async def _async_production_daily_backfill(
        self, today: date, changed: tuple[set[date], set[date]]
    ) -> None:
        """A year of daily production (from the meter's first day when it is younger)."""
        start = today - timedelta(days=DAILY_BACKFILL_DAYS)
        if self.plan.history_start is not None:
            start = max(start, self.plan.history_start)
        values = await self._async_daily("production", start, today)
        changed[1].update(self.production.add_daily(values))
        self.plan.production_daily_due = False

    async def _async_production_chunk(
        self, start: date, today: date, changed: tuple[set[date], set[date]]
    ) -> None:
        """One older week of production load curve; nothing there ends that backfill."""
        end = min(start + timedelta(days=MAX_CURVE_DAYS), today)
        try:
            points = await self.client.load_curve("production", start, end)
        except EnedisNoDataError, EnedisHistoryLimitError:
            # Nothing older (or older than the installation): the production backfill ends here.
            self.plan.production_todo = [day for day in self.plan.production_todo if day > start]
            return
        except EnedisRequestError as err:
            self._note_problem(dt_util.utcnow(), err, "production load curve")
            self.plan.production_todo = [day for day in self.plan.production_todo if day != start]
            return
        changed[1].update(self.production.add_curve(points))
        self.plan.production_todo = [day for day in self.plan.production_todo if day != start]

    async def _async_recent(self, now: datetime, changed: tuple[set[date], set[date]]) -> None:
        """The newest days: from the oldest incomplete day of the last week up to yesterday."""
        today = paris_day(now)
        yesterday = today - timedelta(days=1)
        window = today - timedelta(days=MAX_CURVE_DAYS)
        days = _days(window, today)
        if self.plan.history_start is not None:
            days = [day for day in days if day >= self.plan.history_start] or [yesterday]
        missing = [day for day in days if not self.consumption.curve_complete(day)]
        start = missing[0] if missing else yesterday
        newest = self.consumption.newest_day()
        daily_from = start
        if newest is not None and newest + timedelta(days=1) < window:
            # Home Assistant was off for more than a week: queue the weeks in between.
            self.plan.add_gap(newest + timedelta(days=1), window)
            daily_from = max(newest + timedelta(days=1), today - timedelta(DAILY_BACKFILL_DAYS))
        directions: list[Direction] = ["consumption"]
        if self.production_enabled:
            directions.append("production")
        for index, direction in enumerate(directions):
            ledger = self._ledger(direction)
            points = await self._async_curve(direction, start, today, missing_ok=True)
            changed[index].update(ledger.add_curve(points))
            if direction == "production":  # weeks this call covered need no backfill call
                self.plan.production_todo = [d for d in self.plan.production_todo if d < start]
            if any(not ledger.curve_complete(day) for day in _days(daily_from, today)):
                values = await self._async_daily(direction, daily_from, today)
                changed[index].update(ledger.add_daily(values))
        try:
            for value in await self.client.max_power(start, today):
                self.max_power[value.day] = value
        except ApiRateLimitError:
            raise
        except ApiConnectionError, ApiResponseError:
            # Only a sensor depends on it: not worth failing the step (and re-asking the rest).
            LOGGER.debug("Enedis: maximum power not available this time")
        if not self._yesterday_done(now) and now.astimezone(PARIS).time() >= MORNING:
            self.plan.note_attempt(yesterday, now)
        self.plan.newest_week_done = True

    async def _async_chunk(
        self, start: date, today: date, changed: tuple[set[date], set[date]]
    ) -> None:
        """One older week of load curve; Enedis having nothing there ends the backfill."""
        end = min(start + timedelta(days=MAX_CURVE_DAYS), today)
        try:
            points = await self.client.load_curve("consumption", start, end)
        except EnedisNoDataError:
            LOGGER.debug("Enedis: no load curve before %s, backfill complete", end)
            self.plan.drop_older(end)
            return
        except EnedisHistoryLimitError:
            if self.plan.history_start is not None and start >= self.plan.history_start:
                # Refused although the meter's first day is known: nothing more to ask here.
                self.plan.drop_older(end)
            else:
                # The meter is younger than this week: find its first day (daily-total probes,
                # one a step), then come back to this week from that day.
                self.plan.history_refused(start, end)
            return
        except EnedisRequestError as err:
            self._note_problem(dt_util.utcnow(), err, "load-curve history")
            self.plan.curve_todo = [day for day in self.plan.curve_todo if day != start]
            return
        changed[0].update(self.consumption.add_curve(points))
        if self.production_enabled:
            produced = await self._async_curve("production", start, end, missing_ok=True)
            changed[1].update(self.production.add_curve(produced))
        self.plan.curve_todo = [day for day in self.plan.curve_todo if day != start]
        self.plan.production_todo = [day for day in self.plan.production_todo if day != start]

    async def _async_curve(
        self, direction: Direction, start: date, end: date, *, missing_ok: bool
    ) -> list[IntervalValue]:
        try:
            return await self.client.load_curve(direction, start, end)
        except EnedisNoDataError, EnedisHistoryLimitError:
            if not missing_ok:
                raise
            return []

    async def _async_daily(self, direction: Direction, start: date, end: date) -> list[DailyValue]:
        try:
            return await self.client.daily(direction, start, end)
        except EnedisNoDataError, EnedisHistoryLimitError:
            return []

    def _note_problem(self, now: datetime, err: EnedisError, request: str) -> None:
        """Keep and log what Enedis said about a refused request (never the PRM or token)."""
        self.last_problem = GatewayProblem(
            at=now, request=request, status=err.status, description=err.description
        )
        LOGGER.warning(
            "Enedis refused a request (%s, HTTP %s): %s",
            request,
            err.status,
            err.description or "no description",
        )

    def _ledger(self, direction: Direction) -> Ledger:
        return self.consumption if direction == "consumption" else self.production

    async def _async_import(
        self, consumption_days: Iterable[date], production_days: Iterable[date]
    ) -> None:
        """Write the hours of the given days into every statistic (see :mod:`.history`)."""
        await async_import_days(
            self.hass,
            self.series,
            self.tariff,
            (self.consumption, consumption_days),
            (self.production, production_days) if self.production_enabled else None,
        )

    def diagnostics(self) -> dict[str, Any]:
        """Plan and data coverage, for a maintainer (no identifiers)."""
        now = dt_util.utcnow()
        return {
            "plan": self.plan.as_json(),
            "requests_last_12h_this_entry": len([m for m in self.sent if m > now - WINDOW]),
            "requests_last_12h_all_entries": self.budget.used(now),
            "days_with_load_curve": sum(1 for d in self.consumption.days.values() if d.curve),
            "days_with_daily_total": sum(
                1 for d in self.consumption.days.values() if d.daily_wh is not None
            ),
            "production_days": len(self.production.days),
            "last_problem": self.last_problem.as_json() if self.last_problem else None,
        }


def _days(start: date, end: date) -> list[date]:
    """Every day in [start, end)."""
    return [start + timedelta(days=n) for n in range((end - start).days)]
