"""Every variant dsmr-parser reads, set up from its first telegram through the flow, with each
sensor compared to dsmr-parser's own parse of the same telegram (value and unit).

8N1 meters (DSMR 5 and its variants) are fed through a real pseudo-terminal; the encrypted ones and
the 7E1-era ones through a ``socket://`` bridge as well.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
import logging
from typing import Any

from dsmr_parser import telegram_specifications
from dsmr_parser.clients.telegram_buffer import EncryptedTelegramBuffer
from dsmr_parser.exceptions import InvalidChecksumError
from dsmr_parser.objects import Telegram
from dsmr_parser.parsers import TelegramParser
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.meterhub.api.dsmr import (
    PROFILES,
    ReaderStats,
    TelegramFramer,
    crc16,
    plausible_versions,
)
from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers.dsmr import meter_key
from custom_components.meterhub.providers.dsmr.sensors import ELECTRICITY_SENSORS
from homeassistant import config_entries
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er

from . import telegrams, variants
from .helpers import choose_port, configure, preselected, set_options
from .standin import PtyMeter, Sender, TcpMeter, wait_for

SPECS = {
    "5": telegram_specifications.V5,
    "5B": telegram_specifications.BELGIUM_FLUVIUS,
    "5L": telegram_specifications.LUXEMBOURG_SMARTY,
    "5S": telegram_specifications.SWEDEN,
    "Q3D": telegram_specifications.Q3D,
    "5EONHU": telegram_specifications.EON_HUNGARY,
    "ISKRA_IE": telegram_specifications.ISKRA_IE,
    "MSn": telegram_specifications.MSN,
    "SAGEMCOM_T210_D_R": telegram_specifications.SAGEMCOM_T210_D_R,
}
FIELDS = {description.key: description.field for description in ELECTRICITY_SENSORS}
HA_UNITS = {"m3": "m³"}


def library_parse(version: str, wire: bytes | str, keys: dict[str, str]) -> Telegram:
    """dsmr-parser's own reading of what the meter sent (decrypting with the keys)."""
    parser = TelegramParser(SPECS[version])
    if isinstance(wire, bytes):
        buffer = EncryptedTelegramBuffer()
        buffer.append(wire)
        (frame,) = buffer.get_all()
        return parser.parse(frame, keys["encryption_key"], keys.get("authentication_key") or None)
    return parser.parse(wire)


async def add_encrypted(
    hass: HomeAssistant, port: str, version: str, keys: dict[str, str]
) -> dict[str, Any]:
    """The port; the version step recognises encrypted frames and asks for the keys; fill them in."""
    form = await choose_port(hass, port)
    flow_id = form["flow_id"]
    fields = [str(key) for key in form["data_schema"].schema]
    assert fields == ["dsmr_version", "encryption_key", "authentication_key"]
    result = await hass.config_entries.flow.async_configure(flow_id, {"dsmr_version": version})
    assert result["errors"] == {"encryption_key": "key_required"}
    return await hass.config_entries.flow.async_configure(  # type: ignore[return-value]
        flow_id, {"dsmr_version": version, **keys}
    )


def compare_with_library(
    hass: HomeAssistant, entry: config_entries.ConfigEntry, parsed: Telegram
) -> set[str]:
    """Assert every enabled sensor shows dsmr-parser's value in dsmr-parser's unit; the keys."""
    registry = er.async_get(hass)
    compared: set[str] = set()
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        state = hass.states.get(entity.entity_id)
        if state is None or entity.disabled_by is not None:
            continue
        key = next(k for k in [*FIELDS, "gas_meter_reading"] if entity.unique_id.endswith(k))
        if key == "gas_meter_reading":
            (device,) = [d for d in parsed.MBUS_DEVICES if d.MBUS_METER_READING.unit]
            found: Any = device.MBUS_METER_READING
        elif FIELDS[key] == "BELGIUM_MAXIMUM_DEMAND_13_MONTHS":
            continue  # derived from the history; checked on its own below
        else:
            found = getattr(parsed, FIELDS[key])
        if isinstance(found.value, Decimal):
            assert float(state.state) == pytest.approx(float(found.value)), key
            assert state.attributes.get("unit_of_measurement") == HA_UNITS.get(
                found.unit, found.unit
            ), key
        elif isinstance(found.value, datetime):
            assert state.state == found.value.isoformat(), key
        elif isinstance(found.value, int) and key != "electricity_active_tariff":
            assert int(state.state) == found.value, key
        compared.add(key)
    return compared


