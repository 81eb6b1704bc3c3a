"""The registry of providers. Each provider module registers itself here."""

from __future__ import annotations

from .base import ProviderRegistry
from .octopus import OctopusProvider

REGISTRY = ProviderRegistry()
REGISTRY.register(OctopusProvider())
