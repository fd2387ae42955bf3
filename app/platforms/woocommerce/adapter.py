"""WooCommerceAdapter: the hub's StoreAdapter interface spoken to a WooCommerce shop.

Decides which REST calls to make (SKU lookups before creating, batches of at most 100, several
in flight) and turns answers into ItemResults and OrderPages. HTTP and retries live in
client.py, payload shapes in mapping.py; no Flask, no database here.
"""
from __future__ import annotations

import html
import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime

from ..base import StoreAdapter
from ..errors import AuthError, ItemError, PlatformError
from ..records import ExportItem, ItemResult, OrderPage, OrderRecord, QuantityUpdate
from .client import BATCH_LIMIT, WooCommerceClient, WooCommerceError, fan_out
from .mapping import (format_gmt, item_result, lacks_options, link_of, merge_attributes,
                      order_record, product_payload, variant_options, variation_payload)

log = logging.getLogger(__name__)
SKU_LOOKUP_CHUNK = 40  # SKUs per GET /products?sku=a,b,… (keeps the URL short)
SIMPLE_BATCH = "/products/batch"  # simple products; variations go to their parent's route


def _field(name: str, label: str, kind: str, required: bool = False, secret: bool = False,
           **extra) -> dict:
    return {"name": name, "label": label, "type": kind, "required": required,
            "secret": secret, **extra}


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class WooCommerceAdapter(StoreAdapter):
    key = "woocommerce"
    label = "WooCommerce"
    node_kind = "store"
    quantity_batch_size = BATCH_LIMIT
    settings_fields = [  # rendered by the portal; secret ones are stored as credentials
        _field("url", "Shop URL (https://…)", "url", required=True),
        _field("consumer_key", "Consumer key (ck_…)", "text", required=True, secret=True),
        _field("consumer_secret", "Consumer secret (cs_…)", "password", required=True,
               secret=True),
        _field("concurrency", "Requests in flight", "int", default=4),
        _field("export_mark", "When an order reaches the ERP", "choice", default="note",
               choices=["note", "none", "processing", "on-hold", "completed"]),
        _field("tracking_status", "Order status when tracking is sent", "choice",
               default="completed", choices=["completed", "none"]),
        _field("timeout", "Timeout per request (seconds)", "int", default=30),
        _field("query_string_auth", "Send keys in the query string", "bool", default=False),
        _field("update_images", "Re-send images on every update", "bool", default=False),
    ]

    def __init__(self, settings: dict, credentials: dict, *,
                 client: WooCommerceClient | None = None, **context):
        # **context: node facts the engine passes (node_id, account_id); not needed here
        super().__init__(settings, credentials)
        s = self.settings
        self.concurrency = max(1, int(s.get("concurrency") or 4))
        self.export_mark = str(s.get("export_mark") or "note").strip()
        self.tracking_status = str(s.get("tracking_status") or "completed").strip()
        self.update_images = bool(s.get("update_images", False))
        self.product_status = s.get("product_status") or "publish"
        self.batch_size = min(BATCH_LIMIT, int(s.get("batch_size") or BATCH_LIMIT))
        self.client = client or WooCommerceClient(
            s.get("url"), self.credentials.get("consumer_key"),
            self.credentials.get("consumer_secret"), timeout=float(s.get("timeout") or 30),
            retries=int(s.get("retries", 4)), backoff=float(s.get("backoff", 0.5)),
            backoff_cap=float(s.get("backoff_cap", 30)),
            query_string_auth=bool(s.get("query_string_auth", False)))
        self._categories: dict[str, int] | None = None
        self._variation_index: dict[str, tuple[str, str]] | None = None

    def close(self) -> None:
        self.client.close()

    # -- connection ---------------------------------------------------------------------------
    def test_connection(self) -> dict:
        env = (self.client.get("/system_status") or {}).get("environment") or {}
        facts = {"url": self.client.store_url, "version": env.get("version"),
                 "wordpress_version": env.get("wp_version"), "can_read": True,
                 "can_write": True}
        try:
            self.client.post("/products/batch", {})  # an empty batch writes nothing
        except AuthError as exc:
            facts.update(can_write=False, message=str(exc))
        return facts

    # -- catalogue lookups --------------------------------------------------------------------
    def _lookup(self, skus) -> dict[str, dict]:
        """SKU -> product (simple or parent) found with GET /products?sku=…; full payloads."""
        wanted = [s for s in dict.fromkeys(skus) if s]
        jobs = [[s] for s in wanted if "," in s]
        jobs += _chunks([s for s in wanted if "," not in s], SKU_LOOKUP_CHUNK)
        found: dict[str, dict] = {}

        def fetch(chunk):
            return self.client.all("/products", {"sku": ",".join(chunk)})

        for products in fan_out(fetch, jobs, self.concurrency):
            found.update({p["sku"]: p for p in products if p.get("sku") in wanted})
        return found

    def _variations(self, parent_id) -> dict[str, int]:
        items = self.client.all(f"/products/{parent_id}/variations", {"_fields": "id,sku"})
        return {v["sku"]: v["id"] for v in items if v.get("sku")}

    def find_products(self, skus: list[str]) -> dict[str, tuple[str, str | None]]:
        found = {sku: link_of(p) for sku, p in self._lookup(skus).items()}
        missing = [s for s in skus if s and s not in found]
        if missing and self._variation_index is None:
            # /products does not list variations: index every variable parent's, once per
            # adapter (the engine asks chunk by chunk within one step)
            parents = self.client.all("/products", {"type": "variable",
                                                    "_fields": "id,sku,variations"})
            parent_ids = [p["id"] for p in parents if p.get("variations")]
            lists = fan_out(self._variations, parent_ids, self.concurrency)
            self._variation_index = {sku: (str(vid), str(pid))
                                     for pid, variations in zip(parent_ids, lists)
                                     for sku, vid in variations.items()}
        found.update({s: self._variation_index[s] for s in missing
                      if s in (self._variation_index or {})})
        return found

    def _category_ids(self, names) -> dict[str, int]:
        if self._categories is None:
            self._categories = {html.unescape(c["name"]).lower(): c["id"]
                                for c in self.client.all("/products/categories")}
        for name in names:
            if name.lower() in self._categories:
                continue
            try:
                self._categories[name.lower()] = self.client.post(
                    "/products/categories", {"name": name})["id"]
            except WooCommerceError as exc:
                if exc.code == "term_exists" and exc.data.get("resource_id"):
                    self._categories[name.lower()] = exc.data["resource_id"]
                else:
                    log.warning("WooCommerce category %r not created: %s", name, exc)
        return self._categories

    # -- writing products ---------------------------------------------------------------------
    def _send(self, job) -> tuple[str, str, list, list[dict]]:
        path, op, chunk = job
        try:
            answers = self.client.batch(path, op, [payload for _, _, payload in chunk])
        except WooCommerceError as exc:  # the whole request was refused: every item fails
            answers = [{"error": {"code": exc.code, "message": str(exc)}}] * len(chunk)
        return path, op, chunk, answers

    def _write(self, groups, results: list, relookup) -> dict[str, dict]:
        """groups: [(path, creates, updates)], entries (index|None, sku, payload).

        Fills results[index]; returns sku -> saved payload. A create refused as a duplicate SKU
        (e.g. an earlier attempt timed out after WooCommerce saved it) is looked up and updated.
        """
        jobs = [(path, op, chunk) for path, creates, updates in groups
                for op, entries in (("create", creates), ("update", updates))
                for chunk in _chunks(entries, self.batch_size)]
        saved: dict[str, dict] = {}
        duplicates: dict[str, list] = {}
        try:
            outcomes = fan_out(self._send, jobs, self.concurrency)
        except PlatformError as exc:  # hand the caller what did get through
            exc.partial_results = [item_result(sku, answer, op == "create")
                                   for _, op, chunk, answers in getattr(exc, "finished", [])
                                   for (_, sku, _), answer in zip(chunk, answers)]
            raise
        for path, op, chunk, answers in outcomes:
            for (index, sku, payload), answer in zip(chunk, answers):
                code = (answer.get("error") or {}).get("code")
                if op == "create" and code == "product_invalid_sku" and relookup:
                    duplicates.setdefault(path, []).append((index, sku, payload, answer))
                    continue
                if "error" not in answer:
                    saved[sku] = answer
                if index is not None:
                    results[index] = item_result(sku, answer, created=op == "create")
        retry_groups = []
        for path, entries in duplicates.items():
            known = relookup(path, [sku for _, sku, _, _ in entries])
            updates = []
            for index, sku, payload, answer in entries:
                if sku in known:
                    payload = {k: v for k, v in payload.items() if k not in ("images", "image")}
                    updates.append((index, sku, {**payload, "id": known[sku]}))
                elif index is not None:  # the SKU belongs to some other product or variation
                    results[index] = item_result(sku, answer, created=False)
            retry_groups.append((path, [], updates))
        if retry_groups:
            saved.update(self._write(retry_groups, results, None))
            for _, _, updates in retry_groups:  # not there when this call began: ours
                for index, _, _ in updates:
                    if index is not None and results[index].ok:
                        results[index].created = True
        return saved

    def upsert_products(self, items: list[ExportItem]) -> list[ItemResult]:
        results: list[ItemResult | None] = [None] * len(items)
        top = [(i, it.record) for i, it in enumerate(items) if not it.record.parent_sku]
        kids = [(i, it) for i, it in enumerate(items) if it.record.parent_sku]
        top_skus = {rec.sku for _, rec in top}
        options = variant_options([it.record for _, it in kids])
        existing = self._lookup([rec.sku for _, rec in top] + list(options))
        categories = self._category_ids({rec.category for _, rec in top if rec.category})
        creates, updates = [], []
        for index, rec in top:
            current = existing.get(rec.sku)
            variable = rec.sku in options or bool(current and current.get("type") == "variable")
            attributes = None
            if variable or rec.attributes:
                attributes = merge_attributes((current or {}).get("attributes") or [],
                                              rec.attributes, options.get(rec.sku, {}))
            category = categories.get((rec.category or "").lower())
            payload = product_payload(
                rec, variable=variable, create=current is None,
                category_ids=[category] if category else [], attributes=attributes,
                with_images=current is None or self.update_images, status=self.product_status)
            if current:
                updates.append((index, rec.sku, {**payload, "id": current["id"]}))
            else:
                creates.append((index, rec.sku, payload))
        for parent_sku in set(options) - top_skus:  # parent not sent: still add new options
            current = existing.get(parent_sku)
            if current and lacks_options(current.get("attributes") or [], options[parent_sku]):
                merged = merge_attributes(current.get("attributes") or [], {}, options[parent_sku])
                updates.append((None, parent_sku, {"id": current["id"], "type": "variable",
                                                   "attributes": merged}))
        saved = self._write([("/products/batch", creates, updates)], results,
                            lambda path, skus: {s: p["id"] for s, p in self._lookup(skus).items()})
        self._upsert_variations(kids, saved, existing, top_skus, results)
        return results

    def _upsert_variations(self, kids, saved, existing, top_skus, results) -> None:
        by_parent: dict[int, list] = {}
        for index, item in kids:
            parent_sku = item.record.parent_sku
            parent = saved.get(parent_sku) or existing.get(parent_sku)
            parent_id = parent["id"] if parent else None
            if parent_id is None and parent_sku not in top_skus and \
                    str(item.external_parent_id or "").isdigit():
                parent_id = int(item.external_parent_id)
            if parent_id is None:
                why = "was not saved" if parent_sku in top_skus else "is not on the shop"
                results[index] = ItemResult(item.record.sku, False,
                                            message=f"parent product {parent_sku} {why}")
            else:
                by_parent.setdefault(parent_id, []).append((index, item))
        parent_ids = list(by_parent)
        groups = []
        lists = fan_out(self._variations, parent_ids, self.concurrency)
        for parent_id, known in zip(parent_ids, lists):
            creates, updates = [], []
            for index, item in by_parent[parent_id]:
                rec = item.record
                vid = known.get(rec.sku)
                payload = variation_payload(rec, with_images=vid is None or self.update_images)
                if vid:
                    updates.append((index, rec.sku, {**payload, "id": vid}))
                else:
                    creates.append((index, rec.sku, payload))
            groups.append((f"/products/{parent_id}/variations/batch", creates, updates))
        self._write(groups, results,
                    lambda path, skus: self._variations(path.split("/")[2]))

    # -- quantities ---------------------------------------------------------------------------
    @staticmethod
    def _quantity_entry(update: QuantityUpdate) -> tuple[str, dict]:
        """(batch route, update object); raises ValueError/TypeError for a non-WooCommerce id."""
        path = (f"/products/{int(update.external_parent_id)}/variations/batch"
                if update.external_parent_id else SIMPLE_BATCH)
        return path, {"id": int(update.external_id), "manage_stock": True,
                      "stock_quantity": int(update.quantity)}

    @staticmethod
    def _bad_id(update: QuantityUpdate) -> ItemResult:
        return ItemResult(update.sku, False, message=(
            f"not a WooCommerce id: {update.external_id!r} (parent {update.external_parent_id!r})"))

    def set_quantities(self, updates: list[QuantityUpdate]) -> list[ItemResult]:
        results: list[ItemResult | None] = [None] * len(updates)
        groups: dict[str, list] = {}
        for index, update in enumerate(updates):
            try:
                path, payload = self._quantity_entry(update)
            except (TypeError, ValueError):
                results[index] = self._bad_id(update)
                continue
            groups.setdefault(path, []).append((index, update.sku, payload))
        self._write([(path, [], entries) for path, entries in groups.items()], results, None)
        return results

    def set_quantities_stream(self, chunks: Iterable[list[QuantityUpdate]]
                              ) -> Iterator[list[ItemResult]]:
        """Batches of `batch_size` with `concurrency` requests in flight for the whole stream.

        A batch fills across the engine's chunks (no half-empty request at a chunk's end), the
        next batch goes out as soon as a slot is free, and each batch's results are yielded as
        it lands, so the engine reads and records while requests travel. A final error
        (RetryLaterError, AuthError) propagates; batches already yielded stay yielded.
        """
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        pending: set[Future] = set()
        filling: dict[str, list] = {}  # route -> (None, sku, payload) entries not sent yet
        window = 2 * self.concurrency  # sent or queued batches before we stop reading ahead

        def send(path: str) -> None:
            pending.add(pool.submit(self._send, (path, "update", filling.pop(path))))

        try:
            for chunk in chunks:
                refused = []
                for update in chunk:
                    try:
                        path, payload = self._quantity_entry(update)
                    except (TypeError, ValueError):
                        refused.append(self._bad_id(update))
                        continue
                    batch = filling.setdefault(path, [])
                    batch.append((None, update.sku, payload))
                    if len(batch) >= self.batch_size:
                        send(path)
                if refused:
                    yield refused
                for path in [p for p in filling if p != SIMPLE_BATCH]:
                    send(path)  # one parent's variations rarely fill a batch: do not hold them
                while len(pending) >= window:
                    yield from self._landed(pending, block=True)
                yield from self._landed(pending, block=False)
            for path in list(filling):
                send(path)
            while pending:
                yield from self._landed(pending, block=True)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _landed(pending: set[Future], block: bool) -> Iterator[list[ItemResult]]:
        done, _ = wait(pending, timeout=None if block else 0, return_when=FIRST_COMPLETED)
        for future in done:
            pending.discard(future)
            _, _, chunk, answers = future.result()  # raises the batch's final PlatformError
            yield [item_result(sku, answer, created=False)
                   for (_, sku, _), answer in zip(chunk, answers)]

    # -- orders -------------------------------------------------------------------------------
    def fetch_orders(self, modified_since: datetime | None) -> Iterator[OrderPage]:
        """Pages of orders modified after `modified_since` (WooCommerce's bound is exclusive,
        whole seconds: the engine's overlap window covers the edge). Sorted by id ascending,
        which is creation order with no ties, so offset pages stay stable while we read."""
        params = {"orderby": "id", "order": "asc", "dates_are_gmt": "true"}
        if modified_since is not None:
            params["modified_after"] = format_gmt(modified_since)
        for items, page, total_pages in self.client.pages("/orders", params):
            yield OrderPage([order_record(raw) for raw in items], has_more=page < total_pages)

    def _order_call(self, order: OrderRecord, method: str, path: str, body: dict) -> None:
        try:
            self.client.request(method, f"/orders/{int(order.external_id)}{path}", json=body)
        except WooCommerceError as exc:
            raise ItemError(order.number, str(exc)) from exc

    def mark_exported(self, order: OrderRecord, erp_ref: str | None) -> None:
        mark = self.export_mark
        if mark in ("", "none"):
            return
        if mark == "note":
            text = f"Sent to the ERP as {erp_ref}." if erp_ref else "Sent to the ERP."
            self._order_call(order, "POST", "/notes", {"note": text, "customer_note": False})
        else:
            body: dict = {"status": mark}
            if erp_ref:
                body["meta_data"] = [{"key": "_ponte_erp_ref", "value": erp_ref}]
            self._order_call(order, "PUT", "", body)

    def send_tracking(self, order: OrderRecord, carrier: str, number: str) -> None:
        self._order_call(order, "POST", "/notes", {
            "note": f"Shipped with {carrier}, tracking number {number}.", "customer_note": True})
        if self.tracking_status not in ("", "none"):
            self._order_call(order, "PUT", "", {"status": self.tracking_status})
