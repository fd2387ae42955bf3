"""The small interface every platform package implements.

An adapter is built from a node's settings and decrypted credentials and speaks one platform.
It returns plain records (records.py) and raises typed errors (errors.py); retries with back-off
live in the platform's client, so the engine sees either a result or a final error.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from .records import (ExportItem, ItemResult, OrderPage, OrderRecord, ProductRecord,
                      QuantityUpdate)


class Adapter:
    key: str = ""            # the platform key stored on Node.platform
    label: str = ""          # what the portal shows
    node_kind: str = "store"  # erp, store or marketplace

    def __init__(self, settings: dict, credentials: dict):
        self.settings = settings or {}
        self.credentials = credentials or {}

    def test_connection(self) -> dict:
        """Return facts worth showing (version, permissions); raise AuthError when refused."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; called by the engine when a step ends."""


class StoreAdapter(Adapter):
    """A store or marketplace: takes products and quantities, gives orders."""
    quantity_batch_size: int = 100

    def find_products(self, skus: list[str]) -> dict[str, tuple[str, str | None]]:
        """Map SKUs that already exist on the store to (external_id, external_parent_id)."""
        raise NotImplementedError

    def upsert_products(self, items: list[ExportItem]) -> list[ItemResult]:
        """Create or update full products; one ItemResult per item, in order."""
        raise NotImplementedError

    def set_quantities(self, updates: list[QuantityUpdate]) -> list[ItemResult]:
        """Set stock for already-bound products; batches itself to the platform's limits."""
        raise NotImplementedError

    def set_quantities_stream(self, chunks: Iterable[list[QuantityUpdate]]
                              ) -> Iterator[list[ItemResult]]:
        """set_quantities over chunks the engine reads as it goes; yields lists of results.

        Platforms that keep several requests in flight override this so that requests stay in
        flight while the engine reads the next chunk and records the last results. Results
        may come back in any order and in lists of any size; each update gets exactly one.
        """
        for chunk in chunks:
            if chunk:
                yield self.set_quantities(chunk)

    def fetch_orders(self, modified_since: datetime | None) -> Iterator[OrderPage]:
        """Yield pages of orders modified at or after `modified_since` (None: all)."""
        raise NotImplementedError

    def mark_exported(self, order: OrderRecord, erp_ref: str | None) -> None:
        """Tell the store the order reached the ERP (a status or a note, per settings)."""

    def send_tracking(self, order: OrderRecord, carrier: str, number: str) -> None:
        """Send shipment tracking back to the store."""


class ErpAdapter(Adapter):
    """An ERP: gives products and quantities, takes orders."""
    node_kind = "erp"
    # 'pull': the hub reads products from the ERP; 'upload': the ERP pushes files to the hub.
    product_source = "pull"
    # 'push': the hub delivers orders; 'feed': the ERP pulls the order feed and acknowledges.
    order_delivery = "push"

    def fetch_products(self, changed_since: datetime | None, quantity_only: bool
                       ) -> Iterable[ProductRecord]:
        raise NotImplementedError

    def find_order(self, reference: str) -> str | None:
        """The ERP document number of the order with this hub reference, if it exists."""
        raise NotImplementedError

    def deliver_order(self, order: OrderRecord, reference: str) -> str:
        """Create the order in the ERP and return its document number."""
        raise NotImplementedError
