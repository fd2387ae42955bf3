"""Benchmark: publishing changed quantities to WooCommerce through the engine.

    python bench/publish.py [--changes 10000] [--latency 0.02] [--concurrency 4]
                            [--database URL] [--repeat 3] [--naive-sample 200] [--profile]

The WooCommerce emulator runs in its own process (as a shop runs on its own server), answering
each request in `latency` seconds with `concurrency` requests in flight. The hub has a file
ERP and a WooCommerce node; `changes` products are bound to the emulator's products. Each
round the ERP uploads new quantities for all of them and its quantity import runs; then the
store's product_export quantity step is timed: app.sync.engine.execute on the StepRun of a
started run of the "stock_changed" procedure (directly, no RQ worker, so Redis is not needed);
the median round is reported. The step runs again with nothing changed (it must send nothing),
bare http.client threads send the same batches (the floor on this machine), and the naive way
(one PUT per product, one after another) is timed on a sample and extrapolated. The last line
printed is JSON. The database (default: a temporary SQLite file) is wiped and migrated first.
See bench/README.md for the figures and where the time goes.
"""
from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(ROOT))


# -- the shop, in its own process ----------------------------------------------------------------
def _serve(conn, changes: int, latency: float) -> None:
    from tests.emulators.woocommerce import WooCommerceEmulator
    with WooCommerceEmulator(latency=latency) as shop:
        products = [shop.seed_product(f"SKU-{n:06d}", 0) for n in range(changes)]
        # The seeded catalogue is long-lived: keep the garbage collector from re-scanning it on
        # every collection (a pause of several ms in the middle of requests a real shop's
        # database would not have).
        gc.collect()
        gc.freeze()
        conn.send({"url": shop.url, "auth": (shop.consumer_key, shop.consumer_secret),
                   "products": [(p["sku"], p["id"]) for p in products]})
        while (command := conn.recv()) != "stop":
            if command == "clear":
                shop.clear_log()
                conn.send(None)
            elif command == "log":
                conn.send([(r.method, r.path, r.items, r.status, r.at) for r in shop.requests()])
            else:  # ("stock", [sku, ...])
                conn.send({sku: shop.product(sku)["stock_quantity"] for sku in command[1]})


class Shop:
    def __init__(self, changes: int, latency: float):
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, changes, latency),
                                       daemon=True)
        self.process.start()
        info = self.conn.recv()
        self.url, self.auth, self.products = info["url"], info["auth"], info["products"]

    def call(self, command):
        self.conn.send(command)
        return self.conn.recv()

    def close(self) -> None:
        self.conn.send("stop")
        self.process.join(timeout=10)


# -- the hub -------------------------------------------------------------------------------------
def make_app(database: str):
    from common import fresh_app
    return fresh_app(database)


def csv_bytes(header: str, rows) -> bytes:
    return ("\n".join([header, *(";".join(map(str, r)) for r in rows)]) + "\n").encode()


class Hub:
    """An account with a file ERP and a WooCommerce node, built through the services."""

    def __init__(self, shop: Shop, concurrency: int):
        from app.extensions import db
        from app.services.accounts import create_account
        from app.services.nodes import create_node
        from app.services.procedures import create_from_template
        self.account_id = create_account("Bench").id
        self.erp = create_node(self.account_id, "file_erp", "ERP")
        self.store = create_node(
            self.account_id, "woocommerce", "Shop W",
            settings={"url": shop.url, "concurrency": concurrency, "timeout": 30},
            credentials={"consumer_key": shop.auth[0], "consumer_secret": shop.auth[1]})
        self.stock_changed = create_from_template(self.account_id, "stock_changed")
        self.publish = create_from_template(self.account_id, "publish_catalogue")
        db.session.commit()
        self.erp_id, self.store_id = self.erp.id, self.store.id
        self.stock_changed, self.publish = self.stock_changed.id, self.publish.id

    def run(self, procedure_id: int, positions: list[int]):
        """A started run of a procedure holding the StepRuns of the steps at `positions`."""
        from app.extensions import db
        from app.models import Procedure, Run, StepRun, utcnow
        procedure = db.session.get(Procedure, procedure_id)
        run = Run(account_id=self.account_id, procedure_id=procedure.id, trigger="cli",
                  triggered_by="bench", status="running", started_at=utcnow())
        for step in procedure.steps:
            if step.position in positions:
                run.steps.append(StepRun(account_id=self.account_id, position=step.position,
                                         connector_id=step.connector_id,
                                         label=step.connector.label, status="running",
                                         started_at=utcnow()))
        db.session.add(run)
        db.session.commit()
        return run

    def execute(self, step) -> tuple[dict, float, float]:
        """engine.execute(step): (its counters, wall seconds, this process's CPU seconds)."""
        from app.extensions import db
        from app.models import StepRun
        from app.sync import engine
        step_id = step.id
        cpu, main, started = time.process_time(), time.thread_time(), time.perf_counter()
        engine.execute(step)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        self.main_cpu = time.thread_time() - main
        db.session.expire_all()
        step = db.session.get(StepRun, step_id)
        if step.status != "succeeded":
            raise SystemExit(f"step {step.label} ended {step.status}: {step.error}")
        counts = {name: getattr(step, name) for name in ("updated", "unchanged", "failed")}
        return counts, wall, cpu

    def close(self, run) -> None:
        from app.services.runs import close_run
        close_run(run.id)

    def upload(self, mode: str, data: bytes) -> None:
        from app.extensions import db
        from app.models import Node
        from app.services.erp_feed import store_upload
        # by id: a step may have let go of every object in the session
        store_upload(db.session.get(Node, self.erp_id), data, "text/csv", mode)


