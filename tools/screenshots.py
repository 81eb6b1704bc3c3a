"""Take the README's pictures again: the browser test on the demo, into docs/images/.

    python -m tools.screenshots [--hass .venv-ha-newest/bin/hass]

Runs ``tools.e2e_browser`` (the demo of ``scripts/develop``: simulator and cloud stand-ins) into a
temporary folder and, only when every check passed, copies the README's pictures to docs/images/
with ``manifest.json``: the demo data's fingerprint (``tools.demo_data.fingerprint``), the Home
Assistant release they show, and each picture's SHA-256. ``tests/test_packaging.py`` checks the
manifest against the current demo data and the files, so a changed demo without new pictures (or a
picture edited by hand) fails the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile

from .demo_data import fingerprint
from .devhass import REPO

#: The README's pictures, as the browser test names them.
README_SHOTS = (
    "add-integration.png",
    "config-dialog.png",
    "device.png",
    "energy-dashboard.png",
    "energy-now.png",
    "repair.png",
)
IMAGES = REPO / "docs" / "images"
MANIFEST = IMAGES / "manifest.json"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(images: Path, home_assistant: str) -> dict[str, object]:
    """What ``manifest.json`` says about the pictures in ``images``."""
    return {
        "demo_data": fingerprint(),
        "home_assistant": home_assistant,
        "command": "scripts/screenshots",
        "images": {name: sha256(images / name) for name in README_SHOTS},
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="screenshots")
    parser.add_argument("--hass", type=Path, default=REPO / ".venv-ha-newest" / "bin" / "hass")
    args = parser.parse_args()
    version = subprocess.run(
        [
            str(args.hass.parent / "python"),
            "-c",
            "import homeassistant.const as c; print(c.__version__)",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="meterhub-shots-") as folder:
        shots = Path(folder)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "tools.e2e_browser",
                "--hass",
                str(args.hass),
                "--shots",
                folder,
            ],
            cwd=REPO,
            check=False,
        )
        missing = [name for name in README_SHOTS if not (shots / name).is_file()]
        if result.returncode or missing:
            print(f"screenshots: the browser test failed (missing: {missing}); nothing replaced")
            return 1
        for name in README_SHOTS:
            shutil.copyfile(shots / name, IMAGES / name)
    MANIFEST.write_text(json.dumps(manifest(IMAGES, version), indent=2) + "\n")
    print(f"screenshots: {len(README_SHOTS)} pictures of Home Assistant {version} in {IMAGES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
