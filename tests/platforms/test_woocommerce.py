"""WooCommerceAdapter over real loopback HTTP against the WooCommerce emulator."""
from __future__ import annotations

import time
from datetime import timezone
from decimal import Decimal

import pytest
import requests

from app.platforms.errors import AuthError, RetryLaterError
from app.platforms.records import ExportItem, OrderRecord, ProductRecord, QuantityUpdate
from app.platforms.woocommerce import WooCommerceAdapter
from app.platforms.woocommerce.mapping import order_record
from tests.emulators.woocommerce import WooCommerceEmulator


@pytest.fixture
def shop():
    with WooCommerceEmulator() as emulator:
        yield emulator


def make_adapter(shop, key=None, secret=None, **settings):
    settings = {"url": shop.url, "timeout": 2, "retries": 3, "backoff": 0.01, **settings}
    return WooCommerceAdapter(settings, {"consumer_key": key or shop.consumer_key,
                                         "consumer_secret": secret or shop.consumer_secret})


@pytest.fixture
def adapter(shop):
    adapter = make_adapter(shop)
    yield adapter
    adapter.close()


def product_count(shop) -> int:
    return len(shop.shop.products)


# -- connection and auth -------------------------------------------------------------------------
def test_connection_reports_version_and_read_write(shop, adapter):
    facts = adapter.test_connection()
    assert facts["version"] == "9.3.3" and facts["can_read"] and facts["can_write"]
    shop.add_key("ck_read", "cs_read", "read")
    facts = make_adapter(shop, "ck_read", "cs_read").test_connection()
    assert facts["can_read"] and not facts["can_write"]
    assert "write permissions" in facts["message"]
    assert product_count(shop) == 0  # the write probe wrote nothing


@pytest.mark.parametrize("key,secret", [("ck_test", "wrong"), ("ck_unknown", "cs_test")])
def test_rejected_keys_raise_auth_error_naming_the_store(shop, key, secret):
    with pytest.raises(AuthError) as info:
        make_adapter(shop, key, secret).test_connection()
    assert shop.url in str(info.value) and "consumer key" in str(info.value)
    assert len(shop.requests()) == 1  # auth failures are not retried


def test_registry_builds_the_adapter_with_engine_context(shop):
    from app.platforms.registry import build_adapter
    adapter = build_adapter("woocommerce", {"url": shop.url},
                            {"consumer_key": "ck_test", "consumer_secret": "cs_test"},
                            node_id=1, account_id=2)
    assert isinstance(adapter, WooCommerceAdapter) and adapter.test_connection()["can_write"]
    fields = {f["name"]: f for f in WooCommerceAdapter.settings_fields}
    assert fields["consumer_secret"]["secret"] and fields["url"]["required"]


def test_firewall_403_is_an_auth_error(shop, adapter):
    shop.fail("status", status=403)
    with pytest.raises(AuthError):
        adapter.find_products(["X"])


def test_query_string_auth(shop):
    facts = make_adapter(shop, query_string_auth=True).test_connection()
    assert facts["can_write"]
    assert shop.requests("GET")[0].query["consumer_key"] == "ck_test"


# -- publishing products -------------------------------------------------------------------------
def catalogue() -> list[ExportItem]:
    return [
        ExportItem(ProductRecord("MUG-1", name="Mug", description="<p>Big mug</p>",
                                 price=Decimal("12.5"), sale_price=Decimal("9.99"), quantity=7,
                                 category="Kitchen", images=["https://cdn.example.com/mug.jpg"],
                                 attributes={"Material": "Stoneware"}, weight=Decimal("0.4"))),
        ExportItem(ProductRecord("TEE", name="Tee", price=Decimal("20"), category="Clothing")),
        ExportItem(ProductRecord("TEE-S", price=Decimal("20"), quantity=3, parent_sku="TEE",
                                 attributes={"Size": "S"})),
        ExportItem(ProductRecord("TEE-M", price=Decimal("21"), quantity=0, parent_sku="TEE",
                                 attributes={"Size": "M"})),
    ]


