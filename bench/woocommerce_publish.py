"""Benchmark: quantity-only publishing to WooCommerce, adapter vs one PUT per product.

run() starts the emulator with a per-request latency, seeds `changes` bound products and times
WooCommerceAdapter.set_quantities (batches of 100, `concurrency` in flight) against the naive
way (PUT /products/{id}, one after another), by default with the emulator in its own process.
The naive way is timed on `naive_sample` products and extrapolated to `changes` when the sample
is smaller (the output says so).
Usage: .venv/bin/python bench/woocommerce_publish.py [changes] [latency] [concurrency]
"""
from __future__ import annotations

import json
import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from app.platforms.records import QuantityUpdate  # noqa: E402
from app.platforms.woocommerce import WooCommerceAdapter  # noqa: E402
from tests.emulators.woocommerce import WooCommerceEmulator  # noqa: E402


class _Shop:
    """The emulator with `changes` seeded products, in this process or in a child process.

    A child process keeps the emulator's own CPU work (it shares no GIL with the adapter), the
    way a real shop runs on another machine.
    """

    def __init__(self, changes: int, latency: float, isolated: bool):
        self.local = None if isolated else WooCommerceEmulator(latency=latency).start()
        if self.local:
            info = _seed(self.local, changes)
        else:
            context = multiprocessing.get_context("spawn")
            self.conn, child = context.Pipe()
            self.process = context.Process(target=_serve, args=(child, changes, latency),
                                           daemon=True)
            self.process.start()
            info = self.conn.recv()
        self.url, self.auth, self.products = info["url"], info["auth"], info["products"]

    def call(self, command: str):
        if self.local:
            return {"clear": self.local.clear_log,
                    "count": lambda: len(self.local.requests())}[command]()
        self.conn.send(command)
        return self.conn.recv()

    def close(self) -> None:
        if self.local:
            self.local.stop()
        else:
            self.conn.send("stop")
            self.process.join(timeout=10)


def _seed(shop: WooCommerceEmulator, changes: int) -> dict:
    products = [shop.seed_product(f"SKU-{n:06d}", 0) for n in range(changes)]
    return {"url": shop.url, "auth": (shop.consumer_key, shop.consumer_secret),
            "products": [(p["sku"], p["id"]) for p in products]}


def _serve(conn, changes: int, latency: float) -> None:
    with WooCommerceEmulator(latency=latency) as shop:
        conn.send(_seed(shop, changes))
        while (command := conn.recv()) != "stop":
            conn.send(shop.clear_log() if command == "clear" else len(shop.requests()))


def run(changes: int = 10000, latency: float = 0.02, concurrency: int = 4,
        naive_sample: int | None = 500, isolated: bool = True) -> dict:
    shop = _Shop(changes, latency, isolated)
    try:
        updates = [QuantityUpdate(sku, 1 + n % 50, str(pid))
                   for n, (sku, pid) in enumerate(shop.products)]
        adapter = WooCommerceAdapter(
            {"url": shop.url, "concurrency": concurrency},
            {"consumer_key": shop.auth[0], "consumer_secret": shop.auth[1]})
        try:
            shop.call("clear")
            started = time.perf_counter()
            results = adapter.set_quantities(updates)
            seconds = time.perf_counter() - started
        finally:
            adapter.close()
        failed = [r for r in results if not r.ok]
        if failed:
            raise RuntimeError(f"{len(failed)} updates failed, first: {failed[0]}")
        request_count = shop.call("count")

        sample = changes if naive_sample is None else max(1, min(naive_sample, changes))
        with requests.Session() as session:
            session.auth = shop.auth
            started = time.perf_counter()
            for n, (_, pid) in enumerate(shop.products[:sample]):
                session.put(f"{shop.url}/wp-json/wc/v3/products/{pid}",
                            json={"manage_stock": True, "stock_quantity": 2 + n % 50},
                            timeout=30).raise_for_status()
            naive_measured = time.perf_counter() - started
    finally:
        shop.close()

    ceiling = 100 * concurrency / latency if latency else float("inf")
    return {
        "changes": changes,
        "requests": request_count,
        "seconds": round(seconds, 3),
        "naive_requests": changes,
        "naive_seconds": round(naive_measured * changes / sample, 3),
        "naive_measured_requests": sample,
        "naive_extrapolated": sample < changes,
        "updates_per_second": round(changes / seconds, 1),
        "ceiling_per_second": ceiling,
        "ceiling_fraction": round((changes / seconds) / ceiling, 3),
        "latency": latency,
        "concurrency": concurrency,
        "emulator": "separate process" if isolated else "same process",
    }


if __name__ == "__main__":
    args = [float(a) for a in sys.argv[1:4]]
    figures = run(*(int(args[0]),) if args else (), *args[1:2], *(int(a) for a in args[2:3]))
    if figures["naive_extrapolated"]:
        print(f"note: naive_seconds extrapolated from {figures['naive_measured_requests']} "
              f"sequential PUTs to {figures['changes']}", file=sys.stderr)
    print(json.dumps(figures, indent=2))
