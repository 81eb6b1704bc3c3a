"""What an Enedis entry keeps on disk: its readings, the request plan and the requests it sent.

A restart or a reload (after an options change) resumes where it was without a request: the
gateway bans an address that asks too often, so nothing already fetched is ever asked for again.
One ``Store`` per entry, ``meterhub.<provider key>.<entry id>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from ...api.enedis import MaxPowerValue
from ...const import DOMAIN
from .ledger import Ledger
from .planner import PlanState

STORE_VERSION: Final = 1


@dataclass
class EnedisState:
    """Everything an entry keeps between runs (see the module docstring)."""

    plan: PlanState = field(default_factory=PlanState)
    consumption: Ledger = field(default_factory=Ledger)
    production: Ledger = field(default_factory=Ledger)
    max_power: dict[date, MaxPowerValue] = field(default_factory=dict)
    #: When each request was sent (the shared budget's share of this entry).
    sent: list[datetime] = field(default_factory=list)
    #: What the stored statistics were derived with; a change re-imports every day once.
    fingerprint: str = ""
    #: Days the load-curve backfill filled in, imported in one go once it is complete.
    deferred: tuple[set[date], set[date]] = field(default_factory=lambda: (set(), set()))


class EnedisStore:
    """The entry's :class:`EnedisState` in ``.storage``."""

    def __init__(self, hass: HomeAssistant, key: str, entry_id: str) -> None:
        """One store per entry; nothing is read until :meth:`async_load`."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORE_VERSION, f"{DOMAIN}.{key}.{entry_id}"
        )

    async def async_remove(self) -> None:
        """Delete the stored readings and plan (the entry is being removed)."""
        await self._store.async_remove()

    async def async_load(self) -> EnedisState:
        """The kept state; a missing store starts afresh, damaged parts are dropped."""
        raw = await self._store.async_load() or {}
        return EnedisState(
            plan=PlanState.from_json(raw.get("plan")),
            consumption=Ledger.from_json(raw.get("consumption")),
            production=Ledger.from_json(raw.get("production")),
            max_power=_max_power_from_json(raw.get("max_power")),
            sent=[
                datetime.fromisoformat(text)
                for text in raw.get("sent", [])
                if isinstance(text, str)
            ],
            fingerprint=raw.get("fingerprint", ""),
            deferred=(
                _dates(raw.get("deferred_consumption")),
                _dates(raw.get("deferred_production")),
            ),
        )

    async def async_save(self, state: EnedisState) -> None:
        """Write the state (the caller prunes it first)."""
        await self._store.async_save(
            {
                "plan": state.plan.as_json(),
                "consumption": state.consumption.as_json(),
                "production": state.production.as_json(),
                "max_power": {
                    day.isoformat(): [value.va, value.at.isoformat() if value.at else None]
                    for day, value in sorted(state.max_power.items())
                },
                "sent": [moment.isoformat() for moment in state.sent],
                "fingerprint": state.fingerprint,
                "deferred_consumption": sorted(day.isoformat() for day in state.deferred[0]),
                "deferred_production": sorted(day.isoformat() for day in state.deferred[1]),
            }
        )


def _dates(raw: Any) -> set[date]:
    """Stored ISO dates; unreadable entries are dropped."""
    days: set[date] = set()
    for text in raw if isinstance(raw, list) else []:
        try:
            days.add(date.fromisoformat(text))
        except TypeError, ValueError:
            continue
    return days


def _max_power_from_json(raw: Any) -> dict[date, MaxPowerValue]:
    result: dict[date, MaxPowerValue] = {}
    if not isinstance(raw, dict):
        return result
    for key, value in raw.items():
        try:
            day = date.fromisoformat(key)
            at = datetime.fromisoformat(value[1]).astimezone(UTC) if value[1] else None
            result[day] = MaxPowerValue(day=day, va=float(value[0]), at=at)
        except TypeError, ValueError, IndexError:
            continue
    return result