@pytest.mark.parametrize(
    ("version", "telegram", "expect"),
    [
        ("Q3D", variants.q3d(), {"current_electricity_usage", "electricity_imported_total"}),
        (
            "5EONHU",
            variants.eon_hungary(),
            {"electricity_used_tariff_3", "electricity_used_tariff_4"},
        ),
        (
            "ISKRA_IE",
            variants.iskra_ie(),
            {"electricity_used_tariff_1", "current_electricity_usage"},
        ),
        ("5S", variants.sweden(), {"electricity_imported_total", "current_electricity_usage"}),
        ("5L", variants.luxembourg_plain(), {"electricity_imported_total"}),
        ("5", variants.with_unpadded_crc(), {"electricity_used_tariff_1"}),
        ("5", variants.with_empty_mbus_channel(), {"gas_meter_reading"}),
        ("5B", variants.belgium_with_history(), {"belgium_current_average_demand"}),
    ],
)
async def test_plain_variant_over_a_pty_equals_the_library(
    hass: HomeAssistant, pty_meter: PtyMeter, version: str, telegram: str, expect: set[str]
) -> None:
    sender = Sender(pty_meter.write, telegram, 0.1)
    sender.start()
    try:
        result = await configure(hass, {"port": pty_meter.path, "dsmr_version": version})
        assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
        entry = result["result"]
        runtime = entry.runtime_data
        await wait_for(lambda: runtime.shown >= 1)
        await hass.async_block_till_done()
        compared = compare_with_library(hass, entry, library_parse(version, telegram, {}))
        assert expect <= compared
    finally:
        await sender.stop()


