"""The reference ERP client (clients/ponte_erp_client.py) against the running hub over HTTP."""
import json
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Order
from app.platforms.sandbox import shop
from app.services.procedures import create_from_template
from tests import builders as b
from tests.live import live_server

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients"))
import ponte_erp_client as erp_client  # noqa: E402


@pytest.fixture()
def hub(ctx):
    with live_server(ctx) as url:
        yield url


def test_push_start_pull_and_acknowledge_through_the_client(hub, work, tmp_path, monkeypatch):
    acc = b.account()
    erp, kid, secret = b.erp_with_key(acc)
    store = b.node(acc, "sandbox", "Shop")
    publish = create_from_template(acc, "publish_catalogue")
    db.session.commit()
    client = erp_client.PonteClient(hub, kid, secret)

    products = tmp_path / "products.csv"
    products.write_bytes("sku;name;price;quantity\nA-1;Caffè;2,50;5\nB-2;Tè;1,00;3\n"
                         .encode("cp1252"))
    monkeypatch.setenv("PONTE_URL", hub)
    monkeypatch.setenv("PONTE_KEY_ID", kid)
    monkeypatch.setenv("PONTE_SECRET", secret)
    assert erp_client.main(["push-products", str(products), "--node", erp.public_id,
                            "--mode", "full"]) == 0
    started = client.start_procedure(publish.public_id)
    assert started["coalesced"] is False
    work()
    status = client.run_status(started["run_id"])
    assert status["status"] == "succeeded" and status["steps"][0]["created"] == 2

    shop.place_order(acc, store.id, {"A-1": 2})
    db.session.commit()
    every5 = b.template(acc, "every_5_minutes")
    client.start_procedure(every5.public_id)
    work()

    out = tmp_path / "orders"
    assert erp_client.main(["pull-orders", "--node", erp.public_id, "--out", str(out),
                            "--format", "json", "--ack"]) == 0
    files = sorted(out.glob("orders-*.json"))
    assert len(files) == 1
    feed = json.loads(files[0].read_text())
    assert [line["sku"] for line in feed["orders"][0]["lines"]] == ["A-1"]
    order = db.session.scalar(sa.select(Order))
    db.session.refresh(order)
    assert order.erp_acknowledged_at is not None
    assert client.fetch_orders(erp.public_id) == {"orders": []}  # acknowledged: not offered again


def test_client_reports_a_rejected_file_and_exits_1(hub, tmp_path, monkeypatch, capsys):
    acc = b.account()
    erp, kid, secret = b.erp_with_key(acc)
    bad = tmp_path / "bad.csv"
    bad.write_text("sku;quantity\nA-1;many\n")
    code = erp_client.main(["push-products", str(bad), "--node", erp.public_id, "--mode",
                            "quantity", "--url", hub, "--key-id", kid, "--secret", secret])
    assert code == 1
    err = capsys.readouterr().err
    assert "HTTP 422" in err and "quantity" in err
