"""A DSMR P1 reader: telegrams from a serial port or a network P1 bridge, checked and counted.

The port is opened through ``serialx`` (a device path such as ``/dev/ttyUSB0`` or a URL such as
``socket://host:port``), bytes are framed into telegrams with the framing ``dsmr-parser`` uses, every
telegram's CRC is checked, and only then is it handed on. Parsing into values (``dsmr-parser``'s
:class:`TelegramParser`) is left to the consumer, because it is the expensive part and a consumer that
throttles its state updates needs it only for the telegrams it actually shows.

:class:`P1Reader` runs forever: it reconnects with a growing back-off (1 s to 60 s), treats a line that
stays silent too long as dead, and counts what it drops. :func:`async_read_first_telegram` is the
one-shot variant a config flow uses to test a port. Nothing here imports Home Assistant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import asdict, dataclass, field
import logging
import re
import time
from typing import Any, Final

import aiohttp
from dsmr_parser import telegram_specifications
from dsmr_parser.clients.settings import (
    SERIAL_SETTINGS_V2_2,
    SERIAL_SETTINGS_V4,
    SERIAL_SETTINGS_V5,
)
from dsmr_parser.objects import Telegram
from dsmr_parser.parsers import TelegramParser
import serialx

from .errors import ApiAuthError, ApiConnectionError, ApiResponseError, MeterHubApiError

_LOGGER = logging.getLogger(__name__)

BACKOFF_MIN: Final = 1.0
BACKOFF_MAX: Final = 60.0
#: A meter sends a telegram every second (DSMR 5) or every ten seconds (DSMR 2.2/4).
DEFAULT_SILENT_TIMEOUT: Final = 60.0
#: A partial telegram never grows past this; anything longer is line noise.
MAX_BUFFER: Final = 16384


class DsmrError(MeterHubApiError):
    """Base of the P1 reader's errors."""


class DsmrConnectionError(DsmrError, ApiConnectionError):
    """The port could not be opened (missing device, refused connection, busy port)."""

    error_key = "cannot_connect"


class DsmrNoTelegramError(DsmrError, ApiConnectionError):
    """The port opened but nothing arrived in time: no meter behind it, or a dead cable."""

    error_key = "no_telegram"


class DsmrWrongVersionError(DsmrError, ApiResponseError):
    """Data arrives, but not as telegrams of the chosen DSMR version (speed, format or fields)."""

    error_key = "wrong_version"


@dataclass(frozen=True, kw_only=True)
class VersionProfile:
    """What differs per DSMR version: the parser specification, line settings, CRC, identifier."""

    version: str
    specification: dict[str, Any]
    serial_settings: dict[str, Any]
    identifier: str | None  # the parsed attribute holding the equipment identifier

    @property
    def checksum(self) -> bool:
        """Whether telegrams of this version end in a CRC16 (all but 2.2 and Q3D)."""
        return bool(self.specification["checksum_support"])


PROFILES: Final[dict[str, VersionProfile]] = {
    profile.version: profile
    for profile in (
        VersionProfile(
            version="2.2",
            specification=telegram_specifications.V2_2,
            serial_settings=SERIAL_SETTINGS_V2_2,
            identifier="EQUIPMENT_IDENTIFIER",
        ),
        VersionProfile(
            version="4",
            specification=telegram_specifications.V4,
            serial_settings=SERIAL_SETTINGS_V4,
            identifier="EQUIPMENT_IDENTIFIER",
        ),
        VersionProfile(
            version="5",
            specification=telegram_specifications.V5,
            serial_settings=SERIAL_SETTINGS_V5,
            identifier="EQUIPMENT_IDENTIFIER",
        ),
        VersionProfile(
            version="5B",
            specification=telegram_specifications.BELGIUM_FLUVIUS,
            serial_settings=SERIAL_SETTINGS_V5,
            identifier="BELGIUM_EQUIPMENT_IDENTIFIER",
        ),
        VersionProfile(
            version="5L",
            specification=telegram_specifications.LUXEMBOURG_SMARTY,
            serial_settings=SERIAL_SETTINGS_V5,
            identifier="LUXEMBOURG_EQUIPMENT_IDENTIFIER",
        ),
        VersionProfile(
            version="5S",
            specification=telegram_specifications.SWEDEN,
            serial_settings=SERIAL_SETTINGS_V5,
            identifier=None,
        ),
        VersionProfile(
            version="Q3D",
            specification=telegram_specifications.Q3D,
            serial_settings=SERIAL_SETTINGS_V5,
            identifier="Q3D_EQUIPMENT_IDENTIFIER",
        ),
    )
}
VERSIONS: Final = tuple(PROFILES)


