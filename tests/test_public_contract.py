"""The public contract of every provider, compared with a golden file recorded before refactors.

Users' dashboards, automations and long-term statistics hang on statistic ids, unique ids, entity
ids, device ids and translation keys. Each test sets a provider up against its stand-in, the way
its own tests do, and checks that every id recorded in ``snapshots/public_contract.json`` still
exists. New ids may appear; none may be renamed or removed.

To record ids of a new provider or sensor: ``METERHUB_RECORD_CONTRACT=1 pytest -n 0
tests/test_public_contract.py`` adds what is new to the file (it never drops anything).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
import json
import os
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers import REGISTRY, octopus as octopus_provider
from custom_components.meterhub.providers.caruna import CarunaProvider
from custom_components.meterhub.providers.dsmr import const as dsmr_const
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from .caruna.standin import PASSWORD, USERNAME, running_portal
from .caruna.test_provider import NOW as CARUNA_NOW, refresh_until_caught_up, seed
from .dsmr import telegrams
from .dsmr.standin import PtyMeter, Sender, wait_for
from .dsmr_reader.standin import (
    API_KEY,
    FakeDsmrReader,
    make_days,
    make_hours,
    start_standin as dsmr_reader_standin,
)
from .enedis.conftest import advance
from .enedis.standin import PRM, TOKEN, start_standin
from .helpers import provider_at, public_contract, start_flow, unload_all
from .korto.standin import (
    APARTMENT_ID,
    GOOD_TOKEN,
    KortoStandIn,
    base_url,
    start_standin as korto_standin,
)
from .octopus.conftest import NOW as OCTOPUS_NOW, fill_standard
from .octopus.standin import ACCOUNT, GOOD_KEY, FakeOctopus, start_standin as octopus_standin

GOLDEN = Path(__file__).parent / "snapshots" / "public_contract.json"
RECORD = os.environ.get("METERHUB_RECORD_CONTRACT") == "1"
STRINGS = Path(__file__).parent.parent / "custom_components" / DOMAIN / "strings.json"


def _flatten(tree: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            keys |= _flatten(value, f"{path}.")
        else:
            keys.add(path)
    return keys


def _check(
    section: str, found: dict[str, list[str]], placeholders: dict[str, str] | None = None
) -> None:
    """Every recorded id is still there (record mode adds new ones to the golden file).

    ``placeholders`` replaces what differs between runs (a stand-in's free port) in the ids.
    """
    for text, placeholder in (placeholders or {}).items():
        found = {kind: [i.replace(text, placeholder) for i in ids] for kind, ids in found.items()}
    golden: dict[str, dict[str, list[str]]] = (
        json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    )
    recorded = golden.get(section, {})
    if RECORD:
        golden[section] = {
            kind: sorted(set(recorded.get(kind, [])) | set(ids)) for kind, ids in found.items()
        }
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(golden, indent=2, sort_keys=True) + "\n")
        return
    assert recorded, f"nothing recorded for {section}: run with METERHUB_RECORD_CONTRACT=1"
    for kind, ids in recorded.items():
        missing = sorted(set(ids) - set(found.get(kind, [])))
        assert not missing, f"{section} lost {kind}: {missing}"


@pytest.fixture(autouse=True)
async def unload_before_teardown(hass: HomeAssistant) -> AsyncIterator[None]:
    yield
    await unload_all(hass)


def test_translation_keys_of_strings() -> None:
    _check("strings", {"keys": sorted(_flatten(json.loads(STRINGS.read_text())))})


# --- DSMR: a Dutch DSMR 5 meter with gas and water, and a Belgian 5B meter ---------------------


@pytest.fixture
def meters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[PtyMeter]]:
    monkeypatch.setattr(dsmr_const, "VALIDATE_TIMEOUT", 1.0)
    found = []
    for name in ("nl", "be"):
        (tmp_path / name).mkdir()
        found.append(PtyMeter(tmp_path / name))
    yield found
    for meter in found:
        meter.unplug()


async def test_dsmr(hass: HomeAssistant, meters: list[PtyMeter]) -> None:
    entries: list[ConfigEntry[Any]] = []
    senders = []
    for meter, (telegram, version) in zip(
        meters, ((telegrams.v5(), "5"), (telegrams.v5b(), "5B")), strict=True
    ):
        sender = Sender(meter.write, telegram, 0.1)
        sender.start()
        senders.append(sender)
        form = await start_flow(hass, "dsmr")
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], {"port": meter.path}
        )
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], {"dsmr_version": version}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        entries.append(result["result"])
    dutch = entries[0].runtime_data

    def gas_and_water_booked() -> bool:
        channels = dutch.diagnostics()["mbus_channels"].values()
        return len(channels) == 2 and all(channel["imports"] for channel in channels)

    await wait_for(gas_and_water_booked)
    await wait_for(lambda: entries[1].runtime_data.shown >= 1)
    for sender in senders:
        await sender.stop()
    await unload_all(hass)  # waits for the statistics under way
    _check("dsmr", await public_contract(hass, "dsmr", entries))


# --- DSMR-reader -----------------------------------------------------------------------------


async def test_dsmr_reader(hass: HomeAssistant, socket_enabled: None) -> None:
    server = FakeDsmrReader()
    runner = await dsmr_reader_standin(server)
    try:
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        server.hours = make_hours(now - timedelta(hours=48), 47)
        server.days = make_days(now.date() - timedelta(days=3), 3)
        form = await start_flow(hass, "dsmr_reader")
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], {"url": server.url, "api_key": API_KEY}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        await hass.async_block_till_done(wait_background_tasks=True)
        port = server.url.rsplit(":", 1)[1]
        _check(
            "dsmr_reader",
            await public_contract(hass, "dsmr_reader", [result["result"]]),
            {f"127_0_0_1_{port}": "127_0_0_1_PORT"},
        )
    finally:
        await unload_all(hass)
        await runner.cleanup()


# --- Octopus ---------------------------------------------------------------------------------


async def test_octopus(
    hass: HomeAssistant,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(OCTOPUS_NOW)
    await hass.config.async_update(time_zone="Europe/London")
    fake = FakeOctopus()
    fill_standard(fake)
    runner = await octopus_standin(fake)
    monkeypatch.setattr(octopus_provider, "API_BASE_URL", fake.base_url)
    try:
        entry = MockConfigEntry(
            domain=DOMAIN,
            unique_id=ACCOUNT,
            title=f"Octopus Energy {ACCOUNT}",
            data={"provider": "octopus", "api_key": GOOD_KEY, "account_number": ACCOUNT},
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert entry.state is ConfigEntryState.LOADED
        _check("octopus", await public_contract(hass, "octopus", [entry]))
    finally:
        await unload_all(hass)
        await runner.cleanup()


# --- Enedis ----------------------------------------------------------------------------------


async def test_enedis(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, freezer: FrozenDateTimeFactory
) -> None:
    await hass.config.async_set_time_zone("Europe/Paris")
    freezer.move_to(datetime(2026, 6, 10, 7, 0, tzinfo=UTC))
    gateway = start_standin(aioclient_mock)
    gateway.curve_from = datetime(2026, 6, 1).date()
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=PRM,
        title="Linky …1234",
        data={"provider": "enedis", "token": TOKEN, "prm": PRM},
        options={
            "fetch_production": True,
            "offpeak_hours": "01:00-07:00",
            "price_peak_kwh": 0.25,
            "price_offpeak_kwh": 0.18,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await advance(hass, freezer, timedelta(hours=3))
    _check("enedis", await public_contract(hass, "enedis", [entry]))


# --- Caruna ----------------------------------------------------------------------------------


async def test_caruna(
    hass: HomeAssistant,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(CARUNA_NOW)
    async with running_portal() as portal:
        provider_at(monkeypatch, CarunaProvider, "plus_url", portal.plus_url)
        seed(portal)
        form = await start_flow(hass, "caruna")
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], {"username": USERNAME, "password": PASSWORD}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        entry = result["result"]
        await hass.async_block_till_done()
        await refresh_until_caught_up(entry)
        _check("caruna", await public_contract(hass, "caruna", [entry]))
        await unload_all(hass)


# --- Korto -----------------------------------------------------------------------------------


async def test_korto(
    hass: HomeAssistant, socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin = KortoStandIn()
    server = await korto_standin(standin)
    monkeypatch.setattr(REGISTRY.get("korto"), "base_url", base_url(server))
    try:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Korto apartment",
            unique_id=APARTMENT_ID,
            data={"provider": "korto", "token": GOOD_TOKEN, "apartment_id": APARTMENT_ID},
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        _check("korto", await public_contract(hass, "korto", [entry]))
    finally:
        await unload_all(hass)
        await server.close()
