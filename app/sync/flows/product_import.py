"""ProductImport (ERP -> hub): upsert by SKU in chunks, leave unchanged products alone.

Full mode writes every field and detects changes by content hash; quantity mode touches only
the ERP quantity. Every SKU in a feed gets its erp_quantity_at moved to the feed's as-of time,
changed or not, because that is what settles outstanding orders (see sync/stock.py).
"""
from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import islice

import sqlalchemy as sa

from app.extensions import db
from app.models import ItemOutcome, Product, ProductUpload, StockEvent, utcnow
from app.platforms.records import ProductRecord
from app.sync import product_file
from app.sync.product_file import content_hash

CHUNK = 1000
PULL_OVERLAP = timedelta(minutes=5)
ANALYZE_EVERY = 20_000


def chunks(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def product_values(r: ProductRecord, digest: str) -> dict:
    return {"name": r.name, "description": r.description, "price": r.price,
            "sale_price": r.sale_price, "wholesale_price": r.wholesale_price, "ean": r.ean,
            "brand": r.brand, "category": r.category, "weight": r.weight,
            "images": list(r.images), "features": dict(r.attributes), "content_hash": digest,
            "active": True}


class ProductImport:
    def __init__(self, ctx):
        self.ctx = ctx
        self.account_id = ctx.account_id
        self.disable_missing = ctx.connector.settings.get("missing_products") == "disable"

    def run(self) -> None:
        adapter = self.ctx.adapter
        if adapter.product_source == "upload":
            self._apply_uploads()
            return
        quantity_only = self.ctx.connector.mode == "quantity"
        state = self.ctx.connector.state or {}
        since = datetime.fromisoformat(state["cursor"]) - PULL_OVERLAP \
            if state.get("cursor") else None  # overlap: clock skew, long ERP transactions
        as_of = utcnow()
        records = adapter.fetch_products(since, quantity_only)
        self.apply(records, "quantity" if quantity_only else "full", as_of,
                   full_feed=since is None)
        self.ctx.save_state(cursor=as_of.isoformat())

    def _apply_uploads(self) -> None:
        uploads = db.session.scalars(sa.select(ProductUpload).where(
            ProductUpload.node_id == self.ctx.node.id, ProductUpload.status == "pending")
            .order_by(ProductUpload.id)).all()
        self.ctx.recorder.set_total(sum(u.rows for u in uploads))
        for upload in uploads:
            data = zlib.decompress(upload.data)
            db.session.expire(upload, ["data"])  # the compressed copy is not needed any more
            records = product_file.iter_records(data, upload.content_type, upload.mode)
            # The ERP's figures are as of when it sent them, not when we got round to them.
            self.apply(records, upload.mode, upload.created_at, full_feed=upload.mode == "full")
            upload.status, upload.applied_at = "applied", utcnow()
            upload.applied_run_id = self.ctx.run_id
            self.ctx.recorder.flush()

    def apply(self, records: Iterable[ProductRecord], mode: str, as_of: datetime,
              full_feed: bool) -> None:
        # Only kept when the connector disables what a full feed no longer has: a set of every
        # SKU is the one thing here that grows with the file.
        seen: set[str] | None = set() if full_feed and mode == "full" and \
            self.disable_missing else None
        parents: dict[str, str] = {}
        for batch in chunks(records, CHUNK):
            self._apply_chunk(batch, mode, as_of, parents)
            if seen is not None:
                seen.update(r.sku for r in batch)
            self.ctx.recorder.checkpoint()
        self._link_parents(parents)
        if seen is not None:
            self._disable_missing(seen)
        self.ctx.recorder.flush()

    def _apply_chunk(self, batch: list[ProductRecord], mode: str, as_of: datetime,
                     parents: dict[str, str]) -> None:
        rec = self.ctx.recorder
        existing = {row.sku: row for row in db.session.execute(
            sa.select(Product.id, Product.sku, Product.content_hash, Product.erp_quantity)
            .where(Product.account_id == self.account_id,
                   Product.sku.in_([r.sku for r in batch])))}
        inserts, updates, events = [], [], []
        for r in batch:
            row = existing.get(r.sku)
            quantity = {"erp_quantity": r.quantity, "erp_quantity_at": as_of} \
                if r.quantity is not None else {}
            if row is not None and r.quantity is not None and row.erp_quantity != r.quantity:
                events.append({"account_id": self.account_id, "product_id": row.id,
                               "node_id": self.ctx.node.id, "run_id": self.ctx.run_id,
                               "kind": "erp", "quantity": r.quantity,
                               "previous": row.erp_quantity, "created_at": as_of})
            if mode == "quantity":
                if row is None:
                    rec.item(r.sku, ItemOutcome.FAILED.value,
                             "unknown SKU: import the full product before its quantity")
                    continue
                updates.append({"id": row.id, **quantity})
                if row.erp_quantity != r.quantity:
                    rec.item(r.sku, ItemOutcome.UPDATED.value,
                             f"quantity {row.erp_quantity} -> {r.quantity}")
                else:
                    rec.unchanged()
                continue
            if r.parent_sku:
                parents[r.sku] = r.parent_sku
            digest = content_hash(r)
            if row is None:
                inserts.append({"account_id": self.account_id, "sku": r.sku,
                                **product_values(r, digest), **quantity,
                                "created_at": as_of, "updated_at": utcnow()})
                rec.item(r.sku, ItemOutcome.CREATED.value)
            elif row.content_hash != digest:
                updates.append({"id": row.id, **product_values(r, digest), **quantity,
                                "updated_at": utcnow()})
                rec.item(r.sku, ItemOutcome.UPDATED.value)
            else:
                updates.append({"id": row.id, **quantity})
                if r.quantity is not None and row.erp_quantity != r.quantity:
                    rec.item(r.sku, ItemOutcome.UPDATED.value,
                             f"quantity {row.erp_quantity} -> {r.quantity}")
                else:
                    rec.unchanged()
        if inserts:  # Core insert on the table: the ORM's bulk bookkeeping buys nothing here
            db.session.execute(Product.__table__.insert(), inserts)
            self._analyze_if_grown(len(inserts))
        updates = [u for u in updates if len(u) > 1]
        if updates:
            db.session.execute(sa.update(Product), updates)
        if events:
            db.session.execute(StockEvent.__table__.insert(), events)

    def _analyze_if_grown(self, inserted: int) -> None:
        """PostgreSQL plans the SKU look-ups from table statistics; a catalogue that grows from
        nothing to 100k rows in one import would otherwise be scanned whole for every chunk."""
        self._inserted_since_analyze = getattr(self, "_inserted_since_analyze", 0) + inserted
        if self._inserted_since_analyze >= ANALYZE_EVERY and \
                db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE products"))
            self._inserted_since_analyze = 0

    def _link_parents(self, parents: dict[str, str]) -> None:
        if not parents:
            return
        ids = {}
        wanted = set(parents) | set(parents.values())
        for batch in chunks(wanted, CHUNK):
            ids.update(db.session.execute(sa.select(Product.sku, Product.id).where(
                Product.account_id == self.account_id, Product.sku.in_(batch))).all())
        updates = []
        for sku, parent_sku in parents.items():
            if parent_sku not in ids:
                self.ctx.recorder.item(sku, ItemOutcome.FAILED.value,
                                       f"parent_sku {parent_sku} is not in the catalogue")
                continue
            updates.append({"id": ids[sku], "parent_id": ids[parent_sku]})
        if updates:
            db.session.execute(sa.update(Product), updates)

    def _disable_missing(self, seen: set[str]) -> None:
        rows = db.session.execute(sa.select(Product.id, Product.sku).where(
            Product.account_id == self.account_id, Product.active.is_(True))).all()
        gone = [{"id": pid, "active": False} for pid, sku in rows if sku not in seen]
        if gone:
            db.session.execute(sa.update(Product), gone)
            self.ctx.recorder.item(f"{len(gone)} products", ItemOutcome.UPDATED.value,
                                   "disabled: no longer in the ERP's full feed")
