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

from array import array
import asyncio
from collections.abc import Callable, Iterator
import contextlib
from dataclasses import asdict, dataclass, field
import logging
import re
import sys
import threading
import time
from typing import Any, Final, Protocol

import aiohttp
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from dlms_cosem.connection import XDlmsApduFactory  # type: ignore[import-untyped]
from dlms_cosem.exceptions import (  # type: ignore[import-untyped]
    DecryptionError as DlmsDecryptionError,
)
from dsmr_parser import telegram_specifications
from dsmr_parser.clients.settings import (
    SERIAL_SETTINGS_V2_2,
    SERIAL_SETTINGS_V4,
    SERIAL_SETTINGS_V5,
)
from dsmr_parser.clients.telegram_buffer import EncryptedTelegramBuffer
from dsmr_parser.objects import Telegram
from dsmr_parser.parsers import TelegramParser
import serialx

from .errors import ApiAuthError, ApiConnectionError, ApiResponseError, MeterHubApiError

_LOGGER = logging.getLogger(__name__)

#: What :func:`detect_in_bytes` says of DLMS frames: some encrypted version (which one, the
#: frames do not tell before they are decrypted).
ENCRYPTED: Final = "encrypted"

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
    """Data arrives, but not as telegrams of the chosen DSMR version (speed, format or fields).

    ``detected`` is the version the data looks like (a version token such as ``5B``, or
    ``encrypted``), or None when nothing in it could be recognised.
    """

    error_key = "wrong_version"

    def __init__(self, message: str, detected: str | None = None) -> None:
        """Say what went wrong and, when known, which version the data looks like."""
        super().__init__(message)
        self.detected = detected

    @property
    def placeholders(self) -> dict[str, str]:
        """The version the data looks like, for the form's message (a dash when unknown)."""
        return {"detected": self.detected or "-"}


class DsmrKeyRequiredError(DsmrWrongVersionError):
    """Encrypted frames arrive, and the chosen version is a plain one (or no key was given).

    Its own message, because the way out is not another version but the key from the grid operator.
    """

    error_key = "key_required"

    def __init__(self, message: str) -> None:
        """The data is encrypted: that is all there is to detect."""
        super().__init__(message, ENCRYPTED)


class DsmrInvalidKeyError(DsmrError, ApiAuthError):
    """Encrypted frames arrive, but the keys do not decrypt them (or fail their authentication)."""

    error_key = "invalid_key"


