"""Catalogue state and rules of the WooCommerce emulator: products, variations, categories.

Plain Python behind one lock, no HTTP here (woocommerce.py serves it, orders live in
woocommerce_orders.py). Rules follow WooCommerce
REST v3: money as strings, SKU unique across products and variations, stock only when managed,
batch items answered in place, date_modified_gmt advanced on every write.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

FMT = "%Y-%m-%dT%H:%M:%S"


class WooError(Exception):
    """A WooCommerce-shaped error: {"code", "message", "data": {"status"}}."""

    def __init__(self, status: int, code: str, message: str, **data):
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def body(self) -> dict:
        return {"code": self.code, "message": self.message,
                "data": {"status": self.status, **self.data}}


def clone(obj):
    """Copy of JSON-shaped data (dicts, lists, scalars); much faster than copy.deepcopy."""
    if isinstance(obj, dict):
        return {key: clone(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [clone(value) for value in obj]
    return obj


def invalid_param(name: str, reason: str) -> WooError:
    return WooError(400, "rest_invalid_param", f"Invalid parameter(s): {name}",
                    params={name: reason})


def _money(value, name: str) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):  # WP REST schema type "string" rejects numbers
        raise invalid_param(name, f"{name} is not of type string.")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise invalid_param(name, f"{name} is not a valid price.") from None
    if amount < 0:
        raise invalid_param(name, f"{name} must not be negative.")
    return value


class WooStore:
    """The shop's data. Every public method takes the lock; callers get copies."""

    def __init__(self, batch_limit: int = 100, utc_offset_hours: float = 2.0):
        self.lock = threading.RLock()
        self.batch_limit = batch_limit
        self.utc_offset = timedelta(hours=utc_offset_hours)
        self.clock_offset = timedelta(0)
        self._next_id = 100  # products, variations and orders share WordPress post ids
        self.products: dict[int, dict] = {}  # products and variations (parent_id > 0)
        self.skus: dict[str, int] = {}
        self.categories: dict[int, dict] = {}

    # -- time -------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.utcnow().replace(microsecond=0) + self.clock_offset

    def _stamp(self, obj: dict, *names: str) -> None:
        now = self.now()
        for name in names:
            obj[f"date_{name}_gmt"] = now.strftime(FMT)
            obj[f"date_{name}"] = (now + self.utc_offset).strftime(FMT)

    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    # -- categories -------------------------------------------------------------------------
    def create_category(self, data: dict) -> dict:
        name = (data.get("name") or "").strip()
        if not name:
            raise invalid_param("name", "name is required.")
        with self.lock:
            for cat in self.categories.values():
                if cat["name"].lower() == name.lower():
                    raise WooError(400, "term_exists", "A term with the name provided already "
                                   "exists with this parent.", resource_id=cat["id"])
            cat = {"id": self.new_id(), "name": name, "slug": name.lower().replace(" ", "-"),
                   "parent": 0, "count": 0}
            self.categories[cat["id"]] = cat
            return dict(cat)

    # -- products ---------------------------------------------------------------------------
    def get_product(self, pid: int, parent: int | None = None) -> dict:
        with self.lock:
            prod = self.products.get(pid)
            if prod is None or (parent is not None and prod["parent_id"] != parent):
                code = "woocommerce_rest_product_invalid_id" if parent is None else \
                    "woocommerce_rest_product_variation_invalid_id"
                raise WooError(404 if parent is None else 400, code, "Invalid ID.")
            return clone(prod)

    def list_products(self, parent: int | None = None) -> list[dict]:
        with self.lock:
            if parent is not None:
                self.get_product(parent)
                return [clone(p) for p in self.products.values()
                        if p["parent_id"] == parent]
            return [clone(p) for p in self.products.values() if p["type"] != "variation"]

    def save_product(self, data: dict, pid: int | None = None, parent: int | None = None) -> dict:
        """Create (pid None) or update one product or variation; raise WooError when invalid."""
        with self.lock:
            if pid is not None:
                current = self.products.get(pid)
                if current is None or (parent is not None and current["parent_id"] != parent):
                    raise WooError(400, "woocommerce_rest_product_invalid_id", "Invalid ID.")
                prod = clone(current)
            else:
                if parent is not None:
                    self.get_product(parent)
                elif not (data.get("name") or "").strip():
                    raise invalid_param("name", "name must not be empty.")
                prod = self._blank(parent)
            self._apply(prod, data)
            sku = prod["sku"]
            owner = self.skus.get(sku) if sku else None
            if owner is not None and owner != prod["id"]:
                raise WooError(400, "product_invalid_sku", "Invalid or duplicated SKU.",
                               resource_id=owner, unique_sku=sku)
            old = self.products.get(prod["id"])
            if old and old["sku"] and old["sku"] != sku:
                self.skus.pop(old["sku"], None)
            if sku:
                self.skus[sku] = prod["id"]
            self._stamp(prod, "modified")
            self.products[prod["id"]] = prod
            if parent is not None and prod["id"] not in self.products[parent]["variations"]:
                self.products[parent]["variations"].append(prod["id"])
                self._stamp(self.products[parent], "modified")
            return clone(prod)

    def _blank(self, parent: int | None) -> dict:
        prod = {"id": self.new_id(), "name": "", "slug": "", "type": "simple",
                "status": "publish", "sku": "", "description": "", "short_description": "",
                "price": "", "regular_price": "", "sale_price": "", "on_sale": False,
                "manage_stock": False, "stock_quantity": None, "stock_status": "instock",
                "backorders": "no", "weight": "", "global_unique_id": "", "categories": [],
                "images": [], "attributes": [], "variations": [], "parent_id": parent or 0,
                "meta_data": []}
        if parent is not None:
            prod.update(type="variation", image=None)
            for key in ("categories", "images", "variations", "slug", "short_description"):
                prod.pop(key)
        self._stamp(prod, "created")
        return prod

    def _apply(self, prod: dict, data: dict) -> None:
        for key in ("name", "type", "status", "sku", "description", "short_description",
                    "weight", "global_unique_id", "backorders"):
            if key in data and key in prod:
                prod[key] = data[key] if data[key] is not None else ""
        for key in ("regular_price", "sale_price"):
            if key in data:
                prod[key] = _money(data[key], key)
        if "manage_stock" in data:
            prod["manage_stock"] = bool(data["manage_stock"])
        if prod["manage_stock"]:
            if data.get("stock_quantity") is not None:
                try:
                    prod["stock_quantity"] = int(data["stock_quantity"])
                except (TypeError, ValueError):
                    raise invalid_param("stock_quantity",
                                        "stock_quantity is not of type integer.") from None
            qty = prod["stock_quantity"] or 0
            prod["stock_status"] = "instock" if qty > 0 else "outofstock"
        else:
            prod["stock_quantity"] = None  # only honoured when stock is managed
        if "categories" in data and "categories" in prod:
            prod["categories"] = [dict(self.categories[c["id"]]) for c in data["categories"]
                                  if c.get("id") in self.categories]
        if "images" in data and "images" in prod:
            prod["images"] = [{"id": img.get("id") or self.new_id(), "src": img.get("src", ""),
                               "name": "", "alt": img.get("alt", "")} for img in data["images"]]
        if "image" in data and "image" in prod:
            img = data["image"]
            prod["image"] = img and {"id": self.new_id(), "src": img.get("src", "")}
        if "attributes" in data:
            prod["attributes"] = clone(data["attributes"])
        if "meta_data" in data:
            prod["meta_data"] = clone(data["meta_data"])
        price = prod["sale_price"] or prod["regular_price"]
        prod["price"], prod["on_sale"] = price, bool(prod["sale_price"])

    def batch(self, data: dict, parent: int | None = None) -> dict:
        """One /batch call: per-item errors in place, HTTP 200 for the whole call."""
        ops = {op: data.get(op) or [] for op in ("create", "update", "delete")}
        if sum(len(v) for v in ops.values()) > self.batch_limit:
            raise WooError(413, "woocommerce_rest_request_entity_too_large",
                           f"Unable to accept more than {self.batch_limit} items for this request.")
        out: dict[str, list] = {}
        for item in ops["create"]:
            out.setdefault("create", []).append(self._batch_item(item, None, parent))
        for item in ops["update"]:
            pid = item.get("id") if isinstance(item, dict) else None
            out.setdefault("update", []).append(self._batch_item(item, pid or 0, parent))
        for pid in ops["delete"]:
            try:
                prod = self.get_product(int(pid), parent)
                with self.lock:
                    del self.products[prod["id"]]
                    self.skus.pop(prod["sku"], None)
                out.setdefault("delete", []).append(prod)
            except WooError as err:
                out.setdefault("delete", []).append({"id": pid, "error": err.body()})
        return out

    def _batch_item(self, item, pid: int | None, parent: int | None) -> dict:
        try:
            if not isinstance(item, dict) or pid == 0:
                raise WooError(400, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            return self.save_product(item, pid, parent)
        except WooError as err:
            return {"id": pid or 0, "error": err.body()}
