"""Benchmark: ingest an ERP product CSV into the hub, against the floor and the naive way.

    python bench/ingest.py [--rows 100000] [--database URL] [--naive-rows 20000]

Three ways, each in its own process so each peak RSS is its own:
  ponte  the real path: validate the whole upload, store it, run the product_import step
         (parse, content hash, upsert by SKU in chunks, counters, as-of times);
  bulk   the floor: csv.reader + executemany INSERT of the same rows into the same table;
  naive  one ORM query + insert/update per row (measured on --naive-rows, extrapolated).
Ends with one line of JSON. Targets: ratio_vs_bulk <= 2, peak_rss_mb < 200.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["sku", "name", "description", "price", "quantity", "brand", "category",
                    "images"])
        for i in range(rows):
            w.writerow([f"SKU-{i:07d}", f"Product {i} in cotton", f"Description of {i}. " * 3,
                        f"{(i % 500) + 0.99:.2f}".replace(".", ","), i % 37, "Acme",
                        f"Category {i % 40}", f"https://img.example/{i}.jpg"])


def app_for(database: str):
    from common import app_for as build
    return build(database)


def reset_schema(database: str) -> None:
    from common import fresh_app
    fresh_app(database)


def run_ponte(database: str, csv_path: Path) -> float:
    from app.extensions import db
    from app.models import Run, StepRun
    from app.services.accounts import create_account
    from app.services.erp_feed import store_upload
    from app.services.nodes import create_node
    from app.sync import engine
    app = app_for(database)
    with app.app_context():
        acc = create_account("Bench")
        erp = create_node(acc.id, "file_erp", "ERP")
        db.session.commit()
        connector = [c for c in erp.connectors if c.kind == "product_import"][0]
        started = time.perf_counter()
        store_upload(erp, csv_path.read_bytes(), "text/csv", "full")
        run = Run(account_id=acc.id, procedure_id=_procedure(acc.id), trigger="cli",
                  status="running")
        step = StepRun(account_id=acc.id, position=0, connector_id=connector.id,
                       label="bench", status="running")
        run.steps.append(step)
        db.session.add(run)
        db.session.commit()
        engine.execute(step)
        elapsed = time.perf_counter() - started
        db.session.refresh(step)
        assert step.status == "succeeded", step.error
        assert step.created == sum(1 for _ in csv_path.open()) - 1
        return elapsed


def _procedure(account_id: int) -> int:
    from app.models import Procedure
    from app.extensions import db
    return db.session.scalar(Procedure.scoped(account_id)).id


def run_bulk(database: str, csv_path: Path) -> float:
    """The floor: parse and INSERT the same rows, no validation, no hashing, no upsert."""
    import sqlalchemy as sa
    from decimal import Decimal
    from app.extensions import db
    from app.models import Account, Product, utcnow
    app = app_for(database)
    with app.app_context():
        account = Account(name="Bulk")
        db.session.add(account)
        db.session.commit()
        started = time.perf_counter()
        now = utcnow()
        with csv_path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f, delimiter=";")
            next(reader)
            batch = []
            for sku, name, desc, price, qty, brand, cat, images in reader:
                batch.append({"account_id": account.id, "sku": sku, "name": name,
                              "description": desc, "price": Decimal(price.replace(",", ".")),
                              "erp_quantity": int(qty), "brand": brand, "category": cat,
                              "images": [images], "features": {}, "active": True,
                              "created_at": now, "updated_at": now})
                if len(batch) == 1000:
                    db.session.execute(Product.__table__.insert(), batch)
                    batch = []
            if batch:
                db.session.execute(Product.__table__.insert(), batch)
        db.session.commit()
        return time.perf_counter() - started


def run_naive(database: str, csv_path: Path, rows: int) -> float:
    """The naive way: per row, look the product up with the ORM, then insert or update it."""
    import sqlalchemy as sa
    from decimal import Decimal
    from app.extensions import db
    from app.models import Account, Product
    app = app_for(database)
    with app.app_context():
        account = Account(name="Naive")
        db.session.add(account)
        db.session.commit()
        started = time.perf_counter()
        with csv_path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f, delimiter=";")
            next(reader)
            for n, (sku, name, desc, price, qty, brand, cat, images) in enumerate(reader):
                if n >= rows:
                    break
                p = db.session.scalar(sa.select(Product).where(
                    Product.account_id == account.id, Product.sku == sku))
                if p is None:
                    p = Product(account_id=account.id, sku=sku)
                    db.session.add(p)
                p.name, p.description, p.brand, p.category = name, desc, brand, cat
                p.price, p.erp_quantity = Decimal(price.replace(",", ".")), int(qty)
                p.images, p.features = [images], {}
                db.session.commit()
        return time.perf_counter() - started


def child(mode: str, database: str, csv_path: str, naive_rows: int) -> None:
    path = Path(csv_path)
    if mode == "ponte":
        seconds = run_ponte(database, path)
    elif mode == "bulk":
        seconds = run_bulk(database, path)
    else:
        seconds = run_naive(database, path, naive_rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": round(peak, 1)}))


def measure(mode: str, database: str, csv_path: Path, naive_rows: int) -> dict:
    reset_schema_in_child(database)
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--database", database,
                          "--csv", str(csv_path), "--naive-rows", str(naive_rows)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def reset_schema_in_child(database: str) -> None:
    subprocess.run([sys.executable, __file__, "--reset", "--database", database], check=True,
                   cwd=ROOT, capture_output=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--naive-rows", type=int, default=20_000)
    p.add_argument("--database", default=None, help="SQLAlchemy URL (default: a temp SQLite)")
    p.add_argument("--child"), p.add_argument("--csv"), p.add_argument("--reset",
                                                                      action="store_true")
    a = p.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ponte-bench-"))
    database = a.database or f"sqlite:///{workdir / 'bench.db'}"
    if a.reset:
        return reset_schema(database)
    if a.child:
        return child(a.child, database, a.csv, a.naive_rows)
    csv_path = workdir / "products.csv"
    make_csv(csv_path, a.rows)
    naive_rows = min(a.naive_rows, a.rows)
    ponte = measure("ponte", database, csv_path, naive_rows)
    bulk = measure("bulk", database, csv_path, naive_rows)
    naive = measure("naive", database, csv_path, naive_rows)
    naive_seconds = naive["seconds"] * a.rows / naive_rows
    dialect = database.split(":", 1)[0].split("+")[0]
    print(f"{a.rows:,} rows ({csv_path.stat().st_size / 2**20:.1f} MiB CSV) into {dialect}")
    print(f"  ponte (validate + store + product_import): {ponte['seconds']:8.2f} s  "
          f"peak RSS {ponte['peak_rss_mb']:.0f} MB")
    print(f"  bulk insert floor:                         {bulk['seconds']:8.2f} s  "
          f"peak RSS {bulk['peak_rss_mb']:.0f} MB")
    print(f"  naive per-row ORM upsert:                  {naive_seconds:8.2f} s  "
          f"({'measured' if naive_rows == a.rows else f'extrapolated from {naive_rows:,} rows'})")
    print(json.dumps({"rows": a.rows, "seconds": round(ponte["seconds"], 3),
                      "peak_rss_mb": ponte["peak_rss_mb"],
                      "bulk_seconds": round(bulk["seconds"], 3),
                      "naive_seconds": round(naive_seconds, 3),
                      "naive_rows_measured": naive_rows,
                      "ratio_vs_bulk": round(ponte["seconds"] / bulk["seconds"], 2),
                      "database": dialect}))


if __name__ == "__main__":
    main()
