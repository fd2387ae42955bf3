"""A worker killed mid-step (SIGKILL, no chance to clean up) leaves no run running forever."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import sqlalchemy as sa

from app.extensions import db
from app.models import Node, Run
from app.services.procedures import create_from_template
from app.services.reaper import reap_stale_runs
from app.services.runs import start_run
from tests import builders as b
from tests import fakes

ROOT = Path(__file__).resolve().parents[2]
WORKER = ("from tests import fakes; fakes.install(); import worker; "
          "worker.main(['worker', 'sync', '--burst'])")


def test_worker_killed_mid_step_is_reaped_and_the_step_rerun(ctx, client, work, monkeypatch,
                                                              tmp_path):
    fakes.install(monkeypatch)
    acc = b.account()
    erp, kid, secret = b.erp_with_key(acc)
    rows = [(f"K-{i}", f"P{i}", "1", 5) for i in range(30)]
    b.signed(client, "POST", f"/erp/v1/nodes/{erp.public_id}/products", kid, secret,
             b.products_csv(rows), query=[("mode", "full")], content_type="text/csv")
    calls = tmp_path / "calls"
    store = b.node(acc, "fake_store", "Slow store", calls_file=str(calls))
    publish = create_from_template(acc, "publish_catalogue")
    db.session.commit()
    start_run(acc, publish.id, "manual")
    work()

    b.signed(client, "POST", f"/erp/v1/nodes/{erp.public_id}/products", kid, secret,
             b.products_csv([(f"K-{i}", 7) for i in range(30)], header=("sku", "quantity")),
             query=[("mode", "quantity")], content_type="text/csv")
    store.settings = {"calls_file": str(calls), "sleep": 30}
    db.session.commit()
    run_id = start_run(acc, b.template(acc, "stock_changed").id, "erp").run.id

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (calls.exists() and calls.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert calls.exists(), "the worker never reached the store"
    finally:
        # The work horse runs in a process group of its own: kill it by pid, then the worker.
        for child in psutil.Process(proc.pid).children(recursive=True):
            child.kill()
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    db.session.expire_all()
    run = db.session.get(Run, run_id)
    assert run.status == "running" and run.steps[1].status == "running"
    time.sleep(ctx.config["STEP_STALE_SECONDS"] + 0.5)
    assert reap_stale_runs()["requeued"] == 1

    node = db.session.get(Node, store.id)
    node.settings = {"calls_file": str(calls)}  # the store is fast again
    db.session.commit()
    work()
    run = db.session.get(Run, run_id)
    assert run.status == "succeeded"
    assert run.steps[1].attempts == 2 and run.steps[1].updated == 30
    assert {v["quantity"] for v in fakes.SHOPS[store.id].values()} == {7}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Run).where(
        Run.status.in_(("queued", "running")))) == 0
