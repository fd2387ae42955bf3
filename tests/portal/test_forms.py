"""The portal's main forms, through the test client as a merchant would use them."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.crypto import decrypt_json
from app.extensions import db
from app.models import Node, NodeKey, Procedure, Run, SandboxOrder, SandboxProduct, User
from app.services.nodes import key_secret
from tests import builders as b
from tests.portal.world import build


def _owner(client, name="Alpha"):
    w = build(name)
    b.login(client, w.owner.email)
    return w, b.csrf_token(client)


def test_every_page_renders_for_owner_and_viewer(client, ctx):
    w, _ = _owner(client)
    pages = ["/", "/nodes", "/nodes/new", "/nodes/new/woocommerce", "/procedures",
             "/procedures/new", "/runs", "/runs?status=partial&trigger=manual", "/products",
             "/products?q=MU&by=name", "/orders", "/orders?number=SB", "/team",
             f"/nodes/{w.erp.public_id}", f"/nodes/{w.shop.public_id}",
             f"/procedures/{w.proc.public_id}", f"/runs/{w.run.id}",
             f"/products/{w.product.id}", f"/orders/{w.order.public_id}",
             f"/sandbox/{w.shop.public_id}"]
    for page in pages:
        assert client.get(page).status_code == 200, page
    client.post("/logout", data={"csrf_token": b.csrf_token(client, "/")})
    b.login(client, w.viewer.email)
    for page in pages:
        resp = client.get(page)
        assert resp.status_code == (403 if page == "/team" else 200), page
        html = resp.get_data(as_text=True)
        for button in ("Sync now", "Create a key", "Disable…", "Place test order", "Remove…"):
            assert button not in html, (page, button)


def test_add_node_credentials_are_encrypted_and_never_shown(client, ctx):
    _, token = _owner(client)
    resp = client.post("/nodes/new/woocommerce", data={
        "csrf_token": token, "name": "Web shop", "f_url": "https://shop.example",
        "f_consumer_key": "ck_supersecret1", "f_consumer_secret": "cs_supersecret2",
        "f_concurrency": "4", "f_export_mark": "note", "f_tracking_status": "completed",
        "f_timeout": "30"})
    assert resp.status_code == 302
    node = db.session.scalar(sa.select(Node).where(Node.name == "Web shop"))
    assert b"ck_supersecret1" not in node.credentials_encrypted
    assert decrypt_json(node.credentials_encrypted) == {"consumer_key": "ck_supersecret1",
                                                        "consumer_secret": "cs_supersecret2"}
    assert node.settings["url"] == "https://shop.example"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "supersecret" not in page and "https://shop.example" in page
    # editing with blank secrets keeps them
    resp = client.post(f"/nodes/{node.public_id}", data={
        "csrf_token": token, "name": "Web shop 2", "f_url": "https://shop.example",
        "f_concurrency": "2", "f_export_mark": "note", "f_tracking_status": "completed",
        "f_timeout": "30"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert decrypt_json(node.credentials_encrypted)["consumer_secret"] == "cs_supersecret2"
    assert node.name == "Web shop 2" and node.settings["concurrency"] == 2


def test_add_node_shows_errors_next_to_fields(client, ctx):
    _, token = _owner(client)
    resp = client.post("/nodes/new/woocommerce", data={"csrf_token": token, "name": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert re.search(r'id="name-err"><p class="field-error">This field is required', html)
    assert re.search(r'id="f_consumer_key-err"', html)


def test_signing_key_is_shown_once(client, ctx):
    w, token = _owner(client)
    resp = client.post(f"/nodes/{w.erp.public_id}/keys", data={"csrf_token": token})
    html = resp.get_data(as_text=True)
    secret = re.search(r'id="new-key-secret">([^<]+)<', html).group(1)
    key_id = re.search(r'id="new-key-id">([^<]+)<', html).group(1)
    key = db.session.scalar(sa.select(NodeKey).where(NodeKey.key_id == key_id))
    assert key_secret(key) == secret
    page = client.get(f"/nodes/{w.erp.public_id}").get_data(as_text=True)
    assert key_id in page and secret not in page
    # two active keys: a third is refused with a message, not an error page
    resp = client.post(f"/nodes/{w.erp.public_id}/keys", data={"csrf_token": token})
    assert resp.status_code == 302
    assert "two active keys" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_revoke_key_asks_to_confirm(client, ctx):
    w, token = _owner(client)
    url = f"/nodes/{w.erp.public_id}/keys/{w.key_id}/revoke"
    ask = client.post(url, data={"csrf_token": token})
    assert ask.status_code == 200 and "Revoke key" in ask.get_data(as_text=True)
    key = db.session.scalar(sa.select(NodeKey).where(NodeKey.key_id == w.key_id))
    assert key.revoked_at is None
    assert client.post(url, data={"csrf_token": token, "confirm": "yes"}).status_code == 302
    db.session.expire_all()
    assert key.revoked_at is not None


def test_disable_node_confirms_and_leaves_templates(client, ctx):
    w, token = _owner(client)
    url = f"/nodes/{w.shop.public_id}/disable"
    assert "Disable node" in client.post(url, data={"csrf_token": token}).get_data(as_text=True)
    client.post(url, data={"csrf_token": token, "confirm": "yes"})
    db.session.expire_all()
    assert w.shop.status == "disabled"
    assert all(s.connector.node_id != w.shop.id for s in w.proc.steps)
    client.post(f"/nodes/{w.shop.public_id}/enable", data={"csrf_token": token})
    db.session.expire_all()
    assert any(s.connector.node_id == w.shop.id for s in w.proc.steps)


def test_connector_parameters(client, ctx):
    w, token = _owner(client)
    conn = next(c for c in w.shop.connectors if c.kind == "product_export")
    url = f"/nodes/{w.shop.public_id}/connectors/{conn.id}"
    bad = client.post(url, data={"csrf_token": token, "mode": "quantity", "enabled": "y",
                                 "percentage": "150"})
    assert bad.status_code == 200 and 'id="percentage-err"' in bad.get_data(as_text=True)
    client.post(url, data={"csrf_token": token, "mode": "quantity", "enabled": "y",
                           "buffer": "2", "percentage": "50"})
    db.session.expire_all()
    assert conn.settings == {"buffer": 2, "percentage": 50} and conn.mode == "quantity"


def test_steps_reorder_and_detach_from_template(client, ctx):
    w, token = _owner(client)
    before = [s.connector_id for s in w.proc.steps]
    first = w.proc.steps[0]
    base = f"/procedures/{w.proc.public_id}/steps"
    client.post(f"{base}/{first.id}/move", data={"csrf_token": token, "direction": "down"})
    db.session.expire_all()
    after = [s.connector_id for s in w.proc.steps]
    assert after == [before[1], before[0]] + before[2:]
    assert w.proc.template is None
    client.post(f"{base}/{first.id}/delete", data={"csrf_token": token, "confirm": "yes"})
    client.post(base, data={"csrf_token": token, "connector_id": before[0]})
    db.session.expire_all()
    assert [s.connector_id for s in w.proc.steps] == before[1:] + [before[0]]
    assert [s.position for s in w.proc.steps] == list(range(len(before)))


def test_schedule_error_is_shown_next_to_the_field(client, ctx):
    w, token = _owner(client)
    resp = client.post(f"/procedures/{w.proc.public_id}", data={
        "csrf_token": token, "name": "Nightly", "enabled": "y", "failure_policy": "stop",
        "schedule_kind": "cron", "cron": "every night", "timezone": "Europe/Madrid"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert re.search(r'id="cron-err"><p class="field-error">[^<]*not a valid cron', html)
    db.session.expire_all()
    assert w.proc.name != "Nightly"
    ok = client.post(f"/procedures/{w.proc.public_id}", data={
        "csrf_token": token, "name": "Nightly", "enabled": "y", "failure_policy": "continue",
        "schedule_kind": "cron", "cron": "0 2 * * *", "timezone": "Europe/Madrid",
        "window_start": "01:00", "window_end": "05:00"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert (w.proc.cron, w.proc.timezone, w.proc.window_end) == ("0 2 * * *", "Europe/Madrid",
                                                                 "05:00")


def test_create_procedures(client, ctx):
    _, token = _owner(client)
    assert client.post("/procedures/new", data={"csrf_token": token, "template": "",
                                                "name": ""}).status_code == 200
    client.post("/procedures/new", data={"csrf_token": token, "template": "publish_catalogue"})
    client.post("/procedures/new", data={"csrf_token": token, "template": "", "name": "Mine"})
    names = set(db.session.scalars(sa.select(Procedure.name)))
    assert {"Publish the catalogue (full product data)", "Mine"} <= names


def test_retry_only_failed_items(client, ctx):
    w, token = _owner(client)
    resp = client.post(f"/runs/{w.run.id}/retry", data={"csrf_token": token, "only_failed": "1"})
    assert resp.status_code == 302
    retry = db.session.scalar(sa.select(Run).where(Run.retry_of_id == w.run.id))
    assert retry.trigger == "retry" and retry.only_items == {"0": ["MUG"]}
    assert resp.headers["Location"] == f"/runs/{retry.id}"
    page = client.get(f"/runs/{w.run.id}").get_data(as_text=True)
    assert "the store refused it: price missing" in page
    progress = client.get(f"/runs/{retry.id}/progress.json").get_json()
    assert progress["active"] and progress["steps"]


def test_sandbox_test_order(client, ctx):
    w, token = _owner(client)
    url = f"/sandbox/{w.shop.public_id}/orders"
    data = {"csrf_token": token, "lines-0-sku": "MUG", "lines-0-quantity": "5", "paid": "y",
            "email": "buyer@example.com"}
    refused = client.post(url, data=data)
    assert refused.status_code == 422
    assert "only 3 left" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SandboxOrder)) == 0
    resp = client.post(url, data={**data, "lines-0-quantity": "2"})
    assert resp.status_code == 302
    order = db.session.scalar(sa.select(SandboxOrder))
    assert order.lines[0]["quantity"] == 2 and order.customer["email"] == "buyer@example.com"
    assert db.session.scalar(sa.select(SandboxProduct.stock)) == 1


def test_team_is_owner_only(client, ctx):
    w, token = _owner(client)
    resp = client.post("/team/invite", data={"csrf_token": token, "email": "new@alpha.example",
                                             "role": "admin"})
    password = re.search(r'id="one-time-password">([^<]+)<', resp.get_data(as_text=True))
    assert password
    invited = db.session.scalar(sa.select(User).where(User.email == "new@alpha.example"))
    assert invited.role == "admin"
    client.post(f"/team/{invited.id}/role", data={"csrf_token": token, "role": "viewer"})
    db.session.expire_all()
    assert invited.role == "viewer"
    # the last owner cannot demote themselves
    client.post(f"/team/{w.owner.id}/role", data={"csrf_token": token, "role": "admin"})
    db.session.expire_all()
    assert w.owner.role == "owner"
    client.post("/logout", data={"csrf_token": token})
    assert b.login(client, "new@alpha.example", password.group(1)).status_code == 302
    client.post("/logout", data={"csrf_token": b.csrf_token(client, "/")})
    b.login(client, w.admin.email)
    token = b.csrf_token(client, "/")
    assert client.get("/team").status_code == 403
    assert client.post("/team/invite", data={"csrf_token": token, "email": "x@alpha.example",
                                             "role": "owner"}).status_code == 403
    assert client.post(f"/team/{invited.id}/role", data={"csrf_token": token,
                                                         "role": "owner"}).status_code == 403
