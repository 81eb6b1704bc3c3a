"""Packaging rules that hassfest and HACS enforce, checked so that mistakes fail CI, not users."""

from __future__ import annotations

import json
from pathlib import Path
import re
import struct

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
import pytest
import yaml

from custom_components.meterhub.api import errors
from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers import REGISTRY
import homeassistant
from homeassistant.core import HomeAssistant
from homeassistant.helpers.icon import async_get_icons
from homeassistant.loader import async_get_integration

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "custom_components" / DOMAIN
HA_ROOT = Path(homeassistant.__file__).parent
NEWEST_VENV = ROOT / ".venv-ha-newest"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


async def test_manifest_loads_through_home_assistant(hass: HomeAssistant) -> None:
    integration = await async_get_integration(hass, DOMAIN)
    assert integration.domain == "meterhub"
    assert integration.name == "Meter Hub"
    assert integration.config_flow is True
    assert integration.version is not None
    assert "recorder" in integration.dependencies
    assert integration.has_branding


def test_manifest_keys_order_and_required() -> None:
    manifest = load(PACKAGE / "manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    for key in (
        "codeowners",
        "config_flow",
        "dependencies",
        "documentation",
        "integration_type",
        "iot_class",
        "issue_tracker",
        "loggers",
        "requirements",
        "version",
    ):
        assert key in manifest, key
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["integration_type"] in {"hub", "device", "service"}


def _home_assistant_packages() -> dict[str, Path]:
    """The installed Home Assistant releases we support: the tests' own and the newest one.

    The newest lives in ``.venv-ha-newest`` (made by ``scripts/setup``); both are read from the
    installed wheels, so a new release's constraints are checked the day setup installs it.
    """
    newest = sorted(NEWEST_VENV.glob("lib/python*/site-packages/homeassistant"))
    if not newest:
        pytest.fail(f"{NEWEST_VENV.name} is missing: run scripts/setup")
    return {"oldest": HA_ROOT, "newest": newest[-1]}


