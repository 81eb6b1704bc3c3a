"""Telegrams composed per the DSMR specifications (P1 companion standards 2.2, 4.2, 5.0.2, e-MUCS).

Each builder returns the telegram exactly as a meter puts it on the wire: CRLF line endings, ``!`` and,
for 4 and later, the CRC16 of everything from ``/`` to ``!``. Values are parameters so tests can make
a meter's registers move.
"""

from __future__ import annotations

from custom_components.meterhub.api.dsmr import compose_telegram

# Equipment identifiers are the ASCII of the meter's serial, hex encoded, as meters send them.
V5_ID = "4530303434303037313331363130323136"  # "E0044007131610216"
V4_ID = "4530303334303037313331363130313233"
V22_ID = "30303030393939393939393939393939"
BE_ID = "3153414733313031303231363035"
GAS_ID = "4730303332353631323831353836373139"
WATER_ID = "3232323241424344313233343536373839"
BE_GAS_ID = "37464B4B323231313730313930353030"


def v5(
    *,
    used_1: float = 1234.567,
    used_2: float = 2345.678,
    power: float = 0.456,
    tariff: str = "0002",
    gas: float = 1001.234,
    gas_at: str = "260301120500W",
    gas_id: str = GAS_ID,
    water: float | None = 55.5,
    water_at: str = "260301120500W",
    timestamp: str = "260301120730W",
) -> str:
    """A Dutch DSMR 5.0.2 meter with a gas meter on channel 1 and a water meter on channel 2."""
    water_lines = (
        f"0-2:24.1.0(007)\n0-2:96.1.0({WATER_ID})\n0-2:24.2.1({water_at})({water:09.3f}*m3)\n"
        if water is not None
        else ""
    )
    body = f"""/ISK5\\2M550T-1012

1-3:0.2.8(50)
0-0:1.0.0({timestamp})
0-0:96.1.1({V5_ID})
1-0:1.8.1({used_1:010.3f}*kWh)
1-0:1.8.2({used_2:010.3f}*kWh)
1-0:2.8.1(000012.345*kWh)
1-0:2.8.2(000023.456*kWh)
0-0:96.14.0({tariff})
1-0:1.7.0({power:06.3f}*kW)
1-0:2.7.0(00.000*kW)
0-0:96.7.21(00012)
0-0:96.7.9(00003)
1-0:99.97.0(1)(0-0:96.7.19)(000101000001W)(2147483647*s)
1-0:32.32.0(00002)
1-0:52.32.0(00001)
1-0:72.32.0(00000)
1-0:32.36.0(00000)
1-0:52.36.0(00000)
1-0:72.36.0(00000)
0-0:96.13.0()
1-0:32.7.0(230.1*V)
1-0:52.7.0(231.2*V)
1-0:72.7.0(229.3*V)
1-0:31.7.0(001*A)
1-0:51.7.0(002*A)
1-0:71.7.0(000*A)
1-0:21.7.0(00.111*kW)
1-0:41.7.0(00.222*kW)
1-0:61.7.0(00.123*kW)
1-0:22.7.0(00.000*kW)
1-0:42.7.0(00.000*kW)
1-0:62.7.0(00.000*kW)
0-1:24.1.0(003)
0-1:96.1.0({gas_id})
0-1:24.2.1({gas_at})({gas:09.3f}*m3)
{water_lines}"""
    return compose_telegram(body)


def v4(*, used_1: float = 1073.079, gas: float = 1550.123, gas_at: str = "260301120000W") -> str:
    """A Kaifa DSMR 4.2 meter (the shape of the issue's seed telegram) with an hourly gas reading."""
    body = f"""/KFM5KAIFA-METER

1-3:0.2.8(42)
0-0:1.0.0(260301120510W)
0-0:96.1.1({V4_ID})
1-0:1.8.1({used_1:010.3f}*kWh)
1-0:1.8.2(001263.199*kWh)
1-0:2.8.1(000000.000*kWh)
1-0:2.8.2(000000.000*kWh)
0-0:96.14.0(0002)
1-0:1.7.0(00.143*kW)
1-0:2.7.0(00.000*kW)
0-0:96.7.21(00006)
0-0:96.7.9(00003)
1-0:99.97.0(1)(0-0:96.7.19)(000101000001W)(2147483647*s)
1-0:32.32.0(00000)
1-0:32.36.0(00000)
0-0:96.13.1()
0-0:96.13.0()
1-0:31.7.0(000*A)
1-0:21.7.0(00.143*kW)
1-0:22.7.0(00.000*kW)
0-1:24.1.0(003)
0-1:96.1.0({GAS_ID})
0-1:24.2.1({gas_at})({gas:09.3f}*m3)
0-1:24.4.0(1)
"""
    return compose_telegram(body)


