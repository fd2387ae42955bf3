"""A Tryton ERP can be configured from the portal: settings kept, credentials encrypted."""
import sqlalchemy as sa

from app.extensions import db
from app.models import Node
from app.services.nodes import node_credentials
from tests import builders as b


def test_add_a_tryton_node_with_its_settings_form(client):
    acc = b.account()
    b.user(acc, "owner@example.com")
    b.login(client, "owner@example.com")
    page = client.get("/nodes/new/tryton").get_data(as_text=True)
    for label in ("Server URL", "Database", "Login", "Password", "Warehouse"):
        assert label in page
    token = b.csrf_token(client, "/nodes/new/tryton")
    fields = {"url": "http://127.0.0.1:8000/", "database": "shop", "login": "admin",
              "password": "s3cret-Tryton", "warehouse": "WH", "quote_and_confirm": "confirm",
              "shipping_product_code": "SHIP"}
    resp = client.post("/nodes/new/tryton", data={
        "csrf_token": token, "name": "Tryton", **{f"f_{k}": v for k, v in fields.items()}})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    node = db.session.scalar(sa.select(Node).where(Node.platform == "tryton"))
    assert node.kind == "erp" and node.settings["database"] == "shop"
    assert "password" not in node.settings and b"s3cret-Tryton" not in node.credentials_encrypted
    assert node_credentials(node) == {"login": "admin", "password": "s3cret-Tryton"}
    assert "s3cret-Tryton" not in client.get(resp.headers["Location"]).get_data(as_text=True)