def _constraints(package: Path) -> dict[str, list[Requirement]]:
    constraints: dict[str, list[Requirement]] = {}
    for raw in (package / "package_constraints.txt").read_text().splitlines():
        line = raw.split("#")[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        constraints.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    return constraints


def _manifest_requirements() -> list[Requirement]:
    return [Requirement(r) for r in load(PACKAGE / "manifest.json")["requirements"]]


def test_requirements_are_minimums_not_pins() -> None:
    """An exact pin that differs from the running release's constraint stops the integration loading.

    It happened: ``serialx==1.11.0`` matched 2026.10's constraint and broke on 2026.11.0.
    """
    for requirement in _manifest_requirements():
        operators = {spec.operator for spec in requirement.specifier}
        assert operators == {">="}, f"{requirement}: declare a >= minimum, never a pin"


@pytest.mark.parametrize("release", ["oldest", "newest"])
def test_requirements_satisfiable_under_home_assistant_constraints(release: str) -> None:
    package = _home_assistant_packages()[release]
    constraints = _constraints(package)
    for requirement in _manifest_requirements():
        for constraint in constraints.get(canonicalize_name(requirement.name), []):
            pinned = [spec.version for spec in constraint.specifier if spec.operator == "=="]
            for version in pinned:
                assert requirement.specifier.contains(version, prereleases=True), (
                    f"{requirement} cannot be installed next to {constraint} "
                    f"({release} release's constraints: {package / 'package_constraints.txt'})"
                )


def test_tests_run_on_the_declared_minimums() -> None:
    """The suite runs on each requirement's minimum, so the minimum is a tested claim."""
    test_pins = (ROOT / "requirements_test.txt").read_text()
    for requirement in _manifest_requirements():
        minimum = next(spec.version for spec in requirement.specifier)
        assert f"{requirement.name}=={minimum}" in test_pins, f"tests must run with {requirement}"


def test_debug_logging_switch_enables_no_logger_that_prints_raw_telegrams() -> None:
    """ "Enable debug logging" turns on the manifest's loggers (issue 23).

    serialx logs every byte it reads from a port: raw telegrams with both equipment identifiers;
    dsmr-parser's readers (``dsmr_parser.clients``, which Home Assistant core's ``dsmr`` runs in the
    same process) log every telegram they receive at DEBUG. Its parser's logger logs nothing at
    DEBUG, and its records about failed lines are kept out of the log while our parser runs.
    """
    loggers = load(PACKAGE / "manifest.json")["loggers"]
    assert "serialx" not in loggers
    assert "dsmr_parser" not in loggers  # the parent of dsmr_parser.clients
    assert not any(logger.startswith("dsmr_parser.clients") for logger in loggers)
    assert "dsmr_parser.parsers" in loggers


def test_hacs_json_only_allowed_keys() -> None:
    hacs = load(ROOT / "hacs.json")
    allowed = {
        "name",
        "content_in_root",
        "country",
        "filename",
        "hacs",
        "hide_default_branch",
        "homeassistant",
        "persistent_directory",
        "render_readme",
        "zip_release",
    }
    assert set(hacs) <= allowed
    assert hacs["name"] == "Meter Hub"
    assert hacs["homeassistant"] == homeassistant.const.__version__, (
        "hacs.json's minimum is the oldest release the suite runs on"
    )
    assert (ROOT / "info.md").is_file()


def test_strings_and_english_translation_identical() -> None:
    assert load(PACKAGE / "strings.json") == load(PACKAGE / "translations" / "en.json")


#: The provider keys in the menu's order, as the public contract fixes them.
PROVIDER_KEYS = ("dsmr", "dsmr_reader", "octopus", "enedis", "caruna", "korto")


def test_strings_cover_every_step_error_and_provider() -> None:
    strings = load(PACKAGE / "strings.json")
    config = strings["config"]
    menu = config["step"]["user"]["menu_options"]
    assert list(menu) == list(PROVIDER_KEYS)
    assert REGISTRY.keys() == list(PROVIDER_KEYS)
    for key in PROVIDER_KEYS:
        step = config["step"][key]
        assert step["title"]
        assert set(step["data"]) == set(step["data_description"]), key
    for key in REGISTRY.providers:
        assert key in config["step"], f"provider {key} has no strings for its step"
    error_keys = {cls.error_key for cls in _all_subclasses(errors.MeterHubApiError)}
    assert error_keys <= set(config["error"]), "every client error is a form error"
    assert error_keys <= set(strings["exceptions"]), "and a message when a refresh fails"
    for name in ("reauth_confirm", "reconfigure"):
        assert name in config["step"]
    for reason in (
        "already_configured",
        "reauth_successful",
        "reconfigure_successful",
        "wrong_account",
    ):
        assert reason in config["abort"]


def _all_subclasses(cls: type) -> set[type]:
    found = {cls}
    for sub in cls.__subclasses__():
        found |= _all_subclasses(sub)
    return found


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", text))


def _leaves(tree: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "translations").glob("*.json")), ids=lambda p: p.name
)
def test_translations_match_strings(path: Path) -> None:
    """Every translation has exactly the keys of strings.json, with the same placeholders."""
    source = _leaves(load(PACKAGE / "strings.json"))
    translated = _leaves(load(path))
    assert set(translated) == set(source)
    for key, text in source.items():
        assert _placeholders(translated[key]) == _placeholders(text), key


def test_brand_icons_are_png_of_the_right_size() -> None:
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        data = (PACKAGE / "brand" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (size, size)


def test_quality_scale_lists_every_rule_with_a_status() -> None:
    rules = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text())["rules"]
    core = yaml.safe_load((HA_ROOT / "components" / "peblar" / "quality_scale.yaml").read_text())
    assert set(rules) == set(core["rules"]), "every rule of the scale, no more, no less"
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "todo", "exempt"}, rule
        if status != "done":
            assert isinstance(value, dict), rule
            assert value.get("comment"), f"{rule}: say why it is not done"


