"""The signed /erp/v1 API: signature checks, replay protection, uploads, feed, static URL."""
import time

import sqlalchemy as sa

from app.extensions import db
from app.models import Product, ProductUpload, Run
from app.services.nodes import create_key, revoke_key, rotate_key
from app.services.procedures import new_trigger_token
from tests import builders as b


def setup_erp():
    acc = b.account()
    erp, kid, secret = b.erp_with_key(acc)
    return acc, erp, kid, secret


def upload_path(erp):
    return f"/erp/v1/nodes/{erp.public_id}/products"


def test_valid_upload_is_stored_for_the_product_import(client):
    acc, erp, kid, secret = setup_erp()
    resp = b.signed(client, "POST", upload_path(erp), kid, secret,
                    b.products_csv([("A-1", "Alpha", "1,50", 3)]), query=[("mode", "full")],
                    content_type="text/csv")
    assert resp.status_code == 202 and resp.get_json()["rows"] == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProductUpload)) == 1


def test_rejected_upload_lists_every_bad_line_and_stores_nothing(client):
    acc, erp, kid, secret = setup_erp()
    body = b.products_csv([("A-1", "Alpha", "1,50", "3"), ("", "No sku", "2", "1"),
                           ("A-3", "Gamma", "abc", "1"), ("A-1", "Dup", "1", "1")])
    resp = b.signed(client, "POST", upload_path(erp), kid, secret, body,
                    query=[("mode", "full")], content_type="text/csv")
    assert resp.status_code == 422
    lines = sorted({e["line"] for e in resp.get_json()["errors"]})
    assert lines == [3, 4, 5]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProductUpload)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0


def test_tampered_body_is_refused_with_a_generic_answer(client):
    acc, erp, kid, secret = setup_erp()
    from app.security.signature import sign
    ts, nonce = int(time.time()), "nonce-tamper-1"
    sig = sign(secret, "POST", upload_path(erp), [("mode", "full")], kid, ts, nonce, b"x")
    resp = client.post(upload_path(erp) + "?mode=full", data=b"sku\nA-1\n",
                       content_type="text/csv",
                       headers={"Ponte-Key-Id": kid, "Ponte-Timestamp": str(ts),
                                "Ponte-Nonce": nonce, "Ponte-Signature": sig})
    assert resp.status_code == 401 and resp.get_json() == {"error": "unauthorized"}


def test_tampered_query_and_path_are_refused(client):
    acc, erp, kid, secret = setup_erp()
    from app.security.signature import sign
    ts, nonce = int(time.time()), "nonce-tamper-2"
    sig = sign(secret, "GET", f"/erp/v1/nodes/{erp.public_id}/orders", [("limit", "5")], kid,
               ts, nonce)
    headers = {"Ponte-Key-Id": kid, "Ponte-Timestamp": str(ts), "Ponte-Nonce": nonce,
               "Ponte-Signature": sig}
    assert client.get(f"/erp/v1/nodes/{erp.public_id}/orders?limit=500",
                      headers=headers).status_code == 401


def test_expired_timestamp_is_refused(client):
    acc, erp, kid, secret = setup_erp()
    resp = b.signed(client, "GET", f"/erp/v1/nodes/{erp.public_id}/orders", kid, secret,
                    timestamp=int(time.time()) - 301)
    assert resp.status_code == 401
    resp = b.signed(client, "GET", f"/erp/v1/nodes/{erp.public_id}/orders", kid, secret,
                    timestamp=int(time.time()) + 301)
    assert resp.status_code == 401


def test_replayed_request_gets_the_first_answer_and_changes_nothing(client, ctx):
    acc, erp, kid, secret = setup_erp()
    proc = b.template(acc, "stock_changed")
    path = f"/erp/v1/procedures/{proc.public_id}/runs"
    first = b.signed(client, "POST", path, kid, secret, nonce="replay-nonce-1",
                     timestamp=int(time.time()))
    again = b.signed(client, "POST", path, kid, secret, nonce="replay-nonce-1",
                     timestamp=int(first.request.headers["Ponte-Timestamp"]))
    assert first.status_code == again.status_code == 202
    assert first.get_json() == again.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Run)) == 1


def test_nonce_reused_for_another_request_is_a_conflict(client):
    acc, erp, kid, secret = setup_erp()
    b.signed(client, "GET", f"/erp/v1/nodes/{erp.public_id}/orders", kid, secret,
             nonce="reused-nonce-1")
    resp = b.signed(client, "GET", f"/erp/v1/nodes/{erp.public_id}/orders", kid, secret,
                    nonce="reused-nonce-1", query=[("limit", "3")])
    assert resp.status_code == 409


