"""Telegrams of the variants beyond Dutch DSMR: composed per dsmr-parser's specifications.

EasyMeter Q3D (power in W, no CRC), E.ON Hungary (tariffs 3 and 4, identifier on 0-0:42.0.0),
Ireland (Iskra, no CRC), Sweden (no equipment identifier), Luxembourg plain, Belgium with the
13-month peak history, a CRC written without leading zeros, an empty M-Bus channel, and the two
encrypted meters: Luxembourg Smarty and the Austrian Sagemcom T210-D-R, whose frames are encrypted
here with AES-128-GCM and known keys the way the meters do it (DLMS general-global-cipher).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from custom_components.meterhub.api.dsmr import compose_telegram, crc16

from .telegrams import BE_GAS_ID, BE_ID, GAS_ID

LUX_ID = "53414733303330363031353030333835"
EON_ID = "ELM5E0000000001"
IE_ID = "3132333435363738393031323334"

#: Keys for the encrypted meters (made up; a real meter's key comes from the grid operator).
KEY = "000102030405060708090A0B0C0D0E0F"
WRONG_KEY = "0F0E0D0C0B0A09080706050403020100"
SMARTY_AUTH_KEY = "00112233445566778899AABBCCDDEEFF"
SAGEMCOM_AUTH_KEY = "A0A1A2A3A4A5A6A7A8A9AAABACADAEAF"
SYSTEM_TITLE = bytes.fromhex("5341473530303030")  # "SAG50000"


def q3d(*, power: float = 2124.86, imported: float = 12345.6789) -> str:
    """An EasyMeter Q3D: power in W, energy in kWh, no CRC (as published from real meters)."""
    body = f"""/ESY5Q3DA1004 V3.04

1-0:0.0.0*255(1ESY1160000000)
1-0:1.8.0*255({imported:011.7f}*kWh)
1-0:2.8.0*255(00000000.0000000*kWh)
1-0:21.7.0*255(000512.12*W)
1-0:41.7.0*255(000810.51*W)
1-0:61.7.0*255(000802.23*W)
1-0:1.7.0*255({power:09.2f}*W)
1-0:96.5.5*255(82)
0-0:96.1.255*255(1ESY1160000000)
"""
    return compose_telegram(body, checksum=False)


def eon_hungary(*, used_3: float = 333.333) -> str:
    """An E.ON Hungary meter: four import and export tariffs, identifier on 0-0:42.0.0."""
    body = f"""/SAG5SAG-METER

0-0:1.0.0(260301120730W)
0-0:42.0.0({EON_ID})
0-0:96.1.0(123456789)
0-0:96.14.0(0001)
0-0:96.3.10(1)
0-0:17.0.0(90.000*kW)
1-0:1.8.0(000001.111*kWh)
1-0:1.8.1(000011.111*kWh)
1-0:1.8.2(000022.222*kWh)
1-0:1.8.3({used_3:010.3f}*kWh)
1-0:1.8.4(000044.444*kWh)
1-0:2.8.0(000000.555*kWh)
1-0:2.8.1(000000.111*kWh)
1-0:2.8.2(000000.222*kWh)
1-0:2.8.3(000000.333*kWh)
1-0:2.8.4(000000.444*kWh)
1-0:32.7.0(229.8*V)
1-0:31.7.0(001*A)
1-0:14.7.0(50.00*Hz)
1-0:1.7.0(00.512*kW)
1-0:2.7.0(00.000*kW)
0-0:96.13.0()
"""
    return compose_telegram(body)


def iskra_ie(*, used_1: float = 5432.1) -> str:
    """An Irish Iskra meter (ESB): a timestamp line, no CRC."""
    body = f"""/ISK5\\2M550E-1011

0-0:96.1.1({IE_ID})
0-0:1.0.0(260301120730W)
1-0:1.8.1({used_1:010.3f}*kWh)
1-0:1.8.2(000123.456*kWh)
1-0:2.8.1(000000.000*kWh)
1-0:2.8.2(000000.000*kWh)
0-0:96.14.0(0001)
1-0:1.7.0(00.734*kW)
1-0:2.7.0(00.000*kW)
1-0:21.7.0(00.734*kW)
1-0:22.7.0(00.000*kW)
1-0:32.7.0(231.0*V)
1-0:31.7.0(003*A)
0-0:96.3.10(1)
0-0:96.13.0()
"""
    return compose_telegram(body, checksum=False)


def sweden(*, imported: float = 6678.394) -> str:
    """A Swedish (5S) meter: no equipment identifier, no version line."""
    body = f"""/ELL5\\253833635_A

0-0:1.0.0(260301120730W)
1-0:1.8.0({imported:012.3f}*kWh)
1-0:2.8.0(00000000.000*kWh)
1-0:3.8.0(00000021.988*kvarh)
1-0:4.8.0(00001020.971*kvarh)
1-0:1.7.0(0001.727*kW)
1-0:2.7.0(0000.000*kW)
1-0:21.7.0(0000.054*kW)
1-0:22.7.0(0000.000*kW)
1-0:32.7.0(230.0*V)
1-0:31.7.0(004.2*A)
"""
    return compose_telegram(body)


def luxembourg_plain(*, imported: float = 1234.567) -> str:
    """A Luxembourg Smarty telegram as it is inside the encryption (DSMR 5 plus 0-0:42.0.0)."""
    body = f"""/Lux5\\253833635_A