@dataclass(frozen=True, kw_only=True)
class VersionProfile:
    """What differs per DSMR version: the parser specification, line settings, CRC, identifier."""

    version: str
    specification: dict[str, Any]
    serial_settings: dict[str, Any]
    identifier: str | None  # the parsed attribute holding the equipment identifier
    #: Telegrams arrive as DLMS general-global-cipher frames (AES-128-GCM) and need a key.
    encrypted: bool = False

    @property
    def checksum(self) -> bool:
        """Whether telegrams of this version end in a CRC16 (all but 2.2, Q3D and ISKRA_IE)."""
        return bool(self.specification["checksum_support"])

    @property
    def plain_specification(self) -> dict[str, Any]:
        """The specification for the decrypted text (the parser would otherwise try to decrypt)."""
        if not self.encrypted:
            return self.specification
        return {**self.specification, "general_global_cipher": False}


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
        VersionProfile(
            version="5EONHU",
            specification=telegram_specifications.EON_HUNGARY,
            serial_settings=SERIAL_SETTINGS_V5,
            identifier="COSEM_LOGICAL_DEVICE_NAME",
        ),
        VersionProfile(
            version="ISKRA_IE",
            specification=telegram_specifications.ISKRA_IE,
            serial_settings=SERIAL_SETTINGS_V5,
            identifier="EQUIPMENT_IDENTIFIER",
        ),
        VersionProfile(
            version="MSn",
            specification=telegram_specifications.MSN,
            serial_settings=SERIAL_SETTINGS_V5,
            identifier="LUXEMBOURG_EQUIPMENT_IDENTIFIER",
            encrypted=True,
        ),
        VersionProfile(
            version="SAGEMCOM_T210_D_R",
            specification=telegram_specifications.SAGEMCOM_T210_D_R,
            serial_settings=SERIAL_SETTINGS_V5,
            identifier=None,
            encrypted=True,
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


def _crc_pair_table() -> array[int]:
    """The CRC state after two more bytes, by ``state ^ (first | second << 8)``.

    A 16-bit reflected CRC folds two bytes at once: after XOR-ing them into the state, the sixteen
    shift steps depend on nothing else. Half the Python loop iterations for 128 KiB of table.
    """
    return array("H", (_fold_two(x) for x in range(65536)))


def _fold_two(value: int) -> int:
    low = (value >> 8) ^ _CRC_TABLE[value & 0xFF]
    return (low >> 8) ^ _CRC_TABLE[low & 0xFF]


_CRC_PAIRS: Final = _crc_pair_table()
_LITTLE_ENDIAN: Final = sys.byteorder == "little"


def crc16(data: bytes) -> int:
    """CRC-16/ARC (reflected polynomial 0xA001, initial 0), the DSMR telegram checksum.

    The same function as ``dsmr_parser``'s ``TelegramParser.crc16`` (the tests hold the two equal),
    many times cheaper: that one builds ctypes objects and parses hex strings per character,
    which made the CRC the most expensive step of handling a telegram. Two bytes per step.
    """
    crc = 0
    table = _CRC_TABLE
    even = len(data) & ~1
    if _LITTLE_ENDIAN and even:
        pairs = _CRC_PAIRS
        for word in memoryview(data)[:even].cast("H"):
            crc = pairs[crc ^ word]
        data = data[even:]
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
    decrypt_errors: int = 0  # encrypted frames the keys did not open
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
        if self._checksum and not crc_matches(telegram):
            self._stats.crc_errors += 1
            return False
        self._stats.telegrams += 1
        return True


def crc_matches(telegram: str) -> bool:
    """Whether a framed telegram's CRC (1 to 4 hex digits: some meters drop leading zeros) is right."""
    end = telegram.rindex("!") + 1
    given = telegram[end:].rstrip("\r\n\0")
    return bool(given) and int(given, 16) == crc16(telegram[:end].encode("ascii"))


class EncryptedFramer:
    """Cuts a byte stream into DLMS frames (dsmr-parser's buffer), decrypts and CRC-checks them.

    What comes out is the plain telegram text, exactly as an unencrypted meter would send it, so
    the rest (throttle, parsing, forwarding) does not care whether the meter encrypts.
    """

    #: Frames in a row the keys must fail to open before ``on_rejected`` is told.
    REJECTED_AFTER: Final = 3

    def __init__(
        self,
        profile: VersionProfile,
        stats: ReaderStats,
        keys: MeterKeys,
        on_rejected: Callable[[], None] | None = None,
    ) -> None:
        """Frame for ``profile``, decrypt with ``keys``, count into ``stats``."""
        self._checksum = profile.checksum
        self._stats = stats
        self._keys = keys
        self._buffer = EncryptedTelegramBuffer()
        self._on_rejected = on_rejected
        self._failures_in_row = 0

    def feed(self, data: bytes) -> list[str]:
        """Add bytes; return the telegrams of the frames they finished."""
        self._buffer.append(data)
        found: list[str] = []
        for frame in self._buffer.get_all():
            try:
                telegram = decrypt_frame(bytes.fromhex(frame), self._keys)
            except DsmrInvalidKeyError:
                self._stats.decrypt_errors += 1
                self._failures_in_row += 1
                if self._failures_in_row == self.REJECTED_AFTER and self._on_rejected is not None:
                    self._on_rejected()
                continue
            self._failures_in_row = 0
            if self._checksum and not crc_matches(telegram):
                self._stats.crc_errors += 1
                continue
            self._stats.telegrams += 1
            found.append(telegram)
        return found


@dataclass(frozen=True, slots=True)
class MeterKeys:
    """An encrypted meter's keys (hex): the decryption key, and the authentication key if known.

    Without an authentication key a frame is decrypted without checking its GCM tag (as Home
    Assistant core does for Smarty meters whose authentication key is unknown); the telegram's CRC
    still catches transmission errors. ``repr`` shows no key.
    """

    encryption_key: str = field(repr=False)
    authentication_key: str | None = field(default=None, repr=False)


_HEX_KEY_RE: Final = re.compile(r"[0-9A-Fa-f]{32}")


def valid_key(key: str) -> bool:
    """Whether ``key`` is an AES-128 key written as 32 hex digits."""
    return _HEX_KEY_RE.fullmatch(key) is not None


def decrypt_frame(frame: bytes, keys: MeterKeys) -> str:
    """The telegram text inside one general-global-cipher frame.

    Raises :class:`DsmrInvalidKeyError` when the keys do not fit (GCM tag wrong, or the text is not
    a telegram) or the frame is not one dlms-cosem can read.
    """
    try:
        apdu = XDlmsApduFactory.apdu_from_bytes(apdu_bytes=frame)
        key = bytes.fromhex(keys.encryption_key)
        if keys.authentication_key:
            plain = apdu.to_plain_apdu(key, bytes.fromhex(keys.authentication_key))
        else:
            # GCM without the tag check is AES-CTR from the counter block inc32(J0), J0 being
            # system title + invocation counter + 1 (NIST SP 800-38D); the 12-byte tag is cut off.
            nonce = apdu.system_title + apdu.invocation_counter.to_bytes(4, "big")
            decryptor = Cipher(algorithms.AES(key), modes.CTR(nonce + b"\0\0\0\2")).decryptor()
            plain = decryptor.update(apdu.ciphered_text[:-12]) + decryptor.finalize()
        text = bytes(plain).decode("ascii")
    except (DlmsDecryptionError, UnicodeDecodeError, ValueError, TypeError, KeyError) as err:
        raise DsmrInvalidKeyError("the frame does not decrypt with these keys") from err
    if not text.startswith("/"):
        raise DsmrInvalidKeyError("the frame does not decrypt with these keys")
    return text


# --- parsing and identification --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnparsedLine:
    """A telegram line dsmr-parser could not read: where it was and which register, not its text.

    The text is never kept: an identifier line (``0-0:96.1.1``, an M-Bus ``0-n:96.1.0``) is just
    the kind of line that fails on an odd meter, and the hex in it is the meter's serial number.
    """

    line: int  # 1-based, the header line being line 1; 0 when the line could not be found
    obis: str  # the register, such as ``0-0:96.1.1``; "?" when unknown

    def __str__(self) -> str:
        """What our log says of it."""
        return f"line {self.line} of OBIS {self.obis} did not parse"


_PARSER_LOGGER: Final = logging.getLogger("dsmr_parser.parsers")
_OBIS_RE: Final = re.compile(r"\d+-\d+:\d+\.\d+\.\d+")


class _ParserSilencer(logging.Filter):
    """Keeps dsmr-parser's records about a failed line out of the log, noting where it failed.

    dsmr-parser logs a line it cannot parse at ERROR, line text included (in the message and in the
    traceback of its ``ParseError``), whatever ``throw_ex`` says. One filter sits on its logger for
    good and acts only while one of our parses runs in the logging thread (a logger's filters run
    in the thread that logs): anyone else's parse (Home Assistant core's ``dsmr`` in the same
    process) is not touched, and a telegram costs no filter to add and remove.
    """

    def __init__(self) -> None:
        super().__init__()
        self._parsing = threading.local()

    @contextlib.contextmanager
    def parsing(self, telegram: str) -> Iterator[list[UnparsedLine]]:
        """While this runs, this thread's records are silenced; yields where lines failed."""
        unparsed: list[UnparsedLine] = []
        self._parsing.current = (telegram, unparsed)
        try:
            yield unparsed
        finally:
            self._parsing.current = None

    def filter(self, record: logging.LogRecord) -> bool:
        current: tuple[str, list[UnparsedLine]] | None = getattr(self._parsing, "current", None)
        if current is None:
            return True
        telegram, unparsed = current
        error = record.exc_info[1] if record.exc_info else None
        line = next((arg for arg in getattr(error, "args", ())[1:2] if isinstance(arg, str)), "")
        unparsed.append(_locate(telegram, line.strip()))
        return False


def _locate(telegram: str, line: str) -> UnparsedLine:
    """Where ``line`` sits in ``telegram``, and its OBIS reference (never the line itself)."""
    obis = match.group() if (match := _OBIS_RE.match(line)) else "?"
    if line:
        for number, text in enumerate(telegram.split("\n"), start=1):
            if text.strip() == line:
                return UnparsedLine(number, obis)
    return UnparsedLine(0, obis)


_SILENCER: Final = _ParserSilencer()
_PARSER_LOGGER.addFilter(_SILENCER)


class TelegramDecoder:
    """Parses checked (and decrypted) telegrams of one version with ``dsmr-parser``."""

    def __init__(self, version: str) -> None:
        """Build the parser once (it compiles a regex per field)."""
        self.profile = PROFILES[version]
        # The CRC is already checked by the framer, the frame already decrypted.
        self._parser = TelegramParser(
            self.profile.plain_specification, apply_checksum_validation=False
        )
        #: The lines of the last decoded telegram that did not parse (they are left out of it).
        self.unparsed: list[UnparsedLine] = []

    def decode(self, telegram: str) -> Telegram:
        """The parsed telegram (fields absent from it, or whose line did not parse, are missing).

        The library's own log records about failed lines are kept out of the log (they quote the
        line); :attr:`unparsed` says where they were instead.
        """
        with _SILENCER.parsing(telegram) as unparsed:
            try:
                return self._parser.parse(telegram)
            finally:
                self.unparsed = unparsed

    def equipment_id(self, parsed: Telegram, telegram: str) -> str | None:
        """The meter's identifier, or for versions without one the telegram's header line."""
        if self.profile.identifier is None:
            return telegram.split("\r\n", 1)[0].lstrip("/") or None
        found = getattr(parsed, self.profile.identifier, None)
        value = getattr(found, "value", None)
        return str(value) if value else None


_HEX_PAIRS: Final = re.compile(r"(?:[0-9A-Fa-f]{2})+")


def readable_identifier(identifier: str) -> str:
    """An equipment identifier as the meter's label prints it, for the device's serial number.

    Most DSMR variants send their identifiers (0-0:96.1.1, 0-n:96.1.0) as hex-encoded ASCII:
    ``4530...3031`` is ``E0...01``. When the text decodes to printable ASCII it is shown decoded,
    otherwise as sent. Only for display: unique ids and device identifiers keep the identifier as
    sent (the public contract).
    """
    if _HEX_PAIRS.fullmatch(identifier) is None:
        return identifier
    try:
        text = bytes.fromhex(identifier).decode("ascii")
    except UnicodeDecodeError:
        return identifier
    return text if text.isprintable() and text.strip() else identifier


_P1_VERSION_RE: Final = re.compile(r"^\d-\d:0\.2\.8\((\d+)\)", re.MULTILINE)
_HAS_CRC_RE: Final = re.compile(r"![0-9A-F]{1,4}\r\n$")
_FIVE: Final = frozenset({"5", "5L", "5S"})


def plausible_versions(telegram: str) -> set[str]:
    """The versions a plain telegram could belong to, judged from its CRC and version lines."""
    if _HAS_CRC_RE.search(telegram) is None:
        # Irish meters stamp their telegrams (0-0:1.0.0); DSMR 2.2 meters do not.
        return {"ISKRA_IE", "Q3D"} if "0-0:1.0.0(" in telegram else {"2.2", "Q3D"}
    if ":96.1.4(" in telegram:
        return {"5B"}
    if "0-0:42.0.0(" in telegram:
        # E.ON Hungary and Luxembourg name the meter there; Smarty meters say version 42.
        return {"5EONHU"} if "1-0:1.8.3(" in telegram else {"5L"}
    if (match := _P1_VERSION_RE.search(telegram)) is not None:
        return {"4"} if match.group(1).startswith("4") else set(_FIVE)
    return {"4", *_FIVE}


def detect_version(telegram: str) -> str:
    """The one version a plain telegram looks most like (header line and OBIS lines).

    The guess behind the form's "looks like" message: EasyMeter Q3D name themselves in the header
    (``/ESY5Q3D...``); Belgian meters carry the e-MUCS version line ``0-0:96.1.4``; E.ON Hungary
    meters tariffs 3 and 4; Luxembourg meters their identifier on ``0-0:42.0.0``; Swedish ones no
    equipment identifier; DSMR 4 and 5 say their version on ``1-3:0.2.8``; without a CRC a telegram
    with a timestamp line is Irish, one without is DSMR 2.2.
    """
    header = telegram.split("\r\n", 1)[0]
    if "Q3D" in header:
        return "Q3D"
    plausible = plausible_versions(telegram)
    if len(plausible) == 1:
        return next(iter(plausible))
    if "Q3D" in plausible:
        return "ISKRA_IE" if "ISKRA_IE" in plausible else "2.2"
    if "0-0:96.1.1(" not in telegram:
        return "5S"
    return "5" if "5" in plausible else "4"


def detect_encrypted_version(telegram: str) -> str:
    """Which encrypted variant a decrypted telegram is.

    Luxembourg meters name themselves on 0-0:42.0.0; the Austrian Sagemcom T210-D-R nowhere.
    """
    return "MSn" if "0-0:42.0.0(" in telegram else "SAGEMCOM_T210_D_R"


def detect_in_bytes(data: bytes) -> str | None:
    """What the bytes a port sent look like: a version, ``encrypted``, or None (noise).

    Bytes read with the wrong line settings (7E1 read as 8N1) carry the parity in the high bit;
    it is dropped so that a DSMR 4 meter read as DSMR 5 is still recognised.
    """
    text = bytes(byte & 0x7F for byte in data).decode("ascii")
    for match in _TELEGRAM_RE.finditer(text):
        telegram = match.group()
        if _HAS_CRC_RE.search(telegram) is None or crc_matches(telegram):
            return detect_version(telegram)
    buffer = EncryptedTelegramBuffer()
    buffer.append(data)
    if next(iter(buffer.get_all()), None) is not None:
        return ENCRYPTED
    return None


# --- the connection --------------------------------------------------------------------------


_LINE_SETTINGS: Final = ("baudrate", "bytesize", "parity", "stopbits", "xonxoff", "rtscts")


class _Framer(Protocol):
    def feed(self, data: bytes) -> list[str]: ...


def make_framer(
    profile: VersionProfile,
    stats: ReaderStats,
    keys: MeterKeys | None,
    on_rejected: Callable[[], None] | None = None,
) -> _Framer:
    """The framer for ``profile``: plain telegrams, or encrypted frames opened with ``keys``."""
    if profile.encrypted:
        if keys is None:
            raise DsmrInvalidKeyError("an encrypted meter needs its key")
        return EncryptedFramer(profile, stats, keys, on_rejected)
    return TelegramFramer(profile, stats)


class _P1Protocol(asyncio.Protocol):
    """Frames incoming bytes and hands checked telegrams to the reader."""

    def __init__(
        self, framer: _Framer, on_telegram: Callable[[str], None], *, keep: int = 0
    ) -> None:
        self._framer = framer
        self._on_telegram = on_telegram
        self.closed: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        self.bytes_seen = 0
        self._keep = keep
        self.kept = bytearray()  # the first bytes, to tell what a wrong version's data looks like

    def data_received(self, data: bytes) -> None:
        self.bytes_seen += len(data)
        if len(self.kept) < self._keep:
            self.kept.extend(data[: self._keep - len(self.kept)])
        for telegram in self._framer.feed(data):
            self._on_telegram(telegram)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(exc)


async def _async_open(
    port: str, profile: VersionProfile, protocol: asyncio.Protocol
) -> asyncio.BaseTransport:
    """Open ``port`` with the version's line settings; any failure is a connection error."""
    # Only the line settings: dsmr-parser's own reader writes "url" and more into these shared
    # dicts when Home Assistant's core dsmr integration runs in the same process.
    settings = {key: profile.serial_settings[key] for key in _LINE_SETTINGS}
    return await _async_open_with(port, settings, protocol)


async def _async_open_with(
    port: str, settings: dict[str, Any], protocol: asyncio.Protocol
) -> asyncio.BaseTransport:
    """Open ``port`` with these line settings; any failure is a connection error."""
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await serialx.create_serial_connection(
            loop, lambda: protocol, url=port, **settings
        )
    except (OSError, serialx.SerialException, ValueError) as err:
        raise DsmrConnectionError(f"cannot open the P1 port: {type(err).__name__}") from err
    return transport


async def async_read_first_telegram(
    port: str, version: str, wait: float, keys: MeterKeys | None = None
) -> str:
    """Open ``port``, return the first valid telegram within ``wait`` seconds, close the port.

    For an encrypted version the telegram is the decrypted text. Raises
    :class:`DsmrConnectionError` when the port cannot be opened, :class:`DsmrNoTelegramError` when
    nothing arrives, :class:`DsmrInvalidKeyError` when encrypted frames arrive that ``keys`` do
    not open, :class:`DsmrWrongVersionError` (saying, when it can, which version the data looks like) when
    data arrives but no telegram of ``version`` can be made of it.
    """
    profile = PROFILES[version]
    stats = ReaderStats()
    first: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def found(telegram: str) -> None:
        if not first.done():
            first.set_result(telegram)

    protocol = _P1Protocol(make_framer(profile, stats, keys), found, keep=MAX_BUFFER)
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
        if not profile.encrypted and version not in plausible_versions(telegram):
            guess = detect_version(telegram)
            raise DsmrWrongVersionError(f"the telegram looks like {guess}", guess)
        return telegram
    if stats.decrypt_errors:
        raise DsmrInvalidKeyError("encrypted frames arrived that the keys do not open")
    if protocol.bytes_seen:
        detected = detect_in_bytes(bytes(protocol.kept))
        raise DsmrWrongVersionError("data arrived, but no valid telegram", detected)
    if closed_early:
        raise DsmrConnectionError("the connection closed before a telegram arrived")
    raise DsmrNoTelegramError("no telegram arrived in time")


#: Line settings to listen with when the version is not known yet: 8N1 reads 7E1 too (the parity
#: lands in the high bit, which :func:`detect_in_bytes` drops); DSMR 4 and 5 send at 115200 baud,
#: DSMR 2.2 at 9600 (tried second, and only on a serial device: a network bridge has no baud rate).
_SNIFF_SETTINGS: Final = tuple(
    {**{key: SERIAL_SETTINGS_V5[key] for key in _LINE_SETTINGS}, "baudrate": baudrate}
    for baudrate in (115200, 9600)
)


class _SniffProtocol(asyncio.Protocol):
    """Keeps the first bytes a port sends and says as soon as they look like a known version."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.closed: asyncio.Future[Exception | None] = loop.create_future()
        self.recognised: asyncio.Future[str] = loop.create_future()
        self.kept = bytearray()

    def data_received(self, data: bytes) -> None:
        if self.recognised.done() or len(self.kept) >= 2 * MAX_BUFFER:
            return
        self.kept.extend(data)
        if (found := detect_in_bytes(bytes(self.kept))) is not None:
            self.recognised.set_result(found)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(exc)


async def async_detect(port: str, wait: float) -> str | None:
    """Listen to ``port`` and say which version its first telegram looks like.

    Returns a version token, :data:`ENCRYPTED` for DLMS frames, or None when data arrives that
    looks like no telegram (noise, or a speed none of the tries matched). Raises
    :class:`DsmrConnectionError` when the port cannot be opened or closes before sending anything,
    :class:`DsmrNoTelegramError` when it stays silent for ``wait`` seconds.
    """
    tries = _SNIFF_SETTINGS if "://" not in port else _SNIFF_SETTINGS[:1]
    heard = False
    for settings in tries:
        protocol = _SniffProtocol()
        transport = await _async_open_with(port, dict(settings), protocol)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await asyncio.wait(
                    (protocol.recognised, protocol.closed), return_when=asyncio.FIRST_COMPLETED
                )
        closed_early = protocol.closed.done()
        transport.close()
        await asyncio.wait((protocol.closed,), timeout=1.0)
        if protocol.recognised.done():
            return protocol.recognised.result()
        heard = heard or bool(protocol.kept)
        if closed_early and not heard:
            raise DsmrConnectionError("the connection closed before a telegram arrived")
    if heard:
        return None
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
        keys: MeterKeys | None = None,
        on_invalid_key: Callable[[], None] | None = None,
    ) -> None:
        """Prepare the reader; :meth:`run` does the work.

        ``on_invalid_key`` is called when an encrypted meter's frames keep failing to decrypt.
        """
        self.port = port
        self.keys = keys
        self._on_invalid_key = on_invalid_key
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
        framer = make_framer(self.profile, self.stats, self.keys, self._on_invalid_key)
        protocol = _P1Protocol(framer, self._telegram)
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
