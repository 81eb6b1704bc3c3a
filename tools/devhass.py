"""A real Home Assistant for development and end-to-end tests: configuration, port, onboarding.

    python -m tools.devhass prepare CONFIG_DIR [--port 8123]   write the configuration
    python -m tools.devhass onboard [--url URL]                  create the user once HA answers
    python -m tools.devhass demo [--url URL] [--port P1] [--cloud STATE]
        add the demo's entries through the config flow API (a DSMR entry on the simulator at P1,
        one per cloud stand-in of tools.demo_cloud, whose state file is STATE), wait for their
        history and fill the energy dashboard (nothing is added when Meter Hub has entries already)

Only what Meter Hub needs is loaded (no default_config: its discovery integrations reach for the
network). The HTTP port goes into ``.storage/http``: an ``http:`` section in configuration.yaml
would be a trial configuration that Home Assistant reverts after five minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path
import socket
import sys
import time
from typing import Any

import aiohttp

USER, PASSWORD = "dev", "meterhub"
REPO = Path(__file__).resolve().parent.parent

CONFIGURATION = """\
homeassistant:
  name: Meter Hub development
  unit_system: metric
  currency: EUR
  country: NL
  time_zone: Europe/Amsterdam
  latitude: 52.37
  longitude: 4.89
  elevation: 0
frontend:
config:
energy:
history:
logbook:
recorder:
system_health:
logger:
  default: warning
  logs:
    custom_components.meterhub: debug
    homeassistant.setup: info
"""


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Run:
    """The processes and checks of one end-to-end run; the processes are stopped whatever happens."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[asyncio.subprocess.Process] = []
        self.results: list[tuple[str, bool, str]] = []

    async def start(self, *cmd: str, log: str) -> asyncio.subprocess.Process:
        out = (self.workdir / log).open("wb")
        process = await asyncio.create_subprocess_exec(
            *cmd, cwd=REPO, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
        self.processes.append(process)
        return process

    async def stop(self) -> None:
        for process in reversed(self.processes):
            if process.returncode is None:
                process.terminate()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(20):
                        await process.wait()
                if process.returncode is None:
                    process.kill()

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.results.append((name, ok, detail))
        print(f"{'PASS' if ok else 'FAIL'} {name} {detail}", flush=True)

    def summary(self) -> int:
        """Print ``N passed, N failed`` and return the exit status."""
        passed = sum(ok for _, ok, _ in self.results)
        failed = len(self.results) - passed
        print(f"{passed} passed, {failed} failed", flush=True)
        return 1 if failed or not self.results else 0


def _store(key: str, data: object, version: int = 1, minor: int = 1) -> str:
    return json.dumps(
        {"version": version, "minor_version": minor, "key": key, "data": data}, indent=1
    )


def prepare(config_dir: Path, port: int, *, frontend: bool = True) -> None:
    """Write configuration.yaml, link the integration in, set the port and skip onboarding steps.

    Without ``frontend`` Home Assistant serves only its APIs (the smoke test), and a first start
    does not install the frontend package.
    """
    (config_dir / "custom_components").mkdir(parents=True, exist_ok=True)
    link = config_dir / "custom_components" / "meterhub"
    if not link.exists():
        link.symlink_to(REPO / "custom_components" / "meterhub")
    configuration = config_dir / "configuration.yaml"
    if not configuration.exists():
        text = CONFIGURATION if frontend else CONFIGURATION.replace("frontend:\n", "")
        configuration.write_text(text)
    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    http = {
        "server_host": ["127.0.0.1"],
        "server_port": port,
        "cors_allowed_origins": ["https://cast.home-assistant.io"],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": True,
        "ssl_profile": "modern",
        "use_x_frame_options": True,
        "error": None,
        "error_message": None,
    }
    (storage / "http").write_text(
        _store("http", {"stable": http, "pending": None, "yaml_migration_done": True}, 2, 2)
    )
    onboarding = storage / "onboarding"
    if not onboarding.exists():
        # All steps but the user: core_config would add integrations that reach for the network.
        onboarding.write_text(
            _store("onboarding", {"done": ["core_config", "analytics", "integration"]}, 4, 1)
        )


async def wait_until_up(session: aiohttp.ClientSession, base: str, seconds: int = 900) -> None:
    """Wait for Home Assistant to answer (a first start installs the frontend: minutes)."""
    for _ in range(seconds):
        try:
            async with session.get(f"{base}/api/onboarding") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(1)
    raise TimeoutError(f"Home Assistant did not answer on {base} within {seconds} s")


async def onboard(base: str) -> None:
    """Create the development user if onboarding has not done so yet."""
    async with aiohttp.ClientSession() as session:
        await wait_until_up(session, base)
        async with session.get(f"{base}/api/onboarding") as response:
            steps = await response.json()
        if not all(step["done"] for step in steps):
            async with session.post(
                f"{base}/api/onboarding/users",
                json={
                    "client_id": f"{base}/",
                    "name": "Developer",
                    "username": USER,
                    "password": PASSWORD,
                    "language": "en",
                },
            ) as response:
                response.raise_for_status()
    print(f"Home Assistant is up: {base} (log in as {USER} / {PASSWORD})", flush=True)


async def api_token(session: aiohttp.ClientSession, base: str) -> str:
    """Log in as the development user through the login flow the frontend uses."""
    client_id = f"{base}/"
    async with session.post(
        f"{base}/auth/login_flow",
        json={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": f"{base}/?auth_callback=1",
        },
    ) as response:
        flow_id = (await response.json())["flow_id"]
    async with session.post(
        f"{base}/auth/login_flow/{flow_id}",
        json={"client_id": client_id, "username": USER, "password": PASSWORD},
    ) as response:
        code = (await response.json())["result"]
    async with session.post(
        f"{base}/auth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": client_id},
    ) as response:
        return str((await response.json())["access_token"])


