"""RQ processes: `python worker.py` (a worker) and `python worker.py scheduler`.

Both build the same app and configuration as the web process. The worker is rq's HerokuWorker:
on SIGTERM it stops the job in progress at once (the reaper re-queues its step) instead of
being SIGKILLed mid-write after the platform's grace period.
"""
from __future__ import annotations

import argparse
import logging
import sys

from app.jobs.context import get_app


def run_worker(queues: list[str], burst: bool) -> None:
    from rq.worker import HerokuWorker
    from app.queues import redis_connection
    app = get_app()
    names = queues or app.config["RQ_QUEUES"]
    worker = HerokuWorker(names, connection=redis_connection(app))
    worker.work(burst=burst, with_scheduler=False, logging_level="INFO")


def run_scheduler(interval: int) -> None:
    from app.jobs.schedule import run_scheduler as run
    run(get_app(), interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command")
    w = sub.add_parser("worker", help="process jobs (the default)")
    w.add_argument("queues", nargs="*")
    w.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    s = sub.add_parser("scheduler", help="fire due procedures and periodic maintenance")
    s.add_argument("--interval", type=int, default=10, help="seconds between checks")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.command == "scheduler":
        run_scheduler(args.interval)
    else:
        run_worker(getattr(args, "queues", []), getattr(args, "burst", False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
