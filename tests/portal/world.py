"""A small but complete account for portal tests: one of each object the portal addresses."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from app.extensions import db
from app.ids import public_id
from app.models import (Order, OrderLine, Product, Role, Run, SandboxProduct, StepItem, StepRun,
                        utcnow)
from app.queues import get_queue
from tests import builders as b


def build(name: str) -> SimpleNamespace:
    acc = b.account(name)
    slug = name.lower().replace(" ", "")
    owner = b.user(acc, f"owner@{slug}.example")
    viewer = b.user(acc, f"viewer@{slug}.example", Role.VIEWER.value)
    admin = b.user(acc, f"admin@{slug}.example", Role.ADMIN.value)
    erp, key_id, secret = b.erp_with_key(acc, "Office ERP")
    shop = b.node(acc, "sandbox", "Sandbox shop")
    proc = b.template(acc, "every_5_minutes")
    db.session.add(SandboxProduct(account_id=acc, node_id=shop.id, sku="MUG", name="Mug",
                                  stock=3))
    product = Product(account_id=acc, sku="MUG", name="Mug", erp_quantity=3)
    order = Order(account_id=acc, public_id=public_id("or"), source_node_id=shop.id,
                  external_id="1", number="SB-00001", status="paid", paid=True,
                  placed_at=utcnow() - timedelta(hours=2))
    order.lines.append(OrderLine(account_id=acc, sku="MUG", quantity=1))
    db.session.add_all([product, order])
    run = Run(account_id=acc, procedure_id=proc.id, trigger="manual", status="partial",
              started_at=utcnow() - timedelta(minutes=1), finished_at=utcnow())
    step = StepRun(account_id=acc, position=0, label="Sandbox shop: order import",
                   connector_id=proc.steps[0].connector_id, status="partial", items_total=2,
                   items_done=2, created=1, failed=1)
    run.steps.append(step)
    db.session.add(run)
    db.session.flush()
    db.session.add(StepItem(account_id=acc, step_run_id=step.id, ref="MUG", outcome="failed",
                            message="the store refused it: price missing"))
    db.session.commit()
    job = get_queue("default").enqueue("app.jobs.system.ping", acc, meta={"account_id": acc})
    return SimpleNamespace(account_id=acc, owner=owner, viewer=viewer, admin=admin, erp=erp,
                           key_id=key_id, secret=secret, shop=shop, proc=proc,
                           step=proc.steps[0], connector=erp.connectors[0], product=product,
                           order=order, run=run, job_id=job.id)


def url_args(w: SimpleNamespace, endpoint: str, names) -> dict:
    """The values of a rule's arguments taken from world `w`; fails on an unknown argument so
    that a new route with a new kind of id must be taught here (and so be checked)."""
    values = {
        "node_id": w.shop.public_id if endpoint.startswith("portal.sandbox") else w.erp.public_id,
        "procedure_id": w.proc.public_id, "step_id": w.step.id, "run_id": w.run.id,
        "product_id": w.product.id, "order_id": w.order.public_id,
        "connector_id": w.connector.id, "key_id": w.key_id, "user_id": w.admin.id,
        "job_id": w.job_id, "platform": "sandbox"}
    unknown = set(names) - set(values)
    assert not unknown, f"{endpoint}: teach tests/portal/world.py the argument(s) {unknown}"
    return {n: values[n] for n in names}


NOT_TENANT_ARGS = {"platform"}  # route arguments that name no tenant row
