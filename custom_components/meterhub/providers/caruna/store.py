"""The backfill's progress per metering point, kept across restarts.

The backfill reads history newest first, so the statistics alone cannot say how far back it got
(the newest stored hour is always recent). What is left to read is therefore kept in Home
Assistant's storage, one small file per config entry, keyed by the metering point's identifier
(the file stays in ``.storage``, which is where Home Assistant keeps such state; it is removed with
the entry).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from ...const import DOMAIN
from .reader import DayRange

STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0


class BackfillProgress:
    """Pending day ranges per metering point, loaded once and saved after each pass."""

    def __init__(self, hass: HomeAssistant, key: str, entry_id: str) -> None:
        """One file per entry, ``meterhub.<provider key>_backfill.<entry id>``; nothing is read yet.

        The file has had this name since the start: renaming it would lose the progress.
        """
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{key}_backfill.{entry_id}"
        )
        self._data: dict[str, list[list[str]]] | None = None

    async def async_remove(self) -> None:
        """Delete the entry's progress file (the entry was removed)."""
        await self._store.async_remove()

    async def _async_data(self) -> dict[str, list[list[str]]]:
        if self._data is None:
            stored = await self._store.async_load()
            points = stored.get("points") if isinstance(stored, dict) else None
            self._data = points if isinstance(points, dict) else {}
        return self._data

    async def async_pending(self, identifier: str) -> list[DayRange] | None:
        """What the backfill of ``identifier`` has left, or None when nothing was kept."""
        ranges = (await self._async_data()).get(identifier)
        if not isinstance(ranges, list):
            return None
        result: list[DayRange] = []
        for item in ranges:
            try:
                first, end = date.fromisoformat(item[0]), date.fromisoformat(item[1])
            except TypeError, ValueError, IndexError:
                continue
            result.append((first, end))
        return result

    async def async_set(self, identifier: str, pending: list[DayRange]) -> None:
        """Keep what is left for ``identifier`` (written a few seconds later, coalesced)."""
        data = await self._async_data()
        data[identifier] = [[first.isoformat(), end.isoformat()] for first, end in pending]
        self._store.async_delay_save(lambda: {"points": data}, SAVE_DELAY)

    async def async_forget(self, identifier: str) -> None:
        """A metering point that left the account."""
        data = await self._async_data()
        if data.pop(identifier, None) is not None:
            self._store.async_delay_save(lambda: {"points": data}, SAVE_DELAY)

    async def async_flush(self) -> None:
        """Write now (on unload), so a restart right after sees the last pass."""
        if self._data is not None:
            await self._store.async_save({"points": self._data})