def test_publish_simple_and_variable_products(shop, adapter):
    results = adapter.upsert_products(catalogue())
    assert [r.ref for r in results] == ["MUG-1", "TEE", "TEE-S", "TEE-M"]
    assert all(r.ok and r.created for r in results), results
    mug = shop.product("MUG-1")
    assert (mug["type"], mug["regular_price"], mug["sale_price"], mug["price"]) == \
        ("simple", "12.50", "9.99", "9.99")
    assert mug["manage_stock"] and mug["stock_quantity"] == 7
    assert [c["name"] for c in mug["categories"]] == ["Kitchen"]
    assert mug["images"][0]["src"] == "https://cdn.example.com/mug.jpg"
    assert mug["attributes"][0]["options"] == ["Stoneware"]
    tee = shop.product("TEE")
    assert tee["type"] == "variable"
    assert tee["attributes"][0]["name"] == "Size" and tee["attributes"][0]["variation"]
    assert tee["attributes"][0]["options"] == ["S", "M"]
    small = shop.product("TEE-S")
    assert small["parent_id"] == tee["id"] and small["stock_quantity"] == 3
    assert small["attributes"] == [{"name": "Size", "option": "S"}]
    assert results[2].external_parent_id == str(tee["id"])
    assert results[2].external_id == str(small["id"])

    count = product_count(shop)
    again = adapter.upsert_products(catalogue())  # a re-run updates, never duplicates
    assert all(r.ok and not r.created for r in again)
    assert product_count(shop) == count and len(shop.shop.categories) == 2
    assert [r.external_id for r in again] == [r.external_id for r in results]


def test_new_variation_adds_its_option_to_an_existing_parent(shop, adapter):
    adapter.upsert_products(catalogue())
    result = adapter.upsert_products([ExportItem(ProductRecord(
        "TEE-L", price=Decimal("22"), quantity=1, parent_sku="TEE", attributes={"Size": "L"}))])
    assert result[0].ok and result[0].created
    assert shop.product("TEE")["attributes"][0]["options"] == ["S", "M", "L"]


def test_links_existing_catalogue_by_sku(shop, adapter):
    mug = shop.seed_product("MUG-1", 4)
    tee, (small, medium) = shop.seed_variable("TEE", [("TEE-S", {"Size": "S"}, 1),
                                                      ("TEE-M", {"Size": "M"}, 2)])
    found = adapter.find_products(["MUG-1", "TEE", "TEE-S", "TEE-M", "NOPE"])
    assert found == {"MUG-1": (str(mug["id"]), None), "TEE": (str(tee["id"]), None),
                     "TEE-S": (str(small["id"]), str(tee["id"])),
                     "TEE-M": (str(medium["id"]), str(tee["id"]))}
    shop.clear_log()  # the next chunk reuses the variation index: one SKU lookup only
    assert adapter.find_products(["TEE-M", "NOPE-2"]) == {"TEE-M": found["TEE-M"]}
    assert [r.path for r in shop.requests()] == ["/products"]
    count = product_count(shop)
    results = adapter.upsert_products(catalogue())  # no external ids: found by SKU first
    assert all(r.ok and not r.created for r in results), results
    assert product_count(shop) == count
    assert shop.product("TEE-S")["stock_quantity"] == 3


