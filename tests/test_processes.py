"""The Procfile's processes start from the same factory and configuration, and the CLI works."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from app.models import Account, User
from app.queues import get_queue, redis_connection

ROOT = Path(__file__).resolve().parents[1]


def test_cli_creates_an_account_and_a_user(ctx):
    runner = ctx.test_cli_runner()
    out = runner.invoke(args=["ponte", "create-account", "Bottega Rossi"])
    assert out.exit_code == 0, out.output
    account = db.session.scalar(sa.select(Account).where(Account.name == "Bottega Rossi"))
    out = runner.invoke(args=["ponte", "create-user", "Anna@Example.com", "--account",
                              str(account.id), "--role", "admin", "--password",
                              "a long enough password"])
    assert out.exit_code == 0, out.output
    user = db.session.scalar(sa.select(User))
    assert (user.email, user.role, user.account_id) == ("anna@example.com", "admin", account.id)
    assert user.password_hash.startswith("$argon2id$")
    short = runner.invoke(args=["ponte", "create-user", "b@example.com", "--account",
                                str(account.id), "--password", "short"])
    assert short.exit_code != 0 and "10 characters" in short.output


def test_worker_process_runs_a_job_and_stops_gracefully_on_sigterm(ctx):
    from app.jobs.system import ping
    account = Account(name="Worker test")
    db.session.add(account)
    db.session.commit()
    job = get_queue("default").enqueue(ping, account.id)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "worker.py", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while job.get_status(refresh=True).value != "finished" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job.return_value()["account"] == "Worker test"
        assert job.return_value()["pid"] != os.getpid()
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert "Warm shut down requested" in output or "shutdown" in output.lower()
    assert not redis_connection().smembers("rq:workers")  # it unregistered itself


def test_scheduler_process_declares_the_tick(ctx):
    from app.jobs.schedule import TICK_JOB_ID, PonteScheduler
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "worker.py", "scheduler", "--interval", "1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        scheduler = PonteScheduler(queue_name="periodic", connection=redis_connection())
        deadline = time.monotonic() + 20
        while TICK_JOB_ID not in scheduler and len(get_queue("periodic")) == 0 \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        assert TICK_JOB_ID in scheduler or len(get_queue("periodic")) > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
