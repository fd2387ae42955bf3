"""Hypothesis, stateful: random orders on three stores, ERP acknowledgments and ERP quantity
publications in any order never let the units sold exceed the units the ERP had.

Everything goes through the real engine: sandbox stores that refuse to sell what they do not
show, the 5-minute procedure on real RQ workers, and the signed ERP feed and uploads.
A store's order reaches the hub (and the new figures every store) before the next sale: two
stores selling the same last unit between two syncs is what per-channel buffers are for, and
no hub can prevent it. What may interleave freely are the ERP's acknowledgments, the ERP's
quantity publications and the hub's own runs, which is where double counting or settling an
order too early would oversell.
"""
import json

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from app.extensions import db
from app.models import SandboxOrder
from app.platforms.sandbox import shop
from app.services.procedures import create_from_template
from app.services.runs import start_run
from tests import builders as b

SKUS = ["A", "B"]


def test_units_sold_never_exceed_what_the_erp_had(ctx, client, work):
    def reset():
        db.session.expunge_all()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        from app.queues import redis_connection
        redis_connection().flushdb()

    class Market(RuleBasedStateMachine):
        @initialize(start=st.lists(st.integers(0, 6), min_size=2, max_size=2))
        def setup(self, start):
            reset()
            self.acc = b.account()
            self.erp, self.kid, self.secret = b.erp_with_key(self.acc)
            self.stores = [b.node(self.acc, "sandbox", f"Store {i}") for i in range(3)]
            self.physical = dict(zip(SKUS, start))  # what the ERP's warehouse holds
            self.initial = sum(start)
            self.received = set()                    # order ids the ERP booked
            self.upload("full", [(s, f"Item {s}", "5", q) for s, q in self.physical.items()])
            publish = create_from_template(self.acc, "publish_catalogue")
            db.session.commit()
            start_run(self.acc, publish.id, "manual")
            work()
            self.every5 = b.template(self.acc, "every_5_minutes")

        def upload(self, mode, rows):
            header = ("sku", "name", "price", "quantity") if mode == "full" else ("sku",
                                                                                 "quantity")
            resp = b.signed(client, "POST", f"/erp/v1/nodes/{self.erp.public_id}/products",
                            self.kid, self.secret, b.products_csv(rows, header=header),
                            query=[("mode", mode)], content_type="text/csv")
            assert resp.status_code == 202, resp.get_data(as_text=True)

        @rule(store=st.integers(0, 2), sku=st.sampled_from(SKUS), qty=st.integers(1, 3))
        def customer_orders(self, store, sku, qty):
            try:
                shop.place_order(self.acc, self.stores[store].id, {sku: qty})
                db.session.commit()
            except shop.OutOfStockError:
                db.session.rollback()
                return
            self.five_minute_sync()

        @rule()
        def hub_sync(self):
            self.five_minute_sync()

        def five_minute_sync(self):
            start_run(self.acc, self.every5.id, "schedule")
            work()

        @rule()
        def erp_books_its_feed(self):
            path = f"/erp/v1/nodes/{self.erp.public_id}/orders"
            orders = b.signed(client, "GET", path, self.kid, self.secret).get_json()["orders"]
            if not orders:
                return
            for o in orders:
                for line in o["lines"]:
                    self.physical[line["sku"]] -= line["quantity"]
                self.received.add(o["order_id"])
            body = json.dumps({"order_ids": [o["order_id"] for o in orders]}).encode()
            resp = b.signed(client, "POST", path + "/ack", self.kid, self.secret, body,
                            content_type="application/json")
            assert resp.status_code == 200

        @rule()
        def erp_publishes_quantities(self):
            self.upload("quantity", list(self.physical.items()))

        @invariant()
        def nothing_oversold(self):
            if not hasattr(self, "acc"):
                return
            sold = sum(int(line["quantity"]) for o in db.session.scalars(sa.select(SandboxOrder))
                       for line in o.lines)
            assert sold <= self.initial
            assert all(q >= 0 for q in self.physical.values()), self.physical

    Market.TestCase.settings = settings(
        max_examples=25, stateful_step_count=10, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    from hypothesis.stateful import run_state_machine_as_test
    run_state_machine_as_test(Market, settings=Market.TestCase.settings)
