"""Route table of the WooCommerce emulator: /wp-json/wc/v3 paths -> shop calls.

Each handler takes (emulator, query, body, *path ids) and returns (status, json, headers);
errors are raised as WooError. Filters follow the REST v3 list parameters.
"""
from __future__ import annotations

from .woocommerce_store import WooError

ALL_WRITES = ("POST", "PUT", "PATCH")


def _need_dict(body) -> dict:
    if not isinstance(body, dict):
        raise WooError(400, "rest_invalid_json", "Invalid JSON body passed.")
    return body


def system_status(emu, query, body):
    return 200, {
        "environment": {"home_url": emu.url, "site_url": emu.url, "version": emu.version,
                        "wp_version": "6.6.2", "wp_multisite": False, "php_version": "8.2.20",
                        "max_upload_size": 67108864, "default_timezone": "UTC"},
        "database": {"wc_database_version": emu.version},
        "active_plugins": [], "theme": {"name": "Storefront"},
        "settings": {"api_enabled": True, "currency": "EUR", "currency_symbol": "&euro;"},
        "security": {"secure_connection": emu.url.startswith("https")}}, {}


def list_products(emu, query, body, parent=None):
    items = emu.shop.list_products(parent)
    if query.get("sku"):
        skus = query["sku"].split(",")
        if len(skus) > 1:
            skus.append(query["sku"])  # WooCommerce also tries the whole string as one SKU
        items = [p for p in items if p["sku"] in skus]
    if query.get("type"):
        items = [p for p in items if p["type"] == query["type"]]
    if query.get("include"):
        wanted = {int(i) for i in query["include"].split(",") if i}
        items = [p for p in items if p["id"] in wanted]
    items.sort(key=lambda p: (p["date_created_gmt"], p["id"]),
               reverse=query.get("order", "desc") == "desc")
    path = f"/products/{parent}/variations" if parent else "/products"
    return emu.paginate(items, query, path)


def create_product(emu, query, body, parent=None):
    return 201, emu.shop.save_product(_need_dict(body), None, parent), {}


def get_product(emu, query, body, pid, vid=None):
    if vid is not None:
        return 200, emu.shop.get_product(vid, pid), {}
    return 200, emu.shop.get_product(pid), {}


def update_product(emu, query, body, pid, vid=None):
    if vid is not None:
        return 200, emu.shop.save_product(_need_dict(body), vid, pid), {}
    return 200, emu.shop.save_product(_need_dict(body), pid), {}


def batch_products(emu, query, body, parent=None):
    return 200, emu.shop.batch(_need_dict(body), parent), {}


def list_categories(emu, query, body):
    with emu.shop.lock:
        items = sorted(emu.shop.categories.values(), key=lambda c: c["name"])
    if query.get("search"):
        items = [c for c in items if query["search"].lower() in c["name"].lower()]
    return emu.paginate([dict(c) for c in items], query, "/products/categories")


def create_category(emu, query, body):
    return 201, emu.shop.create_category(_need_dict(body)), {}


def list_orders(emu, query, body):
    return emu.paginate(emu.shop.query_orders(query), query, "/orders")


def get_order(emu, query, body, oid):
    return 200, emu.shop.get_order(oid), {}


def update_order(emu, query, body, oid):
    return 200, emu.shop.update_order(oid, _need_dict(body)), {}


def list_notes(emu, query, body, oid):
    emu.shop.get_order(oid)
    with emu.shop.lock:
        return 200, [dict(n) for n in emu.shop.notes.get(oid, [])], {}


def add_note(emu, query, body, oid):
    return 201, emu.shop.add_note(oid, _need_dict(body)), {}


ROUTES = [
    (("GET",), r"/system_status", system_status),
    (("GET",), r"/products", list_products),
    (("POST",), r"/products", create_product),
    (ALL_WRITES, r"/products/batch", batch_products),
    (("GET",), r"/products/categories", list_categories),
    (("POST",), r"/products/categories", create_category),
    (("GET",), r"/products/(\d+)", get_product),
    (ALL_WRITES, r"/products/(\d+)", update_product),
    (("GET",), r"/products/(\d+)/variations", list_products),
    (("POST",), r"/products/(\d+)/variations", create_product),
    (ALL_WRITES, r"/products/(\d+)/variations/batch", batch_products),
    (("GET",), r"/products/(\d+)/variations/(\d+)", get_product),
    (ALL_WRITES, r"/products/(\d+)/variations/(\d+)", update_product),
    (("GET",), r"/orders", list_orders),
    (("GET",), r"/orders/(\d+)", get_order),
    (ALL_WRITES, r"/orders/(\d+)", update_order),
    (("GET",), r"/orders/(\d+)/notes", list_notes),
    (("POST",), r"/orders/(\d+)/notes", add_note),
]