def setup(hub: Hub, shop: Shop) -> None:
    """The catalogue in the hub (the ERP's full upload through the import step) and its
    bindings to the shop's products, as a first publication would have left them."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Product, ProductBinding, utcnow
    hub.upload("full", csv_bytes("sku;name;price;quantity",
                                 ((sku, f"Product {sku}", "9,90", 0)
                                  for sku, _ in shop.products)))
    run = hub.run(hub.publish, [0])
    hub.execute(run.steps[0])
    hub.close(run)
    ids = dict(db.session.execute(sa.select(Product.sku, Product.id).where(
        Product.account_id == hub.account_id)).all())
    now = utcnow()
    db.session.execute(sa.insert(ProductBinding), [
        {"account_id": hub.account_id, "node_id": hub.store_id, "product_id": ids[sku],
         "external_id": str(pid), "synced_quantity": 0, "synced_at": now}
        for sku, pid in shop.products])
    db.session.commit()


def publish_step(hub: Hub, profile: bool):
    """One stock_changed run: the ERP's quantity import, then the timed store step."""
    run = hub.run(hub.stock_changed, [0, 1])
    _, import_seconds, _ = hub.execute(run.steps[0])
    export = run.steps[1]
    profiler = None
    if profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    step, wall, cpu = hub.execute(export)
    if profiler:
        import pstats
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    hub.close(run)
    return step, wall, cpu, import_seconds


def bare_client(shop: Shop, changes: int, concurrency: int) -> float:
    """The floor on this machine: the same batches from `concurrency` threads with a bare
    http.client connection each, bodies encoded beforehand, answers only JSON-decoded; no
    engine, no database, no adapter. Seconds for all of them."""
    import base64
    import http.client
    import threading
    from urllib.parse import urlsplit
    url = urlsplit(shop.url)
    token = base64.b64encode(":".join(shop.auth).encode()).decode()
    headers = {"Content-Type": "application/json", "Authorization": f"Basic {token}"}
    bodies = [json.dumps({"update": [{"id": pid, "manage_stock": True, "stock_quantity": 60}
                                     for _, pid in shop.products[k:k + 100]]}).encode()
              for k in range(0, changes, 100)]
    queue = iter(bodies)
    lock = threading.Lock()

    def work():
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        while True:
            with lock:
                body = next(queue, None)
            if body is None:
                return conn.close()
            conn.request("POST", "/wp-json/wc/v3/products/batch", body=body, headers=headers)
            answer = conn.getresponse()
            json.loads(answer.read())

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def naive(shop: Shop, sample: int) -> float:
    """One PUT per product, one after another: seconds for `sample` products."""
    import requests
    with requests.Session() as session:
        session.auth = shop.auth
        started = time.perf_counter()
        for n, (_, pid) in enumerate(shop.products[:sample]):
            session.put(f"{shop.url}/wp-json/wc/v3/products/{pid}",
                        json={"manage_stock": True, "stock_quantity": 100 + n % 50},
                        timeout=30).raise_for_status()
        return time.perf_counter() - started


