"""The Tryton adapter against a real trytond (tests/tryton/harness.py) on loopback.

One server per module over a seeded SQLite copy; tests that write restore it first.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests

from app.platforms.errors import AuthError, ConfigurationError, ItemError, RetryLaterError
from app.platforms.records import OrderLineRecord, OrderRecord
from app.platforms.tryton import TrytonAdapter
from tests.tryton.harness import TIMINGS, TrytonServer

pytestmark = pytest.mark.tryton


@pytest.fixture(scope="module")
def server():
    with TrytonServer() as running:
        yield running
    print(f"\n[tryton timings] {TIMINGS}")


@pytest.fixture
def fresh(server):
    """The server back on the freshly seeded database (for tests that write)."""
    server.restore()
    return server


def make_adapter(server, **settings):
    adapter = TrytonAdapter(server.settings(**settings), server.credentials())
    return adapter


def make_order(number="1001", lines=(("TS-BLU-M", 2, "16.80"), ("MUG-01", 1, "9.90")),
               email="new.buyer@example.com", shipping="4.12", currency="EUR"):
    address = {"first_name": "Ada", "last_name": "Buyer", "address_1": "3 Rue Neuve",
               "address_2": "Bât. B", "postcode": "13001", "city": "Marseille", "country": "FR"}
    return OrderRecord(
        external_id=f"wc-{number}", number=number, status="paid",
        updated_at=datetime.now(timezone.utc), placed_at=datetime.now(timezone.utc),
        paid=True, currency=currency, shipping_total=Decimal(shipping) if shipping else None,
        payment_method="card", customer={"email": email, "name": "Ada Buyer"},
        billing_address=dict(address), shipping_address={**address, "address_1": "9 Quai Sud"},
        lines=[OrderLineRecord(sku=sku, quantity=qty, unit_price=Decimal(price), name=None)
               for sku, qty, price in lines])


class CountingSession(requests.Session):
    def __init__(self):
        super().__init__()
        self.posts = 0

    def post(self, *args, **kwargs):
        self.posts += 1
        return super().post(*args, **kwargs)


# -- connection ------------------------------------------------------------------------------

def test_connection_reports_version_company_and_warehouse(server):
    facts = make_adapter(server).test_connection()
    assert facts["version"] == "8.2"
    assert facts["company"] == "Ponte Test Co"
    assert facts["currency"] == "EUR"
    assert "WH" in facts["warehouse"]


def test_wrong_password_is_an_auth_error(server):
    adapter = TrytonAdapter(server.settings(), server.credentials(password="not-it"))
    with pytest.raises(AuthError, match="wrong login or password"):
        adapter.test_connection()


def test_unknown_warehouse_is_a_configuration_error(server):
    with pytest.raises(ConfigurationError, match="no warehouse 'NOWHERE'"):
        list(make_adapter(server, warehouse="NOWHERE").fetch_products(None, True))


# -- products --------------------------------------------------------------------------------

def test_full_import_reads_every_good_with_price_and_quantity(server):
    records = {r.sku: r for r in make_adapter(server).fetch_products(None, False)}
    assert set(records) == {"TS-BLU-M", "MUG-01", "CAP-RED", "BAG-01"}  # no SHIP service
    shirt = records["TS-BLU-M"]
    assert shirt.name == "Blue T-Shirt M"
    assert shirt.description == "Organic cotton, medium"
    assert shirt.price == Decimal("16.80")
    assert shirt.quantity == 12
    assert records["CAP-RED"].quantity == 0 and records["CAP-RED"].description is None
    assert records["BAG-01"].price == Decimal("29.00") and records["BAG-01"].quantity == 3


def test_quantity_only_import_carries_only_quantities(server):
    records = {r.sku: r for r in make_adapter(server).fetch_products(None, True)}
    assert {sku: r.quantity for sku, r in records.items()} == {
        "TS-BLU-M": 12, "MUG-01": 5, "CAP-RED": 0, "BAG-01": 3}
    assert all(r.name is None and r.price is None for r in records.values())


def test_incremental_import_sees_a_price_change_and_a_stock_move_only(fresh):
    adapter = make_adapter(fresh)
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    assert list(adapter.fetch_products(since, False)) == []

    fresh.set_list_price("MUG-01", "11.50")
    fresh.add_stock("BAG-01", 4)

    changed = {r.sku: r for r in adapter.fetch_products(since, False)}
    assert set(changed) == {"MUG-01", "BAG-01"}
    assert changed["MUG-01"].price == Decimal("11.50")
    assert changed["BAG-01"].quantity == 7
    # A price change is not a quantity change.
    assert [(r.sku, r.quantity) for r in adapter.fetch_products(since, True)] == [("BAG-01", 7)]
    later = datetime.now(timezone.utc) + timedelta(seconds=2)
    assert list(adapter.fetch_products(later, False)) == []


# -- orders ----------------------------------------------------------------------------------

def test_deliver_creates_one_confirmed_sale_and_is_exactly_once(fresh):
    adapter = make_adapter(fresh, shipping_product_code="SHIP")
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    assert adapter.find_order("ord-1") is None

    number = adapter.deliver_order(make_order(), "ord-1")

    sales = fresh.sales()
    assert len(sales) == 1
    sale = sales[0]
    assert sale["number"] == number
    assert sale["reference"] == "1001"
    assert sale["state"] in ("confirmed", "processing")
    assert sale["party.rec_name"] == "Ada Buyer"
    assert sale["invoice_address"] != sale["shipment_address"]
    lines = sorted((l["product.code"], l["quantity"], l["unit_price"]) for l in sale["lines"])
    assert lines == [("MUG-01", 1.0, Decimal("9.90")), ("SHIP", 1.0, Decimal("4.12")),
                     ("TS-BLU-M", 2.0, Decimal("16.80"))]
    assert sale["untaxed_amount"] == Decimal("47.62")
    assert sale["total_amount"] == Decimal("47.62")  # no taxes configured

    # The confirmed sale counts in the forecast the adapter publishes, not on hand.
    assert fresh.quantities(["TS-BLU-M"])["TS-BLU-M"] == (12.0, 10.0)
    changed = {r.sku: r.quantity for r in adapter.fetch_products(since, True)}
    assert changed == {"TS-BLU-M": 10, "MUG-01": 4}

    # Exactly once: found by the hub reference, and a second delivery creates nothing.
    again = make_adapter(fresh, shipping_product_code="SHIP")
    assert again.find_order("ord-1") == number
    assert again.deliver_order(make_order(), "ord-1") == number
    assert len(fresh.sales()) == 1


def test_existing_customer_is_found_by_email(fresh):
    adapter = make_adapter(fresh)
    adapter.deliver_order(make_order(number="1002", email="JANE@example.com", shipping=None),
                          "ord-2")
    sale, = fresh.sales()
    assert sale["party"] == fresh.facts["customer_id"]


def test_quote_and_draft_settings_stop_the_workflow_early(fresh):
    make_adapter(fresh, quote_and_confirm="quote").deliver_order(make_order("1003"), "ord-3")
    make_adapter(fresh, quote_and_confirm="draft").deliver_order(make_order("1004"), "ord-4")
    states = {s["reference"]: s["state"] for s in fresh.sales()}
    assert states == {"1003": "quotation", "1004": "draft"}


def test_find_order_carries_a_half_delivered_sale_forward(fresh):
    # A first attempt that created the sale but died before confirming (simulated by 'draft').
    make_adapter(fresh, quote_and_confirm="draft").deliver_order(make_order("1005"), "ord-5")
    number = make_adapter(fresh).find_order("ord-5")
    sale, = fresh.sales()
    assert sale["state"] in ("confirmed", "processing") and sale["number"] == number


def test_unknown_sku_is_an_item_error_naming_it(fresh):
    adapter = make_adapter(fresh)
    order = make_order(lines=(("TS-BLU-M", 1, "16.80"), ("NOPE-404", 1, "3.00")))
    with pytest.raises(ItemError) as caught:
        adapter.deliver_order(order, "ord-6")
    assert caught.value.ref == "ord-6"
    assert "NOPE-404" in caught.value.message
    assert fresh.sales() == []


# -- outages ---------------------------------------------------------------------------------

def test_server_stopped_mid_run_is_retry_later_after_retries(server):
    adapter = make_adapter(server, retries=2, backoff=0.05)
    counting = CountingSession()
    adapter.client.http = counting
    assert len(list(adapter.fetch_products(None, True))) == 4  # logged in, mid-run
    server.stop()
    try:
        counting.posts = 0
        started = time.monotonic()
        with pytest.raises(RetryLaterError, match="cannot reach Tryton"):
            list(adapter.fetch_products(None, True))
        assert counting.posts == 3  # one try and two retries
        assert time.monotonic() - started >= 0.05 + 0.1  # the back-off happened
        with pytest.raises(RetryLaterError):
            adapter.deliver_order(make_order("1007"), "ord-7")
    finally:
        server.start()
    # The same adapter recovers once the server is back.
    assert len(list(adapter.fetch_products(None, True))) == 4


# -- edges -----------------------------------------------------------------------------------

def test_import_pages_through_every_product(server):
    adapter = make_adapter(server, warehouse="Warehouse")  # a warehouse by name works too
    adapter.page_size = 2
    assert sorted(r.sku for r in adapter.fetch_products(None, True)) == [
        "BAG-01", "CAP-RED", "MUG-01", "TS-BLU-M"]


def test_unknown_currency_is_an_item_error(fresh):
    with pytest.raises(ItemError, match="currency USD"):
        make_adapter(fresh).deliver_order(make_order(currency="USD"), "ord-8")
    assert fresh.sales() == []


def test_shipping_without_a_shipping_product_stays_visible(fresh):
    make_adapter(fresh).deliver_order(make_order("1009"), "ord-9")
    sale, = fresh.sales()
    comments = [l["description"] for l in sale["lines"] if l["type"] == "comment"]
    assert comments == ["Shipping: 4.12"]
    assert sale["untaxed_amount"] == Decimal("43.50")


def test_unknown_database_is_a_configuration_error(server):
    adapter = TrytonAdapter(server.settings(database="nope"), server.credentials())
    with pytest.raises(ConfigurationError, match="no database 'nope'"):
        adapter.test_connection()


def test_a_returning_customer_reuses_party_and_addresses(fresh):
    adapter = make_adapter(fresh)
    adapter.deliver_order(make_order("1010", shipping=None), "ord-10")
    adapter.deliver_order(make_order("1011", shipping=None), "ord-11")
    first, second = fresh.sales()
    assert first["party"] == second["party"]
    assert (first["invoice_address"], first["shipment_address"]) == (
        second["invoice_address"], second["shipment_address"])


def test_close_logs_out(server):
    adapter = make_adapter(server)
    adapter.test_connection()
    adapter.close()
    assert adapter.client._auth is None


# -- the client's retry rules, against a scripted loopback server ----------------------------
# A real trytond cannot be made to answer 503 or hang on demand, so these replay answers.

@pytest.fixture
def scripted():
    import http.server
    import json
    import threading

    answers: list = []
    seen: list = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body["method"])
            status, payload, delay = answers.pop(0) if answers else (500, None, 0)
            time.sleep(delay)
            data = json.dumps({"id": body["id"], **payload}).encode() if payload else b"oops"
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if payload else "text/html")
            self.send_header("Content-Length", str(len(data)))
            if status == 429:
                self.send_header("Retry-After", "30")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    from app.platforms.tryton import TrytonClient
    client = TrytonClient(f"http://127.0.0.1:{httpd.server_port}", "db", "admin", "pw",
                          retries=2, backoff=0.01, timeout=0.5)
    client._auth, client._context = "Session x", {"company": 1}
    yield client, answers, seen
    httpd.shutdown()
    httpd.server_close()


def test_5xx_on_a_read_is_retried_then_succeeds(scripted):
    client, answers, seen = scripted
    answers += [(503, None, 0), (502, None, 0), (200, {"result": [1]}, 0)]
    assert client.model("sale.sale", "search", [], 0, None, None) == [1]
    assert len(seen) == 3


def test_5xx_that_persists_becomes_retry_later(scripted):
    client, answers, seen = scripted
    answers += [(503, None, 0)] * 3
    with pytest.raises(RetryLaterError, match="HTTP 503"):
        client.model("sale.sale", "search", [], 0, None, None)
    assert len(seen) == 3


def test_a_write_that_may_have_run_is_not_resent(scripted):
    client, answers, seen = scripted
    answers += [(200, {"result": [5]}, 1.0)]  # answers after the client's 0.5 s timeout
    with pytest.raises(RetryLaterError, match="did not answer"):
        client.model("sale.sale", "create", [{}])
    assert seen == ["model.sale.sale.create"]


def test_429_with_a_long_retry_after_is_handed_to_the_engine(scripted):
    client, answers, seen = scripted
    answers += [(429, None, 0)]
    with pytest.raises(RetryLaterError) as caught:
        client.model("sale.sale", "search", [], 0, None, None)
    assert caught.value.retry_after == 30.0 and len(seen) == 1


def test_user_error_is_typed(scripted):
    from app.platforms.tryton import TrytonError
    client, answers, seen = scripted
    answers += [(200, {"error": ["UserError", ["The sale needs an address.", "", None]]}, 0)]
    with pytest.raises(TrytonError, match="needs an address") as caught:
        client.model("sale.sale", "quote", [1])
    assert caught.value.name == "UserError"