1-3:0.2.8(42)
0-0:1.0.0(260301120730W)
0-0:42.0.0({LUX_ID})
1-0:1.8.0({imported:010.3f}*kWh)
1-0:2.8.0(000000.000*kWh)
1-0:3.8.0(000051.241*kvarh)
1-0:4.8.0(000032.129*kvarh)
1-0:1.7.0(00.328*kW)
1-0:2.7.0(00.000*kW)
0-0:17.0.0(03.0*kVA)
0-0:96.3.10(1)
0-0:96.7.21(00003)
1-0:32.32.0(00000)
1-0:32.36.0(00000)
1-0:32.7.0(234.0*V)
1-0:31.7.0(001*A)
0-0:96.13.0()
"""
    return compose_telegram(body)


def sagemcom_plain(*, imported: int = 6545766) -> str:
    """An Austrian Sagemcom T210-D-R telegram inside the encryption: energy in Wh, power in W."""
    body = f"""/EST5\\253710000_A

1-3:0.2.8(50)
0-0:1.0.0(260301120730W)
1-0:1.8.0({imported:09d}*Wh)
1-0:1.8.1(005017120*Wh)
1-0:1.8.2(001528646*Wh)
1-0:1.7.0(000000286*W)
1-0:2.8.0(000000058*Wh)
1-0:2.8.1(000000000*Wh)
1-0:2.8.2(000000058*Wh)
1-0:2.7.0(000000000*W)
1-0:3.8.0(000000747*varh)
1-0:4.8.0(003897726*varh)
1-0:3.7.0(000000000*var)
1-0:4.7.0(000000166*var)
"""
    return compose_telegram(body)


def encrypt(
    telegram: str, *, key: str = KEY, auth_key: str = SMARTY_AUTH_KEY, counter: int = 1
) -> bytes:
    """A DLMS general-global-cipher frame (authenticated encryption, security suite 0).

    Tag 0xDB, system title, long-form length, security control 0x30, invocation counter, then
    AES-128-GCM of the telegram with the security control and authentication key as associated
    data and the tag cut to 12 bytes, as the meters send it.
    """
    security_control = b"\x30"
    nonce = SYSTEM_TITLE + counter.to_bytes(4, "big")
    sealed = AESGCM(bytes.fromhex(key)).encrypt(
        nonce, telegram.encode("ascii"), security_control + bytes.fromhex(auth_key)
    )
    body = security_control + counter.to_bytes(4, "big") + sealed[:-4]
    return (
        b"\xdb" + bytes([len(SYSTEM_TITLE)]) + SYSTEM_TITLE + b"\x82"
        + len(body).to_bytes(2, "big") + body
    )  # fmt: skip


def with_unpadded_crc() -> str:
    """A DSMR 5 telegram whose CRC is below 0x1000, written without its leading zero(s)."""
    for tenths in range(4096 * 4):
        text = "\r\n".join(
            [
                "/ISK5\\2M550T-1012",
                "",
                "1-3:0.2.8(50)",
                "0-0:1.0.0(260301120730W)",
                "0-0:96.1.1(4530303434303037313331363130323136)",
                f"1-0:1.8.1({1000 + tenths / 1000:010.3f}*kWh)",
                "1-0:1.7.0(00.456*kW)",
                "",
            ]
        )
        text += "!"
        crc = crc16(text.encode("ascii"))
        if crc < 0x1000:
            return f"{text}{crc:X}\r\n"
    raise AssertionError("no telegram with a short CRC found")


def with_empty_mbus_channel() -> str:
    """A DSMR 5 telegram with an empty M-Bus channel 1 next to the real gas meter on channel 2."""
    body = f"""/ISK5\\2M550T-1012

1-3:0.2.8(50)
0-0:1.0.0(260301120730W)
0-0:96.1.1(4530303434303037313331363130323136)
1-0:1.8.1(001234.567*kWh)
1-0:1.8.2(002345.678*kWh)
0-0:96.14.0(0002)
1-0:1.7.0(00.456*kW)
1-0:2.7.0(00.000*kW)
0-1:24.2.1(700101010000W)(00000000)
0-2:24.1.0(003)
0-2:96.1.0({GAS_ID})
0-2:24.2.1(260301120500W)(01001.234*m3)
"""
    return compose_telegram(body)


def belgium_with_history() -> str:
    """A Belgian meter sending three months of peak history (0-0:98.1.0)."""
    body = f"""/FLU5\\253769484_A

0-0:96.1.4(50217)
0-0:96.1.1({BE_ID})
0-0:1.0.0(260301120730W)
1-0:1.8.1(004321.987*kWh)
1-0:1.8.2(000456.789*kWh)
1-0:2.8.1(000111.222*kWh)
1-0:2.8.2(000033.444*kWh)
0-0:96.14.0(0001)
1-0:1.4.0(01.234*kW)
1-0:1.6.0(260301110000W)(03.210*kW)
0-0:98.1.0(3)(1-0:1.6.0)(1-0:1.6.0)(251201000000W)(251115081500W)(04.329*kW)(260101000000W)(251210190000W)(05.980*kW)(260201000000W)(260115081500W)(03.695*kW)
1-0:1.7.0(00.518*kW)
1-0:2.7.0(00.000*kW)
0-1:24.1.0(003)
0-1:96.1.1({BE_GAS_ID})
0-1:24.2.3(260301120500W)(00321.456*m3)
"""
    return compose_telegram(body)
