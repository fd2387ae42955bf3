"""Order side of the WooCommerce emulator: checkout, order edits, notes and the list filters.

Extends the catalogue store (woocommerce_store.py); no HTTP here. Status changes and edits
advance date_modified_gmt; notes do not (WooCommerce stores them as comments).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .woocommerce_store import FMT, WooError, WooStore, clone, invalid_param


class WooShop(WooStore):
    """The whole shop: catalogue plus orders."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.orders: dict[int, dict] = {}
        self.notes: dict[int, list[dict]] = {}

    def get_order(self, oid: int) -> dict:
        with self.lock:
            if oid not in self.orders:
                raise WooError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            return clone(self.orders[oid])

    def update_order(self, oid: int, data: dict) -> dict:
        with self.lock:
            order = self.orders.get(oid)
            if order is None:
                raise WooError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            status = data.get("status")
            if status and status != order["status"]:
                order["status"] = status
                if status in ("processing", "completed") and not order["date_paid_gmt"]:
                    self._stamp(order, "paid")
                if status == "completed":
                    self._stamp(order, "completed")
            for meta in data.get("meta_data") or []:
                found = [m for m in order["meta_data"] if m["key"] == meta["key"]]
                if found:
                    found[0]["value"] = meta["value"]
                else:
                    order["meta_data"].append({"id": self.new_id(), **meta})
            for key in ("customer_note", "billing", "shipping", "transaction_id"):
                if key in data:
                    order[key] = clone(data[key])
            self._stamp(order, "modified")
            return clone(order)

    def add_note(self, oid: int, data: dict) -> dict:
        with self.lock:
            self.get_order(oid)
            if not data.get("note"):
                raise WooError(400, "rest_missing_callback_param", "Missing parameter(s): note",
                               params=["note"])
            note = {"id": self.new_id(), "author": "WooCommerce", "note": data["note"],
                    "customer_note": bool(data.get("customer_note")),
                    "date_created_gmt": self.now().strftime(FMT)}
            self.notes.setdefault(oid, []).append(note)  # a note does not re-save the order
            return dict(note)

    def place_order(self, lines, status: str = "processing", billing: dict | None = None,
                    shipping_total: str = "10.00", tax_rate: str = "0.20",
                    currency: str = "EUR", payment_method: str = "bacs") -> dict:
        """What checkout does: lines [(sku, qty)], stock lowered when managed, dates set."""
        cent, rate = Decimal("0.01"), Decimal(tax_rate)
        with self.lock:
            items, subtotal, tax = [], Decimal(0), Decimal(0)
            for sku, qty in lines:
                prod = self.products[self.skus[sku]]
                price = Decimal(prod["price"] or "0")
                total = (price * qty).quantize(cent)
                line_tax = (total * rate).quantize(cent)
                subtotal, tax = subtotal + total, tax + line_tax
                if prod["manage_stock"]:
                    prod["stock_quantity"] -= qty
                    prod["stock_status"] = "instock" if prod["stock_quantity"] > 0 else "outofstock"
                    self._stamp(prod, "modified")
                variation = prod["type"] == "variation"
                items.append({
                    "id": self.new_id(), "name": prod["name"], "quantity": qty,
                    "product_id": prod["parent_id"] if variation else prod["id"],
                    "variation_id": prod["id"] if variation else 0, "tax_class": "",
                    "subtotal": str(total), "subtotal_tax": str(line_tax), "total": str(total),
                    "total_tax": str(line_tax),
                    "taxes": [{"id": 1, "total": str(line_tax), "subtotal": str(line_tax)}],
                    "sku": sku, "price": float(price), "meta_data": []})
            ship = Decimal(shipping_total)
            oid = self.new_id()
            address = billing or {"first_name": "John", "last_name": "Doe", "company": "",
                                  "address_1": "969 Market", "address_2": "",
                                  "city": "San Francisco", "state": "CA", "postcode": "94103",
                                  "country": "US", "email": "john.doe@example.com",
                                  "phone": "(555) 555-5555"}
            order = {
                "id": oid, "parent_id": 0, "number": str(oid), "order_key": f"wc_order_{oid:x}",
                "created_via": "checkout", "status": status, "currency": currency,
                "prices_include_tax": False, "date_paid": None, "date_paid_gmt": None,
                "date_completed": None, "date_completed_gmt": None,
                "discount_total": "0.00", "discount_tax": "0.00",
                "shipping_total": str(ship.quantize(cent)), "shipping_tax": "0.00",
                "cart_tax": str(tax), "total": str((subtotal + ship + tax).quantize(cent)),
                "total_tax": str(tax), "customer_id": 0, "customer_note": "",
                "billing": dict(address),
                "shipping": {k: v for k, v in address.items() if k != "email"},
                "payment_method": payment_method, "payment_method_title": "Direct Bank Transfer",
                "transaction_id": "", "line_items": items,
                "tax_lines": [{"id": self.new_id(), "rate_code": "VAT", "rate_id": 1,
                               "label": "VAT", "compound": False, "tax_total": str(tax),
                               "shipping_tax_total": "0.00"}],
                "shipping_lines": [{"id": self.new_id(), "method_title": "Flat Rate",
                                    "method_id": "flat_rate", "total": str(ship.quantize(cent)),
                                    "total_tax": "0.00", "taxes": []}],
                "fee_lines": [], "coupon_lines": [], "refunds": [], "meta_data": []}
            self._stamp(order, "created", "modified")
            if status in ("processing", "completed"):
                self._stamp(order, "paid")
            self.orders[oid] = order
            return clone(order)

    def query_orders(self, params: dict) -> list[dict]:
        """GET /orders filtering and sorting (pagination is the server's job)."""
        gmt = str(params.get("dates_are_gmt", "")).lower() in ("1", "true")
        suffix = "_gmt" if gmt else ""
        bounds = []
        for name, field, after in (("modified_after", "date_modified", True),
                                   ("modified_before", "date_modified", False),
                                   ("after", "date_created", True),
                                   ("before", "date_created", False)):
            if params.get(name):
                try:
                    when = datetime.fromisoformat(params[name].replace("Z", "+00:00"))
                except ValueError:
                    raise invalid_param(name, f"{name} is not a valid date.") from None
                bounds.append((field + suffix, when.replace(tzinfo=None), after))
        statuses = [s for s in (params.get("status") or "any").split(",") if s]
        orderby = params.get("orderby", "date")
        if orderby not in ("date", "id", "include", "title", "slug"):
            raise invalid_param("orderby", "orderby is not one of date, id, include, title, slug.")
        with self.lock:
            found = []
            for order in self.orders.values():
                if "any" in statuses:
                    if order["status"] in ("trash", "checkout-draft"):
                        continue
                elif order["status"] not in statuses:
                    continue
                stamps = [(datetime.strptime(order[f], FMT), when, after)
                          for f, when, after in bounds]
                # WP_Date_Query 'after'/'before' are exclusive unless 'inclusive' is set
                if all((s > w) if after else (s < w) for s, w, after in stamps):
                    found.append(clone(order))
        key = (lambda o: o["id"]) if orderby == "id" else (lambda o: o["date_created_gmt"])
        found.sort(key=key, reverse=params.get("order", "desc") == "desc")
        return found
