"""ProductExport (hub -> store): send each store only what differs from its binding.

Quantity mode sends available-to-sell (sync/stock.py) for SKUs whose figure differs from what
that store was last sent; full mode sends the whole product when its content or quantity
changed, creating what the store lacks. Unbound SKUs are first looked up on the store by SKU,
so a store that already has the catalogue is linked, not duplicated.
Quantity mode streams: it reads plain rows chunk by chunk and hands the changed figures to the
adapter as a stream, so the store's requests stay in flight while the next chunk is read and
the last results are written.
"""
from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from operator import itemgetter

import sqlalchemy as sa

from app.extensions import db
from app.models import ItemOutcome, Product, ProductBinding, StockEvent, utcnow
from app.platforms.records import ExportItem, ProductRecord, QuantityUpdate
from app.sync.stock import ChannelRules, available, outstanding_by_sku

CHUNK = 1000
_BINDINGS = ProductBinding.__table__
_AT = sa.bindparam("at", type_=_BINDINGS.c.synced_at.type)
SYNCED = _BINDINGS.update().where(_BINDINGS.c.id == sa.bindparam("b_id")).values(
    synced_quantity=sa.bindparam("q"), synced_at=_AT, last_error=sa.null(), updated_at=_AT)
REFUSED = _BINDINGS.update().where(_BINDINGS.c.id == sa.bindparam("b_id")).values(
    last_error=sa.bindparam("error"), last_error_at=_AT, updated_at=_AT)
PUBLISHED = StockEvent.__table__.insert().values(  # the stock history: what a channel was sent
    account_id=sa.bindparam("account_id"), node_id=sa.bindparam("node_id"),
    run_id=sa.bindparam("run_id"), kind=sa.bindparam("kind"),
    product_id=sa.bindparam("product_id"), quantity=sa.bindparam("q"),
    previous=sa.bindparam("was"),
    created_at=sa.bindparam("at", type_=StockEvent.__table__.c.created_at.type))
_COMPILED: dict = {}
UPDATED, FAILED = ItemOutcome.UPDATED.value, ItemOutcome.FAILED.value


def run_many(statement, rows: list[dict], shared: dict) -> None:
    """`statement` once per row, as one executemany at the driver level.

    Compiled once per dialect; `shared` values (the same in every row, e.g. the batch's time)
    are converted by their column types once, and rows carry plain ints and strings. Core's
    executemany would convert every value of every row: more CPU than the HTTP request the
    rows record, while the engine's thread shares the interpreter with requests in flight.
    """
    conn = db.session.connection()
    compiled = _COMPILED.get((statement, conn.dialect.name))
    if compiled is None:
        compiled = _COMPILED[statement, conn.dialect.name] = statement.compile(
            dialect=conn.dialect)
    shared = {name: _driver_value(compiled, name, value, conn.dialect)
              for name, value in shared.items()}
    names = compiled.positiontup
    if names:  # qmark/format drivers (SQLite) take tuples in bind order
        in_order = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        params = [in_order({**shared, **row}) for row in rows]
    else:
        params = [{**shared, **row} for row in rows]
    conn.exec_driver_sql(compiled.string, params)


def _driver_value(compiled, name: str, value, dialect):
    process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process else value


