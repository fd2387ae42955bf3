"""The seed's 5-minute procedure end to end with a real Tryton as the ERP.

A real trytond (tests/tryton/harness.py), a sandbox store and a WooCommerce store (the emulator
over loopback HTTP), the real engine in real RQ workers: Tryton's products are published to
both stores, orders on both reach Tryton once as sales, and both stores end with Tryton's
forecast. Also: an order with a SKU Tryton lacks, and credentials Tryton refuses.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (Connector, Node, Order, OrderBinding, Procedure, Run, SandboxProduct,
                        StepItem, StepRun)
from app.platforms.records import ProductRecord
from app.platforms.sandbox import shop
from app.services.nodes import create_node, set_credentials
from app.services.procedures import create_from_template
from app.services.runs import start_run
from tests import builders as b
from tests.emulators.woocommerce import WooCommerceEmulator
from tests.tryton.harness import TIMINGS, TrytonServer

pytestmark = pytest.mark.tryton


@pytest.fixture(scope="module")
def server():
    with TrytonServer() as running:
        yield running
    print(f"\n[tryton timings] {TIMINGS}")


@pytest.fixture
def tryton(server):
    server.restore()  # every test writes sales: start from the seeded database
    return server


@pytest.fixture
def woo():
    with WooCommerceEmulator() as emulator:
        yield emulator


def build_hub(acc: int, tryton: TrytonServer, woo: WooCommerceEmulator):
    """A Tryton ERP, a sandbox store and a WooCommerce store; the templates follow them."""
    settings = tryton.settings(shipping_product_code=tryton.facts["shipping_code"])
    erp = create_node(acc, "tryton", "Tryton", settings=settings,
                      credentials=tryton.credentials())
    sandbox = create_node(acc, "sandbox", "Shop A")
    wc = create_node(acc, "woocommerce", "Shop W",
                     settings={"url": woo.url, "timeout": 5, "retries": 1, "backoff": 0.01},
                     credentials={"consumer_key": woo.consumer_key,
                                  "consumer_secret": woo.consumer_secret})
    publish = create_from_template(acc, "publish_catalogue")
    db.session.commit()
    return erp, sandbox, wc, publish


def run_procedure(acc: int, proc: Procedure, work) -> Run:
    started = start_run(acc, proc.id, "manual", "test")
    assert not started.coalesced
    work()
    return db.session.get(Run, started.run.id)


def erp_step(run: Run, kind: str) -> StepRun:
    """The run's step of connector kind `kind` on the Tryton node."""
    found = [s for s in run.steps if (c := db.session.get(Connector, s.connector_id))
             and c.kind == kind and c.node.platform == "tryton"]
    assert len(found) == 1, steps(run)
    return found[0]


def steps(run: Run) -> list[tuple]:
    return [(s.label, s.status, s.created, s.failed, s.error) for s in run.steps]


def catalogue(tryton) -> list[str]:
    return sorted(tryton.facts["products"])


def forecast(tryton) -> dict[str, int]:
    """What Tryton says each SKU can still sell: on hand minus confirmed, unshipped sales."""
    return {sku: int(fq) for sku, (_, fq) in tryton.quantities(catalogue(tryton)).items()}


def sandbox_stock(node_id: int) -> dict[str, int]:
    return dict(db.session.execute(sa.select(SandboxProduct.sku, SandboxProduct.stock).where(
        SandboxProduct.node_id == node_id)).all())


def woo_stock(woo, skus) -> dict[str, int]:
    return {sku: woo.product(sku)["stock_quantity"] for sku in skus if woo.product(sku)}


def goods_lines(sale: dict) -> list[tuple[str, float]]:
    return sorted((ln["product.code"], ln["quantity"]) for ln in sale["lines"]
                  if ln["type"] == "line" and ln["product.code"] != "SHIP")


def assert_each_order_is_one_sale(tryton) -> list[dict]:
    """Every hub order is exactly one Tryton sale, found by the hub's reference, same lines."""
    orders = db.session.scalars(sa.select(Order).order_by(Order.id)).all()
    sales = tryton.sales()
    by_marker = {}
    for sale in sales:
        assert sale["description"] not in by_marker, f"two sales for {sale['description']}"
        by_marker[sale["description"]] = sale
    assert sorted(by_marker) == sorted(f"ponte:{o.public_id}" for o in orders)
    bindings = {bd.order_id: bd for bd in db.session.scalars(sa.select(OrderBinding))}
    for order in orders:
        sale = by_marker[f"ponte:{order.public_id}"]
        assert sale["reference"] == order.number
        assert sale["state"] in ("confirmed", "processing")
        assert goods_lines(sale) == sorted((ln.sku, float(ln.quantity)) for ln in order.lines)
        assert bindings[order.id].status == "delivered"
        assert bindings[order.id].external_id == sale["number"]
    return sales