async def test_q3d_power_is_in_watts(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """The issue's first defect: 2124.86 W was shown as 2,124.86 kW."""
    sender = Sender(tcp_meter.write, variants.q3d(), 0.1)
    sender.start()
    try:
        result = await configure(hass, {"port": tcp_meter.url, "dsmr_version": "Q3D"})
        entry = result["result"]
        await wait_for(lambda: entry.runtime_data.shown >= 1)
        await hass.async_block_till_done()
        power = hass.states.get("sensor.electricity_meter_power_consumption")
        assert power is not None
        assert power.state == "2124.86"
        assert power.attributes["unit_of_measurement"] == "W"
    finally:
        await sender.stop()


async def test_empty_mbus_channel_is_no_meter(hass: HomeAssistant, pty_meter: PtyMeter) -> None:
    """The issue's third defect: an empty channel became a gas sensor of class energy."""
    sender = Sender(pty_meter.write, variants.with_empty_mbus_channel(), 0.1)
    sender.start()
    try:
        result = await configure(hass, {"port": pty_meter.path, "dsmr_version": "5"})
        entry = result["result"]
        await wait_for(lambda: hass.states.get("sensor.gas_meter_gas_consumption") is not None)
        gas = hass.states.get("sensor.gas_meter_gas_consumption")
        assert gas.state == "1001.234"
        assert gas.attributes["device_class"] == SensorDeviceClass.GAS
        mbus = [
            entity
            for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
            if "meter_reading" in entity.unique_id
        ]
        assert [entity.unique_id for entity in mbus] == [
            f"dsmr_{telegrams.GAS_ID}_gas_meter_reading"
        ]
        # The gas meter hangs under the electricity meter.
        devices = dr.async_get(hass)
        electricity = devices.async_get_device_by_identifier(
            (DOMAIN, f"dsmr_{telegrams.V5_ID}"), entry.entry_id
        )
        gas_device = devices.async_get_device_by_identifier(
            (DOMAIN, f"dsmr_{telegrams.GAS_ID}"), entry.entry_id
        )
        assert electricity is not None
        assert gas_device is not None
        assert gas_device.via_device_id == electricity.id
    finally:
        await sender.stop()


async def test_belgian_peak_history(hass: HomeAssistant, pty_meter: PtyMeter) -> None:
    sender = Sender(pty_meter.write, variants.belgium_with_history(), 0.1)
    sender.start()
    try:
        result = await configure(hass, {"port": pty_meter.path, "dsmr_version": "5B"})
        entry = result["result"]
        await wait_for(lambda: entry.runtime_data.shown >= 1)
        await hass.async_block_till_done()
        registry = er.async_get(hass)
        months = {"2025-11": 4.329, "2025-12": 5.98, "2026-01": 3.695}
        for key, expected in (
            ("belgium_maximum_demand_last_month", "3.695"),
            ("belgium_maximum_demand_13_months_average", "4.668"),
        ):
            entity_id = registry.async_get_entity_id(
                "sensor", DOMAIN, f"dsmr_{telegrams.BE_ID}_{key}"
            )
            assert entity_id is not None, key
            found = hass.states.get(entity_id)
            assert found.state == expected
            assert found.attributes["unit_of_measurement"] == "kW"
            assert found.attributes["months"] == months
    finally:
        await sender.stop()


async def test_unknown_unit_leaves_the_sensor_unknown_and_is_logged_once(
    hass: HomeAssistant, pty_meter: PtyMeter, caplog: pytest.LogCaptureFixture
) -> None:
    odd = telegrams.compose_telegram(
        "/ISK5\\2M550T-1012\n\n1-3:0.2.8(50)\n0-0:1.0.0(260301120730W)\n"
        f"0-0:96.1.1({telegrams.V5_ID})\n1-0:1.8.1(001234.567*kWh)\n1-0:1.7.0(00.456*kVA)\n"
    )
    sender = Sender(pty_meter.write, odd, 0.05)
    sender.start()
    try:
        result = await configure(hass, {"port": pty_meter.path, "dsmr_version": "5"})
        entry = result["result"]
        await set_options(hass, entry, time_between_update=0)
        runtime = entry.runtime_data
        with caplog.at_level(logging.WARNING):
            await wait_for(lambda: runtime.shown >= 5)
        await hass.async_block_till_done()
        power = hass.states.get("sensor.electricity_meter_power_consumption")
        assert power is not None
        assert power.state == STATE_UNKNOWN
        assert hass.states.get("sensor.electricity_meter_energy_consumption_tariff_1").state == (
            "1234.567"
        )
        logged = [r for r in caplog.records if "unknown unit" in r.getMessage()]
        assert len(logged) == 1
    finally:
        await sender.stop()


@pytest.mark.parametrize(
    ("version", "plain", "keys"),
    [
        ("MSn", variants.luxembourg_plain(), {"encryption_key": variants.KEY}),
        (
            "MSn",
            variants.luxembourg_plain(),
            {"encryption_key": variants.KEY, "authentication_key": variants.SMARTY_AUTH_KEY},
        ),
        (
            "SAGEMCOM_T210_D_R",
            variants.sagemcom_plain(),
            {"encryption_key": variants.KEY, "authentication_key": variants.SAGEMCOM_AUTH_KEY},
        ),
    ],
)
@pytest.mark.parametrize("transport", ["pty", "tcp"])
async def test_encrypted_meter(  # noqa: PLR0917 - fixtures and parameters
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    pty_meter: PtyMeter,
    tcp_meter: TcpMeter,
    caplog: pytest.LogCaptureFixture,
    version: str,
    plain: str,
    keys: dict[str, str],
    transport: str,
) -> None:
    auth = keys.get("authentication_key") or variants.SMARTY_AUTH_KEY
    wire = variants.encrypt(plain, auth_key=auth)
    meter: PtyMeter | TcpMeter = pty_meter if transport == "pty" else tcp_meter
    port = pty_meter.path if transport == "pty" else tcp_meter.url
    sender = Sender(meter.write, wire, 0.1)  # type: ignore[arg-type]
    sender.start()
    try:
        form = await choose_port(hass, port)
        flow_id = form["flow_id"]
        # Recognised as encrypted: an encrypted version preselected, the key fields shown.
        assert "encrypted" in form["description_placeholders"]["detected"]
        assert preselected(form) == "MSn"
        assert [str(key) for key in form["data_schema"].schema][1:] == [
            "encryption_key",
            "authentication_key",
        ]
        # A plain version for an encrypted meter: "enter the key", not "wrong version".
        result = await hass.config_entries.flow.async_configure(flow_id, {"dsmr_version": "5"})
        assert result["errors"] == {"base": "key_required"}
        # The encrypted version without a key: the key is required.
        result = await hass.config_entries.flow.async_configure(flow_id, {"dsmr_version": version})
        assert result["errors"] == {"encryption_key": "key_required"}
        # A wrong key, a wrong authentication key, a malformed key: invalid_key each time.
        for wrong in (
            {"encryption_key": variants.WRONG_KEY, "authentication_key": auth},
            {"encryption_key": variants.KEY, "authentication_key": variants.WRONG_KEY},
            {"encryption_key": "not hex"},
        ):
            result = await hass.config_entries.flow.async_configure(
                flow_id, {"dsmr_version": version, **wrong}
            )
            assert set(result["errors"].values()) == {"invalid_key"}, wrong
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"dsmr_version": version, **keys}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
        entry = result["result"]
        await wait_for(lambda: entry.runtime_data.shown >= 1)
        await hass.async_block_till_done()
        compared = compare_with_library(hass, entry, library_parse(version, wire, keys))
        assert {"electricity_imported_total", "current_electricity_usage"} <= compared
        if version == "SAGEMCOM_T210_D_R":
            # No equipment identifier: a stable id from the port and the first readings.
            assert entry.unique_id.startswith("p1_")
            power = hass.states.get("sensor.electricity_meter_power_consumption")
            assert power.attributes["unit_of_measurement"] == "W"

        # Keys are secrets: not in diagnostics, not in the log.
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
        assert diagnostics["entry"]["data"]["encryption_key"] == "**REDACTED**"
        text = repr(diagnostics) + caplog.text
        assert variants.KEY not in text
        assert variants.KEY.lower() not in text
    finally:
        await sender.stop()


