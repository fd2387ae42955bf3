"""The /erp/v1 routes of ERP-CONTRACT.md; thin: verify, call a service, answer JSON or CSV."""
from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from flask import Response, abort, g, jsonify, request, url_for

from app.extensions import db
from app.models import Node, NodeKind, Procedure, Run, Trigger
from app.queues import redis_connection
from app.services import erp_feed
from app.services.runs import RunError, start_run
from app.sync.product_file import UploadFormatError

from . import bp
from .auth import remember_response, verify_request

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
STATIC_TRIGGERS_PER_MINUTE = 6


def _own_node(node_id: str) -> Node:
    """The key's own ERP node; any other id is 404, as if it did not exist."""
    node = g.erp_key.node
    if node.public_id != node_id or node.kind != NodeKind.ERP.value:
        abort(404)
    return node


def _own_procedure(procedure_id: str) -> Procedure:
    proc = Procedure.get_owned_by_public_id(g.erp_key.account_id, procedure_id)
    if proc is None:
        abort(404)
    return proc


bp.before_request(verify_request)
bp.after_request(remember_response)


@bp.errorhandler(404)
def not_found(_):
    return jsonify(error="not found"), 404


@bp.route("/nodes/<node_id>/products", methods=["POST"])
def upload_products(node_id: str):
    node = _own_node(node_id)
    mode = request.args.get("mode", "full")
    if mode not in ("full", "quantity"):
        return jsonify(error="mode must be full or quantity"), 400
    if request.content_length and request.content_length > MAX_UPLOAD_BYTES:
        return jsonify(error=f"files over {MAX_UPLOAD_BYTES // 2**20} MiB are refused"), 413
    try:
        upload = erp_feed.store_upload(node, request.get_data(), request.mimetype, mode)
    except UploadFormatError as exc:
        return jsonify(error=str(exc), errors=[]), 422
    except erp_feed.UploadRejected as rejected:
        report = rejected.report
        return jsonify(error="the file was rejected; nothing was stored",
                       errors=[{"line": e.line, "sku": e.sku, "field": e.field,
                                "message": e.message} for e in report.errors],
                       more_errors=report.errors_omitted), 422
    return jsonify(upload_id=upload.id, rows=upload.rows), 202


def _start(proc: Procedure, trigger: str, by: str):
    try:
        result = start_run(proc.account_id, proc.id, trigger, by)
    except RunError as exc:
        return jsonify(error=str(exc)), 409
    run = result.run
    return jsonify(run_id=run.id, coalesced=result.coalesced,
                   status_url=url_for("hooks.run_status", run_id=run.id)), 202


@bp.route("/procedures/<procedure_id>/runs", methods=["POST"])
def start_procedure(procedure_id: str):
    return _start(_own_procedure(procedure_id), Trigger.ERP.value, g.erp_key.key_id)


@bp.route("/procedures/<procedure_id>/trigger", methods=["GET"])
def trigger_procedure(procedure_id: str):
    return _start(_own_procedure(procedure_id), Trigger.ERP.value, g.erp_key.key_id)


@bp.route("/runs/<int:run_id>", methods=["GET"])
def run_status(run_id: int):
    run = Run.get_owned(g.erp_key.account_id, run_id)
    if run is None:
        abort(404)
    return jsonify(run_id=run.id, status=run.status, trigger=run.trigger,
                   created_at=run.created_at.isoformat(),
                   finished_at=run.finished_at.isoformat() if run.finished_at else None,
                   error=run.error,
                   steps=[{"position": s.position, "label": s.label, "status": s.status,
                           "created": s.created, "updated": s.updated,
                           "unchanged": s.unchanged, "failed": s.failed,
                           "items_done": s.items_done, "items_total": s.items_total,
                           "error": s.error} for s in run.steps])


@bp.route("/nodes/<node_id>/orders", methods=["GET"])
def order_feed(node_id: str):
    node = _own_node(node_id)
    try:
        limit = min(max(int(request.args.get("limit", 100)), 1), 500)
    except ValueError:
        return jsonify(error="limit must be a number from 1 to 500"), 400
    orders = erp_feed.offered_orders(node, limit)
    if request.args.get("format", "json") == "csv":
        return Response(erp_feed.orders_csv(orders), mimetype="text/csv")
    return jsonify(orders=[erp_feed.order_json(o) for o in orders])


@bp.route("/nodes/<node_id>/orders/ack", methods=["POST"])
def ack_orders(node_id: str):
    node = _own_node(node_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("order_ids"), list) or \
            not all(isinstance(i, str) for i in body["order_ids"]):
        return jsonify(error='body must be {"order_ids": ["..."], "erp_refs": {...}}'), 400
    refs = body.get("erp_refs") or {}
    if not isinstance(refs, dict):
        return jsonify(error="erp_refs must be an object of order id -> ERP document"), 400
    return jsonify(erp_feed.acknowledge(node, body["order_ids"][:1000], refs))


@bp.route("/t/<token>", methods=["GET", "POST"])
def static_trigger(token: str):
    """The weaker option: a fixed secret URL that can only start its one procedure."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    proc = db.session.scalar(sa.select(Procedure).where(Procedure.trigger_token_hash == digest))
    # The lookup is by hash; compare again in constant time so timing says nothing.
    if proc is None or not hmac.compare_digest(proc.trigger_token_hash, digest):
        return jsonify(error="not found"), 404
    r = redis_connection()
    bucket = f"ponte:static-trigger:{proc.id}"
    if r.incr(bucket) == 1:
        r.expire(bucket, 60)
    if int(r.get(bucket)) > STATIC_TRIGGERS_PER_MINUTE:
        resp = jsonify(error="too many requests")
        resp.status_code, resp.headers["Retry-After"] = 429, "60"
        return resp
    resp = _start(proc, Trigger.STATIC_URL.value, "static trigger URL")
    return resp
