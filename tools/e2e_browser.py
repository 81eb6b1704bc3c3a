"""End to end, as a person does it: a real Home Assistant, the P1 simulator, headless Chromium.

Settings -> Devices & services -> Add integration -> Meter Hub -> DSMR -> port and version ->
submit; then the device page must show live values. Screenshots go to ``--shots`` (README images).

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

from playwright.async_api import Page, async_playwright, expect

from .devhass import (
    PASSWORD,
    REPO,
    USER,
    Run,
    configure_energy_dashboard,
    free_port,
    onboard,
    prepare,
    wait_until_running,
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
    await page.get_by_text("DSMR smart meter (P1 port)").click()
    # The port is a picker: the serial ports Home Assistant sees, or any text typed in.
    await page.locator("ha-generic-picker ha-picker-field").first.click()
    await page.get_by_placeholder("Search | Add custom item").fill(port)
    await page.get_by_text(f'Add custom item "{port}"').click()
    await page.screenshot(path=shots / "config-dialog.png")
    await page.get_by_role("button", name="Submit").click()


async def show_device(page: Page, base: str, shots: Path, run: Run) -> None:
    """Open the meter's device page and wait for live values from the simulator."""
    await page.goto(f"{base}/config/integrations/integration/meterhub")
    await page.get_by_text("Electricity meter", exact=True).click()
    # What a screen reader gets from the page: the sensors card lists "Power consumption 0.20 kW".
    live = re.compile(r"Power consumption (\d+(?:\.\d+)?\s?k?W)\b")
    found = None
    async with asyncio.timeout(60):
        while not (found := live.search(await page.locator("body").aria_snapshot())):  # noqa: ASYNC110
            await asyncio.sleep(1)
    await page.screenshot(path=shots / "device.png", full_page=True)
    run.check("device page shows live values", True, found.group(1))


async def main_async(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="meterhub-e2e-"))
    shots: Path = args.shots
    run = Run(workdir)
    hass_port, sim_port = free_port(), free_port()
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
                await configure_energy_dashboard(base)
                await page.goto(f"{base}/energy")
                await page.get_by_role("tab", name="Electricity").click()
                await expect(page.get_by_text("Loading...")).to_be_hidden(timeout=60_000)
                await page.wait_for_timeout(3000)  # charts animate in
                await page.screenshot(path=shots / "energy-dashboard.png")
                run.check("energy dashboard uses Meter Hub's sensors", True)
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
