"""Small builder functions for tests: accounts, users, nodes, procedures, uploads."""
from __future__ import annotations

import csv
import io
import re

from app.extensions import db
from app.models import Procedure, Role
from app.services.accounts import create_account, create_user
from app.services.nodes import create_key, create_node

PASSWORD = "correct horse battery"


def account(name: str = "Shop") -> int:
    return create_account(name).id


def user(account_id: int, email: str, role: str = Role.OWNER.value):
    return create_user(account_id, email, PASSWORD, role)


def csrf_token(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD, **environ):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token}, environ_base=environ or {})


def node(account_id: int, platform: str, name: str, **settings):
    n = create_node(account_id, platform, name, settings=settings)
    db.session.commit()
    return n


def erp_with_key(account_id: int, name: str = "ERP"):
    n = create_node(account_id, "file_erp", name)
    key, secret = create_key(n)
    db.session.commit()
    return n, key.key_id, secret


def template(account_id: int, name: str) -> Procedure:
    return db.session.scalar(Procedure.scoped(account_id).where(Procedure.template == name))


def products_csv(rows, delimiter=";", header=("sku", "name", "price", "quantity")) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter)
    w.writerow(header)
    for row in rows:
        w.writerow(row)
    return out.getvalue().encode()


def signed(client, method: str, path: str, key_id: str, secret: str, body: bytes = b"",
           query: list[tuple[str, str]] | None = None, content_type: str | None = None,
           nonce: str | None = None, timestamp: int | None = None, headers: dict | None = None):
    """A request signed with PONTE-HMAC-SHA256-V1, as an ERP would send it."""
    import secrets
    import time
    from urllib.parse import urlencode

    from app.security.signature import sign
    query = query or []
    ts = int(time.time()) if timestamp is None else timestamp
    nonce = nonce or secrets.token_urlsafe(12)
    sig = sign(secret, method, path, query, key_id, ts, nonce, body)
    all_headers = {"Ponte-Key-Id": key_id, "Ponte-Timestamp": str(ts), "Ponte-Nonce": nonce,
                   "Ponte-Signature": sig, **(headers or {})}
    url = path + ("?" + urlencode(query) if query else "")
    return client.open(url, method=method, data=body, headers=all_headers,
                       content_type=content_type)