def test_five_minute_procedure_with_tryton_and_two_stores(ctx, work, tryton, woo):
    acc = b.account()
    erp, sandbox, wc, publish = build_hub(acc, tryton, woo)
    seeded = forecast(tryton)
    assert seeded == {"BAG-01": 3, "CAP-RED": 0, "MUG-01": 5, "TS-BLU-M": 12}

    # The catalogue: pulled from Tryton in full, published to both stores.
    run = run_procedure(acc, publish, work)
    assert run.status == "succeeded", steps(run)
    assert [s.created for s in run.steps] == [4, 4, 4]  # the SHIP service is no stock
    assert sandbox_stock(sandbox.id) == woo_stock(woo, seeded) == seeded
    assert woo.product("TS-BLU-M")["name"] == "Blue T-Shirt M"
    assert woo.product("TS-BLU-M")["regular_price"] == "16.80"

    # Customers buy on both stores; each store lowers its own stock at checkout.
    shop.place_order(acc, sandbox.id, {"TS-BLU-M": 3, "MUG-01": 1})
    db.session.commit()
    woo.place_order([("TS-BLU-M", 2), ("BAG-01", 1)])

    every5 = b.template(acc, "every_5_minutes")
    assert [s.connector.node.name for s in every5.steps] == [
        "Shop A", "Shop W", "Tryton", "Tryton", "Shop A", "Shop W"]
    run = run_procedure(acc, every5, work)
    assert run.status == "succeeded", steps(run)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 2
    sales = assert_each_order_is_one_sale(tryton)
    assert len(sales) == 2
    # Tryton's forecast counts both sales; the hub imported it after the delivery, so nothing
    # is outstanding any more and both stores sell exactly what Tryton has left.
    expected = {"BAG-01": 2, "CAP-RED": 0, "MUG-01": 4, "TS-BLU-M": 7}
    assert forecast(tryton) == expected
    assert sandbox_stock(sandbox.id) == woo_stock(woo, expected) == expected

    # Running again creates no sale and changes no store.
    run = run_procedure(acc, every5, work)
    assert run.status == "succeeded", steps(run)
    assert {s.created for s in run.steps} == {0}
    assert len(tryton.sales()) == 2
    assert sandbox_stock(sandbox.id) == woo_stock(woo, expected) == expected

    # A later order goes the incremental way: the quantity import now reads only what moved
    # in Tryton since its cursor, and that must include the new sale's planned moves.
    woo.place_order([("MUG-01", 3)])
    run = run_procedure(acc, every5, work)
    assert run.status == "succeeded", steps(run)
    assert len(assert_each_order_is_one_sale(tryton)) == 3
    expected = {"BAG-01": 2, "CAP-RED": 0, "MUG-01": 1, "TS-BLU-M": 7}
    assert forecast(tryton) == expected
    assert sandbox_stock(sandbox.id) == woo_stock(woo, expected) == expected

    run = run_procedure(acc, every5, work)
    assert run.status == "succeeded" and {s.created for s in run.steps} == {0}, steps(run)
    assert len(tryton.sales()) == 3


