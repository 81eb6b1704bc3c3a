"""The P1 framing and CRC on their own: what is accepted, what is dropped, and how it is counted."""

from __future__ import annotations

from dsmr_parser.parsers import TelegramParser
import pytest

from custom_components.meterhub.api.dsmr import (
    PROFILES,
    ReaderStats,
    TelegramFramer,
    compose_telegram,
    crc16,
    plausible_versions,
)

from . import telegrams

ALL = {
    "5": telegrams.v5(),
    "4": telegrams.v4(),
    "2.2": telegrams.v22(),
    "5B": telegrams.v5b(),
}


@pytest.mark.parametrize("version", ["5", "4", "5B"])
def test_crc_matches_dsmr_parser(version: str) -> None:
    telegram = ALL[version]
    body = telegram[: telegram.rindex("!") + 1]
    assert crc16(body.encode()) == TelegramParser.crc16(body)
    assert telegram.endswith(f"!{crc16(body.encode()):04X}\r\n")
    # dsmr-parser's own check accepts what we compose.
    TelegramParser.validate_checksum(telegram)


def test_the_masked_seed_telegram_fails_its_published_crc() -> None:
    """The seed (published with a masked identifier, CRC 74B0) must be dropped as a CRC error;
    the same text with its correct CRC (A97E, also published) is accepted."""
    stats = ReaderStats()
    framer = TelegramFramer(PROFILES["4"], stats)
    assert framer.feed(telegrams.SEED_MASKED_74B0.encode()) == []
    assert stats.crc_errors == 1
    fixed = compose_telegram(telegrams.SEED_BODY)
    assert fixed.endswith("!A97E\r\n")
    assert framer.feed(fixed.encode()) == [fixed]


def feed_all(version: str, chunks: list[bytes]) -> tuple[list[str], ReaderStats]:
    stats = ReaderStats()
    framer = TelegramFramer(PROFILES[version], stats)
    found: list[str] = []
    for chunk in chunks:
        found.extend(framer.feed(chunk))
    return found, stats


@pytest.mark.parametrize("version", ["5", "4", "2.2", "5B"])
def test_byte_by_byte_and_bursts(version: str) -> None:
    telegram = ALL[version].encode()
    found, stats = feed_all(version, [bytes([b]) for b in telegram])
    assert found == [ALL[version]]
    found, stats = feed_all(version, [telegram * 3])
    assert found == [ALL[version]] * 3
    assert stats.telegrams == 3
    assert stats.dropped == 0


def test_noise_cut_crc_and_garbled_are_dropped_and_counted() -> None:
    good = telegrams.v5()
    cut = good[: len(good) // 2]
    bad_crc = good.replace("0.456*kW", "0.457*kW")  # one digit flipped, CRC unchanged
    garbled = good.replace("230.1*V", "23\xe9.1*V")
    stream = (
        "\x00\xffnoise!\r\n" + good + "more noise" + cut + good + bad_crc + garbled + good
    ).encode("latin-1")
    found, stats = feed_all("5", [stream[i : i + 7] for i in range(0, len(stream), 7)])
    assert found == [good, good, good]
    assert stats.truncated == 1
    assert stats.crc_errors == 1
    assert stats.garbled == 1
    assert stats.noise_bytes >= len("more noise")
    assert stats.dropped == 3


def test_endless_noise_does_not_grow_memory() -> None:
    stats = ReaderStats()
    framer = TelegramFramer(PROFILES["5"], stats)
    for _ in range(100):
        framer.feed(b"/" + b"x" * 1000)
    assert len(framer._buffer) <= 17000
    assert framer.feed(telegrams.v5().encode()) == [telegrams.v5()]


def test_plausible_versions() -> None:
    assert plausible_versions(ALL["2.2"]) == {"2.2", "Q3D"}
    assert plausible_versions(ALL["4"]) == {"4"}
    assert "5" in plausible_versions(ALL["5"])
    assert plausible_versions(ALL["5B"]) == {"5B"}
