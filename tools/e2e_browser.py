"""End to end, as a person does it: a real Home Assistant, the demo's sources, headless Chromium.

The demo of ``scripts/develop``: the P1 simulator and the cloud stand-ins (``tools.demo_cloud``).
Settings -> Devices & services -> Add integration -> Meter Hub (the menu of six sources) -> DSMR ->
port and version -> submit; the device page must show live values. Then the cloud sources are
added through the config flow API (as ``scripts/develop`` does), and the energy dashboard must show
a week with cost, and its "Now" view the live power of the P1 meter and the Octopus Home Mini (the
sum of their sensors' states). Last, Korto's stand-in answers in a changed shape and Meter Hub's
"changed its API" repair is opened; then it refuses the token and Home Assistant's reauth repair
shows. Screenshots go to ``--shots`` (``scripts/screenshots``: the README's images).

    python -m tools.e2e_browser [--hass PATH] [--shots docs/images] [--keep]

Prints ``N passed, N failed`` as its last line and exits non-zero on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
import re
import shutil
import sys
import tempfile
import time

import aiohttp
from playwright.async_api import Page, async_playwright, expect

from .devhass import (
    PASSWORD,
    REPO,
    USER,
    Run,
    add_cloud_entries,
    api_token,
    configure_energy_dashboard,
    free_port,
    onboard,
    prepare,
    read_cloud_state,
    wait_for_history,
    wait_until_running,
    websocket_calls,
)

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


async def login(page: Page, base: str) -> None:
    await page.goto(base)
    await page.get_by_label("Username").fill(USER)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("link", name="Settings")).to_be_visible(timeout=60_000)


async def add_dsmr_entry(page: Page, base: str, port: str, shots: Path) -> None:
    await page.goto(f"{base}/config/integrations/dashboard")
    await page.get_by_role("button", name="Add integration").click()
    await page.get_by_placeholder("Search for a brand name").fill("Meter Hub")
    await page.get_by_text("Meter Hub", exact=True).click()
    await expect(page.get_by_text("DSMR smart meter (P1 port)")).to_be_visible(timeout=30_000)
    await page.screenshot(path=shots / "add-integration.png")
    await page.get_by_text("DSMR smart meter (P1 port)").click()
    # The port is a picker: the serial ports Home Assistant sees, or any text typed in.
    await page.locator("ha-generic-picker ha-picker-field").first.click()
    await page.get_by_placeholder("Search | Add custom item").fill(port)
    await page.get_by_text(f'Add custom item "{port}"').click()
    await page.screenshot(path=shots / "config-dialog.png")
    await page.get_by_role("button", name="Submit").click()
    # Second step: the version the first telegram looks like is preselected; the user keeps it.
    await expect(page.get_by_text("The first telegram looks like")).to_be_visible(timeout=60_000)
    await page.screenshot(path=shots / "config-version.png")
    await page.get_by_role("button", name="Submit").click()


async def show_device(page: Page, base: str, shots: Path, run: Run) -> None:
    """Open the P1 meter's device page and wait for live values from the simulator."""
    meter = None
    async with asyncio.timeout(60):
        # The entry is set up after the flow's "Success": its device follows the first telegram.
        while meter is None:
            (devices,) = await websocket_calls(base, [{"type": "config/device_registry/list"}])
            meter = next(
                (
                    d
                    for d in devices
                    if d["name"] == "Electricity meter"
                    and any(
                        domain == "meterhub" and key.startswith("dsmr_")
                        for domain, key in d["identifiers"]
                    )
                ),
                None,
            )
            if meter is None:
                await asyncio.sleep(1)
    await page.goto(f"{base}/config/devices/device/{meter['id']}")
    # What a screen reader gets from the page: the sensors card lists "Power consumption 0.20 kW".
    live = re.compile(r"Power consumption (\d+(?:\.\d+)?\s?k?W)\b")
    found = None
    async with asyncio.timeout(60):
        while not (found := live.search(await page.locator("body").aria_snapshot())):  # noqa: ASYNC110
            await asyncio.sleep(1)
    await page.screenshot(path=shots / "device.png", full_page=True)
    run.check("device page shows live values", True, found.group(1))


