"""Forwarding raw telegrams to DSMR-reader servers, without ever holding up the reader.

Each server gets a bounded queue and one sender task. The reader only appends (a constant-time call);
when a server is slow or down its queue fills and the oldest telegram is dropped and counted, so
memory stays bounded and the newest data is what reaches the server once it is back.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from ...api.dsmr import DsmrForwardAuthError, DsmrForwardError, DsmrReaderUploader
from ...const import LOGGER
from .const import CONF_FORWARD_TO

if TYPE_CHECKING:
    from .runtime import DsmrConfigEntry

QUEUE_SIZE: Final = 120  # two minutes of DSMR 5 telegrams
RETRY_MIN: Final = 2.0
RETRY_MAX: Final = 300.0


def parse_targets(text: str) -> list[tuple[str, str]]:
    """``url api_key`` pairs, one per line; raises ValueError for a line that is not one."""
    targets: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ValueError("each line needs a URL and an API key")
        url, key = parts
        split = urlsplit(url)
        if split.scheme not in ("http", "https") or not split.netloc:
            raise ValueError("not an http(s) URL")
        targets.append((url, key))
    return targets


def forward_targets(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The servers an entry's options name (already validated when saved)."""
    try:
        return parse_targets(options.get(CONF_FORWARD_TO) or "")
    except ValueError:
        return []


class Forwarder:
    """Sends telegrams to one DSMR-reader server from a bounded, drop-oldest queue."""

    def __init__(
        self, hass: HomeAssistant, url: str, api_key: str, *, queue_size: int | None = None
    ) -> None:
        """Prepare the queue and client; :meth:`start` starts sending."""
        self.hass = hass
        self.client = DsmrReaderUploader(async_get_clientsession(hass), url, api_key)
        self.queue: deque[str] = deque(maxlen=queue_size or QUEUE_SIZE)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._down = False
        self.sent = 0
        self.dropped = 0
        self.failures = 0
        self.rejected = 0

    def start(self, entry: DsmrConfigEntry) -> None:
        """Start the sender task (cancelled when the entry unloads)."""
        self._task = entry.async_create_background_task(
            self.hass, self._async_run(), "meterhub dsmr forwarder"
        )

    def enqueue(self, telegram: str) -> None:
        """Queue a telegram; when the queue is full the oldest one is dropped."""
        if len(self.queue) == self.queue.maxlen:
            self.dropped += 1
        self.queue.append(telegram)
        self._wake.set()

    async def async_stop(self) -> None:
        """Stop sending (what is still queued is dropped with the entry)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _async_run(self) -> None:
        retry = RETRY_MIN
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.queue:
                telegram = self.queue.popleft()
                try:
                    await self.client.async_upload(telegram)
                except (DsmrForwardError, DsmrForwardAuthError) as err:
                    if isinstance(err, DsmrForwardAuthError):
                        self.rejected += 1
                    else:
                        self.failures += 1
                    if not self._down:
                        LOGGER.warning("Forwarding to a DSMR-reader server failed: %s", err)
                        self._down = True
                    self._put_back(telegram)
                    await asyncio.sleep(retry)
                    retry = min(retry * 2, RETRY_MAX)
                    continue
                if self._down:
                    LOGGER.info("Forwarding to the DSMR-reader server works again")
                    self._down = False
                retry = RETRY_MIN
                self.sent += 1

    def _put_back(self, telegram: str) -> None:
        """Return an unsent telegram to the front, unless newer ones have filled the queue."""
        if len(self.queue) == self.queue.maxlen:
            self.dropped += 1
        else:
            self.queue.appendleft(telegram)

    def diagnostics(self) -> dict[str, Any]:
        """Counters (the server's address and key are not included)."""
        return {
            "queued": len(self.queue),
            "sent": self.sent,
            "dropped": self.dropped,
            "failures": self.failures,
            "rejected": self.rejected,
        }
