"""Runs one step: builds the node's adapter and hands it to the connector kind's flow.

Plain Python over the models and the platform interface; it knows nothing of Flask requests
or RQ. Typed platform errors decide the outcome: AuthError stops the node, RetryLaterError
fails the step (the next run retries), anything else fails the step with its reason.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import (Connector, ConnectorKind, Node, NodeStatus, StepRun, StepStatus,
                        utcnow)
from app.platforms.base import Adapter
from app.platforms.errors import AuthError, PlatformError, RetryLaterError
from app.platforms.registry import build_adapter

from .flows.order_export import OrderExport
from .flows.order_import import OrderImport
from .flows.product_export import ProductExport
from .flows.product_import import ProductImport
from .recorder import StepRecorder

log = logging.getLogger(__name__)
SUCCESS_ITEMS_KEPT = 1000  # per product step; failures are always kept

FLOWS = {ConnectorKind.PRODUCT_IMPORT.value: ProductImport,
         ConnectorKind.PRODUCT_EXPORT.value: ProductExport,
         ConnectorKind.ORDER_IMPORT.value: OrderImport,
         ConnectorKind.ORDER_EXPORT.value: OrderExport}


@dataclass
class StepContext:
    account_id: int
    run_id: int
    connector: Connector
    node: Node
    adapter: Adapter
    recorder: StepRecorder
    only_refs: list[str] | None = None  # re-run of failed items: only these SKUs / orders

    def save_state(self, **values) -> None:
        """Persist engine state (cursors) on the connector; committed with the next flush."""
        state = dict(self.connector.state or {})
        state.update(values)
        self.connector.state = state
        self.recorder.flush()


def adapter_for(node: Node) -> Adapter:
    from app.services.nodes import node_credentials
    return build_adapter(node.platform, node.settings or {}, node_credentials(node),
                         node_id=node.id, account_id=node.account_id)


def execute(step: StepRun, only_refs: list[str] | None = None) -> None:
    """Run the step's flow and set its final status; never raises for platform trouble."""
    connector = db.session.get(Connector, step.connector_id) if step.connector_id else None
    if connector is None or not connector.enabled:
        _finish(step, StepStatus.SKIPPED, "the connector is disabled or was removed")
        return
    node = connector.node
    if node.status != NodeStatus.ACTIVE.value:
        _finish(step, StepStatus.FAILED, f"node {node.name} is stopped: "
                f"{node.status_message or node.status.replace('_', ' ')}")
        return
    catalogue_wide = connector.kind in (ConnectorKind.PRODUCT_IMPORT.value,
                                        ConnectorKind.PRODUCT_EXPORT.value)
    recorder = StepRecorder(step, success_cap=SUCCESS_ITEMS_KEPT if catalogue_wide else None)
    adapter = None
    try:
        adapter = adapter_for(node)
        ctx = StepContext(step.account_id, step.run_id, connector, node, adapter, recorder,
                          only_refs)
        FLOWS[connector.kind](ctx).run()
    except AuthError as exc:
        db.session.rollback()
        from app.services.nodes import stop_node
        stop_node(node.id, f"credentials rejected: {exc}")
        _finish(step, StepStatus.FAILED, f"credentials rejected by {node.name}: {exc}",
                recorder)
        return
    except RetryLaterError as exc:
        db.session.rollback()
        _finish(step, StepStatus.FAILED, f"{node.name} is unavailable, the next run will try "
                f"again: {exc}", recorder)
        return
    except PlatformError as exc:
        db.session.rollback()
        _finish(step, StepStatus.FAILED, f"{node.name}: {exc}", recorder)
        return
    except Exception as exc:  # a bug must fail the step visibly, not kill the chain
        # Roll back first: after a failed flush even reading step.id raises, and the step
        # would stay 'running' with the real reason lost.
        db.session.rollback()
        log.exception("step %s crashed", step.id)
        _finish(step, StepStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}",
                recorder)
        return
    finally:
        if adapter is not None:
            adapter.close()
    recorder.flush()
    db.session.execute(sa.update(Node).where(Node.id == node.id).values(
        last_success_at=utcnow()))
    _finish(step, StepStatus.PARTIAL if recorder.counts["failed"] else StepStatus.SUCCEEDED,
            None, recorder)


def _finish(step: StepRun, status: StepStatus, error: str | None,
            recorder: StepRecorder | None = None) -> None:
    if recorder is not None:
        recorder.pending = []  # items of a rolled-back batch did not happen
        recorder.flush()
    db.session.execute(sa.update(StepRun).where(StepRun.id == step.id).values(
        status=status.value, error=error, finished_at=utcnow(), heartbeat_at=utcnow()))
    db.session.commit()