def test_one_bad_product_fails_only_that_item(shop, adapter):
    shop.seed_variable("OTHER", [("TAKEN", {"Size": "S"}, 1)])
    items = [ExportItem(ProductRecord("OK-1", name="Fine", price=Decimal("5"))),
             ExportItem(ProductRecord("BAD-PRICE", name="Bad", price=Decimal("-5"))),
             ExportItem(ProductRecord("NO-NAME", name="", price=Decimal("5"))),
             ExportItem(ProductRecord("TAKEN", name="Clash", price=Decimal("5"))),
             ExportItem(ProductRecord("OK-2", name="Fine too", price=Decimal("6"))),
             ExportItem(ProductRecord("OK-2-S", price=Decimal("-1"), parent_sku="OK-2",
                                      attributes={"Size": "S"})),
             ExportItem(ProductRecord("OK-2-M", price=Decimal("6"), parent_sku="OK-2",
                                      attributes={"Size": "M"})),
             ExportItem(ProductRecord("ORPHAN-S", price=Decimal("6"), parent_sku="ORPHAN"))]
    results = adapter.upsert_products(items)
    assert [r.ok for r in results] == [True, False, False, False, True, False, True, False]
    assert "regular_price" in results[1].message and "name" in results[2].message
    assert "duplicated SKU" in results[3].message and "regular_price" in results[5].message
    assert results[7].message == "parent product ORPHAN is not on the shop"
    assert shop.product("OK-2")["regular_price"] == "6.00" and shop.product("OK-2-M")


def test_create_that_timed_out_is_not_duplicated(shop):
    adapter = make_adapter(shop, timeout=0.5)
    shop.fail("slow", delay=1.0, match="/products/batch")  # saved, but the answer comes late
    results = adapter.upsert_products(catalogue()[:1])
    assert results[0].ok and results[0].created and product_count(shop) == 1
    assert results[0].external_id == str(shop.product("MUG-1")["id"])


# -- quantities ----------------------------------------------------------------------------------
def test_quantity_publish_batches_and_uses_variation_endpoints(shop, adapter):
    simples = [shop.seed_product(f"S-{n}", 0) for n in range(250)]
    parents = [shop.seed_variable(f"V{p}", [(f"V{p}-{n}", {"Size": str(n)}, 0) for n in range(3)])
               for p in range(2)]
    updates = [QuantityUpdate(p["sku"], n, str(p["id"])) for n, p in enumerate(simples)]
    updates += [QuantityUpdate(v["sku"], 5, str(v["id"]), str(parent["id"]))
                for parent, variations in parents for v in variations]
    shop.clear_log()
    results = adapter.set_quantities(updates)
    assert [r.ref for r in results] == [u.sku for u in updates] and all(r.ok for r in results)
    batches = shop.requests("POST", r"/products/batch")
    assert sorted(r.items for r in batches) == [50, 100, 100]
    variation_batches = shop.requests("POST", r"/products/\d+/variations/batch")
    assert [r.items for r in variation_batches] == [3, 3]
    assert len(shop.requests()) == 5  # nothing else: no lookups, no single PUTs
    assert shop.product("S-249")["stock_quantity"] == 249
    assert shop.product("V1-2")["stock_quantity"] == 5
    assert results[-1].external_parent_id == str(parents[1][0]["id"])


def test_quantity_batches_run_concurrently(shop):
    shop.latency = 0.1
    updates = [QuantityUpdate(p["sku"], 1, str(p["id"]))
               for p in (shop.seed_product(f"S-{n}", 0) for n in range(800))]
    started = time.monotonic()
    results = make_adapter(shop, concurrency=4).set_quantities(updates)
    elapsed = time.monotonic() - started
    assert all(r.ok for r in results)
    assert elapsed < 0.45, elapsed  # 8 batches x 0.1 s one after another would take 0.8 s


def test_unknown_id_fails_one_item_and_smaller_shop_limit_is_respected(shop):
    shop.shop.batch_limit = 30  # shops can lower woocommerce_rest_batch_items_limit
    products = [shop.seed_product(f"S-{n}", 0) for n in range(60)]
    updates = [QuantityUpdate(p["sku"], 2, str(p["id"])) for p in products]
    updates.append(QuantityUpdate("GONE", 1, "999999"))
    results = make_adapter(shop).set_quantities(updates)
    assert all(r.ok for r in results[:-1]) and not results[-1].ok
    assert "Invalid ID" in results[-1].message
    assert all(r.items <= 30 for r in shop.requests("POST", r"/products/batch") if r.status == 200)


