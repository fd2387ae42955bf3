"""Orders pushed into an ERP (as with Tryton), against an in-process fake ERP.

Keeps the push path covered when the real-Tryton tests are deselected: the first delivery
of an order creates its binding, and a step whose session breaks fails with its reason
instead of staying 'running'.
"""
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import OrderBinding, Run
from app.platforms import registry
from app.platforms.base import ErpAdapter
from app.platforms.records import ProductRecord
from app.platforms.sandbox import shop
from app.services.procedures import create_from_template
from app.services.runs import start_run
from tests import builders as b

DOCUMENTS: dict[str, str] = {}  # the fake ERP's sales: hub reference -> document number


class FakePushErp(ErpAdapter):
    key = "fake_push_erp"

    def __init__(self, settings, credentials, **context):
        super().__init__(settings, credentials)

    def test_connection(self) -> dict:
        return {}

    def fetch_products(self, changed_since, quantity_only):
        return [ProductRecord("MUG", name="Mug", price=Decimal("9.90"), quantity=10)]

    def find_order(self, reference):
        return DOCUMENTS.get(reference)

    def deliver_order(self, order, reference):
        if order.customer.get("email") in self.settings.get("refuse_emails", []):
            from app.platforms.errors import ItemError
            raise ItemError(order.number, "customer blocked in the ERP")
        DOCUMENTS[reference] = self.settings.get("number") or f"SO-{len(DOCUMENTS) + 1}"
        return DOCUMENTS[reference]


def run_procedure(acc, proc, work) -> Run:
    started = start_run(acc, proc.id, "manual", "test")
    work()
    return db.session.get(Run, started.run.id)


@pytest.fixture
def hub(ctx, work, monkeypatch):
    monkeypatch.setitem(registry.PLATFORMS, "fake_push_erp", f"{__name__}:FakePushErp")
    DOCUMENTS.clear()

    def build(**erp_settings):
        acc = b.account()
        erp = b.node(acc, "fake_push_erp", "ERP", **erp_settings)
        store = b.node(acc, "sandbox", "Shop")
        publish = create_from_template(acc, "publish_catalogue")
        db.session.commit()
        assert run_procedure(acc, publish, work).status == "succeeded"
        return acc, erp, store
    return build


def test_first_delivery_to_a_push_erp_binds_each_order_once(hub, work):
    acc, erp, store = hub()
    shop.place_order(acc, store.id, {"MUG": 1})
    shop.place_order(acc, store.id, {"MUG": 2})
    db.session.commit()
    every5 = b.template(acc, "every_5_minutes")

    run = run_procedure(acc, every5, work)
    assert run.status == "succeeded", [(s.label, s.status, s.error) for s in run.steps]
    bindings = db.session.scalars(sa.select(OrderBinding).order_by(OrderBinding.id)).all()
    assert [(bd.status, bd.external_id) for bd in bindings] == [
        ("delivered", "SO-1"), ("delivered", "SO-2")]

    run = run_procedure(acc, every5, work)
    assert run.status == "succeeded" and {s.created for s in run.steps} == {0}
    assert len(DOCUMENTS) == 2


def test_a_step_whose_session_breaks_fails_with_the_reason(hub, work):
    # The ERP answers the same document number twice: the second binding breaks the unique
    # (node, external id) at commit, inside the flow.
    acc, erp, store = hub(number="SO-SAME")
    shop.place_order(acc, store.id, {"MUG": 1})
    shop.place_order(acc, store.id, {"MUG": 1})
    db.session.commit()

    run = run_procedure(acc, b.template(acc, "every_5_minutes"), work)
    assert run.status == "partial"
    step = next(s for s in run.steps if s.label == "ERP: order export (full)")
    assert step.status == "failed"
    assert step.error.startswith("internal error: IntegrityError"), step.error
    # The first order's delivery was committed before the failure and stays recorded.
    assert db.session.scalars(sa.select(OrderBinding.status)).all() == ["delivered"]


def test_retrying_failed_items_takes_only_the_failed_order_of_that_number(hub, work):
    """Two stores both number their first order SB-00001; only one failed to reach the ERP."""
    from app.models import Node, Order
    from app.services.runs import retry_run
    acc, erp, store = hub(refuse_emails=["blocked@example.com"])
    other = b.node(acc, "sandbox", "Other shop")
    run_procedure(acc, create_from_template(acc, "publish_catalogue"), work)
    shop.place_order(acc, store.id, {"MUG": 1}, customer={"email": "blocked@example.com"})
    db.session.commit()
    every5 = b.template(acc, "every_5_minutes")
    run = run_procedure(acc, every5, work)
    assert run.status == "partial"
    # The other store's SB-00001 arrives later and is not delivered yet either.
    shop.place_order(acc, other.id, {"MUG": 1}, customer={"email": "ok@example.com"})
    db.session.commit()
    node = db.session.get(Node, erp.id)
    node.settings = {}  # the ERP unblocked the customer
    db.session.commit()
    started = retry_run(acc, run.id, only_failed_items=True)
    work()
    numbers = {o.number: o for o in db.session.scalars(sa.select(Order))}
    assert set(numbers) == {"SB-00001"}  # both stores use the same number
    delivered = db.session.scalars(sa.select(OrderBinding).where(
        OrderBinding.status == "delivered")).all()
    sources = {db.session.get(Order, bd.order_id).source_node_id for bd in delivered}
    assert sources == {store.id}  # only the failed one was retried
    assert db.session.get(Run, started.run.id).status == "succeeded"
