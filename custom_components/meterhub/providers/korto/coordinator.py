"""The two polls of a Korto apartment: its meters (with their readings) and its balance."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ...api.korto import KortoBalance, KortoClient, KortoMeters
from ...coordinator import MeterHubCoordinator
from .history import KORTO_TIME_ZONE, KortoHistory
from .store import ReadingStore

if TYPE_CHECKING:
    from .runtime import KortoConfigEntry


class KortoMetersCoordinator(MeterHubCoordinator[KortoMeters]):
    """Polls the meters; each new reading goes into the store and the statistics."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: KortoConfigEntry,
        client: KortoClient,
        store: ReadingStore,
        history: KortoHistory,
        *,
        apartment_id: str,
        update_interval: timedelta,
    ) -> None:
        """Poll ``apartment_id`` every ``update_interval``."""
        super().__init__(hass, entry, name="Korto meters", update_interval=update_interval)
        self.client = client
        self.store = store
        self.history = history
        self.apartment_id = apartment_id

    async def _async_fetch(self) -> KortoMeters:
        data = await self.client.async_meters(self.apartment_id)
        # A day of slack: a reading entered this morning in Tallinn is "today" there already.
        today = dt_util.now(KORTO_TIME_ZONE).date() + timedelta(days=1)
        changed = self.store.record(data.meters, today=today)
        if changed:
            await self.store.async_save()
        self.history.pending |= changed
        await self.history.async_import(data.meters)
        return data


class KortoBalanceCoordinator(MeterHubCoordinator[KortoBalance]):
    """Polls the apartment's balance and last payment."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: KortoConfigEntry,
        client: KortoClient,
        *,
        apartment_id: str,
        update_interval: timedelta,
    ) -> None:
        """Poll the balance of ``apartment_id`` every ``update_interval``."""
        super().__init__(hass, entry, name="Korto balance", update_interval=update_interval)
        self.client = client
        self.apartment_id = apartment_id

    async def _async_fetch(self) -> KortoBalance:
        return await self.client.async_balance(self.apartment_id)