def test_readme_carries_every_provider_guide() -> None:
    """README.md includes docs/<provider>.md (rebuild with scripts/build_readme.py)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_readme.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    readme = (ROOT / "README.md").read_text()
    for key in REGISTRY.providers:
        assert (ROOT / "docs" / f"{key}.md").is_file(), f"{key} has no user guide"
    assert "scripts/test" in readme


_MDI = re.compile(r"^mdi:[a-z0-9]+(-[a-z0-9]+)*$")

#: Sensors whose icon is their device class's own: Home Assistant's rule is not to override it
#: when the entity means exactly the quantity (a voltage is a voltage). Every other sensor
#: translation key has its own entry in icons.json.
DEVICE_CLASS_ICON: dict[str, frozenset[str]] = {
    **dict.fromkeys(
        [
            f"{kind}_l{phase}"
            for kind in ("phase_voltage", "instantaneous_voltage")
            for phase in (1, 2, 3)
        ],
        frozenset({"voltage"}),
    ),
    **dict.fromkeys(
        [
            f"{kind}_l{phase}"
            for kind in ("phase_power_current", "instantaneous_current")
            for phase in (1, 2, 3)
        ],
        frozenset({"current"}),
    ),
    **dict.fromkeys(
        [
            "current_demand",
            "current_electricity_usage",
            "electricity_currently_delivered",
            *(f"instantaneous_active_power_l{phase}_positive" for phase in (1, 2, 3)),
            *(f"phase_currently_delivered_l{phase}" for phase in (1, 2, 3)),
        ],
        frozenset({"power"}),
    ),
    **dict.fromkeys(
        ["today_consumption", "today_electricity1", "today_electricity2"], frozenset({"energy"})
    ),
    "yesterday_consumption": frozenset(
        {"energy", "gas"}
    ),  # the gas meter's yesterday: the gas icon
    **dict.fromkeys(["extra_device_delivered", "today_gas"], frozenset({"gas"})),
    "water_meter_reading": frozenset({"water"}),
    **dict.fromkeys(
        [
            "today_electricity1_cost",
            "today_electricity2_cost",
            "today_gas_cost",
            "today_total_cost",
            "yesterday_cost",
        ],
        frozenset({"monetary"}),
    ),
    **dict.fromkeys(
        [
            "extra_device_timestamp",
            "last_data",
            "last_data_received",
            "latest_telegram_timestamp",
            "reading_timestamp",
            "telemetry_last_reading",
            "timestamp",
        ],
        frozenset({"timestamp"}),
    ),
    **dict.fromkeys(
        ["balance_date", "last_data_date", "last_payment_date", "reading_date"], frozenset({"date"})
    ),
}


def _observed_device_classes() -> dict[str, set[str | None]]:
    """The device classes each translation key really has: from the descriptions the providers
    build, and from the entity snapshots of every provider's stand-in setup."""
    from custom_components.meterhub.providers.caruna.sensors import SENSORS as CARUNA
    from custom_components.meterhub.providers.dsmr.model import MbusReading
    from custom_components.meterhub.providers.dsmr.sensors import (
        ELECTRICITY_SENSORS,
        mbus_description,
    )
    from custom_components.meterhub.providers.dsmr_reader.sensors import (
        live_descriptions,
        meter_descriptions,
        price_descriptions,
    )
    from custom_components.meterhub.providers.enedis.sensors import (
        CONSUMPTION_SENSORS,
        PRODUCTION_SENSORS,
    )
    from custom_components.meterhub.providers.korto.sensors import (
        BALANCE_DESCRIPTIONS,
        token_expiry_description,
    )
    from custom_components.meterhub.providers.octopus.sensors import (
        BALANCE,
        TELEMETRY_DESCRIPTIONS,
    )

    readings = [
        mbus_description(
            MbusReading(channel=1, kind=kind, identifier=None, value=1.0, unit=unit, taken=None)
        )
        for kind, unit in (("gas", "m3"), ("gas", "kWh"), ("water", "m3"), ("heat", "GJ"))
    ]
    descriptions = [
        *CARUNA,
        *ELECTRICITY_SENSORS,
        *readings,
        *live_descriptions("EUR"),
        *meter_descriptions(),
        *price_descriptions("EUR"),
        *CONSUMPTION_SENSORS,
        *PRODUCTION_SENSORS,
        *BALANCE_DESCRIPTIONS,
        token_expiry_description(None),
        BALANCE,
        *TELEMETRY_DESCRIPTIONS,
    ]
    observed: dict[str, set[str | None]] = {}
    for description in descriptions:
        device_class = description.device_class
        observed.setdefault(str(description.translation_key), set()).add(
            None if device_class is None else str(device_class)
        )
    entry = re.compile(
        r"'original_device_class': (?:None|<SensorDeviceClass\.\w+: '(\w+)'>),"
        r".*?'translation_key': '(\w+)'",
        re.DOTALL,
    )
    for snapshot in (ROOT / "tests").glob("*/snapshots/*.ambr"):
        for device_class, key in entry.findall(snapshot.read_text()):
            observed.setdefault(key, set()).add(device_class or None)
    return observed