async def wait_until_running(base: str, seconds: int = 900) -> None:
    """Wait until Home Assistant has finished starting.

    Its HTTP API answers early; on a first start it then still installs integration requirements
    (minutes on a new machine), and the frontend shows "Loading..." until the core is running.
    """
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {await api_token(session, base)}"}
        for _ in range(seconds):
            async with session.get(f"{base}/api/config", headers=headers) as response:
                if response.status == 200 and (await response.json()).get("state") == "RUNNING":
                    return
            await asyncio.sleep(1)
    raise TimeoutError(f"Home Assistant on {base} did not finish starting within {seconds} s")


async def _flow(
    session: aiohttp.ClientSession, base: str, headers: dict[str, str], step: str, *forms: object
) -> dict[str, Any]:
    """Add one entry as the UI does: open the flow, pick ``step`` in the menu, submit each form."""
    url = f"{base}/api/config/config_entries/flow"
    async with session.post(url, json={"handler": "meterhub"}, headers=headers) as r:
        flow = await r.json()
    for body in ({"next_step_id": step}, *forms):
        async with session.post(f"{url}/{flow['flow_id']}", json=body, headers=headers) as r:
            flow = await r.json()
    if flow.get("type") != "create_entry":
        raise RuntimeError(f"could not add the {step} entry: {flow}")
    return flow  # type: ignore[no-any-return]


async def _entry_count(base: str) -> int:
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {await api_token(session, base)}"}
        async with session.get(f"{base}/api/config/config_entries/entry", headers=headers) as r:
            return len([e for e in await r.json() if e["domain"] == "meterhub"])


async def add_dsmr_entry(base: str, port: str, version: str = "5") -> None:
    """Add a DSMR entry reading ``port`` through the config flow API."""
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {await api_token(session, base)}"}
        await _flow(session, base, headers, "dsmr", {"port": port}, {"dsmr_version": version})
        print(f"Added a DSMR entry reading {port}", flush=True)


def read_cloud_state(state: Path, seconds: float = 60) -> dict[str, Any]:
    """``tools.demo_cloud``'s state file, once the stand-ins have written it."""
    deadline = time.monotonic() + seconds
    while not state.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{state} was not written: are the demo stand-ins running?")
        time.sleep(0.2)
    return json.loads(state.read_text())  # type: ignore[no-any-return]


