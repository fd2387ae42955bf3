"""The seed scenario with a real WooCommerce store: the emulator over loopback HTTP beside a
sandbox store, a file ERP, the real engine in real RQ workers.

The ERP uploads products -> the catalogue is published (a product the shop already had is
linked by SKU, not duplicated) -> stock changed publishes quantities (through a 429) -> orders
on both stores -> the 5-minute procedure brings them to the hub once and offers them to the
ERP -> the ERP acknowledges -> each store is told once and both sell the ERP's quantity minus
both stores' outstanding orders. Also: an order edited on the shop after import, a shop that
keeps answering 5xx, a refused mark tried again.
"""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (Order, OrderBinding, ProductBinding, Run, SandboxOrder,
                        SandboxProduct, StepItem)
from app.platforms.sandbox import shop
from app.services.nodes import create_node
from app.services.procedures import create_from_template
from app.services.runs import start_run
from tests import builders as b
from tests.emulators.woocommerce import WooCommerceEmulator

CATALOGUE = [("TEE-M", "T-shirt M", "19,90", 10), ("MUG", "Mug", "8,50", 4),
             ("CAP", "Cap", "12,00", 0)]
WOO = "Shop 1 (WooCommerce)"  # named so that its steps come before the sandbox's
SANDBOX = "Shop 2 (sandbox)"


@pytest.fixture
def woo():
    with WooCommerceEmulator() as emulator:
        yield emulator


class Hub:
    """A file ERP with its signing key, the WooCommerce store and a sandbox store."""

    def __init__(self, client, work, woo, **woo_settings):
        self.client, self.work, self.woo = client, work, woo
        self.acc = b.account()
        self.erp, self.kid, self.secret = b.erp_with_key(self.acc)
        self.wc = create_node(
            self.acc, "woocommerce", WOO,
            settings={"url": woo.url, "timeout": 5, "retries": 2, "backoff": 0.01,
                      **woo_settings},
            credentials={"consumer_key": woo.consumer_key,
                         "consumer_secret": woo.consumer_secret})
        self.sandbox = create_node(self.acc, "sandbox", SANDBOX)
        self.publish = create_from_template(self.acc, "publish_catalogue")
        db.session.commit()

    def signed(self, method, path, body=b"", **kwargs):
        return b.signed(self.client, method, path, self.kid, self.secret, body, **kwargs)

    def upload(self, rows, mode="full"):
        header = ("sku", "name", "price", "quantity") if mode == "full" else ("sku", "quantity")
        resp = self.signed("POST", f"/erp/v1/nodes/{self.erp.public_id}/products",
                           b.products_csv(rows, header=header), query=[("mode", mode)],
                           content_type="text/csv")
        assert resp.status_code == 202, resp.get_data(as_text=True)

    def run(self, template: str) -> Run:
        proc = self.publish if template == "publish_catalogue" else b.template(self.acc,
                                                                               template)
        started = start_run(self.acc, proc.id, "manual", "test")
        assert not started.coalesced
        self.work()
        return db.session.get(Run, started.run.id)

    def stock(self) -> tuple[dict, dict]:
        skus = [sku for sku, *_ in CATALOGUE]
        on_woo = {sku: self.woo.product(sku)["stock_quantity"] for sku in skus}
        on_sandbox = dict(db.session.execute(
            sa.select(SandboxProduct.sku, SandboxProduct.stock)
            .where(SandboxProduct.node_id == self.sandbox.id)).all())
        return on_woo, on_sandbox

    def feed(self) -> list[dict]:
        resp = self.signed("GET", f"/erp/v1/nodes/{self.erp.public_id}/orders")
        return resp.get_json()["orders"]

    def ack(self, refs: dict[str, str]) -> None:
        body = json.dumps({"order_ids": list(refs), "erp_refs": refs}).encode()
        resp = self.signed("POST", f"/erp/v1/nodes/{self.erp.public_id}/orders/ack", body,
                           content_type="application/json")
        assert resp.get_json()["acknowledged"] == list(refs)


def steps(run: Run) -> list[tuple]:
    return [(s.label, s.status, s.created, s.updated, s.failed, s.error) for s in run.steps]


