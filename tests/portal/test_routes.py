"""Walks every portal and auth route: login required, viewers cannot write, and every id of
another account answers 404 (while the same route with the account's own ids does not)."""
from __future__ import annotations

import pytest

from app import create_app
from app.extensions import db
from tests import builders as b

from tests.portal.world import NOT_TENANT_ARGS, build, url_args

PUBLIC = {"auth.login"}              # the only page open without a session
VIEWER_MAY_POST = {"auth.logout"}    # a viewer may still log out


def _routes():
    app = create_app("testing")  # connects to nothing: only the url_map is read
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("portal.", "auth.")):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append(pytest.param(rule.endpoint, rule.rule, method, sorted(rule.arguments),
                                    id=f"{method} {rule.rule}"))
    return out


ROUTES = _routes()
WITH_IDS = [p for p in ROUTES if set(p.values[3]) - NOT_TENANT_ARGS]


def _url(ctx, endpoint: str, args: dict) -> str:
    from flask import url_for
    with ctx.test_request_context():
        return url_for(endpoint, **args)


def _call(client, method: str, url: str, token: str | None = None):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": token} if token else {})


def test_the_walker_sees_the_portal():
    endpoints = {p.values[0] for p in ROUTES}
    assert {"portal.dashboard", "portal.node", "portal.procedure", "portal.run",
            "portal.sandbox", "portal.team", "auth.logout"} <= endpoints
    assert len(WITH_IDS) >= 20


@pytest.mark.parametrize("endpoint,rule,method,args", ROUTES)
def test_every_route_requires_login(client, ctx, endpoint, rule, method, args):
    if endpoint in PUBLIC:
        pytest.skip("the login page itself")
    w = build("Alpha")
    token = b.csrf_token(client)
    resp = _call(client, method, _url(ctx, endpoint, url_args(w, endpoint, args)), token)
    assert resp.status_code == 302, resp.status_code
    assert resp.headers["Location"].startswith("/login")


@pytest.mark.parametrize("endpoint,rule,method,args",
                         [p for p in ROUTES if p.values[2] == "POST"])
def test_viewer_gets_403_on_every_post(client, ctx, endpoint, rule, method, args):
    if endpoint in PUBLIC | VIEWER_MAY_POST:
        pytest.skip("open to viewers by design")
    w = build("Alpha")
    b.login(client, w.viewer.email)
    token = b.csrf_token(client)
    resp = _call(client, method, _url(ctx, endpoint, url_args(w, endpoint, args)), token)
    assert resp.status_code == 403


@pytest.mark.parametrize("endpoint,rule,method,args", WITH_IDS)
def test_another_accounts_ids_answer_404(client, ctx, endpoint, rule, method, args):
    mine, theirs = build("Alpha"), build("Beta")
    b.login(client, mine.owner.email)
    token = b.csrf_token(client)
    foreign = _call(client, method, _url(ctx, endpoint, url_args(theirs, endpoint, args)), token)
    assert foreign.status_code == 404, f"{method} {rule} answered {foreign.status_code}"
    own = _call(client, method, _url(ctx, endpoint, url_args(mine, endpoint, args)), token)
    assert own.status_code in (200, 202, 302, 422), f"own ids: {own.status_code}"
    db.session.expire_all()
