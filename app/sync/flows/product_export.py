"""ProductExport (hub -> store): send each store only what differs from its binding.

Quantity mode sends available-to-sell (sync/stock.py) for SKUs whose figure differs from what
that store was last sent; full mode sends the whole product when its content or quantity
changed, creating what the store lacks. Unbound SKUs are first looked up on the store by SKU,
so a store that already has the catalogue is linked, not duplicated.
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa

from app.extensions import db
from app.models import ItemOutcome, Product, ProductBinding, utcnow
from app.platforms.records import ExportItem, ProductRecord, QuantityUpdate
from app.sync.stock import ChannelRules, available, outstanding_by_sku

CHUNK = 1000


def product_record(p: Product, parent_sku: str | None, quantity: int) -> ProductRecord:
    return ProductRecord(sku=p.sku, name=p.name, description=p.description, price=p.price,
                         sale_price=p.sale_price, wholesale_price=p.wholesale_price,
                         quantity=quantity, ean=p.ean, brand=p.brand, category=p.category,
                         weight=p.weight, images=list(p.images or []), parent_sku=parent_sku,
                         attributes=dict(p.features or {}))


def export_hash(p: Product, quantity: int) -> str:
    return hashlib.sha256(f"{p.content_hash}|{quantity}".encode()).hexdigest()


class ProductExport:
    def __init__(self, ctx):
        self.ctx = ctx
        self.node_id = ctx.node.id
        self.account_id = ctx.account_id
        self.rules = ChannelRules.from_settings(ctx.connector.settings)
        self.full = ctx.connector.mode == "full"

    def run(self) -> None:
        outstanding = outstanding_by_sku(self.account_id)
        q = sa.select(Product).where(Product.account_id == self.account_id,
                                     Product.active.is_(True))
        if not self.full:
            q = q.where(Product.erp_quantity.is_not(None))
        only = self.ctx.only_refs
        if only is not None:
            q = q.where(Product.sku.in_(only or [""]))
        self.ctx.recorder.set_total(db.session.scalar(
            sa.select(sa.func.count()).select_from(q.subquery())))
        # Parents before variants, so a variation always finds its parent's id on the store.
        q = q.order_by(Product.parent_id.is_not(None), Product.id)
        last = None
        while True:
            page = q
            if last is not None:
                page = page.where(sa.tuple_(Product.parent_id.is_not(None), Product.id) > last)
            products = db.session.scalars(page.limit(CHUNK)).all()
            if not products:
                break
            last = (products[-1].parent_id is not None, products[-1].id)
            self._export_chunk(products, outstanding)
            db.session.flush()        # write the bindings before letting go of them:
            db.session.expunge_all()  # bounded memory over 100k products
            self.ctx.recorder.checkpoint()
        self.ctx.recorder.flush()

    def _bindings(self, product_ids: list[int]) -> dict[int, ProductBinding]:
        return {b.product_id: b for b in db.session.scalars(sa.select(ProductBinding).where(
            ProductBinding.node_id == self.node_id, ProductBinding.product_id.in_(product_ids)))}

    def _link_existing(self, products: list[Product], bindings: dict[int, ProductBinding]):
        unbound = [p for p in products if p.id not in bindings]
        if not unbound:
            return
        found = self.ctx.adapter.find_products([p.sku for p in unbound])
        for p in unbound:
            if p.sku in found:
                ext, parent_ext = found[p.sku]
                b = ProductBinding(account_id=self.account_id, node_id=self.node_id,
                                   product_id=p.id, external_id=str(ext),
                                   external_parent_id=parent_ext)
                db.session.add(b)
                bindings[p.id] = b
        db.session.flush()

    def _export_chunk(self, products: list[Product], outstanding: dict[str, int]) -> None:
        bindings = self._bindings([p.id for p in products])
        self._link_existing(products, bindings)
        figures = {p.id: available(p.erp_quantity, outstanding.get(p.sku, 0), self.rules)
                   for p in products}
        if self.full:
            self._export_full(products, bindings, figures)
        else:
            self._export_quantities(products, bindings, figures)

    def _export_quantities(self, products, bindings, figures) -> None:
        rec = self.ctx.recorder
        updates, by_sku = [], {}
        for p in products:
            b = bindings.get(p.id)
            if b is None:
                rec.unchanged()  # not on this store; only full mode creates products
                continue
            if b.synced_quantity == figures[p.id]:
                rec.unchanged()
                continue
            updates.append(QuantityUpdate(p.sku, figures[p.id], b.external_id,
                                          b.external_parent_id))
            by_sku[p.sku] = (p, b)
        if not updates:
            return
        for result in self.ctx.adapter.set_quantities(updates):
            p, b = by_sku[result.ref]
            self._record(b, result, synced_quantity=figures[p.id],
                         message=f"quantity {b.synced_quantity} -> {figures[p.id]}")

    def _export_full(self, products, bindings, figures) -> None:
        rec = self.ctx.recorder
        parents, parent_bindings = {}, {}
        parent_ids = {p.parent_id for p in products if p.parent_id}
        if parent_ids:
            parents = dict(db.session.execute(sa.select(Product.id, Product.sku).where(
                Product.id.in_(parent_ids))).all())
            parent_bindings = self._bindings(list(parent_ids))
        items, by_sku = [], {}
        for p in products:
            b = bindings.get(p.id)
            digest = export_hash(p, figures[p.id])
            if b is not None and b.synced_hash == digest:
                rec.unchanged()
                continue
            parent_ext = None
            if p.parent_id:
                pb = parent_bindings.get(p.parent_id)
                if pb is None:
                    rec.item(p.sku, ItemOutcome.FAILED.value,
                             "its parent product is not on this store yet")
                    continue
                parent_ext = pb.external_id
            record = product_record(p, parents.get(p.parent_id), figures[p.id])
            items.append(ExportItem(record, b.external_id if b else None, parent_ext))
            by_sku[p.sku] = (p, b, digest)
        for start in range(0, len(items), self.ctx.adapter.quantity_batch_size):
            batch = items[start:start + self.ctx.adapter.quantity_batch_size]
            for result in self.ctx.adapter.upsert_products(batch):
                p, b, digest = by_sku[result.ref]
                if b is None and result.ok:
                    b = ProductBinding(account_id=self.account_id, node_id=self.node_id,
                                       product_id=p.id, external_id=str(result.external_id),
                                       external_parent_id=result.external_parent_id)
                    db.session.add(b)
                    bindings[p.id] = b
                elif b is None:
                    rec.item(p.sku, ItemOutcome.FAILED.value, result.message)
                    continue
                self._record(b, result, synced_quantity=figures[p.id], synced_hash=digest,
                             created=result.created)
            db.session.flush()

    def _record(self, b: ProductBinding, result, synced_quantity: int,
                synced_hash: str | None = None, created: bool = False,
                message: str | None = None) -> None:
        now = utcnow()
        if result.ok:
            b.synced_quantity, b.synced_at, b.last_error = synced_quantity, now, None
            if synced_hash:
                b.synced_hash = synced_hash
            outcome = ItemOutcome.CREATED.value if created else ItemOutcome.UPDATED.value
            self.ctx.recorder.item(result.ref, outcome, message)
        else:
            b.last_error, b.last_error_at = result.message, now
            self.ctx.recorder.item(result.ref, ItemOutcome.FAILED.value, result.message)
