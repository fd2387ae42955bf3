"""Plain records exchanged between the engine and the adapters.

Adapters speak their platform on one side and these dataclasses on the other; they never see
the database or Flask. Money is Decimal, timestamps are aware UTC datetimes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass
class ProductRecord:
    sku: str
    name: str | None = None
    description: str | None = None
    price: Decimal | None = None
    sale_price: Decimal | None = None
    wholesale_price: Decimal | None = None
    quantity: int | None = None
    ean: str | None = None
    brand: str | None = None
    category: str | None = None
    weight: Decimal | None = None
    images: list[str] = field(default_factory=list)
    parent_sku: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class ExportItem:
    """One product to create or update on a store; ids come from the node's binding."""
    record: ProductRecord
    external_id: str | None = None
    external_parent_id: str | None = None


@dataclass
class QuantityUpdate:
    sku: str
    quantity: int
    external_id: str
    external_parent_id: str | None = None  # set for variations on platforms that nest them


@dataclass
class ItemResult:
    ref: str  # the SKU or order reference the result is about
    ok: bool
    external_id: str | None = None
    external_parent_id: str | None = None
    created: bool = False
    message: str | None = None


@dataclass
class OrderLineRecord:
    sku: str
    quantity: int
    name: str | None = None
    unit_price: Decimal | None = None
    total: Decimal | None = None
    tax: Decimal | None = None
    external_id: str | None = None


@dataclass
class OrderRecord:
    external_id: str
    number: str
    status: str  # the hub's normalised status: pending, paid, shipped, completed, cancelled, refunded
    updated_at: datetime
    placed_at: datetime | None = None
    paid: bool = False
    currency: str | None = None
    total: Decimal | None = None
    tax_total: Decimal | None = None
    shipping_total: Decimal | None = None
    payment_method: str | None = None
    customer: dict = field(default_factory=dict)
    billing_address: dict = field(default_factory=dict)
    shipping_address: dict = field(default_factory=dict)
    platform_status: str | None = None  # the store's own status word, kept for the merchant
    lines: list[OrderLineRecord] = field(default_factory=list)


@dataclass
class OrderPage:
    """One page of orders; the engine commits it before asking for the next."""
    orders: list[OrderRecord]
    has_more: bool = False
