"""The sandbox store: a shop that lives inside the hub, for rehearsing procedures.

It behaves like a real store where the engine must cope: its own ids, its own stock that a
placed order lowers, and orders in pages by modification time. Unlike other platforms its
"remote side" is the sandbox tables, reached through app.platforms.sandbox.shop.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ..base import StoreAdapter
from ..errors import ItemError
from ..records import ExportItem, ItemResult, OrderPage, OrderRecord, QuantityUpdate
from . import shop


class SandboxAdapter(StoreAdapter):
    key = "sandbox"
    label = "Sandbox store (inside Ponte, for rehearsals)"
    quantity_batch_size = 500
    page_size = 50
    settings_fields: list[dict] = []

    def __init__(self, settings: dict, credentials: dict, *, node_id: int, account_id: int,
                 **context):
        super().__init__(settings, credentials)
        self.node_id = node_id
        self.account_id = account_id

    def test_connection(self) -> dict:
        return {"products": shop.count_products(self.node_id)}

    def find_products(self, skus: list[str]) -> dict[str, tuple[str, str | None]]:
        return {sku: (str(pid), None) for sku, pid in shop.ids_by_sku(self.node_id, skus).items()}

    def upsert_products(self, items: list[ExportItem]) -> list[ItemResult]:
        results = []
        for item in items:
            try:
                pid, created = shop.upsert_product(self.account_id, self.node_id, item.record,
                                                   item.external_id)
                results.append(ItemResult(item.record.sku, True, str(pid), created=created))
            except ItemError as exc:
                results.append(ItemResult(item.record.sku, False, message=exc.message))
        return results

    def set_quantities(self, updates: list[QuantityUpdate]) -> list[ItemResult]:
        missing = shop.set_stock(self.node_id, {int(u.external_id): u.quantity for u in updates})
        return [ItemResult(u.sku, int(u.external_id) not in missing, u.external_id,
                           message="no such product in the sandbox"
                           if int(u.external_id) in missing else None) for u in updates]

    def fetch_orders(self, modified_since: datetime | None) -> Iterator[OrderPage]:
        after_id = 0
        while True:
            orders = shop.orders_page(self.node_id, modified_since, after_id, self.page_size)
            if not orders:
                return
            after_id = orders[-1][0]
            yield OrderPage([o for _, o in orders], has_more=len(orders) == self.page_size)

    def mark_exported(self, order: OrderRecord, erp_ref: str | None) -> None:
        shop.add_note(self.node_id, int(order.external_id),
                      f"Delivered to the ERP{' as ' + erp_ref if erp_ref else ''}.")
