"""Tryton rows <-> hub records: products out of product.product, orders into sale.sale.

Pure functions with no I/O, so the shapes can be checked without a server.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from decimal import Decimal

from ..records import OrderRecord, ProductRecord

# The stock figure sent to the hub. forecast_quantity, evaluated for the warehouse with no
# stock_date_end, is on hand minus every planned outgoing move (confirmed sales whose shipment
# is not done yet) plus planned incoming ones. `quantity` (on hand) would still count goods
# already sold in Tryton, and the hub would oversell them; the hub's "outstanding" rule only
# covers its own orders, not sales typed into Tryton.
QUANTITY_FIELD = "forecast_quantity"

PRODUCT_FIELDS_QUANTITY = ["id", "code", QUANTITY_FIELD]
PRODUCT_FIELDS_FULL = PRODUCT_FIELDS_QUANTITY + [
    "name", "description", "list_price_used", "write_date", "template.write_date"]


def to_quantity(value) -> int:
    # Stores sell whole units: never round a fraction up into stock that is not there.
    return int(math.floor(value or 0))


def product_record(row: dict, quantity_only: bool) -> ProductRecord:
    record = ProductRecord(sku=row["code"], quantity=to_quantity(row.get(QUANTITY_FIELD)))
    if not quantity_only:
        record.name = row.get("name")
        record.description = row.get("description") or None
        price = row.get("list_price_used")
        record.price = Decimal(price) if price is not None else None
    return record


def utc_naive(moment: datetime) -> datetime:
    """Tryton compares write_date as naive UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.replace(tzinfo=None)


def changed_domain(since: datetime, *prefixes: str) -> list:
    """OR of write_date/create_date >= since on each prefix: a record never written since
    its creation has write_date NULL, so create_date must be checked too."""
    clauses: list = ["OR"]
    for prefix in prefixes:
        for field in ("write_date", "create_date"):
            clauses.append([prefix + field, ">=", since])
    return clauses


# -- orders -> sales ------------------------------------------------------------------------

def _first(data: dict, *keys: str) -> str:
    for key in keys:
        value = data.get(key)
        if isinstance(value, list):  # Magento-style street lines
            value = "\n".join(v for v in value if v)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def person_name(address: dict) -> str:
    full = " ".join(filter(None, [_first(address, "first_name", "firstname"),
                                  _first(address, "last_name", "lastname")]))
    return full or _first(address, "name", "full_name")


def customer_email(order: OrderRecord) -> str:
    return (_first(order.customer, "email") or _first(order.billing_address, "email")
            or _first(order.shipping_address, "email")).lower()


def party_name(order: OrderRecord) -> str:
    return (person_name(order.billing_address) or _first(order.customer, "name")
            or person_name(order.customer) or _first(order.billing_address, "company")
            or customer_email(order) or f"Customer of order {order.number}")


def address_values(address: dict, fallback_name: str) -> dict:
    """party.address values (country/subdivision left for the adapter to resolve)."""
    street = "\n".join(filter(None, [
        _first(address, "address_1", "street", "line1", "address1"),
        _first(address, "address_2", "line2", "address2")]))
    name = person_name(address)
    company = _first(address, "company")
    values = {
        "party_name": " / ".join(filter(None, [company, name])) or fallback_name,
        "street_unstructured": street or None,
        "postal_code": _first(address, "postcode", "postal_code", "zip") or None,
        "city": _first(address, "city") or None,
    }
    return values


def country_code(address: dict) -> str:
    return _first(address, "country", "country_id", "country_code").upper()


def same_address(row: dict, values: dict, country_id: int | None) -> bool:
    """Whether an existing party.address row is the address we would create."""
    def norm(value):
        return " ".join(str(value or "").lower().split())
    return (all(norm(row.get(k)) == norm(v) for k, v in values.items())
            and row.get("country") == country_id)


def line_values(line, product_id: int, unit_id: int) -> dict:
    values = {"type": "line", "product": product_id, "quantity": float(line.quantity),
              "unit": unit_id}
    if line.unit_price is not None:
        values["unit_price"] = Decimal(line.unit_price)
    elif line.total is not None and line.quantity:
        values["unit_price"] = (Decimal(line.total) / line.quantity).quantize(Decimal("0.0001"))
    if line.name:
        values["description"] = line.name
    return values


def hub_marker(reference: str) -> str:
    """The sale.description that identifies the hub's order: searched before creating."""
    return f"ponte:{reference}"