async def show_week(page: Page, base: str, shots: Path, run: Run) -> None:
    """The energy dashboard over the last seven days: every source's history, with cost."""
    await page.goto(f"{base}/energy")
    await expect(page.get_by_role("tab", name="Summary")).to_be_visible(timeout=60_000)
    await page.locator("ha-date-range-picker, energy-period-selector").first.click()
    await page.get_by_text("Last 7 days", exact=True).click()
    total = re.compile(r"Total costs €(\d[\d,]*\.\d\d)")
    # Today's total shows first (often €0.00: costs are booked per day); wait for the week's.
    cost = 0.0
    for _ in range(60):
        if found := total.search(await page.locator("body").aria_snapshot()):
            cost = float(found.group(1).replace(",", ""))
            if cost > 0:
                break
        await asyncio.sleep(1)
    await page.wait_for_timeout(2000)  # charts animate in
    await page.screenshot(path=shots / "energy-dashboard.png")
    run.check("the energy dashboard shows a week with cost", cost > 0, f"€{cost:.2f}")


async def _power_w(session: aiohttp.ClientSession, base: str, entity_ids: list[str]) -> float:
    """The summed state of the Now view's power sensors, in W."""
    total = 0.0
    for entity_id in entity_ids:
        async with session.get(f"{base}/api/states/{entity_id}") as response:
            state = await response.json()
        try:
            value = float(state["state"])
        except ValueError:
            continue  # unavailable: the Now view counts it as nothing either
        total += value * 1000 if state["attributes"].get("unit_of_measurement") == "kW" else value
    return total


async def show_now(page: Page, base: str, shots: Path, run: Run) -> None:
    """The "Now" view shows the live power of the P1 meter and the Octopus Home Mini (issue 16).

    It adds up the power sensors of the grid sources; the page must show that sum while the
    Home Mini's sensor is above zero. Both move (the Home Mini is read once a minute), so the
    page and the states are compared until they agree, for at most two minutes.
    """
    (prefs,) = await websocket_calls(base, [{"type": "energy/get_prefs"}])
    sensors = [s["stat_rate"] for s in prefs["energy_sources"] if s.get("stat_rate")]
    demand = next((s for s in sensors if s.endswith("_current_demand")), None)
    await page.goto(f"{base}/energy")
    await page.get_by_role("tab", name="Now").click()
    shown = re.compile(r"Power usage (-?\d[\d,]*(?:\.\d+)?) (k?W)")
    detail = "no Octopus demand sensor in the dashboard"
    agreed = False
    async with aiohttp.ClientSession() as session:
        session.headers["Authorization"] = f"Bearer {await api_token(session, base)}"
        for _ in range(120):
            if demand is None:
                break
            before = await _power_w(session, base, sensors)
            found = shown.search(await page.locator("body").aria_snapshot())
            after = await _power_w(session, base, sensors)
            octopus = await _power_w(session, base, [demand])
            if found:
                value = float(found.group(1).replace(",", ""))
                watts = value * 1000 if found.group(2) == "kW" else value
                detail = f"shown {found.group(0)}, sensors {before:.0f}/{after:.0f} W"
                if octopus > 0 and any(abs(watts - s) < 0.5 for s in (before, after)):
                    agreed = True
                    detail += f", Home Mini {octopus:.0f} W"
                    break
            await asyncio.sleep(1)
    await page.screenshot(path=shots / "energy-now.png")
    run.check("the Now view shows the live power (P1 and Octopus Home Mini)", agreed, detail)


async def _reload_korto(session: aiohttp.ClientSession, base: str) -> None:
    """Reload the Korto entry (its menu's Reload): it reads the meters at once, not in hours."""
    async with session.get(f"{base}/api/config/config_entries/entry") as response:
        entries = await response.json()
    korto = next(e for e in entries if e["title"].startswith("Korto"))
    reload = f"{base}/api/config/config_entries/entry/{korto['entry_id']}/reload"
    async with session.post(reload) as response:
        response.raise_for_status()


