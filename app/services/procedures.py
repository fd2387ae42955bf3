"""Procedures: the seed's templates and keeping templated steps in line with the nodes."""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from app.extensions import db
from app.ids import public_id
from app.models import (Connector, ConnectorKind, ConnectorMode, FailurePolicy, Node, NodeKind,
                        NodeStatus, Procedure, ProcedureStep, ScheduleKind)

STORE_KINDS = (NodeKind.STORE.value, NodeKind.MARKETPLACE.value)

# Each template is a list of (node kinds, connector kind, mode); "every store" expands per node.
TEMPLATES = {
    "stock_changed": {
        "name": "Stock changed in the ERP",
        "schedule": None,
        "steps": [((NodeKind.ERP.value,), ConnectorKind.PRODUCT_IMPORT, ConnectorMode.QUANTITY),
                  (STORE_KINDS, ConnectorKind.PRODUCT_EXPORT, ConnectorMode.QUANTITY)],
    },
    "every_5_minutes": {
        "name": "Every 5 minutes: orders to the ERP, then quantities to every store",
        "schedule": 5,
        "steps": [(STORE_KINDS, ConnectorKind.ORDER_IMPORT, ConnectorMode.FULL),
                  ((NodeKind.ERP.value,), ConnectorKind.ORDER_EXPORT, ConnectorMode.FULL),
                  ((NodeKind.ERP.value,), ConnectorKind.PRODUCT_IMPORT, ConnectorMode.QUANTITY),
                  (STORE_KINDS, ConnectorKind.PRODUCT_EXPORT, ConnectorMode.QUANTITY)],
    },
    "publish_catalogue": {
        "name": "Publish the catalogue (full product data)",
        "schedule": None,
        "steps": [((NodeKind.ERP.value,), ConnectorKind.PRODUCT_IMPORT, ConnectorMode.FULL),
                  (STORE_KINDS, ConnectorKind.PRODUCT_EXPORT, ConnectorMode.FULL)],
    },
}
SEEDED = ("stock_changed", "every_5_minutes")


def create_from_template(account_id: int, template: str) -> Procedure:
    spec = TEMPLATES[template]
    # "continue": an ERP that is down must not stop the stores from learning each other's
    # sales (DOMAIN.md: a sale lowers every other store's figure even before the ERP saw it).
    proc = Procedure(account_id=account_id, public_id=public_id("pr"), name=spec["name"],
                     template=template, enabled=True,
                     failure_policy=FailurePolicy.CONTINUE.value)
    if spec["schedule"]:
        proc.schedule_kind, proc.interval_minutes = ScheduleKind.INTERVAL.value, spec["schedule"]
    db.session.add(proc)
    db.session.flush()
    _rebuild_steps(proc)
    return proc


def seed_template_procedures(account_id: int) -> list[Procedure]:
    return [create_from_template(account_id, t) for t in SEEDED]


def refresh_template_steps(account_id: int) -> None:
    """Templated procedures follow the nodes: a new store joins "every store" steps."""
    procs = db.session.scalars(Procedure.scoped(account_id).where(
        Procedure.template.is_not(None))).all()
    for proc in procs:
        if proc.template in TEMPLATES:
            _rebuild_steps(proc)


def _rebuild_steps(proc: Procedure) -> None:
    wanted = []
    for kinds, kind, mode in TEMPLATES[proc.template]["steps"]:
        rows = db.session.scalars(
            sa.select(Connector).join(Node).where(
                Connector.account_id == proc.account_id, Node.kind.in_(kinds),
                Node.status != NodeStatus.DISABLED.value, Connector.kind == kind.value,
                Connector.mode == mode.value).order_by(Node.name, Node.id)).all()
        wanted.extend(c.id for c in rows)
    if [s.connector_id for s in proc.steps] == wanted:
        return
    proc.steps.clear()
    db.session.flush()
    for position, connector_id in enumerate(wanted):
        proc.steps.append(ProcedureStep(account_id=proc.account_id, position=position,
                                        connector_id=connector_id))
    db.session.flush()


def new_trigger_token(proc: Procedure) -> str:
    """A static trigger token (256 bits); only its hash is stored, the token is shown once."""
    token = secrets.token_urlsafe(32)
    proc.trigger_token_hash = hashlib.sha256(token.encode()).hexdigest()
    return token
