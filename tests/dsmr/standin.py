"""The DSMR stand-ins: real transports a meter's telegrams travel over.

The integration opens the pty's slave through a symlink, the way a USB cable is opened through
``/dev/serial/by-id``: unplugging is closing the pty and removing the link, plugging back in is a
new pty behind the same link. The TCP server plays a ser2net/ESP dongle: every connected client gets what the meter
sends, and the test can cut the connections. :class:`Sender` plays the meter itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import os
from pathlib import Path
import tty


class PtyMeter:
    """A meter on a pseudo-terminal; ``path`` is the stable symlink the integration opens."""

    def __init__(self, directory: Path) -> None:
        self.link = directory / "ttyP1"
        self.path = str(self.link)
        self._master: int | None = None
        self._slave: int | None = None
        self.plug_in()

    def plug_in(self) -> None:
        master, slave = os.openpty()
        tty.setraw(master)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.link.unlink(missing_ok=True)
        self.link.symlink_to(os.ttyname(slave))

    def unplug(self) -> None:
        """Close both ends and remove the link: the reader sees the device vanish.

        The link goes too, as udev removes a ``/dev/serial/by-id`` link when the cable is pulled.
        Left dangling, it would point at a ``/dev/pts`` number the kernel hands out again: a
        retrying reader would open (and lock) another test's pseudo-terminal.
        """
        self.link.unlink(missing_ok=True)
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    def write(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("latin-1")
        assert self._master is not None
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                return  # nobody reads the line: the bytes are lost, as on a real P1 port
            view = view[written:]

    def drain(self) -> None:
        """Read and discard what the port side wrote back (nothing, for a meter)."""
        assert self._master is not None
        with contextlib.suppress(BlockingIOError, OSError):
            os.read(self._master, 65536)


class TcpMeter:
    """A network P1 bridge on 127.0.0.1: sends to every connected client."""

    def __init__(self) -> None:
        self.clients: list[asyncio.StreamWriter] = []
        self.connections = 0
        self.disconnected = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.clients.append(writer)
        with contextlib.suppress(ConnectionError):
            await reader.read()  # until the integration closes its side
        if writer in self.clients:
            self.clients.remove(writer)
        self.disconnected.set()
        writer.close()

    def write(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("latin-1")
        for client in self.clients:
            client.write(data)

    async def drop_clients(self) -> None:
        for client in list(self.clients):
            client.close()
        self.clients.clear()

    async def stop(self) -> None:
        await self.drop_clients()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


class Sender:
    """Plays a meter: writes the current telegram every ``interval`` seconds until stopped."""

    def __init__(self, write: Callable[[str], None], telegram: str, interval: float) -> None:
        self.write = write
        self.telegram = telegram
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self.sent = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(OSError, AssertionError):
                self.write(self.telegram)
                self.sent += 1
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


async def wait_for(check: Callable[[], object], within: float = 15.0) -> None:
    """Wait until ``check()`` is truthy, letting the event loop (and the reader) run."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - the condition is state the reader changes
            await asyncio.sleep(0.02)