# -- orders --------------------------------------------------------------------------------------
def test_fetch_orders_reads_every_page(shop, adapter):
    assert [(p.orders, p.has_more) for p in adapter.fetch_orders(None)] == [([], False)]
    shop.seed_product("MUG-1", 10_000, price="12.50")
    shop.seed_variable("TEE", [("TEE-S", {"Size": "S"}, 500)])
    placed = [shop.place_order([("MUG-1", 2), ("TEE-S", 1)]) for _ in range(250)]
    pages = list(adapter.fetch_orders(None))
    assert [len(p.orders) for p in pages] == [100, 100, 50]
    assert [p.has_more for p in pages] == [True, True, False]
    ids = [o.external_id for p in pages for o in p.orders]
    assert ids == [str(o["id"]) for o in placed]  # oldest first, each once
    listed = shop.requests("GET", "/orders")
    assert all(r.query["per_page"] == "100" and r.query["dates_are_gmt"] == "true"
               for r in listed)
    order: OrderRecord = pages[0].orders[0]
    assert order.status == "paid" and order.paid and order.platform_status == "processing"
    assert order.currency == "EUR" and order.total == Decimal(placed[0]["total"])
    assert order.shipping_total == Decimal("10.00") and order.tax_total == Decimal("7.00")
    assert [(line.sku, line.quantity) for line in order.lines] == [("MUG-1", 2), ("TEE-S", 1)]
    assert order.lines[0].unit_price == Decimal("12.5")
    assert order.customer["email"] == "john.doe@example.com"
    assert order.billing_address["city"] == "San Francisco"
    assert order.updated_at.tzinfo == timezone.utc
    assert order.updated_at.strftime("%Y-%m-%dT%H:%M:%S") == placed[0]["date_modified_gmt"]


def test_order_changed_after_import_reappears(shop, adapter):
    shop.seed_product("MUG-1", 100)
    orders = [shop.place_order([("MUG-1", 1)], status="on-hold") for _ in range(3)]
    first = [o for page in adapter.fetch_orders(None) for o in page.orders]
    assert [o.status for o in first] == ["pending"] * 3
    cursor = max(o.updated_at for o in first)
    assert [o for page in adapter.fetch_orders(cursor) for o in page.orders] == []
    shop.tick(5)  # the shop clock has one-second resolution
    shop.modify_order(orders[1]["id"], status="completed")
    changed = [o for page in adapter.fetch_orders(cursor) for o in page.orders]
    assert [(o.external_id, o.status, o.paid) for o in changed] == \
        [(str(orders[1]["id"]), "completed", True)]
    assert changed[0].updated_at > cursor


@pytest.mark.parametrize("status,paid_at,hub,paid", [
    ("on-hold", None, "pending", False), ("processing", "2024-06-01T10:00:00", "paid", True),
    ("failed", None, "cancelled", False), ("refunded", "2024-06-01T10:00:00", "refunded", True),
    ("awaiting-pickup", "2024-06-01T10:00:00", "paid", True)])  # a plugin's custom status
def test_order_status_normalisation(status, paid_at, hub, paid):
    order = order_record({"id": 7, "status": status, "date_paid_gmt": paid_at,
                          "date_modified_gmt": "2024-06-01T10:00:05", "total": "29.35"})
    assert (order.status, order.paid, order.platform_status) == (hub, paid, status)
    assert order.number == "7" and order.total == Decimal("29.35")


