"""Compose P1 telegrams per the DSMR specifications (2.2, 4.2, 5.0 and Belgian 5B / e-MUCS).

A telegram is ``/<id>``, an empty line, one OBIS line per value, then ``!`` and (from DSMR 4 on) a
CRC16/ARC of everything from ``/`` to ``!`` as four upper-case hex digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

# The integration's own CRC (CRC-16/ARC, checked against dsmr-parser in its tests).
from custom_components.meterhub.api.dsmr import crc16

__all__ = ["VERSIONS", "Reading", "compose", "crc16"]

VERSIONS = ("2.2", "4", "5", "5B")
LOCAL_TZ = {
    "2.2": "Europe/Amsterdam",
    "4": "Europe/Amsterdam",
    "5": "Europe/Amsterdam",
    "5B": "Europe/Brussels",
}


def dsmr_timestamp(moment: datetime, version: str) -> str:
    """``YYMMDDhhmmssX`` in the meter's local time, X = S (summer) or W (winter)."""
    local = moment.astimezone(ZoneInfo(LOCAL_TZ[version]))
    season = "S" if local.dst() else "W"
    return local.strftime("%y%m%d%H%M%S") + season


def hex_id(text: str) -> str:
    """Equipment identifiers are sent as the hex of their ASCII text."""
    return text.encode().hex().upper()


@dataclass(frozen=True, kw_only=True)
class Reading:
    """One moment of the meter, all the values a telegram carries."""

    time: datetime
    used: tuple[float, float]  # kWh registers, tariff 1 and 2
    delivered: tuple[float, float]
    tariff: int  # 1 or 2
    power_used: float  # kW
    power_delivered: float
    phase_power: tuple[float, float, float]  # kW used per phase
    voltage: tuple[float, float, float]
    gas: float  # m³
    gas_time: datetime
    power_failures: int = 3
    long_power_failures: int = 1
    peak_demand: float = 2.5  # kW, Belgian current quarter-hour average
    peak_demand_month: float = 4.2
    peak_demand_time: datetime | None = None


def _lines_v5(reading: Reading, version: str) -> list[str]:
    ts = dsmr_timestamp(reading.time, version)
    currents = [
        round(p * 1000 / v) for p, v in zip(reading.phase_power, reading.voltage, strict=True)
    ]
    lines = [
        "1-3:0.2.8(50)",
        f"0-0:1.0.0({ts})",
        f"0-0:96.1.1({hex_id('E0000000000DEMO01')})",
        f"1-0:1.8.1({reading.used[0]:010.3f}*kWh)",
        f"1-0:1.8.2({reading.used[1]:010.3f}*kWh)",
        f"1-0:2.8.1({reading.delivered[0]:010.3f}*kWh)",
        f"1-0:2.8.2({reading.delivered[1]:010.3f}*kWh)",
        f"0-0:96.14.0({reading.tariff:04d})",
        f"1-0:1.7.0({reading.power_used:06.3f}*kW)",
        f"1-0:2.7.0({reading.power_delivered:06.3f}*kW)",
        f"0-0:96.7.21({reading.power_failures:05d})",
        f"0-0:96.7.9({reading.long_power_failures:05d})",
        "1-0:99.97.0(1)(0-0:96.7.19)(250101120000W)(0000000321*s)",
        "1-0:32.32.0(00002)",
        "1-0:52.32.0(00001)",
        "1-0:72.32.0(00000)",
        "1-0:32.36.0(00000)",
        "1-0:52.36.0(00000)",
        "1-0:72.36.0(00001)",
        "0-0:96.13.0()",
    ]
    for phase, code in enumerate(("32", "52", "72")):
        lines.append(f"1-0:{code}.7.0({reading.voltage[phase]:05.1f}*V)")
    for phase, code in enumerate(("31", "51", "71")):
        lines.append(f"1-0:{code}.7.0({currents[phase]:03d}*A)")
    for phase, code in enumerate(("21", "41", "61")):
        lines.append(f"1-0:{code}.7.0({reading.phase_power[phase]:06.3f}*kW)")
    for code in ("22", "42", "62"):
        lines.append(f"1-0:{code}.7.0(00.000*kW)")
    gas_ts = dsmr_timestamp(reading.gas_time, version)
    lines += [
        "0-1:24.1.0(003)",
        f"0-1:96.1.0({hex_id('G0000000000DEMO01')})",
        f"0-1:24.2.1({gas_ts})({reading.gas:09.3f}*m3)",
    ]
    return lines


