"""An in-process fake store for engine tests; behaviour is steered by the node's settings.

settings: fail_skus (list: those items fail), unavailable (raise RetryLaterError),
auth_fail (raise AuthError), sleep (seconds per quantity call, to be killed mid-step),
calls_file (append one line per quantity call: lets a test see the work from another process).
"""
from __future__ import annotations

import time

from app.platforms.base import StoreAdapter
from app.platforms.errors import AuthError, RetryLaterError
from app.platforms.records import ItemResult

SHOPS: dict[int, dict[str, dict]] = {}  # node id -> sku -> {"id", "quantity"}


class FakeStoreAdapter(StoreAdapter):
    key = "fake_store"
    label = "Fake store (tests)"
    quantity_batch_size = 50

    def __init__(self, settings, credentials, *, node_id, account_id, **context):
        super().__init__(settings, credentials)
        self.node_id = node_id
        self.shop = SHOPS.setdefault(node_id, {})

    def _gate(self):
        if self.settings.get("auth_fail"):
            raise AuthError("401 invalid consumer key")
        if self.settings.get("unavailable"):
            raise RetryLaterError("503 after 5 attempts", retry_after=30)

    def test_connection(self):
        self._gate()
        return {"products": len(self.shop)}

    def find_products(self, skus):
        self._gate()
        return {s: (self.shop[s]["id"], None) for s in skus if s in self.shop}

    def upsert_products(self, items):
        self._gate()
        results = []
        for item in items:
            sku = item.record.sku
            if sku in self.settings.get("fail_skus", []):
                results.append(ItemResult(sku, False, message="price must be positive"))
                continue
            created = sku not in self.shop
            entry = self.shop.setdefault(sku, {"id": f"F{len(self.shop) + 1}"})
            entry["quantity"] = item.record.quantity
            results.append(ItemResult(sku, True, entry["id"], created=created))
        return results

    def set_quantities(self, updates):
        self._gate()
        if self.settings.get("calls_file"):
            with open(self.settings["calls_file"], "a") as f:
                f.write(f"{len(updates)}\n")
        if self.settings.get("sleep"):
            time.sleep(self.settings["sleep"])
        results = []
        for u in updates:
            if u.sku in self.settings.get("fail_skus", []):
                results.append(ItemResult(u.sku, False, message="stock locked by the shop"))
                continue
            self.shop.setdefault(u.sku, {"id": u.external_id})["quantity"] = u.quantity
            results.append(ItemResult(u.sku, True, u.external_id))
        return results

    def fetch_orders(self, modified_since):
        self._gate()
        return iter(())


def install(monkeypatch=None):
    from app.platforms import registry
    if monkeypatch is not None:
        monkeypatch.setitem(registry.PLATFORMS, "fake_store", "tests.fakes:FakeStoreAdapter")
    else:
        registry.PLATFORMS["fake_store"] = "tests.fakes:FakeStoreAdapter"
    SHOPS.clear()