def test_malformed_signature_is_400_and_unknown_key_401(client):
    acc, erp, kid, secret = setup_erp()
    resp = client.get(f"/erp/v1/nodes/{erp.public_id}/orders")
    assert resp.status_code == 400
    resp = b.signed(client, "GET", f"/erp/v1/nodes/{erp.public_id}/orders", "pk_nobody", secret)
    assert resp.status_code == 401


def test_key_rotation_keeps_two_keys_working_then_revocation_stops_one(client, ctx):
    acc, erp, kid, secret = setup_erp()
    new_key, new_secret = rotate_key(erp)
    db.session.commit()
    path = f"/erp/v1/nodes/{erp.public_id}/orders"
    assert b.signed(client, "GET", path, kid, secret).status_code == 200
    assert b.signed(client, "GET", path, new_key.key_id, new_secret).status_code == 200
    old = [k for k in erp.keys if k.key_id == kid][0]
    revoke_key(old)
    db.session.commit()
    assert b.signed(client, "GET", path, kid, secret).status_code == 401
    assert b.signed(client, "GET", path, new_key.key_id, new_secret).status_code == 200


def test_failures_are_rate_limited_per_key(client):
    acc, erp, kid, secret = setup_erp()
    path = f"/erp/v1/nodes/{erp.public_id}/orders"
    codes = [b.signed(client, "GET", path, kid, "wrong-secret").status_code for _ in range(31)]
    assert codes[:30] == [401] * 30 and codes[30] == 429
    resp = b.signed(client, "GET", path, kid, secret)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0


def test_a_key_reaches_only_its_own_node_and_account(client):
    acc, erp, kid, secret = setup_erp()
    other_acc = b.account("Other")
    other_erp, okid, osecret = b.erp_with_key(other_acc, "Their ERP")
    other_proc = b.template(other_acc, "stock_changed")
    assert b.signed(client, "GET", f"/erp/v1/nodes/{other_erp.public_id}/orders", kid,
                    secret).status_code == 404
    assert b.signed(client, "POST", f"/erp/v1/procedures/{other_proc.public_id}/runs", kid,
                    secret).status_code == 404
    second_erp = b.node(acc, "file_erp", "Second ERP")
    assert b.signed(client, "GET", f"/erp/v1/nodes/{second_erp.public_id}/orders", kid,
                    secret).status_code == 404


def test_query_string_signature_for_get_trigger(client):
    acc, erp, kid, secret = setup_erp()
    proc = b.template(acc, "stock_changed")
    from app.security.signature import sign
    path = f"/erp/v1/procedures/{proc.public_id}/trigger"
    ts, nonce = int(time.time()), "querysigned-1"
    sig = sign(secret, "GET", path, [("source", "erp stock")], kid, ts, nonce)
    resp = client.get(path, query_string={"source": "erp stock", "ponte_kid": kid,
                                          "ponte_ts": ts, "ponte_nonce": nonce,
                                          "ponte_sig": sig})
    assert resp.status_code == 202 and "run_id" in resp.get_json()


def test_triggers_coalesce_into_the_queued_run(client):
    acc, erp, kid, secret = setup_erp()
    proc = b.template(acc, "stock_changed")
    path = f"/erp/v1/procedures/{proc.public_id}/runs"
    first = b.signed(client, "POST", path, kid, secret).get_json()
    second = b.signed(client, "POST", path, kid, secret).get_json()
    assert first["coalesced"] is False and second["coalesced"] is True
    assert first["run_id"] == second["run_id"]


def test_static_trigger_url_starts_only_its_procedure_and_is_rate_limited(client, ctx):
    acc, erp, kid, secret = setup_erp()
    proc = b.template(acc, "stock_changed")
    token = new_trigger_token(proc)
    db.session.commit()
    assert client.get("/erp/v1/t/not-the-token").status_code == 404
    resp = client.post(f"/erp/v1/t/{token}")
    assert resp.status_code == 202
    run = db.session.get(Run, resp.get_json()["run_id"])
    assert run.procedure_id == proc.id and run.trigger == "static_url"
    codes = [client.get(f"/erp/v1/t/{token}").status_code for _ in range(6)]
    assert codes[-1] == 429
    assert proc.trigger_token_hash != token and token not in str(proc.trigger_token_hash)


def test_every_erp_route_but_the_token_url_requires_a_signature(client, ctx):
    """Walks the blueprint, so a new /erp/v1 route is guarded without anyone remembering."""
    from app.hooks.auth import OPEN_ENDPOINTS
    rules = [r for r in ctx.url_map.iter_rules() if r.endpoint.startswith("hooks.")]
    assert len(rules) >= 7
    for rule in rules:
        if rule.endpoint in OPEN_ENDPOINTS:
            continue
        url = rule.rule.replace("<int:run_id>", "1")
        for arg in rule.arguments:
            url = url.replace(f"<{arg}>", "x")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            resp = client.open(url, method=method)
            assert resp.status_code == 400, (rule.rule, method, resp.status_code)
