"""A real Home Assistant for development and end-to-end tests: configuration, port, onboarding.

    python -m tools.devhass prepare CONFIG_DIR [--port 8123]   write the configuration
    python -m tools.devhass onboard [--url URL]                  create the user once HA answers

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


async def add_dsmr_entry(base: str, port: str, version: str = "5") -> None:
    """Add a DSMR entry through the config flow API, unless one exists for this port."""
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {await api_token(session, base)}"}
        async with session.get(f"{base}/api/config/config_entries/entry", headers=headers) as r:
            entries = await r.json()
        if any(e["domain"] == "meterhub" for e in entries):
            return
        url = f"{base}/api/config/config_entries/flow"
        async with session.post(url, json={"handler": "meterhub"}, headers=headers) as r:
            flow = await r.json()
        steps = ({"next_step_id": "dsmr"}, {"port": port}, {"dsmr_version": version})
        for body in steps:
            async with session.post(f"{url}/{flow['flow_id']}", json=body, headers=headers) as r:
                flow = await r.json()
        if flow.get("type") != "create_entry":
            raise RuntimeError(f"could not add the DSMR entry: {flow}")
        print(f"Added a DSMR entry reading {port}", flush=True)


async def configure_energy_dashboard(base: str) -> None:
    """Point the energy dashboard at Meter Hub's DSMR registers and gas meter."""
    async with aiohttp.ClientSession() as session:
        token = await api_token(session, base)
        async with session.ws_connect(f"{base}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": token})
            await ws.receive_json()
            await ws.send_json({"id": 1, "type": "config/entity_registry/list"})
            entities = (await ws.receive_json())["result"]
            ours = {e["unique_id"]: e["entity_id"] for e in entities if e["platform"] == "meterhub"}

            def find(suffix: str) -> str | None:
                return next((v for k, v in ours.items() if k.endswith(suffix)), None)

            sources: list[dict[str, object]] = []
            for tariff in ("1", "2"):
                used = find(f"electricity_used_tariff_{tariff}")
                if used:
                    sources.append(
                        {
                            "type": "grid",
                            "stat_energy_from": used,
                            "stat_energy_to": find(f"electricity_delivered_tariff_{tariff}"),
                            "stat_cost": None,
                            "entity_energy_price": None,
                            "number_energy_price": 0.25,
                            "stat_compensation": None,
                            "entity_energy_price_export": None,
                            "number_energy_price_export": 0.07,
                            "cost_adjustment_day": 0,
                        }
                    )
            if gas := find("gas_meter_reading"):
                sources.append(
                    {
                        "type": "gas",
                        "stat_energy_from": gas,
                        "stat_cost": None,
                        "entity_energy_price": None,
                        "number_energy_price": 1.3,
                    }
                )
            await ws.send_json({"id": 2, "type": "energy/save_prefs", "energy_sources": sources})
            result = await ws.receive_json()
            if not result.get("success"):
                raise RuntimeError(f"energy dashboard not configured: {result}")
            print(f"Energy dashboard: {len(sources)} sources from Meter Hub", flush=True)


async def demo(base: str, port: str) -> None:
    """The demo's Meter Hub: a DSMR entry on the simulator, its sensors in the energy dashboard."""
    await wait_until_running(base)
    await add_dsmr_entry(base, port)
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
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.config_dir, args.port)
    elif args.command == "onboard":
        asyncio.run(onboard(args.url))
    else:
        asyncio.run(demo(args.url, args.port))


if __name__ == "__main__":
    sys.exit(main())