async def test_new_key_at_the_meter_asks_for_it_again(
    hass: HomeAssistant, tcp_meter: TcpMeter
) -> None:
    plain = variants.luxembourg_plain()
    sender = Sender(tcp_meter.write, variants.encrypt(plain), 0.05)
    sender.start()
    try:
        result = await add_encrypted(hass, tcp_meter.url, "MSn", {"encryption_key": variants.KEY})
        entry = result["result"]
        await wait_for(lambda: entry.runtime_data.shown >= 1)
        # The grid operator changes the key: frames stop decrypting, a reauth flow starts.
        sender.telegram = variants.encrypt(plain, key=variants.WRONG_KEY)  # type: ignore[assignment]
        await wait_for(
            lambda: any(
                flow.get("step_id") == "reauth_confirm"
                for flow in entry.async_get_active_flows(hass, {"reauth"})
            )
        )
        assert entry.runtime_data.reader.stats.decrypt_errors >= 3
        (flow,) = entry.async_get_active_flows(hass, {"reauth"})
        result = await hass.config_entries.flow.async_configure(flow["flow_id"])
        assert [str(key) for key in result["data_schema"].schema] == [
            "encryption_key",
            "authentication_key",
        ]
        result = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {"encryption_key": variants.KEY}
        )
        assert result["errors"] == {"base": "invalid_key"}
        result = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {"encryption_key": variants.WRONG_KEY}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reauth_successful"
        assert entry.data["encryption_key"] == variants.WRONG_KEY
    finally:
        await sender.stop()


@pytest.mark.parametrize(
    ("telegram", "chosen", "detected"),
    [
        (variants.q3d(), "5", "Q3D (Austria, EasyMeter)"),
        (variants.belgium_with_history(), "5", "DSMR 5B (Belgium, Fluvius)"),
        (variants.eon_hungary(), "5L", "DSMR 5 (E.ON Hungary)"),
        (variants.iskra_ie(), "2.2", "Iskra (Ireland)"),
        (telegrams.v22(), "5", "DSMR 2.2"),
        (telegrams.v4(), "5B", "DSMR 4"),
    ],
)
async def test_wrong_choice_names_the_version_the_data_looks_like(
    hass: HomeAssistant, tcp_meter: TcpMeter, telegram: str, chosen: str, detected: str
) -> None:
    sender = Sender(tcp_meter.write, telegram, 0.1)
    sender.start()
    try:
        result = await configure(hass, {"port": tcp_meter.url, "dsmr_version": chosen})
        assert result["errors"] == {"base": "wrong_version"}
        assert result["description_placeholders"]["detected"] == detected
    finally:
        await sender.stop()


async def test_swedish_meters_on_two_ports_are_two_meters(
    hass: HomeAssistant, pty_meter: PtyMeter, tcp_meter: TcpMeter
) -> None:
    """5S telegrams carry no identifier: the id comes from the port and the first readings."""
    senders = [
        Sender(pty_meter.write, variants.sweden(), 0.1),
        Sender(tcp_meter.write, variants.sweden(imported=10.5), 0.1),
    ]
    for sender in senders:
        sender.start()
    try:
        first = await configure(hass, {"port": pty_meter.path, "dsmr_version": "5S"})
        second = await configure(hass, {"port": tcp_meter.url, "dsmr_version": "5S"})
        assert first["type"] is second["type"] is FlowResultType.CREATE_ENTRY
        ids = {first["result"].unique_id, second["result"].unique_id}
        assert len(ids) == 2
        assert all(unique_id.startswith("p1_") for unique_id in ids)
        # The same port and readings give the same id (what a re-added meter is matched by).
        telegram = variants.sweden()
        parsed = TelegramParser(telegram_specifications.SWEDEN).parse(telegram)
        assert meter_key(pty_meter.path, telegram, parsed) == first["result"].unique_id
    finally:
        for sender in senders:
            await sender.stop()


