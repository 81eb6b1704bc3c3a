"""The request plan against the stand-in gateway: a simulated week, restarts, retries, bad dates.

The gateway bans an address at 100 requests in 12 hours; these tests count every request.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
import itertools
import math

from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers.enedis.coordinator import BUDGET
from custom_components.meterhub.providers.enedis.planner import (
    BUDGET_PER_12H,
    PlanState,
    RequestBudget,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from ..helpers import changes
from .conftest import add_entry, advance, day_changes, follow_plan, stat_id
from .standin import PARIS, PRM, FakeGateway, Request, local_midnight


@pytest.fixture(autouse=True)
async def paris(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("Europe/Paris")


def sun(start: datetime) -> float:
    """Solar production: a sine between 06:00 and 20:00 Paris."""
    local = start.astimezone(PARIS)
    hour = local.hour + local.minute / 60
    return max(0.0, 3000 * math.sin(math.pi * (hour - 6) / 14)) if 6 <= hour <= 20 else 0.0


def steps(requests: list[Request]) -> list[datetime]:
    """The moments a step ran (requests of one step share the frozen time)."""
    return sorted({request.at for request in requests})


async def test_simulated_week_with_production_stays_far_below_the_ban(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    start = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)  # 05:00 Paris, before the data is out
    freezer.move_to(start)
    gateway.curve_from = date(2026, 5, 13)
    gateway.daily_from = date(2026, 4, 1)
    gateway.production_watts = sun
    entry = await add_entry(hass, {"fetch_production": True})
    await advance(hass, freezer, timedelta(hours=2))
    # A restart in the middle of the backfill resumes the plan: no burst.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await follow_plan(hass, freezer, entry, timedelta(days=7) - timedelta(hours=2))

    requests = gateway.requests
    moments = steps(requests)
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    # 30 minutes apart, give or take the simulated clock's tick: a step that fires 31 s late is
    # followed by one planned from its due time, 29.5 minutes after it actually ran.
    assert min(gaps) >= timedelta(minutes=29)
    per_step = Counter(request.at for request in requests)
    assert max(per_step.values()) <= 7
    worst = gateway.max_in_window()
    assert worst <= 60
    assert len(requests) <= 90
    # Steady state (after the backfill): one attempt a day, after 08:00 Paris.
    backfill_end = max(
        r.at
        for r in requests
        if r.kind.startswith("courbe_de_charge") and r.end <= date(2026, 6, 3)
    )
    steady = [r for r in requests if r.at > backfill_end]
    by_day = Counter(r.at.astimezone(PARIS).date() for r in steady)
    assert set(by_day.values()) <= {3}  # curves of both directions + max power
    assert all(r.at.astimezone(PARIS).hour == 8 for r in steady)
    print(
        f"\nweek: {len(requests)} requests, {len(moments)} steps, worst 12 h: {worst}, "
        f"steady state: {sorted(by_day.values())} per day"
    )
    # Nothing counted twice: every Paris day holds exactly what the house used and produced.
    used = await day_changes(hass, "consumption", date(2026, 4, 1), date(2026, 6, 16))
    assert len(used) == 76
    assert set(used.values()) == {24.0}
    produced = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"enedis_{PRM}_yesterday_production"
    )
    assert produced is not None
    state = hass.states.get(produced)
    assert state is not None
    assert float(state.state) == round(gateway.day_wh(date(2026, 6, 16), production=True) / 1000, 3)
    made = await day_changes(hass, "production", date(2026, 5, 13), date(2026, 6, 16))
    assert {round(v, 1) for v in made.values()} == {
        round(gateway.day_wh(date(2026, 6, 1), production=True) / 1000, 1)
    }


async def test_late_day_gets_one_retry_then_waits_for_the_next_morning(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(datetime(2026, 6, 10, 5, 0, tzinfo=UTC))
    gateway.curve_from = date(2026, 6, 1)
    await add_entry(hass)
    await advance(hass, freezer, timedelta(hours=4))
    gateway.requests.clear()
    gateway.publish_lag = timedelta(hours=20)  # June 10's curve only on June 12 at 04:00
    await advance(hass, freezer, timedelta(days=1, hours=23), step=timedelta(minutes=15))
    attempts = [
        r.at.astimezone(PARIS)
        for r in gateway.requests
        if r.kind == "courbe_de_charge_consommation"
    ]
    # June 11: 08:xx, a retry in the afternoon; June 12: 08:xx finds it.
    assert [(a.day, a.hour >= 14) for a in attempts] == [(11, False), (11, True), (12, False)]
    assert all(a.hour >= 8 for a in attempts)
    assert attempts[1] - attempts[0] >= timedelta(hours=4)
    assert len(gateway.requests) <= 9
    june10 = local_midnight(date(2026, 6, 10))
    hours = await changes(hass, stat_id("consumption"), june10, june10 + timedelta(days=1))
    assert list(hours.values()) == [1.0] * 24  # the curve replaced the placeholder


async def test_home_assistant_off_for_two_weeks_fills_the_gap(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(datetime(2026, 6, 10, 7, 0, tzinfo=UTC))
    gateway.curve_from = date(2026, 6, 1)
    entry = await add_entry(hass)
    await advance(hass, freezer, timedelta(hours=2))
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.move_to(datetime(2026, 6, 25, 7, 0, tzinfo=UTC))
    gateway.requests.clear()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await advance(hass, freezer, timedelta(hours=3))
    curve = [
        (r.start, r.end) for r in gateway.requests if r.kind == "courbe_de_charge_consommation"
    ]
    # The newest week first, then the 8 days in between (June 10-17) in two calls.
    assert curve == [
        (date(2026, 6, 18), date(2026, 6, 25)),
        (date(2026, 6, 11), date(2026, 6, 18)),
        (date(2026, 6, 10), date(2026, 6, 17)),
    ]
    used = await day_changes(hass, "consumption", date(2026, 6, 1), date(2026, 6, 24))
    assert set(used.values()) == {24.0}
    assert len(used) == 24


async def test_meter_younger_than_a_year_starts_history_at_its_activation(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    """ "anterior to the meter's last activation date" limits the backfill; nothing is halved."""
    freezer.move_to(datetime(2026, 6, 10, 7, 0, tzinfo=UTC))
    gateway.curve_from = date(2026, 1, 1)
    gateway.daily_from = date(2025, 1, 1)
    gateway.activation = date(2026, 5, 30)
    entry = await add_entry(hass)
    await follow_plan(hass, freezer, entry, timedelta(hours=12))
    plan = entry.runtime_data.coordinator.plan
    assert plan.history_start == date(2026, 5, 30)
    assert (plan.search, plan.daily_depth, plan.curve_todo) == (None, 0, [])
    daily = [r for r in gateway.requests if r.kind == "consommation_quotidienne"]
    # A bisection over the year, to the day: at most 9 probes after the refused year.
    assert daily[0].start == date(2025, 6, 10)
    assert len(daily) <= 10
    assert all(r.end == date(2026, 6, 10) for r in daily)
    # Every refused request asked for a start before the activation, every later one after it.
    refused = [r for r in gateway.requests if r.start < date(2026, 5, 30)]
    assert all(r.kind != "puissance_conso_max_quotidienne" for r in refused)
    assert max(gateway.max_in_window(), 0) < 20
    used = await day_changes(hass, "consumption", date(2026, 5, 1), date(2026, 6, 9))
    assert sorted(used) == [date(2026, 5, 30) + timedelta(days=n) for n in range(11)]
    assert set(used.values()) == {24.0}
    # The week the meter started in was fetched from its first day: hourly, not a placeholder.
    first = local_midnight(date(2026, 5, 30))
    hours = await changes(hass, stat_id("consumption"), first, first + timedelta(days=1))
    assert list(hours.values()) == [1.0] * 24


async def test_a_refused_request_is_reported_not_a_reason_to_shrink_history(
    hass: HomeAssistant,
    gateway: FakeGateway,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    freezer.move_to(datetime(2026, 6, 10, 7, 0, tzinfo=UTC))
    gateway.curve_from = date(2026, 6, 3)
    description = "Le paramètre dateDebut est invalide pour le point {prm}"
    gateway.fail = {"consommation_quotidienne": (400, description)}
    entry = await add_entry(hass)
    await follow_plan(hass, freezer, entry, timedelta(hours=3))
    daily = [r for r in gateway.requests if r.kind == "consommation_quotidienne"]
    # Asked once for the year; never again with a shorter history.
    assert [(r.start, r.end) for r in daily] == [(date(2025, 6, 10), date(2026, 6, 10))]
    coordinator = entry.runtime_data.coordinator
    assert coordinator.plan.daily_depth == 0
    problem = coordinator.last_problem
    assert problem is not None
    assert problem.status == 400
    assert problem.description == "Le paramètre dateDebut est invalide pour le point <prm>"
    warnings = [r.getMessage() for r in caplog.records if "Enedis refused" in r.getMessage()]
    assert warnings
    assert not [line for line in warnings if PRM in line]
    # The rest went on: the newest week of load curve is in.
    used = await day_changes(hass, "consumption", date(2026, 6, 3), date(2026, 6, 9))
    assert set(used.values()) == {24.0}
    assert len(used) == 7


def test_plan_times_and_backoff() -> None:
    plan = PlanState()
    fixed = lambda low, high: low  # noqa: E731
    now = datetime(2026, 6, 10, 4, 0, tzinfo=UTC)  # 06:00 Paris
    plan.plan_backfill(date(2026, 6, 10))
    # A year in 7-day calls: 52 calls besides the newest week (fetched on the first step).
    assert len(plan.curve_todo) == 52
    assert (plan.curve_todo[0], plan.curve_todo[-1]) == (date(2026, 5, 27), date(2025, 6, 10))
    assert plan.schedule(now, yesterday_done=False, rng=fixed) == now + timedelta(minutes=30)
    plan.curve_todo = []
    plan.daily_depth = 0
    assert plan.schedule(now, yesterday_done=False, rng=fixed) == datetime(
        2026, 6, 10, 6, 5, tzinfo=UTC
    )
    assert plan.schedule(now, yesterday_done=True, rng=fixed) == datetime(
        2026, 6, 11, 6, 5, tzinfo=UTC
    )
    plan.note_attempt(date(2026, 6, 9), datetime(2026, 6, 10, 6, 5, tzinfo=UTC))
    assert plan.schedule(now, yesterday_done=False, rng=fixed) == datetime(
        2026, 6, 10, 12, 0, tzinfo=UTC
    )
    plan.note_attempt(date(2026, 6, 9), datetime(2026, 6, 10, 12, 0, tzinfo=UTC))
    assert plan.schedule(now, yesterday_done=False, rng=fixed) == datetime(
        2026, 6, 11, 6, 5, tzinfo=UTC
    )
    waits = [plan.schedule_failure(now, rng=fixed) - now for _ in range(6)]
    assert waits == [timedelta(hours=h) for h in (1, 2, 4, 8, 8, 8)]
    assert plan.schedule_failure(now, retry_after=36000, rng=fixed) - now == timedelta(hours=10)
    assert PlanState.from_json(plan.as_json()) == plan
    assert PlanState.from_json({"next_run": 5}) == PlanState()


def test_morning_attempt_never_comes_sooner_than_the_backfill_gap() -> None:
    """At 07:55 Paris mid-backfill, the 08:05 attempt waits for the next step (08:25)."""
    plan = PlanState()
    plan.plan_backfill(date(2026, 6, 10))
    now = datetime(2026, 6, 10, 5, 55, tzinfo=UTC)
    assert plan.schedule(now, yesterday_done=False, rng=lambda low, high: low) == now + timedelta(
        minutes=30
    )


def test_no_draw_brings_the_step_after_the_backfill_within_30_minutes() -> None:
    """The backfill's last step at 07:41 Paris, then the morning attempt at 08:<random minute>.

    Before the planner took the later of the two, draws of 5 to 8 put the attempt 25 to 28 minutes
    after that step (what the simulated week saw in about 2 runs out of 26). Every draw is tried.
    """
    last_step = datetime(2026, 6, 10, 5, 41, 2, tzinfo=UTC)  # 07:41:02 Paris
    for minute in range(60):
        draw = lambda low, high, m=minute: min(max(m, low), high)  # noqa: E731
        for attempts in (0, 1):
            plan = PlanState(daily_depth=0, backfill_planned=True, newest_week_done=True)
            assert not plan.backfilling
            for _ in range(attempts):
                plan.note_attempt(date(2026, 6, 9), last_step - timedelta(hours=5))
            for yesterday_done in (False, True):
                planned = plan.schedule(last_step, yesterday_done=yesterday_done, rng=draw)
                assert planned - last_step >= timedelta(minutes=30), (minute, attempts)


def test_budget_postpones_until_old_requests_age_out() -> None:
    budget = RequestBudget()
    t0 = datetime(2026, 6, 10, tzinfo=UTC)
    budget.record(t0, BUDGET_PER_12H - 5)
    assert budget.room_at(t0 + timedelta(hours=1), 5) == t0 + timedelta(hours=1)
    assert budget.room_at(t0 + timedelta(hours=1), 7) == t0 + timedelta(hours=12, seconds=1)
    assert budget.used(t0 + timedelta(hours=12, seconds=1)) == 0
    # An entry telling again what it sent (a reload) replaces its share, never adds it twice.
    budget.remember("entry", [t0, t0])
    budget.remember("entry", [t0, t0])
    assert budget.used(t0) == 2  # the older ones aged out above


async def test_shared_budget_postpones_a_step(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    start = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)
    freezer.move_to(start)
    gateway.curve_from = date(2026, 6, 3)
    # Other Enedis entries on this address already sent 75 requests an hour ago.
    hass.data[BUDGET] = budget = RequestBudget()
    budget.record(start - timedelta(hours=1), 75)
    entry = await add_entry(hass)
    await advance(hass, freezer, timedelta(hours=2))
    assert gateway.requests == []
    assert entry.runtime_data.coordinator.plan.next_run == start + timedelta(hours=11, seconds=1)
    await follow_plan(hass, freezer, entry, timedelta(hours=10))
    assert gateway.requests[0].at >= start + timedelta(hours=11)
    assert budget.used(datetime.now(UTC)) == len(gateway.requests)


async def test_production_enabled_later_gets_its_history(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(datetime(2026, 6, 10, 7, 0, tzinfo=UTC))
    gateway.curve_from = date(2026, 5, 27)
    gateway.production_watts = sun
    entry = await add_entry(hass)
    await advance(hass, freezer, timedelta(hours=2))
    assert not [r for r in gateway.requests if "production" in r.kind]
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"fetch_production": True}
    )
    await hass.async_block_till_done()
    await follow_plan(hass, freezer, entry, timedelta(hours=3))
    production = [(r.kind, r.start, r.end) for r in gateway.requests if "production" in r.kind]
    assert production == [
        ("production_quotidienne", date(2025, 6, 10), date(2026, 6, 10)),
        ("courbe_de_charge_production", date(2026, 6, 3), date(2026, 6, 10)),
        ("courbe_de_charge_production", date(2026, 5, 27), date(2026, 6, 3)),
        ("courbe_de_charge_production", date(2026, 5, 20), date(2026, 5, 27)),  # 404: done
    ]
    per_day = round(gateway.day_wh(date(2026, 6, 1), production=True) / 1000, 3)
    made = await day_changes(hass, "production", date(2026, 5, 1), date(2026, 6, 9))
    assert len(made) == 40
    assert {round(value, 3) for value in made.values()} == {per_day}
    june5 = local_midnight(date(2026, 6, 5))
    hours = await changes(hass, stat_id("production"), june5, june5 + timedelta(days=1))
    assert len(hours) == 24  # from the load curve, not a midnight placeholder


def test_history_start_bisection_and_clipping() -> None:
    """Refusals narrow the search to the day; the load-curve weeks before it are dropped."""
    today = date(2026, 6, 10)
    plan = PlanState()
    plan.plan_backfill(today)
    activation = date(2026, 2, 17)
    probes = []
    start = plan.daily_start(today)
    assert start == date(2025, 6, 10)
    while plan.daily_depth:
        probes.append(start)
        if start < activation:
            plan.history_refused(start, today)
        else:
            plan.daily_accepted(start)
        start = plan.daily_start(today)
    assert plan.history_start == activation
    assert plan.search is None
    assert len(probes) <= 10
    # Weeks entirely before the activation are gone, the one it falls in starts on it.
    assert min(plan.curve_todo) == activation
    assert all(day >= activation for day in plan.curve_todo)
    assert len(plan.curve_todo) == len(set(plan.curve_todo))
    assert PlanState.from_json(plan.as_json()) == plan
    # A refused load-curve week (its newer neighbour came back) bounds the search to that week.
    walking = PlanState(daily_depth=0)
    walking.plan_backfill(today)
    walking.history_refused(date(2026, 5, 20), date(2026, 5, 27))
    assert walking.search == (date(2026, 5, 20), date(2026, 5, 27))
    assert walking.backfilling
    assert walking.daily_start(today) == date(2026, 5, 23)
    searching = PlanState(search=(date(2026, 1, 1), date(2026, 3, 1)))
    assert PlanState.from_json(searching.as_json()) == searching
    assert searching.backfilling