async def add_cloud_entries(base: str, entries: list[dict[str, Any]]) -> None:
    """One entry per demo stand-in (``tools.demo_cloud``'s ``entries``), through the config flow.

    The cloud providers get the hidden ``base_url`` entry key: the address of their stand-in.
    """
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {await api_token(session, base)}"}

        async def add(entry: dict[str, Any]) -> None:
            flow = await _flow(session, base, headers, entry["step"], entry["data"])
            print(f"Added a demo {entry['step']} entry: {flow['title']}", flush=True)
            reload = f"{base}/api/config/config_entries/entry/{flow['result']['entry_id']}/reload"
            for _ in range(entry.get("reloads", 0)):
                async with session.post(reload, headers=headers) as r:
                    r.raise_for_status()

        # Side by side, as several people adding entries at once: each waits on its own source.
        await asyncio.gather(*(add(entry) for entry in entries))


async def websocket_calls(base: str, calls: list[dict[str, Any]]) -> list[Any]:
    async with aiohttp.ClientSession() as session:
        token = await api_token(session, base)
        async with session.ws_connect(f"{base}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": token})
            await ws.receive_json()
            results = []
            for number, call in enumerate(calls, start=1):
                await ws.send_json({"id": number, **call})
                answer = await ws.receive_json()
                if not answer.get("success"):
                    raise RuntimeError(f"{call['type']} failed: {answer}")
                results.append(answer["result"])
            return results


def _grid(
    name: str, used: str | None, returned: str | None = None, **more: object
) -> dict[str, Any]:
    return {
        "type": "grid",
        "name": name,
        "stat_energy_from": used,
        "stat_energy_to": returned,
        "stat_cost": None,
        "entity_energy_price": None,
        "number_energy_price": None,
        "stat_compensation": None,
        "entity_energy_price_export": None,
        "number_energy_price_export": None,
        "cost_adjustment_day": 0,
        **more,
    }


async def configure_energy_dashboard(base: str) -> int:
    """Point the energy dashboard at every Meter Hub source there is; returns how many.

    The P1 registers start their history when Home Assistant compiles its first statistics, the
    cloud sources and DSMR-reader bring weeks of history with them (imported statistics, with
    cost where the source prices in the dashboard's currency, euro). Live power for the "Now"
    view: the P1 meter's and the Octopus Home Mini's.
    """
    entities, statistics = await websocket_calls(
        base,
        [
            {"type": "config/entity_registry/list"},
            {"type": "recorder/list_statistic_ids", "statistic_type": "sum"},
        ],
    )
    ours = {e["unique_id"]: e["entity_id"] for e in entities if e["platform"] == "meterhub"}
    imported = [s["statistic_id"] for s in statistics if s["statistic_id"].startswith("meterhub:")]

    def entity(suffix: str) -> str | None:
        return next((v for k, v in ours.items() if k.endswith(suffix)), None)

    def stat(prefix: str, suffix: str) -> str | None:
        return next(
            (s for s in imported if s.startswith(f"meterhub:{prefix}") and s.endswith(suffix)),
            None,
        )

    sources: list[dict[str, Any]] = []
    p1_power = entity("current_electricity_usage")
    if used := stat("dsmr_reader_", "_electricity1"):
        sources.append(
            _grid(
                "DSMR-reader (NL), low tariff",
                used,
                stat("dsmr_reader_", "_electricity1_returned"),
                stat_cost=stat("dsmr_reader_", "_electricity_cost"),
                **({"stat_rate": p1_power} if p1_power else {}),
            )
        )
        sources.append(
            _grid(
                "DSMR-reader (NL), normal tariff",
                stat("dsmr_reader_", "_electricity2"),
                stat("dsmr_reader_", "_electricity2_returned"),
            )
        )
    else:
        for tariff in ("1", "2"):
            if used := entity(f"electricity_used_tariff_{tariff}"):
                power = {"stat_rate": p1_power} if p1_power and tariff == "1" else {}
                sources.append(
                    _grid(
                        f"P1 meter, tariff {tariff}",
                        used,
                        entity(f"electricity_delivered_tariff_{tariff}"),
                        number_energy_price=0.25,
                        number_energy_price_export=0.07,
                        **power,
                    )
                )
    if used := stat("octopus_", "_consumption"):
        demand = entity("_current_demand")
        sources.append(
            _grid(
                "Octopus Energy (UK, costs in GBP not shown)",
                used,
                stat("octopus_", "_production"),
                **({"stat_rate": demand} if demand else {}),
            )
        )
    if used := stat("enedis_", "_consumption"):
        sources.append(_grid("Enedis Linky (FR)", used, stat("enedis_", "_production")))
    if used := stat("caruna_", "_consumption"):
        sources.append(_grid("Caruna (FI)", used, stat_cost=stat("caruna_", "_cost")))
    gas = [
        ("DSMR-reader gas", stat("dsmr_reader_", "_gas"), stat("dsmr_reader_", "_gas_cost")),
        ("Octopus gas", stat("octopus_", "_volume"), None),
        ("P1 gas meter", None if imported else entity("gas_meter_reading"), None),
    ]
    for name, reading, cost in gas:
        if reading:
            sources.append(
                {
                    "type": "gas",
                    "name": name,
                    "stat_energy_from": reading,
                    "stat_cost": cost,
                    "entity_energy_price": None,
                    "number_energy_price": None if cost or reading.startswith("meterhub:") else 1.3,
                }
            )
    for water in (s for s in imported if s.startswith("meterhub:korto_")):
        sources.append(
            {
                "type": "water",
                "stat_energy_from": water,
                "stat_cost": None,
                "entity_energy_price": None,
                "number_energy_price": None,
            }
        )
    await websocket_calls(base, [{"type": "energy/save_prefs", "energy_sources": sources}])
    print(f"Energy dashboard: {len(sources)} sources from Meter Hub", flush=True)
    return len(sources)