# --- CRC and framing -------------------------------------------------------------------------


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE: Final = _crc_table()


def crc16(data: bytes) -> int:
    """CRC-16/ARC (reflected polynomial 0xA001, initial 0), the DSMR telegram checksum.

    The same function as ``dsmr_parser``'s ``TelegramParser.crc16`` (the tests hold the two equal),
    about ten times cheaper: that one builds ctypes objects and parses hex strings per character,
    which made the CRC the most expensive step of handling a telegram.
    """
    crc = 0
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def compose_telegram(body: str, *, checksum: bool = True) -> str:
    """A complete telegram from ``body`` (``/`` up to the data lines), with CRLF line endings.

    ``body`` may use LF line endings; the result ends in ``!`` and, for versions with a CRC,
    four hex digits. Used by tests and simulators to produce telegrams a real meter would send.
    """
    lines = body.replace("\r\n", "\n").strip("\n").split("\n")
    text = "\r\n".join(lines) + "\r\n!"
    if checksum:
        return f"{text}{crc16(text.encode('ascii')):04X}\r\n"
    return f"{text}\r\n"


# dsmr-parser's telegram framing: from a "/" to the first "!", then an optional CRC and CRLF.
_TELEGRAM_RE: Final = re.compile(r"/[^/]+?![A-F0-9]{0,4}\0?\r\n", re.DOTALL)


@dataclass
class ReaderStats:
    """Counters a maintainer reads in the diagnostics."""

    telegrams: int = 0
    crc_errors: int = 0
    garbled: int = 0  # non-ASCII bytes inside a telegram
    truncated: int = 0  # a telegram cut off by the start of the next one
    noise_bytes: int = 0  # bytes outside any telegram
    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    silent_timeouts: int = 0
    last_error: str | None = None
    last_telegram_monotonic: float | None = field(default=None, repr=False)

    @property
    def dropped(self) -> int:
        """Telegrams thrown away: wrong CRC, garbled or cut short."""
        return self.crc_errors + self.garbled + self.truncated

    def as_dict(self) -> dict[str, Any]:
        """The counters for diagnostics."""
        data = asdict(self)
        data.pop("last_telegram_monotonic")
        data["dropped"] = self.dropped
        return data


class TelegramFramer:
    """Cuts a byte stream into CRC-checked telegram strings and counts what it throws away."""

    def __init__(self, profile: VersionProfile, stats: ReaderStats) -> None:
        """Frame for ``profile``; count into ``stats``."""
        self._checksum = profile.checksum
        self._stats = stats
        self._buffer = ""

    def feed(self, data: bytes) -> list[str]:
        """Add bytes; return the complete, valid telegrams they finished (usually none or one)."""
        # latin-1 never fails, so line noise cannot stop the stream; ASCII is checked per telegram.
        buffer = self._buffer + data.decode("latin-1")
        if "!" not in buffer:
            self._buffer = self._trim(buffer)
            return []
        found: list[str] = []
        position = 0
        for match in _TELEGRAM_RE.finditer(buffer):
            self._count_gap(buffer[position : match.start()])
            position = match.end()
            telegram = match.group()
            if self._valid(telegram):
                found.append(telegram)
        self._buffer = self._trim(buffer[position:])
        return found

    def _count_gap(self, gap: str) -> None:
        """Whatever lies between telegrams: noise, or the start of a telegram cut short."""
        if not gap:
            return
        start = gap.find("/")
        if start >= 0:
            self._stats.truncated += 1
            self._stats.noise_bytes += start
        else:
            self._stats.noise_bytes += len(gap)

    def _trim(self, rest: str) -> str:
        """Keep the possible start of the next telegram; drop noise that can never become one."""
        start = rest.find("/")
        if start < 0:
            self._stats.noise_bytes += len(rest)
            return ""
        if start:
            self._stats.noise_bytes += start
            rest = rest[start:]
        if len(rest) > MAX_BUFFER:
            self._stats.noise_bytes += len(rest)
            return ""
        return rest

    def _valid(self, telegram: str) -> bool:
        if not telegram.isascii():
            self._stats.garbled += 1
            return False
        if self._checksum:
            end = telegram.rindex("!") + 1
            given = telegram[end : end + 4]
            if len(given) != 4 or int(given, 16) != crc16(telegram[:end].encode("ascii")):
                self._stats.crc_errors += 1
                return False
        self._stats.telegrams += 1
        return True


# --- parsing and identification --------------------------------------------------------------