def test_an_order_with_a_sku_tryton_lacks_fails_alone(ctx, work, tryton, woo):
    acc = b.account()
    erp, sandbox, wc, publish = build_hub(acc, tryton, woo)
    assert run_procedure(acc, publish, work).status == "succeeded"
    # The merchant added a product on the sandbox store that Tryton does not have.
    shop.upsert_product(acc, sandbox.id, ProductRecord("LOCAL-ONLY", name="Shop-only poster",
                                                       quantity=5), None)
    good_a = shop.place_order(acc, sandbox.id, {"MUG-01": 1})
    bad = shop.place_order(acc, sandbox.id, {"TS-BLU-M": 1, "LOCAL-ONLY": 1})
    db.session.commit()
    good_w = woo.place_order([("TS-BLU-M", 2)])

    run = run_procedure(acc, b.template(acc, "every_5_minutes"), work)
    assert run.status == "partial", steps(run)
    export = erp_step(run, "order_export")
    assert (export.status, export.created, export.failed) == ("partial", 2, 1), steps(run)
    item = db.session.scalar(sa.select(StepItem).where(StepItem.step_run_id == export.id,
                                                       StepItem.outcome == "failed"))
    assert item.ref == bad.number
    assert "LOCAL-ONLY" in item.message and "Tryton" in item.message
    # The others reached Tryton, once each; the bad one did not reach it at all.
    sales = tryton.sales()
    assert sorted(s["reference"] for s in sales) == sorted([good_a.number, good_w["number"]])
    bad_order = db.session.scalar(sa.select(Order).where(Order.number == bad.number,
                                                         Order.source_node_id == sandbox.id))
    assert f"ponte:{bad_order.public_id}" not in {s["description"] for s in sales}
    binding = db.session.scalar(sa.select(OrderBinding).where(
        OrderBinding.order_id == bad_order.id))
    assert binding.status == "failed" and "LOCAL-ONLY" in binding.last_error
    # The steps after it still ran: the stores got Tryton's forecast minus what is still
    # outstanding, i.e. the undelivered order's T-shirt.
    assert [s.status for s in run.steps][3:] == ["succeeded"] * 3, steps(run)
    expected = {"BAG-01": 3, "CAP-RED": 0, "MUG-01": 4, "TS-BLU-M": 9}
    assert forecast(tryton) == {**expected, "TS-BLU-M": 10}
    assert woo_stock(woo, expected) == expected
    assert {k: v for k, v in sandbox_stock(sandbox.id).items() if k != "LOCAL-ONLY"} == expected

    # The next run tries the bad order again (and only it): still one sale per good order.
    run = run_procedure(acc, b.template(acc, "every_5_minutes"), work)
    assert run.status == "partial", steps(run)
    assert len(tryton.sales()) == 2


def test_wrong_tryton_credentials_stop_the_node(ctx, work, tryton, woo):
    acc = b.account()
    erp, sandbox, wc, publish = build_hub(acc, tryton, woo)
    assert run_procedure(acc, publish, work).status == "succeeded"
    order = shop.place_order(acc, sandbox.id, {"TS-BLU-M": 1})
    # Someone changed the Tryton user's password; the hub still has the old one.
    set_credentials(erp, {"password": "not-the-password"})
    db.session.commit()

    every5 = b.template(acc, "every_5_minutes")
    run = run_procedure(acc, every5, work)
    assert run.status == "partial", steps(run)  # the orders did come into the hub
    failed = [s for s in run.steps if s.status == "failed"]
    # Both steps on the Tryton node fail (the second because the node is now stopped); the
    # procedure goes on, so both stores still get each other's sales.
    assert [s.id for s in failed] == [erp_step(run, "order_export").id,
                                      erp_step(run, "product_import").id], steps(run)
    assert failed[1].error.startswith("node Tryton is stopped")
    assert all(s.status == "succeeded" for s in run.steps if s not in failed), steps(run)
    assert "credentials rejected by Tryton" in failed[0].error
    assert "wrong login or password" in failed[0].error
    node = db.session.get(Node, erp.id)
    assert node.status == "auth_failed"
    assert node.status_message.startswith("credentials rejected: Tryton refused login 'admin'")
    assert "wrong login or password" in node.status_message
    assert tryton.sales() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1

    # While the node is stopped the engine does not build its adapter; the step says why.
    run = run_procedure(acc, every5, work)
    step = next(s for s in run.steps if s.status == "failed")
    assert step.error.startswith("node Tryton is stopped: credentials rejected")

    # Fixing the credentials starts the node again and the held-back order goes through once.
    set_credentials(db.session.get(Node, erp.id), {"password": tryton.password})
    db.session.commit()
    run = run_procedure(acc, every5, work)
    assert run.status == "succeeded", steps(run)
    sale, = assert_each_order_is_one_sale(tryton)
    assert sale["reference"] == order.number
    expected = {"BAG-01": 3, "CAP-RED": 0, "MUG-01": 5, "TS-BLU-M": 11}
    assert forecast(tryton) == expected
    assert sandbox_stock(sandbox.id) == woo_stock(woo, expected) == expected
