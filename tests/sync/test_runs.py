"""Runs on RQ: chaining, failure policy, coalescing, partial runs, stopped nodes, the reaper."""
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (FailurePolicy, Node, ProcedureStep, Run, StepItem, StepRun,
                        utcnow)
from app.queues import redis_connection
from app.services.reaper import reap_stale_runs
from app.services.runs import RunError, start_run
from tests import builders as b
from tests import fakes


@pytest.fixture()
def world(ctx, monkeypatch, client):
    """A file ERP with 120 products and two fake stores already holding them (bound)."""
    fakes.install(monkeypatch)
    acc = b.account()
    erp, kid, secret = b.erp_with_key(acc)
    rows = [(f"SKU-{i:03d}", f"Product {i}", "9,99", 10) for i in range(120)]
    resp = b.signed(client, "POST", f"/erp/v1/nodes/{erp.public_id}/products", kid, secret,
                    b.products_csv(rows), query=[("mode", "full")], content_type="text/csv")
    assert resp.status_code == 202
    return {"acc": acc, "erp": erp, "kid": kid, "secret": secret}


def add_store(acc, name, **settings):
    return b.node(acc, "fake_store", name, **settings)


def finish(run_id):
    db.session.expire_all()
    return db.session.get(Run, run_id)


def publish(world, work):
    from app.services.procedures import create_from_template
    proc = create_from_template(world["acc"], "publish_catalogue")
    db.session.commit()
    run = start_run(world["acc"], proc.id, "manual").run
    work()
    return finish(run.id)


def test_steps_run_in_order_and_the_run_closes(world, work):
    s1 = add_store(world["acc"], "Store 1")
    s2 = add_store(world["acc"], "Store 2")
    run = publish(world, work)
    assert run.status == "succeeded"
    assert [s.status for s in run.steps] == ["succeeded"] * 3
    assert run.steps[0].created == 120 and run.steps[1].created == 120
    assert len(fakes.SHOPS[s1.id]) == len(fakes.SHOPS[s2.id]) == 120
    assert run.started_at <= run.finished_at
    # Nothing changed: a second run sends nothing and counts everything unchanged.
    again = publish(world, work)
    assert [s.unchanged for s in again.steps[1:]] == [120, 120]
    assert sum(s.created + s.updated for s in again.steps) == 0


def test_one_bad_record_makes_the_run_partial_with_its_reason(world, work):
    add_store(world["acc"], "Store 1", fail_skus=["SKU-007"])
    run = publish(world, work)
    assert run.status == "partial"
    step = run.steps[1]
    assert step.status == "partial" and step.failed == 1 and step.created == 119
    item = db.session.scalar(sa.select(StepItem).where(StepItem.step_run_id == step.id,
                                                       StepItem.outcome == "failed"))
    assert item.ref == "SKU-007" and item.message == "price must be positive"


def test_rejected_credentials_stop_the_node_and_say_so(world, work):
    store = add_store(world["acc"], "Store 1", auth_fail=True)
    run = publish(world, work)
    assert run.status == "partial"  # the ERP import step still succeeded
    assert "credentials rejected" in run.steps[1].error
    node = db.session.get(Node, store.id)
    assert node.status == "auth_failed" and "401" in node.status_message
    # While stopped, the node is not called again and the step says why.
    run = publish(world, work)
    assert "is stopped" in run.steps[1].error


def test_unavailable_platform_fails_the_step_and_policy_stop_skips_the_rest(world, work):
    add_store(world["acc"], "A down store", unavailable=True)
    add_store(world["acc"], "B healthy store")
    from app.services.procedures import create_from_template
    proc = create_from_template(world["acc"], "publish_catalogue")
    proc.template = None  # keep these steps as they are
    proc.failure_policy = FailurePolicy.STOP.value
    db.session.commit()
    run = finish(start_run(world["acc"], proc.id, "manual").run.id)
    work()
    run = finish(run.id)
    assert [s.status for s in run.steps] == ["succeeded", "failed", "skipped"]
    assert "unavailable" in run.steps[1].error and run.status == "partial"
    proc.failure_policy = FailurePolicy.CONTINUE.value
    db.session.commit()
    run = finish(start_run(world["acc"], proc.id, "manual").run.id)
    work()
    run = finish(run.id)
    assert [s.status for s in run.steps] == ["succeeded", "failed", "succeeded"]