def test_unpadded_crc_is_accepted_as_dsmr_parser_accepts_it() -> None:
    """The issue's second defect: ``!5A3`` for ``05A3`` was refused as a wrong version."""
    telegram = variants.with_unpadded_crc()
    checksum = telegram.rsplit("!", 1)[1].strip()
    assert len(checksum) < 4
    TelegramParser.validate_checksum(telegram)  # the library accepts it...
    stats = ReaderStats()
    assert TelegramFramer(PROFILES["5"], stats).feed(telegram.encode()) == [telegram]  # ...so do we
    assert "5" in plausible_versions(telegram)
    # One wrong digit is still a CRC error, for both.
    broken = telegram.replace("*kWh", "*kWH", 1)
    with pytest.raises(InvalidChecksumError):
        TelegramParser.validate_checksum(broken)
    assert TelegramFramer(PROFILES["5"], stats).feed(broken.encode()) == []
    assert stats.crc_errors == 1
    # Our table CRC equals the library's on every variant.
    for text in (variants.eon_hungary(), variants.sweden(), variants.belgium_with_history()):
        body = text[: text.rindex("!") + 1]
        assert crc16(body.encode()) == TelegramParser.crc16(body)


@pytest.mark.parametrize(
    ("telegram", "transport", "expected"),
    [
        (telegrams.v5(), "pty", "5"),
        (telegrams.v5b(), "pty", "5B"),
        (telegrams.v4(), "tcp", "4"),
        (telegrams.v22(), "tcp", "2.2"),
        (variants.luxembourg_plain(), "pty", "5L"),
        (variants.sweden(), "pty", "5S"),
        (variants.q3d(), "tcp", "Q3D"),
        (variants.eon_hungary(), "pty", "5EONHU"),
        (variants.iskra_ie(), "tcp", "ISKRA_IE"),
        (variants.encrypt(variants.luxembourg_plain()), "tcp", "MSn"),
    ],
)
async def test_first_telegram_preselects_its_version(  # noqa: PLR0917 - fixtures and parameters
    hass: HomeAssistant,
    pty_meter: PtyMeter,
    tcp_meter: TcpMeter,
    telegram: str | bytes,
    transport: str,
    expected: str,
) -> None:
    """The version step offers what the first telegram looks like, so nobody has to guess."""
    meter: PtyMeter | TcpMeter = pty_meter if transport == "pty" else tcp_meter
    port = pty_meter.path if transport == "pty" else tcp_meter.url
    sender = Sender(meter.write, telegram, 0.1)  # type: ignore[arg-type]
    sender.start()
    try:
        form = await choose_port(hass, port)
        assert preselected(form) == expected
        if expected == "MSn":
            return  # the keys are asked for; test_encrypted_meter goes on from here
        label = form["description_placeholders"]["detected"]
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], {"dsmr_version": expected}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, (label, result.get("errors"))
        assert result["result"].data["dsmr_version"] == expected
    finally:
        await sender.stop()


async def test_austrian_meter_chosen_as_luxembourg_is_named(
    hass: HomeAssistant, tcp_meter: TcpMeter
) -> None:
    """Encrypted frames look alike until decrypted; then the wrong choice names the right one."""
    keys = {"encryption_key": variants.KEY, "authentication_key": variants.SAGEMCOM_AUTH_KEY}
    wire = variants.encrypt(variants.sagemcom_plain(), auth_key=variants.SAGEMCOM_AUTH_KEY)
    sender = Sender(tcp_meter.write, wire, 0.1)  # type: ignore[arg-type]
    sender.start()
    try:
        form = await choose_port(hass, tcp_meter.url)
        assert preselected(form) == "MSn"
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], {"dsmr_version": "MSn", **keys}
        )
        assert result["errors"] == {"base": "wrong_version"}
        assert result["description_placeholders"]["detected"] == (
            "Sagemcom T210-D-R, encrypted (Austria)"
        )
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], {"dsmr_version": "SAGEMCOM_T210_D_R", **keys}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    finally:
        await sender.stop()