class TelegramDecoder:
    """Parses checked telegrams of one version with ``dsmr-parser``."""

    def __init__(self, version: str) -> None:
        """Build the parser once (it compiles a regex per field)."""
        self.profile = PROFILES[version]
        # The CRC is already checked by the framer.
        self._parser = TelegramParser(self.profile.specification, apply_checksum_validation=False)

    def decode(self, telegram: str) -> Telegram:
        """The parsed telegram (fields absent from it are simply missing)."""
        return self._parser.parse(telegram)

    def equipment_id(self, parsed: Telegram, telegram: str) -> str | None:
        """The meter's identifier, or for versions without one the telegram's header line."""
        if self.profile.identifier is None:
            return telegram.split("\r\n", 1)[0].lstrip("/") or None
        found = getattr(parsed, self.profile.identifier, None)
        value = getattr(found, "value", None)
        return str(value) if value else None


_P1_VERSION_RE: Final = re.compile(r"^\d-\d:0\.2\.8\((\d+)\)", re.MULTILINE)


def plausible_versions(telegram: str) -> set[str]:
    """The versions a telegram could belong to, judged from its CRC and version lines."""
    if re.search(r"![0-9A-F]{4}\r\n$", telegram) is None:
        return {"2.2", "Q3D"}
    if ":96.1.4(" in telegram:
        return {"5B"}
    if (match := _P1_VERSION_RE.search(telegram)) is not None:
        return {"4"} if match.group(1).startswith("4") else {"5", "5L", "5S"}
    return {"4", "5", "5L", "5S"}


# --- the connection --------------------------------------------------------------------------


_LINE_SETTINGS: Final = ("baudrate", "bytesize", "parity", "stopbits", "xonxoff", "rtscts")


class _P1Protocol(asyncio.Protocol):
    """Frames incoming bytes and hands checked telegrams to the reader."""

    def __init__(self, framer: TelegramFramer, on_telegram: Callable[[str], None]) -> None:
        self._framer = framer
        self._on_telegram = on_telegram
        self.closed: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        self.bytes_seen = 0

    def data_received(self, data: bytes) -> None:
        self.bytes_seen += len(data)
        for telegram in self._framer.feed(data):
            self._on_telegram(telegram)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(exc)


async def _async_open(
    port: str, profile: VersionProfile, protocol: _P1Protocol
) -> asyncio.BaseTransport:
    """Open ``port`` with the version's line settings; any failure is a connection error."""
    # Only the line settings: dsmr-parser's own reader writes "url" and more into these shared
    # dicts when Home Assistant's core dsmr integration runs in the same process.
    settings = {key: profile.serial_settings[key] for key in _LINE_SETTINGS}
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await serialx.create_serial_connection(
            loop, lambda: protocol, url=port, **settings
        )
    except (OSError, serialx.SerialException, ValueError) as err:
        raise DsmrConnectionError(f"cannot open the P1 port: {type(err).__name__}") from err
    return transport


async def async_read_first_telegram(port: str, version: str, wait: float) -> str:
    """Open ``port``, return the first valid telegram within ``wait`` seconds, close the port.

    Raises :class:`DsmrConnectionError` when the port cannot be opened, :class:`DsmrNoTelegramError`
    when nothing arrives, and :class:`DsmrWrongVersionError` when data arrives but no telegram of
    ``version`` can be made of it.
    """
    profile = PROFILES[version]
    stats = ReaderStats()
    first: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def found(telegram: str) -> None:
        if not first.done():
            first.set_result(telegram)

    protocol = _P1Protocol(TelegramFramer(profile, stats), found)
    transport = await _async_open(port, profile, protocol)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait):
            await asyncio.wait((first, protocol.closed), return_when=asyncio.FIRST_COMPLETED)
    closed_early = protocol.closed.done()
    transport.close()
    # Wait for the port to be released, so that an immediate retry can open it again.
    await asyncio.wait((protocol.closed,), timeout=1.0)
    if first.done():
        telegram = first.result()
        if version not in plausible_versions(telegram):
            raise DsmrWrongVersionError("the telegram belongs to another DSMR version")
        return telegram
    if protocol.bytes_seen:
        raise DsmrWrongVersionError("data arrived, but no valid telegram")
    if closed_early:
        raise DsmrConnectionError("the connection closed before a telegram arrived")
    raise DsmrNoTelegramError("no telegram arrived in time")


