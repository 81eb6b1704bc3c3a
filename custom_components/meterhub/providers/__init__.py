"""The registry of providers. Each provider module registers itself here."""

from __future__ import annotations

from .base import ProviderRegistry
from .korto import KortoProvider

REGISTRY = ProviderRegistry()
REGISTRY.register(KortoProvider())
