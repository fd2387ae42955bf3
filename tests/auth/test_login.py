from app.models import Role
from tests import builders as b


def test_login_success_redirects_to_dashboard_and_sets_safe_cookie(client):
    acc = b.account()
    b.user(acc, "owner@example.com")
    resp = b.login(client, "Owner@Example.com")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    cookie = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session=")][-1]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie  # Secure is production's (see test_config)
    assert "Dashboard" in client.get("/").get_data(as_text=True)


def test_unknown_email_and_wrong_password_get_the_same_answer(client):
    acc = b.account()
    b.user(acc, "owner@example.com")
    wrong = b.login(client, "owner@example.com", "not the password")
    unknown = b.login(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Email or password is not correct." in wrong.get_data(as_text=True)
    assert "Email or password is not correct." in unknown.get_data(as_text=True)


def test_throttle_after_repeated_failures_per_email(client, ctx):
    acc = b.account()
    b.user(acc, "owner@example.com")
    limit = ctx.config["LOGIN_MAX_FAILURES_PER_EMAIL"]
    for _ in range(limit):
        assert b.login(client, "owner@example.com", "wrong password").status_code == 401
    blocked = b.login(client, "owner@example.com")  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.get_data(as_text=True)


def test_throttle_per_address_across_emails(client, ctx):
    limit = ctx.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    for i in range(limit):
        b.login(client, f"guess{i}@example.com", "wrong", REMOTE_ADDR="10.9.8.7")
    assert b.login(client, "other@example.com", "wrong",
                   REMOTE_ADDR="10.9.8.7").status_code == 429
    assert b.login(client, "other@example.com", "wrong",
                   REMOTE_ADDR="10.9.8.8").status_code == 401


def test_login_without_csrf_token_is_rejected(client):
    acc = b.account()
    b.user(acc, "owner@example.com")
    resp = client.post("/login", data={"email": "owner@example.com", "password": b.PASSWORD})
    assert resp.status_code == 400
    assert client.get("/").status_code == 302  # still logged out


def test_logout_requires_post_with_csrf(client):
    acc = b.account()
    b.user(acc, "owner@example.com")
    b.login(client, "owner@example.com")
    assert client.post("/logout").status_code == 400  # no token
    token = b.csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_open_redirect_is_refused(client):
    acc = b.account()
    b.user(acc, "owner@example.com")
    token = b.csrf_token(client)
    resp = client.post("/login?next=//evil.example/x", data={
        "email": "owner@example.com", "password": b.PASSWORD, "csrf_token": token})
    assert resp.headers["Location"] == "/"


def test_viewer_can_look_but_not_change(client):
    from app.extensions import db
    from app.models import Procedure
    acc = b.account()
    b.user(acc, "viewer@example.com", Role.VIEWER.value)
    b.login(client, "viewer@example.com")
    page = client.get("/").get_data(as_text=True)
    assert "Sync now" not in page
    proc = db.session.scalar(Procedure.scoped(acc))
    token = b.csrf_token(client, "/")
    resp = client.post(f"/procedures/{proc.public_id}/sync", data={"csrf_token": token})
    assert resp.status_code == 403
