"""Shared fixtures: custom integrations enabled, and the test-only stub provider."""

from __future__ import annotations

from collections.abc import Iterator
import logging

import pytest

from custom_components.meterhub.providers import REGISTRY

from .stub_provider import StubProvider


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant load custom_components/meterhub.

    Meter Hub depends on the recorder, so every test with a ``hass`` gets the real recorder, and
    it must be set up before ``hass`` exists: ``recorder_mock`` first, then ``hass`` (through
    ``enable_custom_integrations``).
    """
    if "hass" in request.fixturenames or "recorder_mock" in request.fixturenames:
        request.getfixturevalue("recorder_mock")
    request.getfixturevalue("enable_custom_integrations")


@pytest.fixture(autouse=True)
def quiet_sql() -> Iterator[None]:
    """The test plugin logs every SQL statement at INFO; with real statistics that dominates."""
    engine = logging.getLogger("sqlalchemy.engine")
    level = engine.level
    engine.setLevel(logging.WARNING)
    yield
    engine.setLevel(level)


@pytest.fixture
def stub_provider() -> Iterator[StubProvider]:
    """Register the stub provider for one test, then remove it."""
    provider = StubProvider()
    remove = REGISTRY.register(provider)
    yield provider
    remove()
