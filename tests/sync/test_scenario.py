"""The seed's scenario end to end: a file ERP and two sandbox stores, real RQ workers.

The ERP uploads products -> the catalogue is published -> stock changed publishes quantities
-> orders on both stores -> the 5-minute procedure brings them to the hub and offers them to
the ERP -> the ERP acknowledges -> both stores count the other store's sales, exactly once.
"""
import sqlalchemy as sa

from app.extensions import db
from app.models import Order, OrderBinding, Run, SandboxProduct
from app.platforms.sandbox import shop
from app.services.procedures import create_from_template
from app.services.runs import start_run
from tests import builders as b

CATALOGUE = [("TEE-M", "T-shirt M", "19,90", 10), ("MUG", "Mug", "8,50", 4),
             ("CAP", "Cap", "12,00", 0)]


def stock(node_id):
    return dict(db.session.execute(sa.select(SandboxProduct.sku, SandboxProduct.stock).where(
        SandboxProduct.node_id == node_id)).all())


def run_procedure(acc, proc, work):
    started = start_run(acc, proc.id, "manual", "test")
    work()
    run = db.session.get(Run, started.run.id)
    return run


def test_seed_scenario_end_to_end(client, work):
    acc = b.account()
    erp, kid, secret = b.erp_with_key(acc)
    a = b.node(acc, "sandbox", "Shop A", buffer=0)
    bb = b.node(acc, "sandbox", "Shop B")
    publish = create_from_template(acc, "publish_catalogue")
    db.session.commit()

    resp = b.signed(client, "POST", f"/erp/v1/nodes/{erp.public_id}/products", kid, secret,
                    b.products_csv(CATALOGUE), query=[("mode", "full")],
                    content_type="text/csv")
    assert resp.status_code == 202, resp.get_data(as_text=True)
    assert resp.get_json()["rows"] == 3

    run = run_procedure(acc, publish, work)
    assert run.status == "succeeded", [(s.label, s.status, s.error) for s in run.steps]
    assert stock(a.id) == stock(bb.id) == {"TEE-M": 10, "MUG": 4, "CAP": 0}

    # The ERP says stock changed and triggers the procedure through its signed URL.
    stock_changed = b.template(acc, "stock_changed")
    resp = b.signed(client, "POST", f"/erp/v1/nodes/{erp.public_id}/products", kid, secret,
                    b.products_csv([("TEE-M", 8), ("MUG", 5)], header=("sku", "quantity")),
                    query=[("mode", "quantity")], content_type="text/csv")
    assert resp.status_code == 202
    resp = b.signed(client, "POST", f"/erp/v1/procedures/{stock_changed.public_id}/runs",
                    kid, secret)
    assert resp.status_code == 202 and resp.get_json()["coalesced"] is False
    work()
    status = b.signed(client, "GET", resp.get_json()["status_url"], kid, secret).get_json()
    assert status["status"] == "succeeded"
    assert stock(a.id) == stock(bb.id) == {"TEE-M": 8, "MUG": 5, "CAP": 0}

    # Customers buy on both stores.
    shop.place_order(acc, a.id, {"TEE-M": 3})
    shop.place_order(acc, bb.id, {"TEE-M": 1, "MUG": 2})
    db.session.commit()
    every5 = b.template(acc, "every_5_minutes")
    run = run_procedure(acc, every5, work)
    assert run.status == "succeeded", [(s.label, s.status, s.error) for s in run.steps]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 2
    # Each store now sells what the ERP has minus both stores' sales.
    assert stock(a.id) == stock(bb.id) == {"TEE-M": 4, "MUG": 3, "CAP": 0}

    # The ERP pulls its feed and acknowledges.
    feed = b.signed(client, "GET", f"/erp/v1/nodes/{erp.public_id}/orders", kid, secret)
    orders = feed.get_json()["orders"]
    assert sorted(o["source"] for o in orders) == ["Shop A", "Shop B"]
    ids = [o["order_id"] for o in orders]
    ack = b.signed(client, "POST", f"/erp/v1/nodes/{erp.public_id}/orders/ack", kid, secret,
                   body=b'{"order_ids": %s, "erp_refs": {"%s": "DOC-1"}}' % (
                       str(ids).replace("'", '"').encode(), ids[0].encode()),
                   content_type="application/json")
    assert ack.get_json()["acknowledged"] == ids
    assert b.signed(client, "GET", f"/erp/v1/nodes/{erp.public_id}/orders", kid,
                    secret).get_json()["orders"] == []

    # Until the ERP publishes quantities after the acknowledgment, the sales still count.
    run = run_procedure(acc, every5, work)
    assert stock(a.id) == {"TEE-M": 4, "MUG": 3, "CAP": 0}
    # The ERP's new figures include the sales: nothing is counted twice.
    b.signed(client, "POST", f"/erp/v1/nodes/{erp.public_id}/products", kid, secret,
             b.products_csv([("TEE-M", 4), ("MUG", 3)], header=("sku", "quantity")),
             query=[("mode", "quantity")], content_type="text/csv")
    run = run_procedure(acc, stock_changed, work)
    assert run.status == "succeeded"
    assert stock(a.id) == stock(bb.id) == {"TEE-M": 4, "MUG": 3, "CAP": 0}

    # Running again imports no order twice and offers nothing new.
    run = run_procedure(acc, every5, work)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderBinding)) == 2
    assert {s.created for s in run.steps} == {0}