@contextmanager
def no_full_collections():
    """No full garbage collection while requests are in flight; the young ones still run.

    A full collection walks every object of the worker (~140k: the app, SQLAlchemy, modules)
    holding the GIL for ~80 ms here, twice or so per 10k changes: every request in flight
    waits that long for its answer to be read. The step's own garbage is freed by reference
    counting and the young collections; the next full collection after the step sees the rest.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], 1 << 30)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def chunk_sizes(adapter) -> tuple[int, int]:
    """(first, next) products per read: whole rounds of the adapter's batches in flight, so an
    adapter handed one chunk at a time never leaves a request slot idle; about CHUNK, but the
    first read is one round, so the first requests leave sooner."""
    per_round = max(1, adapter.quantity_batch_size * max(1, getattr(adapter, "concurrency", 1)))
    return per_round, per_round * max(1, round(CHUNK / per_round))


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
        if self.full:
            self._run_full()
        else:
            self._run_quantities()
        self.ctx.recorder.flush()

    def _filters(self) -> list:
        where = [Product.account_id == self.account_id, Product.active.is_(True)]
        if not self.full:
            where.append(Product.erp_quantity.is_not(None))
        if self.ctx.only_refs is not None:
            where.append(Product.sku.in_(self.ctx.only_refs or [""]))
        return where

    def _count(self, q) -> None:
        self.ctx.recorder.set_total(db.session.scalar(
            sa.select(sa.func.count()).select_from(q.subquery())))

    def _link_existing(self, unbound: list[tuple[int, str]]) -> dict[int, ProductBinding]:
        """Bind (product id, SKU) pairs the store already has; product id -> new binding."""
        if not unbound:
            return {}
        found = self.ctx.adapter.find_products([sku for _, sku in unbound])
        linked = {}
        for product_id, sku in unbound:
            if sku in found:
                ext, parent_ext = found[sku]
                b = ProductBinding(account_id=self.account_id, node_id=self.node_id,
                                   product_id=product_id, external_id=str(ext),
                                   external_parent_id=parent_ext)
                db.session.add(b)
                linked[product_id] = b
        db.session.flush()
        return linked

    # -- quantity mode ---------------------------------------------------------------------------
    def _run_quantities(self) -> None:
        with no_full_collections():
            self._stream_quantities()

    def _stream_quantities(self) -> None:
        rec = self.ctx.recorder
        sent: dict[str, tuple] = {}  # sku -> (binding id, product id, figure, was)
        event = {"account_id": self.account_id, "node_id": self.node_id,
                 "run_id": self.ctx.run_id, "kind": "published"}
        stream = self.ctx.adapter.set_quantities_stream(self._changed_quantities(sent))
        for results in stream:
            synced, events, failed = [], [], []
            for result in results:
                binding_id, product_id, figure, was = sent.pop(result.ref)
                if result.ok:
                    synced.append({"b_id": binding_id, "q": figure})
                    events.append({"product_id": product_id, "q": figure, "was": was})
                    rec.item(result.ref, UPDATED, f"quantity {was} -> {figure}")
                else:
                    failed.append({"b_id": binding_id, "error": result.message})
                    rec.item(result.ref, FAILED, result.message)
            now = utcnow()
            for statement, rows, shared in ((SYNCED, synced, {"at": now}),
                                            (PUBLISHED, events, {**event, "at": now}),
                                            (REFUSED, failed, {"at": now})):
                if rows:
                    run_many(statement, rows, shared)
            rec.checkpoint()  # the bindings are written with the items that record them

    def _changed_quantities(self, sent: dict) -> Iterator[list[QuantityUpdate]]:
        """Chunks of updates for the SKUs whose available figure differs from the binding's."""
        rec = self.ctx.recorder
        outstanding = outstanding_by_sku(self.account_id)
        b = ProductBinding
        q = (sa.select(Product.id, Product.sku, Product.erp_quantity, b.id, b.synced_quantity,
                       b.external_id, b.external_parent_id)
             .outerjoin(b, sa.and_(b.product_id == Product.id, b.node_id == self.node_id))
             .where(*self._filters()))
        self._count(q)
        (size, next_size), last = chunk_sizes(self.ctx.adapter), 0
        while rows := db.session.execute(
                q.where(Product.id > last).order_by(Product.id).limit(size)).all():
            size, last = next_size, rows[-1][0]
            linked = self._link_existing([(r[0], r[1]) for r in rows if r[3] is None])
            updates = []
            for product_id, sku, erp_quantity, binding_id, synced, ext, parent_ext in rows:
                if binding_id is None:
                    new = linked.get(product_id)
                    if new is None:
                        rec.unchanged()  # not on this store; only full mode creates products
                        continue
                    binding_id, ext, parent_ext = new.id, new.external_id, \
                        new.external_parent_id
                figure = available(erp_quantity, outstanding.get(sku, 0), self.rules)
                if synced == figure:
                    rec.unchanged()
                    continue
                sent[sku] = (binding_id, product_id, figure, synced)
                updates.append(QuantityUpdate(sku, figure, ext, parent_ext))
            yield updates

    # -- full mode -------------------------------------------------------------------------------
    def _run_full(self) -> None:
        outstanding = outstanding_by_sku(self.account_id)
        q = sa.select(Product).where(*self._filters())
        self._count(q)
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
            bindings = self._bindings([p.id for p in products])
            bindings.update(self._link_existing(
                [(p.id, p.sku) for p in products if p.id not in bindings]))
            figures = {p.id: available(p.erp_quantity, outstanding.get(p.sku, 0), self.rules)
                       for p in products}
            self._export_full(products, bindings, figures)
            db.session.flush()        # write the bindings before letting go of them:
            db.session.expunge_all()  # bounded memory over 100k products
            self.ctx.recorder.checkpoint()

    def _bindings(self, product_ids: list[int]) -> dict[int, ProductBinding]:
        return {b.product_id: b for b in db.session.scalars(sa.select(ProductBinding).where(
            ProductBinding.node_id == self.node_id, ProductBinding.product_id.in_(product_ids)))}

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
            if b.synced_quantity != synced_quantity:
                db.session.add(StockEvent(
                    account_id=self.account_id, product_id=b.product_id, node_id=self.node_id,
                    run_id=self.ctx.run_id, kind="published", quantity=synced_quantity,
                    previous=b.synced_quantity, created_at=now))
            b.synced_quantity, b.synced_at, b.last_error = synced_quantity, now, None
            if synced_hash:
                b.synced_hash = synced_hash
            outcome = ItemOutcome.CREATED.value if created else ItemOutcome.UPDATED.value
            self.ctx.recorder.item(result.ref, outcome, message)
        else:
            b.last_error, b.last_error_at = result.message, now
            self.ctx.recorder.item(result.ref, ItemOutcome.FAILED.value, result.message)