def _lines_v5b(reading: Reading) -> list[str]:
    """Belgian e-MUCS: tariff 1 is day (peak), quarter-hour peak demand, gas on 24.2.3."""
    ts = dsmr_timestamp(reading.time, "5B")
    peak_time = dsmr_timestamp(reading.peak_demand_time or reading.time, "5B")
    return [
        "0-0:96.1.4(50217)",
        f"0-0:96.1.1({hex_id('1SAG1100000292')})",
        f"0-0:1.0.0({ts})",
        f"1-0:1.8.1({reading.used[0]:010.3f}*kWh)",
        f"1-0:1.8.2({reading.used[1]:010.3f}*kWh)",
        f"1-0:2.8.1({reading.delivered[0]:010.3f}*kWh)",
        f"1-0:2.8.2({reading.delivered[1]:010.3f}*kWh)",
        f"0-0:96.14.0({reading.tariff:04d})",
        f"1-0:1.4.0({reading.peak_demand:06.3f}*kW)",
        f"1-0:1.6.0({peak_time})({reading.peak_demand_month:06.3f}*kW)",
        f"1-0:1.7.0({reading.power_used:06.3f}*kW)",
        f"1-0:2.7.0({reading.power_delivered:06.3f}*kW)",
        f"1-0:21.7.0({reading.phase_power[0]:06.3f}*kW)",
        f"1-0:41.7.0({reading.phase_power[1]:06.3f}*kW)",
        f"1-0:61.7.0({reading.phase_power[2]:06.3f}*kW)",
        "1-0:22.7.0(00.000*kW)",
        "1-0:42.7.0(00.000*kW)",
        "1-0:62.7.0(00.000*kW)",
        f"1-0:32.7.0({reading.voltage[0]:05.1f}*V)",
        f"1-0:52.7.0({reading.voltage[1]:05.1f}*V)",
        f"1-0:72.7.0({reading.voltage[2]:05.1f}*V)",
        "0-0:96.3.10(1)",
        "0-0:17.0.0(999.9*kW)",
        "1-0:31.4.0(999*A)",
        "0-0:96.13.0()",
        "0-1:24.1.0(003)",
        f"0-1:96.1.1({hex_id('37464C4F32313139303333373331')})",
        f"0-1:24.2.3({dsmr_timestamp(reading.gas_time, '5B')})({reading.gas:09.3f}*m3)",
    ]


def _lines_v4(reading: Reading) -> list[str]:
    lines = _lines_v5(reading, "4")
    lines[0] = "1-3:0.2.8(42)"
    return [
        line
        for line in lines
        if not line.startswith(
            (
                "1-0:99.97.0",
                "1-0:72.",
                "1-0:52.",
                "1-0:41",
                "1-0:42",
                "1-0:61",
                "1-0:62",
                "1-0:51",
                "1-0:71",
            )
        )
    ]


def _lines_v22(reading: Reading) -> list[str]:
    gas_ts = dsmr_timestamp(reading.gas_time, "2.2")[:-1]
    return [
        f"0-0:96.1.1({hex_id('E0000000000DEMO01')[:28]})",
        f"1-0:1.8.1({reading.used[0]:09.3f}*kWh)",
        f"1-0:1.8.2({reading.used[1]:09.3f}*kWh)",
        f"1-0:2.8.1({reading.delivered[0]:09.3f}*kWh)",
        f"1-0:2.8.2({reading.delivered[1]:09.3f}*kWh)",
        f"0-0:96.14.0({reading.tariff:04d})",
        f"1-0:1.7.0({reading.power_used:07.4f}*kW)",
        f"1-0:2.7.0({reading.power_delivered:07.4f}*kW)",
        "0-0:17.0.0(999*A)",
        "0-0:96.3.10(1)",
        "0-0:96.13.1()",
        "0-0:96.13.0()",
        "0-1:24.1.0(3)",
        "0-1:96.1.0(3238313031453631373038389930337131)",
        f"0-1:24.3.0({gas_ts})(00)(60)(1)(0-1:24.2.1)(m3)",
        f"({reading.gas:09.3f})",
        "0-1:24.4.0(1)",
    ]


HEADERS = {
    "2.2": "/ISk5\\2MT382-1004",
    "4": "/KFM5KAIFA-METER",
    "5": "/ISK5\\2M550T-1012",
    "5B": "/FLU5\\253769484_A",
}


def compose(reading: Reading, version: str, *, corrupt_crc: bool = False) -> bytes:
    """The full telegram for ``reading`` as the meter of ``version`` would send it."""
    if version == "2.2":
        lines = _lines_v22(reading)
    elif version == "4":
        lines = _lines_v4(reading)
    elif version == "5B":
        lines = _lines_v5b(reading)
    else:
        lines = _lines_v5(reading, version)
    body = f"{HEADERS[version]}\r\n\r\n" + "".join(f"{line}\r\n" for line in lines) + "!"
    if version == "2.2":
        return (body + "\r\n").encode()
    crc = crc16(body.encode())
    if corrupt_crc:
        crc ^= 0x0101
    return (body + f"{crc:04X}\r\n").encode()