def timed_round(hub: Hub, shop: Shop, changes: int, shift: int, profile: bool) -> dict:
    """The ERP changes every quantity; one stock_changed run; the store step's figures."""
    hub.upload("quantity", csv_bytes("sku;quantity", (
        (sku, 1 + (n + shift) % 50) for n, (sku, _) in enumerate(shop.products))))
    shop.call("clear")
    step, seconds, cpu, import_seconds = publish_step(hub, profile)
    log = shop.call("log")
    sample = [sku for sku, _ in shop.products[:: max(1, changes // 50)]]
    expected = {sku: 1 + (n + shift) % 50 for n, (sku, _) in enumerate(shop.products)}
    wrong = {s: q for s, q in shop.call(("stock", sample)).items() if q != expected[s]}
    if step["updated"] != changes or step["failed"] or wrong:
        raise SystemExit(f"the shop does not show the new quantities: {step}, wrong: {wrong}")
    return {"seconds": seconds, "cpu": cpu, "main_cpu": hub.main_cpu, "log": log,
            "import_seconds": import_seconds, "step": step}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--changes", type=int, default=10_000, help="products whose quantity changes")
    p.add_argument("--latency", type=float, default=0.02,
                   help="the shop's seconds per request (default 0.02)")
    p.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    p.add_argument("--database", default=None,
                   help="SQLAlchemy URL, WIPED first (default: a temporary SQLite file)")
    p.add_argument("--repeat", type=int, default=3,
                   help="timed rounds, each changing every quantity; the median is reported")
    p.add_argument("--naive-sample", type=int, default=200,
                   help="products the naive way is timed on, then extrapolated (default 200)")
    p.add_argument("--profile", action="store_true",
                   help="cProfile the engine's thread in the last round (top functions on stderr)")
    a = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="ponte-bench-")
    os.environ.setdefault("PONTE_INSTANCE_DIR", workdir)
    database = a.database or f"sqlite:///{workdir}/bench.db"

    print(f"starting the WooCommerce emulator with {a.changes} products "
          f"({a.latency * 1000:g} ms per request) in its own process ...", flush=True)
    shop = Shop(a.changes, a.latency)
    try:
        app = make_app(database)
        with app.app_context():
            hub = Hub(shop, a.concurrency)
            setup(hub, shop)
            rounds = [timed_round(hub, shop, a.changes, shift, a.profile and shift == a.repeat - 1)
                      for shift in range(max(1, a.repeat))]
            shop.call("clear")  # nothing changed since the last round
            again, again_seconds, _, _ = publish_step(hub, False)
            requests_when_unchanged = len(shop.call("log"))
        bare_seconds = sorted(bare_client(shop, a.changes, a.concurrency)
                              for _ in range(max(1, a.repeat)))[max(1, a.repeat) // 2]
        naive_sample = max(1, min(a.naive_sample, a.changes))
        naive_measured = naive(shop, naive_sample)
    finally:
        shop.close()

    median = sorted(rounds, key=lambda r: r["seconds"])[len(rounds) // 2]
    seconds, cpu, main_cpu, log = median["seconds"], median["cpu"], median["main_cpu"], \
        median["log"]
    requests = len(log)
    batch_items = sorted({items for _, _, items, _, _ in log})
    statuses = sorted({status for _, _, _, status, _ in log})
    ceiling = 100 * a.concurrency / a.latency if a.latency else float("inf")
    naive_seconds = naive_measured * a.changes / naive_sample
    per_second = a.changes / seconds
    answers = sorted(r[4] for r in log)
    http_span = answers[-1] - answers[0] if answers else 0.0
    print(f"""
database            {database.split('://')[0]}
ERP quantity import {median['import_seconds']:.3f} s for {a.changes} SKUs (not in the figures below)

engine: the store's product_export quantity step, app.sync.engine.execute(step)
  rounds            {', '.join(f"{r['seconds']:.3f}" for r in rounds)} s (median below)
  changes           {a.changes} SKUs, {median['step']['updated']} updated, \
{median['step']['failed']} failed
  requests          {requests} (POST batches of {batch_items} items, HTTP {statuses})
  seconds           {seconds:.3f} wall
  CPU here          {cpu:.3f} s: {main_cpu:.3f} in the engine's thread, \
{cpu - main_cpu:.3f} in the HTTP threads
  first->last answer {http_span:.3f} s ({(seconds - http_span) * 1000:.0f} ms before the first \
answer and after the last: {a.latency * 1000:g} ms of it is the first request)
  throughput        {per_second:,.0f} changes/s
  ceiling           {ceiling:,.0f} changes/s (100 per batch x {a.concurrency} in flight / \
{a.latency:g} s)
  ceiling fraction  {per_second / ceiling:.3f}
  floor here        {bare_seconds:.3f} s = {a.changes / bare_seconds / ceiling:.3f} of the \
ceiling: the same {requests} batches from bare http.client
                    threads (no engine, no database, no adapter) against this emulator
  unchanged re-run  {requests_when_unchanged} requests, {again_seconds:.3f} s, \
{again['unchanged']} unchanged

naive way: one PUT /products/{{id}} per product, one after another
  measured          {naive_sample} PUTs in {naive_measured:.3f} s
  extrapolated      {a.changes} PUTs -> {naive_seconds:.1f} s \
({'extrapolated from the sample' if naive_sample < a.changes else 'measured in full'})
  speed-up          {naive_seconds / seconds:.0f}x
""")
    print(json.dumps({
        "changes": a.changes, "requests": requests, "seconds": round(seconds, 3),
        "requests_when_unchanged": requests_when_unchanged, "naive_requests": a.changes,
        "naive_seconds": round(naive_seconds, 3), "naive_measured_requests": naive_sample,
        "naive_extrapolated": naive_sample < a.changes,
        "ceiling_fraction": round(per_second / ceiling, 3),
        "updates_per_second": round(per_second, 1), "ceiling_per_second": ceiling,
        "rounds_seconds": [round(r["seconds"], 3) for r in rounds],
        "cpu_seconds": round(cpu, 3), "engine_thread_cpu_seconds": round(main_cpu, 3),
        "bare_client_seconds": round(bare_seconds, 3),
        "bare_client_ceiling_fraction": round(a.changes / bare_seconds / ceiling, 3),
        "latency": a.latency, "concurrency": a.concurrency,
        "database": database.split("://")[0], "timed": "engine.execute(product_export step)"}))


if __name__ == "__main__":
    main()
