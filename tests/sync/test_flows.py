"""Flow details: missing products, held orders, order changes, cancellations, CLI trigger."""
import sqlalchemy as sa

from app.extensions import db
from app.models import Order, OrderBinding, Product, Run, StepItem
from app.platforms.sandbox import shop
from app.services.procedures import create_from_template
from app.services.runs import start_run
from tests import builders as b
from tests.sync.test_scenario import stock


def upload(client, erp, kid, secret, rows, mode="full", header=("sku", "name", "price",
                                                                  "quantity")):
    resp = b.signed(client, "POST", f"/erp/v1/nodes/{erp.public_id}/products", kid, secret,
                    b.products_csv(rows, header=header), query=[("mode", mode)],
                    content_type="text/csv")
    assert resp.status_code == 202, resp.get_data(as_text=True)


def run(acc, proc, work):
    run_id = start_run(acc, proc.id, "manual").run.id
    work()
    return db.session.get(Run, run_id)


def setup(client):
    acc = b.account()
    erp, kid, secret = b.erp_with_key(acc)
    store = b.node(acc, "sandbox", "Shop")
    publish = create_from_template(acc, "publish_catalogue")
    db.session.commit()
    return acc, erp, kid, secret, store, publish


def test_full_feed_missing_products_are_left_or_disabled_never_deleted(client, work):
    acc, erp, kid, secret, store, publish = setup(client)
    upload(client, erp, kid, secret, [("A", "A", "1", 1), ("B", "B", "1", 1)])
    run(acc, publish, work)
    upload(client, erp, kid, secret, [("A", "A", "1", 1)])
    run(acc, publish, work)
    assert db.session.scalar(sa.select(Product).where(Product.sku == "B")).active  # leave
    importer = next(c for c in erp.connectors
                    if c.kind == "product_import" and c.mode == "full")
    importer.settings = {"missing_products": "disable"}
    db.session.commit()
    upload(client, erp, kid, secret, [("A", "A", "1", 1)])
    r = run(acc, publish, work)
    b_product = db.session.scalar(sa.select(Product).where(Product.sku == "B"))
    assert b_product is not None and b_product.active is False
    messages = db.session.scalars(sa.select(StepItem.message).where(
        StepItem.step_run_id == r.steps[0].id)).all()
    assert "disabled: no longer in the ERP's full feed" in messages
    assert r.status == "succeeded"


def test_quantity_upload_changes_nothing_but_quantities(client, work):
    acc, erp, kid, secret, store, publish = setup(client)
    upload(client, erp, kid, secret, [("A", "Alpha", "9,90", 4)])
    run(acc, publish, work)
    before = db.session.scalar(sa.select(Product))
    name, digest = before.name, before.content_hash
    upload(client, erp, kid, secret, [("A", 9), ("UNKNOWN", 1)], mode="quantity",
           header=("sku", "quantity"))
    r = run(acc, b.template(acc, "stock_changed"), work)
    product = db.session.scalar(sa.select(Product))
    db.session.refresh(product)
    assert (product.name, product.content_hash, product.erp_quantity) == (name, digest, 9)
    assert r.status == "partial" and r.steps[0].failed == 1  # UNKNOWN: import it in full first
    assert stock(store.id) == {"A": 9}


def test_unpaid_orders_are_held_then_offered_once_paid(client, work):
    acc, erp, kid, secret, store, publish = setup(client)
    upload(client, erp, kid, secret, [("A", "A", "1", 5)])
    run(acc, publish, work)
    sb_order = shop.place_order(acc, store.id, {"A": 1}, paid=False)
    db.session.commit()
    every5 = b.template(acc, "every_5_minutes")
    run(acc, every5, work)
    binding = db.session.scalar(sa.select(OrderBinding))
    assert binding.status == "held" and binding.last_error == "waiting for payment"
    assert stock(store.id) == {"A": 4}  # held, but it still counts against stock
    shop.set_order_status(store.id, sb_order.id, "processing")  # the customer paid
    db.session.commit()
    run(acc, every5, work)
    db.session.refresh(binding)
    assert binding.status == "offered"
    feed = b.signed(client, "GET", f"/erp/v1/nodes/{erp.public_id}/orders", kid, secret)
    assert len(feed.get_json()["orders"]) == 1


def test_a_cancelled_order_the_erp_never_got_stops_counting(client, work):
    acc, erp, kid, secret, store, publish = setup(client)
    other = b.node(acc, "sandbox", "Other shop")
    upload(client, erp, kid, secret, [("A", "A", "1", 5)])
    run(acc, publish, work)
    run(acc, create_from_template(acc, "publish_catalogue"), work)
    sb_order = shop.place_order(acc, store.id, {"A": 2})
    db.session.commit()
    every5 = b.template(acc, "every_5_minutes")
    run(acc, every5, work)
    assert stock(other.id) == {"A": 3}
    shop.set_order_status(store.id, sb_order.id, "cancelled")
    db.session.commit()
    run(acc, every5, work)
    order = db.session.scalar(sa.select(Order))
    assert order.status == "cancelled" and order.cancelled_at is not None
    assert stock(other.id) == {"A": 5}  # back on sale everywhere
    feed = b.signed(client, "GET", f"/erp/v1/nodes/{erp.public_id}/orders", kid, secret)
    assert feed.get_json()["orders"] == []  # withdrawn from the ERP's feed


def test_cli_trigger_goes_through_start_run(ctx, work):
    acc = b.account()
    proc = b.template(acc, "stock_changed")
    result = ctx.test_cli_runner().invoke(args=["ponte", "run", proc.public_id,
                                                "--account", str(acc)])
    assert result.exit_code == 0 and "queued" in result.output
    again = ctx.test_cli_runner().invoke(args=["ponte", "run", proc.public_id,
                                               "--account", str(acc)])
    assert "coalesced" in again.output
    work()
    assert db.session.scalar(sa.select(Run)).trigger == "cli"
    other = b.account("Other")
    refused = ctx.test_cli_runner().invoke(args=["ponte", "run", proc.public_id,
                                                 "--account", str(other)])
    assert refused.exit_code != 0 and "no such procedure" in refused.output


def test_stock_changes_are_kept_shown_on_the_product_page_and_pruned(client, work, ctx):
    from datetime import timedelta

    from app.models import StockEvent, utcnow
    from app.services.history import prune_history
    acc, erp, kid, secret, store, publish = setup(client)
    b.user(acc, "owner@example.com")
    upload(client, erp, kid, secret, [("A", "Alpha", "1", 4)])
    run(acc, publish, work)
    upload(client, erp, kid, secret, [("A", 9)], mode="quantity", header=("sku", "quantity"))
    r = run(acc, b.template(acc, "stock_changed"), work)
    events = db.session.scalars(sa.select(StockEvent).order_by(StockEvent.id)).all()
    erp_events = [(e.kind, e.previous, e.quantity) for e in events if e.kind == "erp"]
    assert erp_events == [("erp", 4, 9)]
    assert ("published", 4, 9) in [(e.kind, e.previous, e.quantity) for e in events]
    assert all(e.run_id in (r.id, None) or e.kind == "published" for e in events)
    product = db.session.scalar(sa.select(Product))
    b.login(client, "owner@example.com")
    page = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert "Recent stock changes" in page and "the ERP published" in page
    assert "sent to the channel" in page
    assert prune_history(utcnow() + timedelta(days=ctx.config["STOCK_HISTORY_DAYS"] + 1)) == {
        "stock_events_pruned": len(events)}