class P1Reader:
    """Reads one P1 port forever: reconnects with back-off, detects a silent line, counts drops.

    ``on_telegram`` gets every valid telegram (a str, CRC checked); ``on_connection`` gets False when
    the connection is lost or could not be made, and True when a telegram arrives after that. Both
    are called in the event loop and must not block.
    """

    def __init__(
        self,
        port: str,
        version: str,
        *,
        on_telegram: Callable[[str], None],
        on_connection: Callable[[bool], None],
        silent_timeout: float = DEFAULT_SILENT_TIMEOUT,
        backoff_min: float = BACKOFF_MIN,
        backoff_max: float = BACKOFF_MAX,
    ) -> None:
        """Prepare the reader; :meth:`run` does the work."""
        self.port = port
        self.profile = PROFILES[version]
        self.stats = ReaderStats()
        self.silent_timeout = silent_timeout
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self._on_telegram = on_telegram
        self._on_connection = on_connection
        self._transport: asyncio.BaseTransport | None = None
        self._receiving = False
        self._backoff = backoff_min

    @property
    def connected(self) -> bool:
        """Whether a telegram arrived on the current connection."""
        return self._receiving

    def _telegram(self, telegram: str) -> None:
        self.stats.last_telegram_monotonic = time.monotonic()
        if not self._receiving:
            self._receiving = True
            self._backoff = self.backoff_min
            self._on_connection(True)
        self._on_telegram(telegram)

    def _lost(self) -> None:
        if self._receiving:
            self._receiving = False
        self._on_connection(False)

    async def run(self) -> None:
        """Connect, read, reconnect: until cancelled. The port is closed whenever this returns."""
        try:
            while True:
                try:
                    await self._run_once()
                except Exception as err:  # the reader must outlive any surprise
                    self.stats.connect_failures += 1
                    self.stats.last_error = type(err).__name__
                    _LOGGER.exception("Unexpected error in the P1 reader; reconnecting")
                self._lost()
                await asyncio.sleep(self._backoff)
                self._backoff = min(self._backoff * 2, self.backoff_max)
        finally:
            self.close()

    async def _run_once(self) -> None:
        protocol = _P1Protocol(TelegramFramer(self.profile, self.stats), self._telegram)
        try:
            self._transport = await _async_open(self.port, self.profile, protocol)
        except DsmrConnectionError as err:
            self.stats.connect_failures += 1
            self.stats.last_error = str(err.__cause__.__class__.__name__)
            _LOGGER.debug("Opening the P1 port failed: %s", self.stats.last_error)
            return
        self.stats.connects += 1
        opened = time.monotonic()
        try:
            while True:
                last = self.stats.last_telegram_monotonic
                since = max(opened, last) if last is not None else opened
                wait = since + self.silent_timeout - time.monotonic()
                if wait <= 0:
                    self.stats.silent_timeouts += 1
                    self.stats.last_error = "silent line"
                    _LOGGER.debug("No telegram for %s s: reconnecting", self.silent_timeout)
                    return
                done, _ = await asyncio.wait((protocol.closed,), timeout=wait)
                if done:
                    self.stats.disconnects += 1
                    exc = protocol.closed.result()
                    self.stats.last_error = type(exc).__name__ if exc else "closed"
                    _LOGGER.debug("The P1 connection was lost: %s", self.stats.last_error)
                    return
        finally:
            self.close()

    def close(self) -> None:
        """Close the port now (also used on unload and when Home Assistant stops)."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None


# --- forwarding to DSMR-reader -----------------------------------------------------------------


class DsmrForwardError(DsmrError, ApiConnectionError):
    """A DSMR-reader server did not take a telegram (down, slow, server error)."""


class DsmrForwardAuthError(DsmrError, ApiAuthError):
    """A DSMR-reader server rejected the API key (403), or its API is switched off."""


class DsmrReaderUploader:
    """Posts raw telegrams to a DSMR-reader server's v1 ``datalogger/dsmrreading`` endpoint.

    The remote-datalogger role: the server parses and stores the telegram itself. The aiohttp
    session is the caller's.
    """

    PATH: Final = "/api/v1/datalogger/dsmrreading"

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, api_key: str, timeout: float = 10.0
    ) -> None:
        """Post to ``base_url`` (``http://host:7777``) with ``api_key``."""
        self._session = session
        self._url = base_url.rstrip("/") + self.PATH
        self._api_key = api_key
        self._timeout = timeout

    async def async_upload(self, telegram: str) -> None:
        """Send one telegram; raise a :class:`DsmrForwardError` subclass when it was not taken."""
        try:
            async with asyncio.timeout(self._timeout):
                async with self._session.post(
                    self._url,
                    data={"telegram": telegram},
                    headers={"X-AUTHKEY": self._api_key},
                ) as response:
                    status = response.status
                    await response.read()
        except (TimeoutError, aiohttp.ClientError) as err:
            raise DsmrForwardError(f"DSMR-reader unreachable: {type(err).__name__}") from err
        if status in (401, 403, 405):
            raise DsmrForwardAuthError(f"DSMR-reader refused the telegram (HTTP {status})")
        if status not in (200, 201):
            raise DsmrForwardError(f"DSMR-reader answered HTTP {status}")
