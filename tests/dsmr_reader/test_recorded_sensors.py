"""Sensors from the recorded answers of a real DSMR-reader 5.11: meter statistics, fixed cost,
split price contracts; and an HTTPS server with a self-signed certificate."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import ssl
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from ..helpers import start_flow
from .conftest import add_entry
from .standin import API_KEY, FakeDsmrReader, recorded_body, start_standin
from .test_sensors import PREFIX, state

#: The gas meter's and electricity meter's equipment ids in the recorded raw telegram.
EQUIPMENT_IDS = ("4530303434303037333832323436303139", "4730303339303031363532303530323136")


@pytest.fixture
def recorded_server(dsmr_server: FakeDsmrReader) -> FakeDsmrReader:
    dsmr_server.readings = recorded_body("reading_latest.json")["results"]
    dsmr_server.today = recorded_body("today.json")
    dsmr_server.prices = recorded_body("prices_all.json")["results"]
    return dsmr_server


async def test_recorded_meter_statistics_fixed_cost_and_prices(
    hass: HomeAssistant, recorded_server: FakeDsmrReader, hass_client: ClientSessionGenerator
) -> None:
    entry = await add_entry(hass, recorded_server)
    assert state(hass, "latest_telegram_time") == "2026-12-04T03:44:00+00:00"
    assert state(hass, "active_tariff") == "1"
    assert state(hass, "short_power_failure_count") == "10"
    assert state(hass, "long_power_failure_count") == "3"
    assert state(hass, "fixed_cost_today") == "1.12"
    assert state(hass, "energy_cost_today") == "1.81"  # includes the 1.12
    today = recorded_body("today.json")
    assert state(hass, "electricity_price_tariff_1") == str(
        today["energy_supplier_price_electricity_delivered_1"]
    )
    assert state(hass, "gas_price") == str(today["energy_supplier_price_gas"])
    # The raw telegram (equipment ids) goes nowhere: not in states, not in diagnostics.
    diagnostics = json.dumps(await get_diagnostics_for_config_entry(hass, hass_client, entry))
    everything = diagnostics + json.dumps(
        [s.as_dict() for s in hass.states.async_all()], default=str
    )
    for equipment_id in EQUIPMENT_IDS:
        assert equipment_id not in everything


async def test_split_contracts_show_every_price(
    hass: HomeAssistant, recorded_server: FakeDsmrReader
) -> None:
    """Electricity in one contract, gas in another (the recorded contract split in two)."""
    old, current = recorded_body("prices_all.json")["results"]
    electricity = {**current, "id": 3, "description": "Electricity", "gas_price": "0.000000"}
    gas = {
        **current,
        "id": 4,
        "description": "Gas",
        "electricity_delivered_1_price": "0.000000",
        "electricity_delivered_2_price": "0.000000",
        "electricity_returned_1_price": "0.000000",
        "electricity_returned_2_price": "0.000000",
        "fixed_daily_cost": "0.000000",
    }
    recorded_server.prices = [old, electricity, gas]
    await add_entry(hass, recorded_server)
    today = recorded_body("today.json")  # what the server itself says is in force
    expected = {
        "electricity_price_tariff_1": today["energy_supplier_price_electricity_delivered_1"],
        "electricity_price_tariff_2": today["energy_supplier_price_electricity_delivered_2"],
        "return_compensation_tariff_1": today["energy_supplier_price_electricity_returned_1"],
        "return_compensation_tariff_2": today["energy_supplier_price_electricity_returned_2"],
        "gas_price": today["energy_supplier_price_gas"],
    }
    assert {name: state(hass, name) for name in expected} == {
        name: str(value) for name, value in expected.items()
    }
    fixed = hass.states.get(PREFIX + "fixed_cost_per_day")
    assert fixed is None or fixed.state == "1.1234"  # disabled by default


async def test_server_without_meter_statistics(
    hass: HomeAssistant, dsmr_server: FakeDsmrReader
) -> None:
    dsmr_server.meter = None  # an older server: 404
    entry = await add_entry(hass, dsmr_server)
    assert entry.runtime_data.live.last_update_success
    assert hass.states.get(PREFIX + "short_power_failure_count") is None
    assert state(hass, "electricity_used_tariff_1") == "12345.678"


def self_signed(directory: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dsmr-reader.local")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture
def https_server(socket_enabled: None, tmp_path: Path) -> Iterator[FakeDsmrReader]:
    """The stand-in over HTTPS, on its own event loop in a thread.

    When the client rejects the certificate, the server side's handshake fails and asyncio reports
    that to the loop's exception handler: on Home Assistant's loop the test harness would count it
    as an error of the integration. The server's own loop keeps it where it belongs.
    """
    server = FakeDsmrReader()
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda _loop, _context: None)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    context = self_signed(tmp_path)
    runner = asyncio.run_coroutine_threadsafe(
        start_standin(server, ssl_context=context), loop
    ).result(timeout=30)
    yield server
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=30)
    loop.close()


async def test_https_with_a_self_signed_certificate(
    hass: HomeAssistant, https_server: FakeDsmrReader
) -> None:
    flow_id = (await start_flow(hass, "dsmr_reader"))["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": https_server.url, "api_key": API_KEY}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "ssl_certificate"}
    assert https_server.requests == []  # nothing reached the server unverified

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": https_server.url, "api_key": API_KEY, "verify_ssl": False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done(wait_background_tasks=True)
    entry = result["result"]
    assert entry.data["verify_ssl"] is False
    assert state(hass, "electricity_used_tariff_1") == "12345.678"
    # A reload keeps working over the same unverified connection.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state(hass, "electricity_used_tariff_1") == "12345.678"
