"""The data layer: every model, importable from one place (Alembic sees them all)."""
from .account import Account, Role, User
from .base import utcnow
from .connector import Connector, ConnectorKind, ConnectorMode
from .node import Node, NodeKey, NodeKind, NodeStatus
from .order import Order, OrderBinding, OrderLine
from .procedure import FailurePolicy, Procedure, ProcedureStep, ScheduleKind
from .product import Product, ProductBinding, ProductUpload
from .run import ItemOutcome, Run, RunStatus, StepItem, StepRun, StepStatus, Trigger
from .sandbox import SandboxOrder, SandboxProduct
from .stock import StockEvent

__all__ = [
    "Account", "Role", "User", "utcnow", "Connector", "ConnectorKind", "ConnectorMode", "Node",
    "NodeKey", "NodeKind", "NodeStatus", "Order", "OrderBinding", "OrderLine", "FailurePolicy",
    "Procedure", "ProcedureStep", "ScheduleKind", "Product", "ProductBinding", "ProductUpload",
    "ItemOutcome", "Run", "RunStatus", "StepItem", "StepRun", "StepStatus", "Trigger",
    "SandboxOrder", "SandboxProduct", "StockEvent",
]