def test_every_sensor_and_state_and_action_has_an_icon() -> None:
    """Every sensor translation key has an icon: its own in icons.json, or its device class's.

    A key left to its device class must have that device class wherever it is used (checked in
    the providers' descriptions and the entity snapshots); a key whose device class depends on
    the meter (a Korto reading: water, gas, energy or none) has its own. Every enum state and
    every action has an icon too. The public contract's recorded keys are checked as well.
    """
    icons = load(PACKAGE / "icons.json")
    sensor_icons = icons["entity"]["sensor"]
    strings = load(PACKAGE / "strings.json")["entity"]["sensor"]
    contract = load(ROOT / "tests" / "snapshots" / "public_contract.json")
    used = {
        key.removeprefix("sensor.")
        for provider in contract.values()
        for key in provider.get("translation_keys", [])
        if key.startswith("sensor.")
    }
    assert used <= set(strings)
    assert set(sensor_icons) <= set(strings), "no icon for a key that does not exist"
    assert not set(sensor_icons) & set(DEVICE_CLASS_ICON), "an icon or the device class's, not both"
    assert set(sensor_icons) | set(DEVICE_CLASS_ICON) == set(strings), "every key has an icon"
    observed = _observed_device_classes()
    for key, classes in DEVICE_CLASS_ICON.items():
        assert observed.get(key), f"{key}: not seen in any description or snapshot"
        assert observed[key] <= classes, f"{key} has device classes {observed[key]}"
    for key, entry in sensor_icons.items():
        assert _MDI.match(entry["default"]), key
        states = strings[key].get("state", {})
        assert set(entry.get("state", {})) == set(states), f"{key}: an icon per state"
        assert all(_MDI.match(icon) for icon in entry.get("state", {}).values()), key
    actions = yaml.safe_load((PACKAGE / "services.yaml").read_text())
    assert set(icons["services"]) == set(actions)
    assert all(_MDI.match(entry["service"]) for entry in icons["services"].values())


def test_no_hard_coded_icons_in_entity_descriptions() -> None:
    """Icons come from icons.json (translated by key), never from ``icon=`` in the code."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"\b(icon=|_attr_icon\b)", path.read_text())
    ]
    assert offenders == []


async def test_home_assistant_reads_the_icons(hass: HomeAssistant) -> None:
    """The frontend's icon loader finds them (the file is where and what Home Assistant expects)."""
    entity = await async_get_icons(hass, "entity", integrations={DOMAIN})
    assert entity[DOMAIN]["sensor"]["electricity_active_tariff"]["state"]["low"] == (
        "mdi:weather-night"
    )
    services = await async_get_icons(hass, "services", integrations={DOMAIN})
    assert services[DOMAIN]["refresh_history"]["service"] == "mdi:history"


def test_readme_pictures_are_from_the_current_demo() -> None:
    """docs/images/ holds what ``scripts/screenshots`` took from the current demo data.

    Its manifest records the demo data's fingerprint and each picture's SHA-256; a changed demo
    household (tools/demo_data.py) or a picture replaced by hand needs ``scripts/screenshots``
    again. Every picture is shown in README.md, and README shows no other picture from there.
    """
    import hashlib
    import json
    import re

    from tools.demo_data import fingerprint
    from tools.screenshots import README_SHOTS

    images = ROOT / "docs" / "images"
    manifest = json.loads((images / "manifest.json").read_text())
    assert manifest["demo_data"] == fingerprint(), "demo data changed: run scripts/screenshots"
    assert tuple(manifest["images"]) == README_SHOTS
    for name, digest in manifest["images"].items():
        content = (images / name).read_bytes()
        assert content.startswith(b"\x89PNG"), name
        assert hashlib.sha256(content).hexdigest() == digest, f"{name} was not taken by the command"
    readme = (ROOT / "README.md").read_text()
    shown = set(re.findall(r"!\[[^]]*\]\(docs/images/([^)]+)\)", readme))
    assert shown == set(README_SHOTS)