def step_of(run: Run, node_name: str, kind: str):
    label = f"{node_name}: {kind.replace('_', ' ')}"
    found = [s for s in run.steps if s.label.startswith(label)]
    assert len(found) == 1, steps(run)
    return found[0]


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_seed_scenario_with_a_woocommerce_store(client, work, woo):
    # The shop already sells the mug: publishing must link it by SKU, not create a second one.
    old_mug = woo.seed_product("MUG", 1, price="7.00", name="Old mug")
    hub = Hub(client, work, woo)
    hub.upload(CATALOGUE)
    run = hub.run("publish_catalogue")
    assert run.status == "succeeded", steps(run)
    published = step_of(run, WOO, "product_export")
    assert (published.created, published.updated) == (2, 1), steps(run)
    assert sorted(p["sku"] for p in woo.shop.products.values()) == ["CAP", "MUG", "TEE-M"]
    mug = woo.product("MUG")
    assert mug["id"] == old_mug["id"] and (mug["name"], mug["regular_price"]) == ("Mug", "8.50")
    assert db.session.scalar(sa.select(ProductBinding.external_id).where(
        ProductBinding.node_id == hub.wc.id, ProductBinding.external_id == str(mug["id"])))
    expected = {"TEE-M": 10, "MUG": 4, "CAP": 0}
    assert hub.stock() == (expected, expected)

    # The ERP's stock changed; it triggers the procedure through its signed URL. The shop's
    # firewall answers the quantity batch with 429 Retry-After: 1 once: the client waits.
    hub.upload([("TEE-M", 8), ("MUG", 5)], mode="quantity")
    woo.clear_log()
    woo.fail("status", status=429, retry_after=1, match="/products/batch")
    proc = b.template(hub.acc, "stock_changed")
    resp = hub.signed("POST", f"/erp/v1/procedures/{proc.public_id}/runs")
    assert resp.status_code == 202 and resp.get_json()["coalesced"] is False
    work()
    assert hub.signed("GET", resp.get_json()["status_url"]).get_json()["status"] == "succeeded"
    batches = woo.requests("POST", "/products/batch")
    assert [r.status for r in batches] == [429, 200]
    assert batches[1].at - batches[0].at >= 1.0  # Retry-After was honoured
    assert batches[1].items == 2  # only what changed (the cap stays at 0)
    expected = {"TEE-M": 8, "MUG": 5, "CAP": 0}
    assert hub.stock() == (expected, expected)

    # Customers buy on both stores; each store lowers its own stock at checkout.
    placed = woo.place_order([("TEE-M", 3)])
    shop.place_order(hub.acc, hub.sandbox.id, {"TEE-M": 1, "MUG": 2})
    db.session.commit()
    run = hub.run("every_5_minutes")
    assert run.status == "succeeded", steps(run)
    assert step_of(run, WOO, "order_import").created == 1
    assert count(Order) == 2
    woo_order = db.session.scalar(sa.select(Order).where(Order.source_node_id == hub.wc.id))
    assert woo_order.external_id == str(placed["id"]) and woo_order.status == "paid"
    assert [(ln.sku, ln.quantity) for ln in woo_order.lines] == [("TEE-M", 3)]
    # Each store sells what the ERP has minus both stores' orders.
    expected = {"TEE-M": 4, "MUG": 3, "CAP": 0}
    assert hub.stock() == (expected, expected)

    # The ERP pulls its feed and books both orders under its own numbers.
    offered = hub.feed()
    assert sorted(o["source"] for o in offered) == [WOO, SANDBOX]
    refs = {o["order_id"]: ("DOC-W" if o["source"] == WOO else "DOC-S") for o in offered}
    hub.ack(refs)
    assert hub.feed() == []

    # The next run tells each store once; the ERP's figures do not count the sales yet, so
    # both stores still sell the same, lowered quantities.
    run = hub.run("every_5_minutes")
    assert run.status == "succeeded", steps(run)
    notes = woo.shop.notes[placed["id"]]
    assert [(n["note"], n["customer_note"]) for n in notes] == [
        ("Sent to the ERP as DOC-W.", False)]
    assert db.session.scalar(sa.select(SandboxOrder.note)) == "Delivered to the ERP as DOC-S."
    assert all(o.store_marked_at for o in db.session.scalars(sa.select(Order)))
    marked = step_of(run, WOO, "order_import")
    assert (marked.created, marked.updated, marked.failed) == (0, 1, 0), steps(run)
    item = db.session.scalar(sa.select(StepItem).where(StepItem.step_run_id == marked.id))
    assert (item.ref, item.message) == (placed["number"],
                                        "marked on the store as sent to the ERP as DOC-W")
    assert hub.stock() == (expected, expected)

    # The merchant completes the order on the shop: the hub's order follows, and is not
    # marked a second time.
    woo.tick(5)  # the shop's clock has one-second resolution
    woo.modify_order(placed["id"], status="completed")
    run = hub.run("every_5_minutes")
    assert run.status == "succeeded", steps(run)
    db.session.refresh(woo_order)
    assert (woo_order.status, woo_order.platform_status) == ("completed", "completed")
    assert len(woo.shop.notes[placed["id"]]) == 1

    # The ERP publishes quantities that include the sales: nothing is counted twice.
    hub.upload([("TEE-M", 4), ("MUG", 3)], mode="quantity")
    run = hub.run("stock_changed")
    assert run.status == "succeeded", steps(run)
    assert hub.stock() == (expected, expected)

    # Running again imports nothing twice, offers nothing, marks nothing, sends nothing.
    woo.clear_log()
    run = hub.run("every_5_minutes")
    assert run.status == "succeeded", steps(run)
    assert {s.created for s in run.steps} == {0} and {s.updated for s in run.steps} == {0}
    assert count(Order) == 2 and count(OrderBinding) == 2
    assert [(r.method, r.path) for r in woo.requests()] == [("GET", "/orders")]
    assert len(woo.shop.notes[placed["id"]]) == 1
    assert hub.stock() == (expected, expected)


