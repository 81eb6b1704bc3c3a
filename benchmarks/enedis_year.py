"""Enedis: cost of a year of load curve, and the request plan of a full-year backfill.

Run: .venv/bin/python benchmarks/enedis_year.py

1. Parse 52 weekly load-curve answers (about 17,500 half hours as the gateway writes them) and project
   the year into hourly peak/off-peak/cost amounts: the CPU work of a full backfill.
2. Walk the planner (the real PlanState) through a first setup with a year of load curve to fetch,
   with production on, counting requests per step as the coordinator makes them (first step 5,
   backfill week 2, daily attempt 3), and report the worst 12 hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import time
from zoneinfo import ZoneInfo

from custom_components.meterhub.api.enedis import parse_load_curve
from custom_components.meterhub.providers.enedis.ledger import Ledger, project
from custom_components.meterhub.providers.enedis.planner import BACKFILL_GAP, PlanState
from custom_components.meterhub.providers.enedis.tariff import Tariff, parse_windows

PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2026, 6, 10)


def week_answer(start: date) -> list[dict[str, str]]:
    """One 7-day v2 answer's points: ``v`` (W) and ``d`` (interval end, Paris wall time)."""
    first = datetime.combine(start, datetime.min.time(), tzinfo=PARIS).astimezone(UTC)
    last = datetime.combine(start + timedelta(days=7), datetime.min.time(), tzinfo=PARIS)
    readings, moment = [], first
    while moment < last.astimezone(UTC):
        moment += timedelta(minutes=30)
        local = moment.astimezone(PARIS)
        readings.append(
            {
                "v": str(300 + 40 * local.hour),
                "d": local.strftime("%Y-%m-%d %H:%M:%S"),
                "p": "PT30M",
            }
        )
    return readings


def parse_and_project() -> None:
    answers = [week_answer(TODAY - timedelta(days=7 * (n + 1))) for n in range(52)]
    began = time.perf_counter()
    ledger = Ledger()
    for answer in answers:
        ledger.add_curve(parse_load_curve(answer))
    parsed = time.perf_counter() - began
    tariff = Tariff(
        windows=parse_windows("22:30-06:30, 12:30-14:30"), price_peak=0.27, price_offpeak=0.2
    )
    began = time.perf_counter()
    hours = project(ledger, ledger.days, tariff)
    projected = time.perf_counter() - began
    print(
        f"year of load curve: {sum(len(a) for a in answers)} half hours parsed in {parsed:.2f} s, "
        f"{len(ledger.days)} days projected into {len(hours.total)} hours in {projected:.2f} s; "
        f"stored form {len(str(ledger.as_json())) / 1024:.0f} KiB"
    )


def request_plan() -> None:
    plan = PlanState()
    now = datetime(2026, 6, 10, 6, 30, tzinfo=UTC)  # 08:30 Paris: the worst moment to start
    sent: list[datetime] = [now - timedelta(minutes=5)]  # the config flow's check
    have_yesterday = False
    first = True
    end = now + timedelta(days=3)
    while now < end:
        today = now.astimezone(PARIS).date()
        plan.plan_backfill(today)
        if first or plan.recent_due(now, have_yesterday):
            count = 5 + (2 if first else 0)  # daily backfill both ways on the first step
            plan.daily_depth = 0
            first = False
            have_yesterday = True
            sent += [now] * count
        elif plan.curve_todo:
            plan.curve_todo.pop(0)
            sent += [now] * 2
        plan.schedule(now, have_yesterday)
        assert plan.next_run is not None
        now = plan.next_run
        if now.astimezone(PARIS).date() != today:
            have_yesterday = False
    worst = max(sum(1 for t in sent if s <= t < s + timedelta(hours=12)) for s in sent)
    print(
        f"full-year backfill with production: {len(sent)} requests in 3 days, worst 12 h: {worst} "
        f"(ban at 100; backfill every {int(BACKFILL_GAP.total_seconds() // 60)} min)"
    )


if __name__ == "__main__":
    parse_and_project()
    request_plan()