async def wait_for_history(base: str, seconds: int = 120) -> float:
    """Wait until every demo source's history is in the recorder; returns the seconds it took."""
    wanted = ("dsmr_reader_", "octopus_", "caruna_", "enedis_", "korto_")
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        (statistics,) = await websocket_calls(
            base, [{"type": "recorder/list_statistic_ids", "statistic_type": "sum"}]
        )
        ids = [s["statistic_id"] for s in statistics]
        if all(any(i.startswith(f"meterhub:{w}") for i in ids) for w in wanted):
            return time.monotonic() - started
        await asyncio.sleep(2)
    missing = [w for w in wanted if not any(i.startswith(f"meterhub:{w}") for i in ids)]
    print(f"No history yet from {missing} after {seconds} s", flush=True)
    return time.monotonic() - started


async def demo(base: str, port: str, cloud: Path | None) -> None:
    """The demo: a DSMR entry on the simulator, one entry per cloud stand-in, the dashboard."""
    await wait_until_running(base)
    if await _entry_count(base):
        print("Meter Hub entries kept from an earlier run (scripts/develop --clean: none)")
        return
    await add_dsmr_entry(base, port)
    if cloud is not None:
        state = await asyncio.to_thread(read_cloud_state, cloud)
        await add_cloud_entries(base, state["entries"])
        took = await wait_for_history(base)
        print(f"History of the demo sources imported in {took:.0f} s", flush=True)
    else:
        await asyncio.sleep(5)  # the first telegrams create the entities
    await configure_energy_dashboard(base)


def main() -> None:
    parser = argparse.ArgumentParser(prog="devhass")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("config_dir", type=Path)
    p.add_argument("--port", type=int, default=8123)
    o = sub.add_parser("onboard")
    o.add_argument("--url", default="http://127.0.0.1:8123")
    d = sub.add_parser("demo", help="add a DSMR entry and configure the energy dashboard")
    d.add_argument("--url", default="http://127.0.0.1:8123")
    d.add_argument("--port", default="socket://127.0.0.1:2001")
    d.add_argument("--cloud", type=Path, default=None, help="tools.demo_cloud's state file")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.config_dir, args.port)
    elif args.command == "onboard":
        asyncio.run(onboard(args.url))
    else:
        asyncio.run(demo(args.url, args.port, args.cloud))


if __name__ == "__main__":
    sys.exit(main())
