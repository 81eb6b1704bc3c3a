"""What every provider's "changed API" test checks: one repair, a shape sample, nothing leaked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import json
from typing import Any

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.diagnostics import async_get_config_entry_diagnostics
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import issue_registry as ir


def our_issues(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    return {
        issue_id: issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    }


@contextmanager
def issue_creations(hass: HomeAssistant) -> Iterator[list[str]]:
    """The ids of our issues created (not updated) while the block runs, in order."""
    created: list[str] = []

    def note(event: Event[Any]) -> None:
        if event.data["action"] == "create" and event.data["domain"] == DOMAIN:
            created.append(event.data["issue_id"])

    remove = hass.bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, note)
    try:
        yield created
    finally:
        remove()


async def assert_api_changed_shown(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    *,
    secrets: tuple[str, ...],
) -> dict[str, Any]:
    """The api_changed repair is up, alone, and the diagnostics carry its shape sample only.

    Returns the repair's placeholders.
    """
    issues = our_issues(hass)
    assert list(issues) == [f"api_changed_{entry.entry_id}"]
    issue = issues[f"api_changed_{entry.entry_id}"]
    assert issue.translation_key == "api_changed"
    placeholders = dict(issue.translation_placeholders or {})
    assert placeholders["received"].startswith(("an object", "a list", "a "))
    # Called directly: the frozen clock of these tests would make an HTTP login token stale.
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    sample = diagnostics["problems"]["last_schema_error"]
    assert sample is not None
    assert sample["what"] == placeholders["what"]
    text = json.dumps([placeholders, diagnostics], default=str)
    for secret in secrets:
        assert secret not in text
    return placeholders
