"""The DSMR coordinator: holds the newest shown telegram. Pushed to by the reader, never polled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from ...const import LOGGER
from .model import P1Snapshot

if TYPE_CHECKING:
    from .runtime import DsmrConfigEntry


class DsmrCoordinator(DataUpdateCoordinator[P1Snapshot]):
    """The values of the newest shown telegram; the runtime's reader sets them."""

    def __init__(self, hass: HomeAssistant, entry: DsmrConfigEntry) -> None:
        """No update interval: a P1 port pushes, the reader calls ``async_set_updated_data``."""
        super().__init__(
            hass, LOGGER, config_entry=entry, name="DSMR P1 meter", update_interval=None
        )