def test_a_shop_that_keeps_failing_fails_its_step_and_the_other_store_goes_on(client, work,
                                                                             woo):
    hub = Hub(client, work, woo)
    hub.upload(CATALOGUE)
    assert hub.run("publish_catalogue").status == "succeeded"
    proc = b.template(hub.acc, "stock_changed")
    proc.failure_policy = "continue"
    db.session.commit()

    hub.upload([("TEE-M", 7), ("MUG", 2)], mode="quantity")
    woo.clear_log()
    woo.fail("status", status=503, count=3, match="/products/batch")  # 1 try + 2 retries
    run = hub.run("stock_changed")
    assert run.status == "partial", steps(run)
    assert [s.status for s in run.steps] == ["succeeded", "failed", "succeeded"], steps(run)
    failed = step_of(run, WOO, "product_export")
    assert failed.error == (
        f"{WOO} is unavailable, the next run will try again: WooCommerce at {woo.url}: "
        "POST /products/batch failed 3 time(s), last: HTTP 503"), failed.error
    assert [r.status for r in woo.requests("POST", "/products/batch")] == [503] * 3
    on_woo, on_sandbox = hub.stock()
    assert on_sandbox == {"TEE-M": 7, "MUG": 2, "CAP": 0}
    assert on_woo == {"TEE-M": 10, "MUG": 4, "CAP": 0}  # nothing half-done on the shop

    # The shop is back: the next run sends what it missed, and only that.
    woo.clear_log()
    run = hub.run("stock_changed")
    assert run.status == "succeeded", steps(run)
    assert [r.items for r in woo.requests("POST", "/products/batch")] == [2]
    assert hub.stock() == ({"TEE-M": 7, "MUG": 2, "CAP": 0},) * 2


def test_a_refused_mark_is_that_orders_failure_and_is_tried_again(client, work, woo):
    hub = Hub(client, work, woo, export_mark="completed")  # a status, not a note
    hub.upload(CATALOGUE)
    assert hub.run("publish_catalogue").status == "succeeded"
    first = woo.place_order([("MUG", 1)])
    second = woo.place_order([("TEE-M", 1)])
    assert hub.run("every_5_minutes").status == "succeeded"
    hub.ack({o["order_id"]: f"DOC-{o['store_order_id']}" for o in hub.feed()})

    woo.tick(2)  # marks land in a later second than the import saw (one-second resolution)
    woo.fail("status", status=400, match=f"/orders/{first['id']}")
    run = hub.run("every_5_minutes")
    assert run.status == "partial", steps(run)
    step = step_of(run, WOO, "order_import")
    assert (step.status, step.updated, step.failed) == ("partial", 1, 1), steps(run)
    item = db.session.scalar(sa.select(StepItem).where(StepItem.step_run_id == step.id,
                                                       StepItem.outcome == "failed"))
    assert item.ref == first["number"] and item.message.startswith(
        "not marked as sent to the ERP: WooCommerce 400")
    assert woo.shop.get_order(first["id"])["status"] == "processing"
    assert woo.shop.get_order(second["id"])["status"] == "completed"

    run = hub.run("every_5_minutes")
    assert run.status == "succeeded", steps(run)
    done = woo.shop.get_order(first["id"])
    assert done["status"] == "completed"
    assert done["meta_data"] == [{"id": done["meta_data"][0]["id"], "key": "_ponte_erp_ref",
                                  "value": f"DOC-{first['id']}"}]
    # Marking changed the orders on the shop; the hub takes the new status, marks no more.
    woo.clear_log()
    run = hub.run("every_5_minutes")
    assert run.status == "succeeded", steps(run)
    assert not woo.requests("PUT")
    assert {o.status for o in db.session.scalars(sa.select(Order))} == {"completed"}
