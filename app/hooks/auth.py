"""Verifying PONTE-HMAC-SHA256-V1 requests: key, clock, signature, nonce, rate limit.

Failures get one generic body so a caller cannot tell which check failed; the reason is
logged with the account and key id, never with the secret.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time

import sqlalchemy as sa
from flask import g, jsonify, make_response, request

from app.extensions import db
from app.models import NodeKey, utcnow
from app.queues import redis_connection
from app.security.signature import (MalformedSignatureError, parse_signature_params,
                                    signed_text, verify)
from app.services.nodes import key_secret

log = logging.getLogger("ponte.erp_auth")
NONCE_TTL = 600
FAILURES_PER_KEY = 30          # failed verifications per key per window before 429
FAILURE_WINDOW = 300


def _deny(status: int, reason: str, key: NodeKey | None = None, key_id: str | None = None):
    log.warning("erp request refused: %s (account=%s key=%s path=%s)", reason,
                key.account_id if key else None, key_id, request.path)
    if key_id:
        r = redis_connection()
        fkey = f"ponte:erp-fail:{key_id}"
        if r.incr(fkey) == 1:
            r.expire(fkey, FAILURE_WINDOW)
    body = {400: "malformed request", 401: "unauthorized", 409: "nonce reused",
            429: "too many requests"}[status]
    resp = make_response(jsonify(error=body), status)
    if status == 429:
        resp.headers["Retry-After"] = str(FAILURE_WINDOW)
    return resp


def _throttled(key_id: str) -> bool:
    return int(redis_connection().get(f"ponte:erp-fail:{key_id}") or 0) >= FAILURES_PER_KEY


OPEN_ENDPOINTS = {"hooks.static_trigger"}  # the token URL authenticates by its own token


def verify_request():
    """Blueprint-wide guard: every /erp/v1 route is signed unless listed in OPEN_ENDPOINTS,
    so a forgotten decorator cannot open a hole. Returns a response to refuse, else None."""
    if request.endpoint in OPEN_ENDPOINTS or request.endpoint is None:
        return None
    query = list(request.args.items(multi=True))
    try:
        params = parse_signature_params(request.headers, query)
    except MalformedSignatureError as exc:
        return _deny(400, f"malformed: {exc}")
    if _throttled(params.key_id):
        return _deny(429, "rate limited", key_id=params.key_id)
    key = db.session.scalar(sa.select(NodeKey).where(NodeKey.key_id == params.key_id))
    now = utcnow()
    if key is None or key.revoked_at or (key.expires_at and key.expires_at <= now):
        return _deny(401, "unknown, revoked or expired key", key, params.key_id)
    body = request.get_data(cache=True)
    if abs(time.time() - params.timestamp) > 300:
        return _deny(401, "timestamp outside 300 s", key, params.key_id)
    if not verify(key_secret(key), params, request.method, request.path, query, body,
                  time.time()):
        return _deny(401, "signature mismatch", key, params.key_id)
    text = signed_text(request.method, request.path, query, params.key_id, params.timestamp,
                       params.nonce, body)
    digest = hashlib.sha256(text.encode()).hexdigest()
    nonce_key = f"ponte:nonce:{key.key_id}:{params.nonce}"
    r = redis_connection()
    if not r.set(nonce_key, json.dumps({"digest": digest}), nx=True, ex=NONCE_TTL):
        seen = json.loads(r.get(nonce_key) or "{}")
        if seen.get("digest") != digest:
            return _deny(409, "nonce reused with another request", key, params.key_id)
        if "status" in seen:  # a retried request gets the first answer again
            resp = make_response(seen["body"], seen["status"])
            resp.headers["Content-Type"] = seen["content_type"]
            return resp
        return _deny(409, "nonce reused while the first request is in flight", key,
                     params.key_id)
    g.erp_key, g.erp_nonce = key, (nonce_key, digest)
    key.last_used_at = now
    db.session.commit()
    return None


def remember_response(resp):
    """Keep the answer under the nonce, so a retried request gets the same answer."""
    if "erp_nonce" in g:
        nonce_key, digest = g.erp_nonce
        redis_connection().set(nonce_key, json.dumps({
            "digest": digest, "status": resp.status_code, "body": resp.get_data(as_text=True),
            "content_type": resp.headers.get("Content-Type")}), ex=NONCE_TTL)
    return resp
