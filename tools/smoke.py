"""Smoke test on a real Home Assistant release, as a new user meets Meter Hub.

    python -m tools.smoke --hass .venv-ha-newest/bin/hass [--keep]

Starts that ``hass`` on a free loopback port with ``custom_components/meterhub`` linked in and the
P1 simulator beside it, onboards over HTTP and then checks, through the same APIs the frontend uses:
Home Assistant installs Meter Hub's requirements under its own constraints (the 2026.11 failure:
an exact pin that could never be satisfied), every provider's first form renders, a DSMR entry is
created against the simulator and shows live states, the energy dashboard accepts the sensors with
no validation issue, and the log holds no error about Meter Hub. The unit tests cannot see any of
this: they run on the release the test package pins, with requirement installs switched off.

Prints the Home Assistant version and time, ``N passed, N failed`` last, and exits non-zero on
failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
import re
import shutil
import sys
import tempfile
import time
from typing import Any

import aiohttp

from .devhass import (
    REPO,
    Run,
    add_dsmr_entry,
    api_token,
    configure_energy_dashboard,
    free_port,
    onboard,
    prepare,
    wait_until_running,
)

STRINGS = REPO / "custom_components" / "meterhub" / "strings.json"
# Log lines that fail the run: any error about Meter Hub, and any from requirement handling.
BAD_LOG_LINE = re.compile(r" (ERROR|CRITICAL) .*(meterhub|\[homeassistant\.requirements\])")


class Api:
    """Home Assistant's REST and websocket APIs, logged in as the development user."""

    def __init__(self, session: aiohttp.ClientSession, base: str, token: str) -> None:
        self.session = session
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._id = 0

    async def request(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        async with self.session.request(
            method, f"{self.base}{path}", json=body, headers=self.headers
        ) as response:
            text = await response.text()
            return response.status, json.loads(text) if text.startswith(("{", "[")) else text

    async def command(self, message: dict[str, Any]) -> Any:
        """One websocket command; raises when Home Assistant answers with an error."""
        if self._ws is None:
            self._ws = await self.session.ws_connect(f"{self.base}/api/websocket")
            await self._ws.receive_json()
            await self._ws.send_json(
                {"type": "auth", "access_token": self.headers["Authorization"][7:]}
            )
            await self._ws.receive_json()
        self._id += 1
        await self._ws.send_json({"id": self._id, **message})
        while (answer := await self._ws.receive_json()).get("id") != self._id:
            pass
        if not answer.get("success"):
            raise RuntimeError(f"{message['type']}: {answer.get('error')}")
        return answer["result"]

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()


async def check_provider_forms(api: Api, run: Run) -> None:
    """Open the flow for every provider: the menu, then each provider's first form (no 500)."""
    expected = list(json.loads(STRINGS.read_text())["config"]["step"]["user"]["menu_options"])
    flows = "/api/config/config_entries/flow"
    status, menu = await api.request("POST", flows, {"handler": "meterhub"})
    options = menu.get("menu_options") if isinstance(menu, dict) else None
    run.check("the Add-integration menu lists every source", options == expected, str(status))
    if isinstance(menu, dict) and "flow_id" in menu:
        await api.request("DELETE", f"{flows}/{menu['flow_id']}")
    for key in expected:
        status, flow = await api.request("POST", flows, {"handler": "meterhub"})
        if status == 200:
            status, flow = await api.request(
                "POST", f"{flows}/{flow['flow_id']}", {"next_step_id": key}
            )
        ok = (
            status == 200
            and flow.get("type") == "form"
            and flow.get("step_id") == key
            and bool(flow.get("data_schema"))
        )
        run.check(f"the {key} form renders", ok, f"HTTP {status}")
        if isinstance(flow, dict) and "flow_id" in flow:
            await api.request("DELETE", f"{flows}/{flow['flow_id']}")


async def wait_for_live_states(api: Api, seconds: int = 90) -> dict[str, tuple[str, str]]:
    """The DSMR sensors' entity ids and states once the simulator's telegrams have filled them."""
    wanted = ("current_electricity_usage", "electricity_used_tariff_1", "gas_meter_reading")
    states: dict[str, tuple[str, str]] = {}
    for _ in range(seconds):
        entities = await api.command({"type": "config/entity_registry/list"})
        ours = {
            key: e["entity_id"]
            for e in entities
            if e["platform"] == "meterhub"
            for key in wanted
            if e["unique_id"].endswith(key)
        }
        for key, entity_id in ours.items():
            status, state = await api.request("GET", f"/api/states/{entity_id}")
            if status == 200 and state["state"] not in ("unknown", "unavailable"):
                unit = state["attributes"].get("unit_of_measurement")
                states[key] = (entity_id, f"{state['state']} {unit}")
        if len(states) == len(wanted):
            break
        await asyncio.sleep(1)
    return states


async def validation_issues(api: Api, allow: frozenset[str] | set[str] = frozenset()) -> list[Any]:
    """What the energy dashboard's configuration page would flag, less the ``allow``ed types."""
    validation = await api.command({"type": "energy/validate"})
    return [
        issue
        for group in (*validation["energy_sources"], *validation["device_consumption"])
        for issue in group
        if issue["type"] not in allow
    ]


async def wait_for_first_compile(api: Api, seconds: int = 420) -> list[Any]:
    """Validate until the recorder's five-minute compile has given every sensor its statistics.

    Returns the issues left then (none when all is well).
    """
    issues = await validation_issues(api)
    for _ in range(seconds // 10):
        if not any(issue["type"] == "statistics_not_defined" for issue in issues):
            break
        await asyncio.sleep(10)
        issues = await validation_issues(api)
    return issues


def log_errors(config_dir: Path) -> list[str]:
    log = config_dir / "home-assistant.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return [line for line in lines if BAD_LOG_LINE.search(line)]


async def smoke(args: argparse.Namespace, run: Run, workdir: Path) -> None:
    hass_port, sim_port = free_port(), free_port()
    base = f"http://127.0.0.1:{hass_port}"
    config_dir = workdir / "config"
    prepare(config_dir, hass_port, frontend=False)
    await run.start(
        sys.executable, "-m", "tools.meterhub_sim", "--no-pty", "--port", str(sim_port),
        "--speed", "60", "--solar", log="simulator.log",
    )  # fmt: skip
    await run.start(str(args.hass), "-c", str(config_dir), log="hass.log")
    started = time.monotonic()
    await onboard(base)
    await wait_until_running(base)
    async with aiohttp.ClientSession() as session:
        api = Api(session, base, await api_token(session, base))
        try:
            _, config = await api.request("GET", "/api/config")
            run.check(
                f"Home Assistant {config['version']} starts with Meter Hub",
                True,
                f"{time.monotonic() - started:.0f} s",
            )
            await check_provider_forms(api, run)
            await add_dsmr_entry(base, f"socket://127.0.0.1:{sim_port}")
            run.check("a DSMR entry is created through the config flow", True)
            states = await wait_for_live_states(api)
            run.check(
                "the DSMR sensors show live states",
                len(states) == 3,
                ", ".join(f"{key} {value}" for key, (_, value) in states.items()),
            )
            await configure_energy_dashboard(base)
            run.check(
                "the energy dashboard takes the sensors",
                not await validation_issues(api, allow={"statistics_not_defined"}),
            )
            # A new sensor has no long-term statistics until the recorder's next five-minute
            # compile; the dashboard reports that until then. Wait for it, then require silence.
            issues = await wait_for_first_compile(api)
            run.check(
                "the energy dashboard validates with no issue after the first compile",
                not issues,
                str(issues),
            )
        finally:
            await api.close()
    errors = log_errors(config_dir)
    run.check("the log holds no error about Meter Hub", not errors, "\n".join(errors[:10]))


async def main_async(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="meterhub-smoke-"))
    run = Run(workdir)
    started = time.monotonic()
    try:
        await smoke(args, run, workdir)
    except Exception as err:  # any failure is a failed check, with its logs kept
        run.check("smoke test", False, f"{type(err).__name__}: {err}".splitlines()[0])
    finally:
        await run.stop()
    print(f"smoke test took {time.monotonic() - started:.0f} s", flush=True)
    if args.keep or not all(ok for _, ok, _ in run.results):
        print(f"kept {workdir} (configuration and logs)", flush=True)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return run.summary()


def main() -> None:
    parser = argparse.ArgumentParser(prog="smoke")
    parser.add_argument("--hass", type=Path, required=True, help="the hass executable to run")
    parser.add_argument("--keep", action="store_true", help="keep the configuration and logs")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