def test_a_trigger_while_running_is_coalesced_into_one_follow_up(world, work):
    add_store(world["acc"], "Store 1")
    proc = b.template(world["acc"], "stock_changed")
    first = start_run(world["acc"], proc.id, "manual").run
    assert start_run(world["acc"], proc.id, "erp").coalesced  # still queued: same run
    first.status = "running"
    db.session.commit()
    for _ in range(3):  # three triggers while running: one follow-up, not three
        again = start_run(world["acc"], proc.id, "erp")
        assert again.coalesced and again.run.id == first.id
    work()
    runs = db.session.scalars(sa.select(Run).order_by(Run.id)).all()
    assert len(runs) == 2 and runs[1].triggered_by == f"follow-up of run {first.id}"
    assert [r.status for r in runs] == ["succeeded", "succeeded"], [
        (s.label, s.status, s.error) for r in runs for s in r.steps]


def test_disabled_procedure_and_other_accounts_procedure_are_refused(world):
    proc = b.template(world["acc"], "stock_changed")
    other = b.account("Other")
    with pytest.raises(RunError):
        start_run(other, proc.id, "manual")
    proc.enabled = False
    db.session.commit()
    with pytest.raises(RunError, match="disabled"):
        start_run(world["acc"], proc.id, "manual")


def test_redis_flushed_between_steps_the_reaper_finishes_the_run(world, work, ctx):
    add_store(world["acc"], "Store 1")
    run = publish(world, lambda: None)  # enqueued, not worked
    run = finish(start_run(world["acc"], run.procedure_id, "manual").run.id) \
        if run.status != "queued" else run
    from rq import SimpleWorker
    from app.queues import get_queue
    SimpleWorker([get_queue("sync")], connection=redis_connection()).work(
        burst=True, max_jobs=1)  # step 0 ran; then Redis restarts empty
    redis_connection().flushdb()
    run = finish(run.id)
    assert run.status == "running" and run.steps[0].status == "succeeded"
    assert reap_stale_runs() == {"requeued": 0, "failed_steps": 0, "closed": 0}  # too soon
    ctx.config["STEP_STALE_SECONDS"] = 0
    try:
        report = reap_stale_runs()
    finally:
        ctx.config["STEP_STALE_SECONDS"] = 2
    assert report["requeued"] == 1
    work()
    run = finish(run.id)
    assert run.status == "succeeded" and run.steps[1].created == 120


def test_a_stale_running_step_is_retried_then_failed(world, work, ctx):
    add_store(world["acc"], "Store 1")
    proc = b.template(world["acc"], "stock_changed")
    run = start_run(world["acc"], proc.id, "manual").run
    redis_connection().flushdb()
    step = run.steps[0]
    run.status, step.status, step.attempts = "running", "running", 3
    step.heartbeat_at = utcnow().replace(year=2020)
    db.session.commit()
    assert reap_stale_runs()["failed_steps"] == 1
    work()
    run = finish(run.id)
    assert run.steps[0].status == "failed" and "worker stopped" in run.steps[0].error
    assert run.status in ("failed", "partial") and run.finished_at is not None


def test_procedure_steps_follow_new_stores(world):
    proc = b.template(world["acc"], "every_5_minutes")
    before = len(proc.steps)
    add_store(world["acc"], "New store")
    db.session.refresh(proc)
    assert len(proc.steps) == before + 2  # its order import and its quantity export
    kinds = [s.connector.kind for s in proc.steps]
    assert kinds.index("order_export") < kinds.index("product_export")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProcedureStep)) > 0
    assert StepRun  # imported for the reaper tests above
