"""The registry of providers. Each provider module registers itself here."""

from __future__ import annotations

from .base import ProviderRegistry
from .dsmr import DsmrProvider

REGISTRY = ProviderRegistry()
REGISTRY.register(DsmrProvider())
