"""Serve simulated P1 telegrams on a TCP port and on a pseudo-terminal.

    python -m tools.meterhub_sim --version 5 --port 2001 --speed 60 --solar

prints the pseudo-terminal's path; point Meter Hub's DSMR entry at it, or at socket://127.0.0.1:2001.
Faults for manual testing: --bad-crc-every N, --noise-every N, --cut-every N, --drop-every N.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
import os
import random
import sys
import termios
import time
import tty

from .household import Household
from .telegram import VERSIONS, compose


class Simulator:
    """Produces the byte stream a meter would send, faults included, and fans it out."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        start = datetime.fromisoformat(args.start) if args.start else datetime.now(UTC)
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self.household = Household(
            version=args.version, start=start, solar=args.solar, seed=args.seed
        )
        self.clients: set[asyncio.StreamWriter] = set()
        self.count = 0
        self.rng = random.Random(args.seed)
        self.pty_master: int | None = None

    def next_chunks(self, sim_now: datetime) -> list[bytes]:
        """The bytes for one telegram period: the telegram, maybe noise, maybe cut or corrupted."""
        self.count += 1
        a = self.args
        reading = self.household.advance(sim_now)
        bad = bool(a.bad_crc_every) and self.count % a.bad_crc_every == 0
        telegram = compose(reading, a.version, corrupt_crc=bad)
        chunks = []
        if a.noise_every and self.count % a.noise_every == 0:
            chunks.append(bytes(self.rng.randrange(256) for _ in range(40)))
        if a.cut_every and self.count % a.cut_every == 0:
            telegram = telegram[: len(telegram) // 2]
        chunks.append(telegram)
        return chunks

    async def handle_client(
        self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.clients.add(writer)
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        self.clients.discard(writer)

    def open_pty(self) -> str:
        master, slave = os.openpty()
        tty.setraw(slave, termios.TCSANOW)
        os.set_blocking(master, False)
        self.pty_master = master
        self._pty_slave = slave  # kept open so the terminal survives readers coming and going
        return os.ttyname(slave)

    def broadcast(self, data: bytes) -> None:
        for writer in list(self.clients):
            if writer.transport.get_write_buffer_size() > 1 << 20:
                writer.close()  # a reader that stopped reading does not get to grow our memory
                continue
            writer.write(data)
        if self.pty_master is not None:
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(self.pty_master, data)

    async def run(self) -> None:
        a = self.args
        server = await asyncio.start_server(self.handle_client, a.host, a.port)
        print(f"TCP:  socket://{a.host}:{a.port}", flush=True)
        if not a.no_pty:
            print(f"PTY:  {self.open_pty()}", flush=True)
        print(
            f"DSMR version {a.version}, one telegram every {a.interval} s, speed x{a.speed}",
            flush=True,
        )
        started = time.monotonic()
        sim_start = self.household.now
        async with server:
            while a.count <= 0 or self.count < a.count:
                elapsed = time.monotonic() - started
                sim_now = sim_start + timedelta(seconds=elapsed * a.speed)
                for chunk in self.next_chunks(sim_now):
                    self.broadcast(chunk)
                if a.drop_every and self.count % a.drop_every == 0:
                    for writer in list(self.clients):
                        writer.close()
                await asyncio.sleep(a.interval)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="meterhub_sim", description=__doc__.splitlines()[0])
    parser.add_argument("--version", choices=VERSIONS, default="5")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2001)
    parser.add_argument("--no-pty", action="store_true", help="serve TCP only")
    parser.add_argument(
        "--interval",
        type=float,
        default=None,
        help="seconds between telegrams (1 for DSMR 5, 10 for older)",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per real second"
    )
    parser.add_argument("--start", help="simulated start time, ISO 8601 (default: now)")
    parser.add_argument("--solar", action="store_true", help="a solar roof exporting around noon")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=0, help="stop after N telegrams (0: never)")
    parser.add_argument("--bad-crc-every", type=int, default=0, metavar="N")
    parser.add_argument("--noise-every", type=int, default=0, metavar="N")
    parser.add_argument("--cut-every", type=int, default=0, metavar="N")
    parser.add_argument(
        "--drop-every", type=int, default=0, metavar="N", help="close TCP clients every N telegrams"
    )
    args = parser.parse_args(argv)
    if args.interval is None:
        args.interval = 1.0 if args.version in ("5", "5B") else 10.0
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(Simulator(args).run())


if __name__ == "__main__":
    main()