def v22(*, used_1: float = 876.543, gas: float = 2024.321) -> str:
    """A DSMR 2.2 meter: no CRC, gas in the two-line 24.3.0 form."""
    body = f"""/ISk5\\2MT382-1004

0-0:96.1.1({V22_ID})
1-0:1.8.1({used_1:05.3f}*kWh)
1-0:1.8.2(00654.321*kWh)
1-0:2.8.1(00000.000*kWh)
1-0:2.8.2(00000.000*kWh)
0-0:96.14.0(0001)
1-0:1.7.0(0000.98*kW)
1-0:2.7.0(0000.00*kW)
0-0:17.0.0(999*A)
0-0:96.3.10(1)
0-0:96.13.1()
0-0:96.13.0()
0-1:24.1.0(3)
0-1:96.1.0({GAS_ID})
0-1:24.3.0(260301120000)(00)(60)(1)(0-1:24.2.1)(m3)
({gas:09.3f})
0-1:24.4.0(1)
"""
    return compose_telegram(body, checksum=False)


def v5b(
    *,
    used_1: float = 4321.987,
    tariff: str = "0001",
    demand: float = 1.234,
    gas: float = 321.456,
    gas_at: str = "260301120500W",
) -> str:
    """A Belgian (Fluvius, e-MUCS) meter with peak demand and a 5-minute gas reading."""
    body = f"""/FLU5\\253769484_A

0-0:96.1.4(50217)
0-0:96.1.1({BE_ID})
0-0:1.0.0(260301120730W)
1-0:1.8.1({used_1:010.3f}*kWh)
1-0:1.8.2(000456.789*kWh)
1-0:2.8.1(000111.222*kWh)
1-0:2.8.2(000033.444*kWh)
0-0:96.14.0({tariff})
1-0:1.4.0({demand:06.3f}*kW)
1-0:1.6.0(260301110000W)(03.210*kW)
0-0:98.1.0(1)(1-0:1.6.0)(1-0:1.6.0)(260201000000W)(260115081500W)(04.329*kW)
1-0:1.7.0(00.518*kW)
1-0:2.7.0(00.000*kW)
1-0:21.7.0(00.117*kW)
1-0:22.7.0(00.000*kW)
1-0:32.7.0(234.7*V)
1-0:31.7.0(000.48*A)
0-0:96.3.10(1)
0-0:17.0.0(999.9*kW)
1-0:31.4.0(999*A)
0-0:96.13.0()
0-1:24.1.0(003)
0-1:96.1.1({BE_GAS_ID})
0-1:24.4.0(1)
0-1:24.2.3({gas_at})({gas:09.3f}*m3)
"""
    return compose_telegram(body)


#: The issue's seed: a DSMR 4.2 Kaifa telegram as published with its identifier masked. The CRC
#: (74B0) was computed over the real identifier, so with the mask it must fail the check; with the
#: mask, the correct CRC is A97E (also published, with the same masked text).
SEED_BODY = """/KFM5KAIFA-METER

1-3:0.2.8(42)
0-0:1.0.0(160303164347W)
0-0:96.1.1(*******************************)
1-0:1.8.1(001073.079*kWh)
1-0:1.8.2(001263.199*kWh)
1-0:2.8.1(000000.000*kWh)
1-0:2.8.2(000000.000*kWh)
0-0:96.14.0(0002)
1-0:1.7.0(00.143*kW)
1-0:2.7.0(00.000*kW)
0-0:96.7.21(00006)
0-0:96.7.9(00003)
1-0:99.97.0(1)(0-0:96.7.19)(000101000001W)(2147483647*s)
1-0:32.32.0(00000)
1-0:32.36.0(00000)
0-0:96.13.1()
0-0:96.13.0()
1-0:31.7.0(000*A)
1-0:21.7.0(00.143*kW)
1-0:22.7.0(00.000*kW)
"""
SEED_MASKED_74B0 = "\r\n".join(SEED_BODY.strip("\n").split("\n")) + "\r\n!74B0\r\n"