def test_mark_exported_and_send_tracking(shop):
    shop.seed_product("MUG-1", 100)
    placed = shop.place_order([("MUG-1", 1)])
    order = next(iter(make_adapter(shop).fetch_orders(None))).orders[0]
    make_adapter(shop).mark_exported(order, "SO-17")
    assert shop.shop.notes[placed["id"]][0]["note"] == "Sent to the ERP as SO-17."
    assert shop.shop.get_order(placed["id"])["status"] == "processing"
    make_adapter(shop, export_mark="completed").mark_exported(order, "SO-17")
    changed = shop.shop.get_order(placed["id"])
    assert changed["status"] == "completed" and changed["meta_data"][0]["value"] == "SO-17"
    make_adapter(shop).send_tracking(order, "DHL", "123")
    note = shop.shop.notes[placed["id"]][-1]
    assert note["customer_note"] and "DHL" in note["note"] and "123" in note["note"]


# -- transient failures --------------------------------------------------------------------------
def test_429_retry_after_is_honoured(shop, adapter):
    shop.fail("status", status=429, retry_after=1)
    started = time.monotonic()
    assert adapter.find_products(["X"]) == {}
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in shop.requests("GET", "/products")][:2] == [429, 200]


def test_long_retry_after_is_handed_to_the_engine(shop, adapter):
    shop.fail("status", status=429, retry_after=600)
    started = time.monotonic()
    with pytest.raises(RetryLaterError) as info:
        adapter.test_connection()
    assert info.value.retry_after == 600 and time.monotonic() - started < 1


def test_5xx_streak_that_recovers(shop, adapter):
    shop.seed_product("MUG-1", 1)
    shop.fail("status", count=3, status=502)
    assert "MUG-1" in adapter.find_products(["MUG-1"])
    assert [r.status for r in shop.requests("GET", "/products")][:4] == [502, 502, 502, 200]


def test_5xx_streak_that_does_not_recover(shop, adapter):
    shop.fail("status", count=10, status=503)
    with pytest.raises(RetryLaterError) as info:
        adapter.test_connection()
    assert "HTTP 503" in str(info.value) and shop.url in str(info.value)
    assert len(shop.requests()) == 4  # 1 try + 3 retries


@pytest.mark.parametrize("kind", ["malformed", "truncated", "reset"])
def test_broken_answers_are_retried(shop, adapter, kind):
    shop.fail(kind, count=2)
    assert adapter.test_connection()["version"] == "9.3.3"
    shop.fail(kind, count=10)
    with pytest.raises(RetryLaterError):
        adapter.test_connection()


def test_failed_batch_keeps_what_got_through(shop):
    products = [shop.seed_product(f"S-{n}", 0) for n in range(300)]
    shop.fail("status", count=10, status=500, after=1, match="/products/batch")
    updates = [QuantityUpdate(p["sku"], 3, str(p["id"])) for p in products]
    with pytest.raises(RetryLaterError) as info:
        make_adapter(shop, concurrency=1).set_quantities(updates)
    partial = info.value.partial_results  # the first batch got through before the outage
    assert [r.ref for r in partial] == [u.sku for u in updates[:100]]
    assert all(r.ok for r in partial) and shop.product("S-99")["stock_quantity"] == 3
    assert shop.product("S-100")["stock_quantity"] == 0
    assert len(shop.requests("POST", r"/products/batch")) == 5  # 1 ok + 1 try + 3 retries


# -- emulator faithfulness -----------------------------------------------------------------------
def test_emulator_limits(shop):
    auth = (shop.consumer_key, shop.consumer_secret)
    api = shop.url + "/wp-json/wc/v3"
    answer = requests.get(api + "/orders", params={"per_page": 101}, auth=auth)
    assert answer.status_code == 400 and answer.json()["code"] == "rest_invalid_param"
    answer = requests.post(api + "/products/batch", json={"update": [{"id": 1}] * 60,
                                                           "delete": [1] * 41}, auth=auth)
    assert answer.status_code == 413
    assert answer.json()["code"] == "woocommerce_rest_request_entity_too_large"
    product = shop.seed_product("S", None)
    answer = requests.put(f"{api}/products/{product['id']}", json={"stock_quantity": 5},
                          auth=auth)
    assert answer.json()["stock_quantity"] is None  # ignored without manage_stock
