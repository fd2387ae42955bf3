"""The platform registry: a plain dict from platform key to adapter class.

A platform package is registered here by name and imported lazily, so a missing optional
dependency of one platform never breaks the others.
"""
from __future__ import annotations

import importlib

from .base import Adapter

PLATFORMS: dict[str, str] = {
    "file_erp": "app.platforms.file_erp.adapter:FileErpAdapter",
    "sandbox": "app.platforms.sandbox.adapter:SandboxAdapter",
    "woocommerce": "app.platforms.woocommerce.adapter:WooCommerceAdapter",
    "tryton": "app.platforms.tryton.adapter:TrytonAdapter",
}


class UnknownPlatformError(KeyError):
    pass


def adapter_class(key: str) -> type[Adapter]:
    try:
        module_name, _, attr = PLATFORMS[key].partition(":")
    except KeyError:
        raise UnknownPlatformError(f"unknown platform {key!r}")
    return getattr(importlib.import_module(module_name), attr)


def available() -> dict[str, type[Adapter]]:
    """Every platform whose package imports here (the portal lists these)."""
    found = {}
    for key in PLATFORMS:
        try:
            found[key] = adapter_class(key)
        except ImportError:
            continue
    return found


def build_adapter(platform: str, settings: dict, credentials: dict, **context) -> Adapter:
    return adapter_class(platform)(settings, credentials, **context)