async def show_repair(page: Page, base: str, control: str, shots: Path, run: Run) -> None:
    """Korto answers in a changed shape: Meter Hub's "changed its API" repair, opened (issue 18).

    Korto, because its meters are read as the entry loads: a reload raises the repair at once.
    Then, without a picture, Korto refuses the token and Home Assistant's reauth repair shows.
    """
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{control}/demo/change-shape/korto?shape=renamed") as response:
            response.raise_for_status()
        session.headers["Authorization"] = f"Bearer {await api_token(session, base)}"
        await _reload_korto(session, base)
        await page.goto(f"{base}/config/repairs")
        item = page.get_by_text("Korto changed its API", exact=True)
        await expect(item).to_be_visible(timeout=60_000)
        await item.click()
        advice = page.get_by_text("Meter Hub needs an update", exact=False)
        await expect(advice).to_be_visible(timeout=30_000)
        await page.wait_for_timeout(1500)  # the dialog slides in
        await page.screenshot(path=shots / "repair.png")
        run.check(
            "the api_changed repair shows when Korto's answers change",
            True,
            "Korto changed its API; Meter Hub needs an update",
        )
        await page.keyboard.press("Escape")

        async with session.post(f"{control}/demo/change-shape/korto?shape=") as response:
            response.raise_for_status()
        async with session.post(f"{control}/demo/revoke/korto") as response:
            response.raise_for_status()
        await _reload_korto(session, base)
    await page.goto(f"{base}/config/repairs")
    reauth = page.get_by_text("Authentication expired for Korto", exact=False)
    await expect(reauth.first).to_be_visible(timeout=60_000)
    run.check("a reauth repair shows when Korto refuses the token", True)


async def main_async(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="meterhub-e2e-"))
    shots: Path = args.shots
    run = Run(workdir)
    hass_port, sim_port = free_port(), free_port()
    cloud_state = workdir / "demo-cloud.json"
    base = f"http://127.0.0.1:{hass_port}"
    python = sys.executable
    try:
        prepare(workdir / "config", hass_port)
        await run.start(
            python,
            "-m",
            "tools.meterhub_sim",
            "--no-pty",
            "--port",
            str(sim_port),
            "--speed",
            "60",
            "--solar",
            log="simulator.log",
        )
        await run.start(
            python,
            "-m",
            "tools.demo_cloud",
            "--base-port",
            "0",
            "--state",
            str(cloud_state),
            log="demo-cloud.log",
        )
        await run.start(str(args.hass), "-c", str(workdir / "config"), log="hass.log")
        started = time.monotonic()
        await onboard(base)
        await wait_until_running(base)
        run.check("home assistant starts", True, f"{time.monotonic() - started:.0f} s")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            try:
                await login(page, base)
                run.check("log in", True)
                await add_dsmr_entry(page, base, f"socket://127.0.0.1:{sim_port}", shots)
                await expect(page.get_by_text("Success")).to_be_visible(timeout=30_000)
                await page.screenshot(path=shots / "config-success.png")
                run.check("add the DSMR entry through the UI", True)
                await page.keyboard.press("Escape")
                await show_device(page, base, shots, run)
                cloud = await asyncio.to_thread(read_cloud_state, cloud_state)
                await add_cloud_entries(base, cloud["entries"])
                took = await wait_for_history(base)
                run.check("the demo sources' history is imported", True, f"{took:.0f} s")
                await configure_energy_dashboard(base)
                await show_week(page, base, shots, run)
                await show_now(page, base, shots, run)
                await show_repair(page, base, cloud["control"], shots, run)
            except Exception as err:
                await page.screenshot(path=shots / "failure.png")
                run.check("browser flow", False, f"{type(err).__name__}: {err}".splitlines()[0])
            await browser.close()
    finally:
        await run.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")
    return run.summary()


def main() -> None:
    parser = argparse.ArgumentParser(prog="e2e_browser")
    parser.add_argument("--shots", type=Path, default=REPO / ".dev" / "screenshots")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary configuration and logs"
    )
    parser.add_argument(
        "--hass",
        type=Path,
        default=Path(sys.executable).parent / "hass",
        help="the Home Assistant to run (default: this Python's; scripts/test uses the newest)",
    )
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    args = parser.parse_args()
    args.shots.mkdir(parents=True, exist_ok=True)
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
